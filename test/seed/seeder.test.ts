// The seeder's rules with fakes behind its ports (RandomDevice, EntropySource,
// the gate's BlockTester, the seed store): what is credited, when it stops,
// how it ends without a device, and SeedRNG's order for the seed file.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockGate, BLOCK_BYTES, BOOTSTRAP_BYTES } from '../../src/core/gate';
import { formatSeedFile, parseSeedFile } from '../../src/core/seed-file';
import { KernelError } from '../../src/kernel/errors';
import { RandomDevice } from '../../src/kernel/random-device';
import { EntropySource } from '../../src/sources/entropy-source';
import { SeedKernel, Seeder, SeedStore } from '../../src/seed/seeder';
import { createSource } from '../../src/sources/open-source';

/** A kernel that becomes ready after `readyAfterBits` credited bits (getrandom null: legacy). */
class FakeRandomDevice implements RandomDevice {
  calls: string[] = [];
  added: Array<{ bytes: number; bits: number }> = [];
  entropy = 5;
  reseeds = 0;
  eperm = false;
  /** Share of a credit the pool keeps (legacy kernels credit asymptotically). */
  creditScale = 1;
  constructor(private readonly legacy: boolean, private readonly readyAfterBits: number) {}
  entropyBits(): number {
    return this.entropy;
  }
  addEntropy(data: Uint8Array, bits: number): void {
    if (this.eperm) throw new KernelError('EPERM', -1, 'ioctl(RNDADDENTROPY)', 'Operation not permitted');
    this.calls.push(`add ${data.length} ${bits}`);
    this.added.push({ bytes: data.length, bits });
    this.entropy = Math.min(this.legacy ? 4096 : 256, this.entropy + Math.floor(bits * this.creditScale));
  }
  write(): void {}
  async poll(): Promise<number> {
    return 0;
  }
  crngReady(): boolean | null {
    if (this.legacy) return null;
    return this.added.reduce((n, a) => n + a.bits, 0) >= this.readyAfterBits;
  }
  reseedCrng(): boolean {
    this.reseeds++;
    return true;
  }
  close(): void {}
}

/** Deterministic, FIPS-irrelevant bytes (the tester below is a fake). */
function stream(n: number, seed = 1): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
}

class FakeSource implements EntropySource {
  readonly name = 'hwrng';
  readonly kind = 'hwrng' as const;
  readonly quality = 8;
  opens = 0;
  closes = 0;
  private offset = 0;
  constructor(readonly path: string, private readonly behaviour: 'data' | 'missing' | 'silent' | 'zeros') {}
  async open(): Promise<void> {
    if (this.behaviour === 'missing') throw new KernelError('ENOENT', -2, 'open', `${this.path}: no such file`);
    this.opens++;
  }
  read(bytes: number): Promise<Uint8Array> {
    if (this.behaviour === 'silent') return new Promise(() => undefined);
    const out = this.behaviour === 'zeros' ? new Uint8Array(bytes) : stream(bytes, 7 + this.offset);
    this.offset += bytes;
    return Promise.resolve(out);
  }
  close(): void {
    this.closes++;
  }
}

const fakeGate = (): BlockGate =>
  new BlockGate({
    createTester: () => ({ testBlock: (b: Uint8Array, off: number) => (b.subarray(off, off + BLOCK_BYTES).every((x) => x === 0) ? 1 : 0) }),
  });

