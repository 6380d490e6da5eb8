// clone/clone-watch.ts behind its ports: a fake ID reader, a fake random device,
// bytes from crypto.randomBytes (they pass FIPS) or replayed ones (they must not be credited).
import { randomBytes } from 'crypto';
import { describe, expect, it } from 'vitest';
import { CloneWatch, FIRST_MIX_BYTES, rekey, RekeyDeps, RekeyResult } from '../../src/clone/clone-watch';
import { BlockGate } from '../../src/core/gate';
import { RepeatMemory } from '../../src/core/repeat-memory';
import type { RandomDevice } from '../../src/kernel/random-device';
import type { GenerationIdReader } from '../../src/kernel/vmgenid';
import { MemoryLogger } from '../fakes/fake-logger';

class FakeDevice implements RandomDevice {
  count = 100;
  added: Array<{ bytes: number; bits: number }> = [];
  reseeds = 0;
  constructor(private readonly hasReseed: boolean) {}
  entropyBits(): number {
    return this.count;
  }
  addEntropy(data: Uint8Array, bits: number): void {
    this.added.push({ bytes: data.length, bits });
    this.count = Math.min(4096, this.count + bits);
  }
  write(): void {
    throw new Error('the injector must not write to /dev/random here');
  }
  poll(): Promise<number> {
    return Promise.resolve(0);
  }
  crngReady(): boolean | null {
    return null;
  }
  reseedCrng(): boolean {
    if (!this.hasReseed) return false;
    this.reseeds++;
    return true;
  }
  close(): void {}
}

function deps(device: FakeDevice, hasGetrandom: boolean, over: Partial<RekeyDeps> = {}): RekeyDeps & { urandom: Uint8Array[]; reads: number[] } {
  const urandom: Uint8Array[] = [];
  const reads: number[] = [];
  return {
    device,
    gate: new BlockGate({ repeats: new RepeatMemory() }),
    readFresh: async (n) => {
      reads.push(n);
      return randomBytes(n);
    },
    quality: 8,
    hasGetrandom,
    writeUrandom: (d) => void urandom.push(Buffer.from(d)),
    urandom,
    reads,
    ...over,
  };
}

describe("rekey: the era's way, through the gate", () => {
  it('3.10 (no getrandom): 64 B written at once, then one checked block written to /dev/urandom and credited; no RNDRESEEDCRNG', async () => {
    const dev = new FakeDevice(false);
    const d = deps(dev, false);
    const r = await rekey(d);
    expect(d.reads[0]).toBe(FIRST_MIX_BYTES);
    expect(d.reads[1]).toBe(2504); // bootstrap word + one 2,500-byte block
    expect(d.urandom.map((u) => u.length)).toEqual([64, 2500]);
    expect(dev.added.reduce((a, s) => a + s.bytes, 0)).toBe(2500);
    expect(dev.added.every((s) => s.bits === s.bytes * 8)).toBe(true);
    expect(r).toMatchObject({ bytes: 2500, wroteUrandom: true, reseeded: false, bitsAsked: 20000, bitsCredited: 4096 - 100 });
    expect(dev.reseeds).toBe(0);
  });
  it('el7 (getrandom, RNDRESEEDCRNG unsupported): credited only, no urandom write of the block', async () => {
    const dev = new FakeDevice(false);
    const d = deps(dev, true);
    const r = await rekey(d);
    expect(d.urandom.map((u) => u.length)).toEqual([64]);
    expect(r).toMatchObject({ wroteUrandom: false, reseeded: false });
    expect(dev.added.length).toBeGreaterThan(0);
  });
  it('4.17-5.17: RNDADDENTROPY, then RNDRESEEDCRNG', async () => {
    const dev = new FakeDevice(true);
    const r = await rekey(deps(dev, true));
    expect(r.reseeded).toBe(true);
    expect(dev.reseeds).toBe(1);
  });
  it('bytes seen before are never credited: a replaying device gets nothing credited and the re-key fails loudly', async () => {
    const dev = new FakeDevice(false);
    const repeats = new RepeatMemory();
    const same = randomBytes(2504);
    // the daemon already saw this block (the shared memory)
    new BlockGate({ repeats }).push(same);
    const d = deps(dev, false, { gate: new BlockGate({ repeats }), readFresh: async (n) => same.subarray(0, n) });
    await expect(rekey(d)).rejects.toThrow(/no block from the hardware RNG passed the checks \(4 rejected\)/);
    expect(dev.added).toHaveLength(0);
  });
  it('a block failing FIPS (all zeros) is not credited', async () => {
    const dev = new FakeDevice(false);
    const d = deps(dev, false, { readFresh: async (n) => new Uint8Array(n) });
    await expect(rekey(d)).rejects.toThrow(/passed the checks/);
    expect(dev.added).toHaveLength(0);
  });
});