function setup(opts: { legacy?: boolean; source?: FakeSource; stored?: Uint8Array | null; timeoutMs?: number; maxBytes?: number | null; seedFile?: string | null }) {
  const random = new FakeRandomDevice(opts.legacy ?? false, 256);
  const urandomWrites: number[] = [];
  const kernel: SeedKernel = {
    random,
    writeUrandom: (d) => void urandomWrites.push(d.length),
    readUrandom: (n) => new Uint8Array(n).fill(0xab),
    poolsizeBits: () => (opts.legacy ? 4096 : 256),
  };
  const order: string[] = [];
  let saved: Uint8Array | null = null;
  let stored = opts.stored ?? null;
  const store: SeedStore = {
    take: () => {
      order.push('take');
      const s = stored;
      stored = null;
      return s ? { data: s } : null;
    },
    save: (_f, c) => {
      order.push('save');
      saved = c;
    },
  };
  const origAdd = random.addEntropy.bind(random);
  random.addEntropy = (d, b) => {
    order.push('add');
    origAdd(d, b);
  };
  const source = opts.source ?? new FakeSource('/dev/hwrng', 'data');
  const seeder = new Seeder(
    { kernel, source, gate: fakeGate(), store, now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), clocks: () => ({ realtimeMs: 1, boottimeNs: 1n }), env: {} },
    { timeoutMs: opts.timeoutMs ?? 2000, maxBytes: opts.maxBytes ?? null, seedFile: opts.seedFile ?? null },
  );
  return { seeder, random, urandomWrites, order, source, saved: () => saved };
}

describe('Seeder', () => {
  it('modern kernel: credits a passing block in slices, stops once the crng is ready, reseeds once', async () => {
    const { seeder, random, urandomWrites } = setup({});
    const r = await seeder.run();
    expect(r.outcome).toBe('seeded');
    expect(r.bytesRead).toBe(BOOTSTRAP_BYTES + BLOCK_BYTES);
    expect(r.askedBits).toBe(BLOCK_BYTES * 8);
    expect(r.creditedBits).toBe(256 - 5); // what the kernel's count rose by, 5 -> 256
    expect(random.added.every((a) => a.bytes <= 500 && a.bits <= a.bytes * 8)).toBe(true);
    expect(random.added.reduce((n, a) => n + a.bytes, 0)).toBe(BLOCK_BYTES);
    expect(r.crngReadyBefore).toBe(false);
    expect(r.crngReady).toBe(true);
    expect(r.entropyBeforeBits).toBe(5);
    expect(r.entropyAfterBits).toBe(256);
    expect(r.reseeded).toBe(true);
    expect(random.reseeds).toBe(1);
    expect(urandomWrites).toEqual([]);
  });

  it('legacy kernel: also writes the same bytes to /dev/urandom and stops at the fill watermark', async () => {
    const { seeder, random, urandomWrites } = setup({ legacy: true });
    const r = await seeder.run();
    expect(r.outcome).toBe('seeded');
    expect(random.entropy).toBeGreaterThanOrEqual(3072);
    expect(urandomWrites.length).toBe(r.blocksPassed);
    expect(urandomWrites.every((n) => n === BLOCK_BYTES)).toBe(true);
    expect(r.crngReady).toBeNull();
    expect(r.reseeded).toBeNull();
  });

  it('never credits a block that fails the gate; ends as a timeout', async () => {
    const { seeder, random } = setup({ source: new FakeSource('/dev/hwrng', 'zeros'), timeoutMs: 150 });
    const r = await seeder.run();
    expect(r.outcome).toBe('timeout');
    expect(r.creditedBits).toBe(0);
    expect(random.added).toEqual([]);
    expect(r.blocksFailed).toBeGreaterThan(0);
  });

  it('a device that never answers: the read is abandoned (source closed) at the deadline', async () => {
    const source = new FakeSource('/dev/hwrng', 'silent');
    const { seeder } = setup({ source, timeoutMs: 120 });
    const t0 = Date.now();
    const r = await seeder.run();
    expect(r.outcome).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(source.closes).toBeGreaterThan(0);
  });

  it('a missing device: no-device after the timeout', async () => {
    const { seeder } = setup({ source: new FakeSource('/dev/nothing', 'missing'), timeoutMs: 150 });
    const r = await seeder.run();
    expect(r.outcome).toBe('no-device');
    expect(r.bytesRead).toBe(0);
  });

  it('--bytes stops the run even when the kernel is not seeded (rounded up to whole blocks)', async () => {
    const { seeder, random } = setup({ legacy: true, maxBytes: 3000 });
    random.creditScale = 0.05;
    const r = await seeder.run();
    expect(r.outcome).toBe('seeded');
    expect(r.bytesRead).toBe(BOOTSTRAP_BYTES + 2 * BLOCK_BYTES);
    expect(r.blocksPassed).toBe(2);
    expect(random.entropy).toBeLessThan(3072);
  });

  it('seed file: removed before use, a creditable seed credited, a fresh creditable seed written once ready', async () => {
    const stored = formatSeedFile(stream(32, 99), true);
    const { seeder, random, order, saved } = setup({ stored, seedFile: '/var/lib/vrngd/seed' });
    const r = await seeder.run();
    expect(order[0]).toBe('take');
    expect(order[1]).toBe('add');
    expect(order[order.length - 1]).toBe('save');
    expect(random.added[0]).toEqual({ bytes: 32, bits: 256 });
    expect(r.seedFile).toMatchObject({ loadedBytes: 32, loadedCreditedBits: 256, written: true, writtenCreditable: true });
    const parsed = parseSeedFile(saved() as unknown as Uint8Array);
    expect(parsed.creditable).toBe(true);
    expect(parsed.seed.length).toBe(32);
  });

  it('seed file: an uncreditable seed is mixed with 0 bits; without readiness the new seed is uncredited', async () => {
    const stored = formatSeedFile(stream(32, 5), false);
    const { seeder, random, saved } = setup({ stored, seedFile: '/s', source: new FakeSource('/dev/nothing', 'missing'), timeoutMs: 100 });
    const r = await seeder.run();
    expect(random.added[0]).toEqual({ bytes: 32, bits: 0 });
    expect(r.outcome).toBe('no-device');
    expect(r.seedFile).toMatchObject({ loadedCreditedBits: 0, written: true, writtenCreditable: false });
    expect(parseSeedFile(saved() as unknown as Uint8Array).creditable).toBe(false);
  });

  it('EPERM from RNDADDENTROPY propagates (the command maps it to 77)', async () => {
    const { seeder, random } = setup({});
    random.eperm = true;
    await expect(seeder.run()).rejects.toMatchObject({ code: 'EPERM' });
  });
});

describe('Seeder on a regular file: read once, never reopened at its end', () => {
  // The case: a 2-block file while the crng is not ready gave 400,000 bits
  // with --bytes 50000 (the file was reopened at EOF and read again).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-seed-eof-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['--bytes 50000', 50000],
    ['no --bytes', null],
  ])('crng never ready, %s: stops at the end with "exhausted", credits at most the blocks the file holds', async (_name, maxBytes) => {
    const file = path.join(dir, `two-blocks-${maxBytes ?? 'all'}.bin`);
    fs.writeFileSync(file, randomBytes(2 * BLOCK_BYTES));
    const random = new FakeRandomDevice(false, Number.MAX_SAFE_INTEGER); // never ready
    const kernel: SeedKernel = { random, writeUrandom: () => undefined, readUrandom: (n) => new Uint8Array(n), poolsizeBits: () => 256 };
    const seeder = new Seeder(
      {
        kernel,
        source: createSource({ kind: 'pipe', path: file }),
        store: { take: () => null, save: () => undefined },
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        clocks: () => ({ realtimeMs: 1, boottimeNs: 1n }),
        env: {},
      },
      { timeoutMs: 5000, maxBytes, seedFile: null },
    );
    const t0 = Date.now();
    const r = await seeder.run();
    expect(r.outcome).toBe('exhausted');
    expect(Date.now() - t0).toBeLessThan(2000); // no waiting for the timeout either
    expect(r.bytesRead).toBe(2 * BLOCK_BYTES);
    expect(r.blocksPassed).toBe(1); // 4 bootstrap bytes, one block, a partial one
    expect(r.askedBits).toBeLessThanOrEqual(r.blocksPassed * BLOCK_BYTES * 8);
    expect(random.added.reduce((n, a) => n + a.bytes, 0)).toBe(BLOCK_BYTES);
  });
});