class FakeReader implements GenerationIdReader {
  id = Buffer.alloc(16, 1);
  fail: Error | null = null;
  reads = 0;
  closed = false;
  read(): Uint8Array {
    this.reads++;
    if (this.fail) throw this.fail;
    return Buffer.from(this.id);
  }
  close(): void {
    this.closed = true;
  }
}

const okResult: RekeyResult = { bytes: 2500, bitsAsked: 20000, bitsCredited: 3000, wroteUrandom: true, reseeded: false, rejected: 0, firstMixBytes: 64, firstMixMs: 12, creditedMs: 300 };

describe('CloneWatch', () => {
  function make(rekeyFn = async (): Promise<RekeyResult> => okResult) {
    const reader = new FakeReader();
    const logger = new MemoryLogger();
    const events: number[] = [];
    let armed: { fn: () => void; ms: number } | null = null;
    let cleared = false;
    let rekeys = 0;
    const w = new CloneWatch({
      reader,
      intervalMs: 1000,
      logger,
      onEvent: (n) => events.push(n),
      rekey: () => {
        rekeys++;
        return rekeyFn();
      },
      setInterval: (fn, ms) => (armed = { fn, ms }),
      clearInterval: () => (cleared = true),
    });
    return { w, reader, logger, events, armed: () => armed, cleared: () => cleared, rekeys: () => rekeys };
  }

  it('arms one interval at start; an unchanged ID does nothing', async () => {
    const t = make();
    t.w.start();
    expect(t.armed()?.ms).toBe(1000);
    expect(await t.w.check()).toBe(false);
    expect(await t.w.check()).toBe(false);
    expect(t.rekeys()).toBe(0);
    expect(t.logger.lines).toHaveLength(0);
    expect(t.reader.reads).toBe(3);
  });

  it('a new ID: one notice line, one count, one re-key, the state callback; the next check is quiet again', async () => {
    const t = make();
    t.w.start();
    t.reader.id = Buffer.alloc(16, 2);
    expect(await t.w.check()).toBe(true);
    expect(await t.w.check()).toBe(false);
    expect(t.w.clonesDetected).toBe(1);
    expect(t.w.rekeys).toBe(1);
    expect(t.events).toEqual([1]);
    const lines = t.logger.visible('VM generation ID changed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`VM generation ID changed (${'01'.repeat(16)} -> ${'02'.repeat(16)}): restored or cloned VM; re-keyed the kernel from the hardware RNG: 64 B mixed uncredited after 12 ms, then 2500 checked bytes written to /dev/urandom and credited, 3000 bits credited, after 300 ms`);
  });

  it('the state callback runs before the line is logged (a reader of the line finds the count); a throwing callback is one warning', async () => {
    const t = make();
    const order: string[] = [];
    const w = new CloneWatch({
      reader: t.reader,
      intervalMs: 1000,
      logger: { notice: () => order.push('notice'), warning: (l) => order.push(`warning ${l}`), info: () => undefined },
      onEvent: () => {
        order.push('state');
        if (order.length > 2) throw new Error('EROFS');
      },
      rekey: async () => okResult,
      setInterval: () => 0,
      clearInterval: () => undefined,
    });
    w.start();
    t.reader.id = Buffer.alloc(16, 4);
    await w.check();
    expect(order).toEqual(['state', 'notice']);
    t.reader.id = Buffer.alloc(16, 5);
    await w.check();
    expect(order.slice(2)).toEqual(['state', 'warning clone watch: cannot write the state file: EROFS', 'notice']);
  });

  it('a failed re-key is said (warning), still counted as a clone, and not as a re-key', async () => {
    const t = make(async () => {
      throw new Error('no block from the hardware RNG passed the checks (4 rejected)');
    });
    t.w.start();
    t.reader.id = Buffer.alloc(16, 3);
    await t.w.check();
    expect(t.w.clonesDetected).toBe(1);
    expect(t.w.rekeys).toBe(0);
    expect(t.logger.lines.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual([expect.stringMatching(/re-keying failed: no block .* passed the checks/)]);
  });

  it('a read error is said once, and the watch goes on', async () => {
    const t = make();
    t.w.start();
    t.reader.fail = new Error('EFAULT');
    await t.w.check();
    await t.w.check();
    expect(t.logger.lines.filter((l) => l.level === 'warning')).toHaveLength(1);
    t.reader.fail = null;
    t.reader.id = Buffer.alloc(16, 9);
    expect(await t.w.check()).toBe(true);
  });

  it('start throws when the first read fails (the caller says so and runs without it); stop clears the timer and closes the reader', () => {
    const t = make();
    t.reader.fail = new Error('EPERM');
    expect(() => t.w.start()).toThrow('EPERM');
    const u = make();
    u.w.start();
    u.w.stop();
    expect(u.cleared()).toBe(true);
    expect(u.reader.closed).toBe(true);
  });
});
