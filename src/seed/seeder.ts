// The one-shot seeder behind `vrngd seed`: stored seed first (SeedRNG rules),
// then the device -- waited for up to the deadline, read through the shared
// EntropySource (a killable vrngd-reader child for /dev/hwrng, never a blocking read in
// this process), every byte through the FIPS block gate, passing blocks credited
// with RNDADDENTROPY -- until the kernel says it is seeded, then RNDRESEEDCRNG,
// then a fresh seed file. Ports in, a report out; no process, no printing.
//
// This process must never use its own CSPRNG (it may run under vrngd-preload.so
// with a weakly seeded OpenSSL, see src/native/preload.c): no crypto.random*,
// no Math.random, no random file names. Bytes for the kernel come from the
// device or the seed file; bytes for the new seed file come from the kernel
// (read(2) of /dev/urandom once getrandom(GRND_NONBLOCK) says ready) or, before
// that, from device bytes that passed the gate, and are then never credited.
import { gateFor, seedCreditPolicy } from '../core/credit-policy';
import { BlockGate, type BlockGateOptions } from '../core/gate';
import { finishFreshSeed, formatSeedFile, parseSeedFile, seedLengthBytes, skipCreditFromEnv, storedSeedCreditBits } from '../core/seed-file';
import { CrngState, kernelSeeded, seedDone, SeedReport } from '../core/seed-policy';
import { errorCode, isDeviceGone } from '../kernel/errors';
import { Injector } from '../kernel/injector';
import { RandomDevice } from '../kernel/random-device';
import { EntropySource } from '../sources/entropy-source';
import { TakenSeed } from './seed-file-store';

/** What the seeder needs from the kernel beyond the RandomDevice port. */
export interface SeedKernel {
  /** /dev/random: RNDGETENTCNT, RNDADDENTROPY, getrandom probe, RNDRESEEDCRNG, poll. */
  random: RandomDevice;
  /** write(2) to /dev/urandom: on 2.6.32/3.10 this reaches the urandom pool at once. */
  writeUrandom(data: Uint8Array): void;
  /** read(2) from /dev/urandom, which never blocks. */
  readUrandom(bytes: number): Uint8Array;
  /** /proc/sys/kernel/random/poolsize, null when unreadable. */
  poolsizeBits(): number | null;
}

export interface SeedStore {
  take(file: string): TakenSeed | null;
  save(file: string, contents: Uint8Array): void;
}

export interface SeederDeps {
  kernel: SeedKernel;
  /** Created, not opened: the seeder opens it (and reopens it while the device is missing). */
  source: EntropySource;
  /** The block gate; default: the seed policy's (core/credit-policy.ts). */
  gate?: BlockGate;
  /** The default gate's FIPS engine (the command injects the addon's); default: core/fips.ts's. */
  createTester?: BlockGateOptions['createTester'];
  store: SeedStore;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  clocks: () => { realtimeMs: number; boottimeNs: bigint };
  env: NodeJS.ProcessEnv;
}

export interface SeedOptions {
  timeoutMs: number;
  /** Stop after this many device bytes even if the kernel is not seeded yet; null: no cap. */
  maxBytes: number | null;
  seedFile: string | null;
}

/** How often a missing or silent device is looked at again. */
export const RETRY_MS = 100;

const TIMEOUT = Symbol('timeout');

/** A stored seed's outcome (errors reading or removing it are reported, never fatal). */
interface SeedIn {
  loadedBytes: number;
  creditedBits: number;
  oldSeed: Uint8Array | null;
  error: unknown;
}

export class Seeder {
  private readonly injector: Injector;
  private readonly gate: BlockGate;
  private readonly hwrngTail: Uint8Array[] = [];

  constructor(private readonly deps: SeederDeps, private readonly opts: SeedOptions) {
    const policy = seedCreditPolicy({ hasGetrandom: deps.kernel.random.crngReady() !== null });
    this.gate = deps.gate ?? gateFor(policy, undefined, deps.createTester);
    this.injector = new Injector(deps.kernel.random, policy, { target: '/dev/random', writeUrandom: (data) => deps.kernel.writeUrandom(data) });
  }

  async run(): Promise<SeedReport & { seedFileError: unknown }> {
    const { kernel, now } = this.deps;
    const start = now();
    const deadline = start + this.opts.timeoutMs;
    const entropyBeforeBits = kernel.random.entropyBits();
    const crngReadyBefore = kernel.random.crngReady();
    const poolsizeBits = kernel.poolsizeBits();

    const seedIn = this.opts.seedFile ? this.loadStoredSeed(this.opts.seedFile) : null;

    let outcome: SeedReport['outcome'];
    let bytesRead = 0;
    try {
      const r = await this.seedFromDevice(deadline, poolsizeBits);
      outcome = r.outcome;
      bytesRead = r.bytesRead;
    } finally {
      this.deps.source.close();
    }

    const crngReady = kernel.random.crngReady();
    let reseeded: boolean | null = null;
    if (crngReady === true && bytesRead > 0) {
      try {
        reseeded = this.injector.reseed();
      } catch (e: unknown) {
        if (errorCode(e) !== 'ENODATA') throw e;
      }
    }

    let seedFileReport: SeedReport['seedFile'] = null;
    let seedFileError: unknown = seedIn?.error ?? null;
    if (this.opts.seedFile && seedIn) {
      let written = false;
      let writtenCreditable = false;
      try {
        const fresh = this.freshSeed(poolsizeBits, crngReady);
        const contents = finishFreshSeed(fresh.bytes, seedIn.oldSeed, concat(this.hwrngTail), this.deps.clocks());
        this.deps.store.save(this.opts.seedFile, formatSeedFile(contents, fresh.creditable));
        written = true;
        writtenCreditable = fresh.creditable;
      } catch (e: unknown) {
        seedFileError = seedFileError ?? e;
      }
      seedFileReport = { path: this.opts.seedFile, loadedBytes: seedIn.loadedBytes, loadedCreditedBits: seedIn.creditedBits, written, writtenCreditable };
    }

    const gate = this.gate.counts;
    return {
      device: this.deps.source.path,
      bytesRead,
      blocksPassed: gate.blocksPassed,
      blocksFailed: gate.blocksFailed,
      creditedBits: this.injector.totals.bitsCredited,
      askedBits: this.injector.totals.bitsAsked,
      entropyBeforeBits,
      entropyAfterBits: kernel.random.entropyBits(),
      crngReadyBefore,
      crngReady,
      reseeded,
      elapsedMs: Math.round(now() - start),
      seedFile: seedFileReport,
      outcome,
      seedFileError,
    };
  }

  /** SeedRNG step 2: remove (durably) before use; credit only a seed written while ready. */
  private loadStoredSeed(file: string): SeedIn {
    let taken: TakenSeed | null;
    try {
      taken = this.deps.store.take(file);
    } catch (e: unknown) {
      return { loadedBytes: 0, creditedBits: 0, oldSeed: null, error: e };
    }
    if (!taken || taken.data.length === 0) return { loadedBytes: 0, creditedBits: 0, oldSeed: null, error: null };
    const parsed = parseSeedFile(taken.data);
    const bits = storedSeedCreditBits(parsed, skipCreditFromEnv(this.deps.env));
    if (parsed.seed.length > 0) this.injector.inject(parsed.seed, bits / parsed.seed.length);
    return { loadedBytes: parsed.seed.length, creditedBits: bits, oldSeed: parsed.seed, error: null };
  }

  private async seedFromDevice(deadline: number, poolsizeBits: number | null): Promise<{ outcome: SeedReport['outcome']; bytesRead: number }> {
    const { source, kernel } = this.deps;
    const gate = this.gate;
    let bytesRead = 0;
    let everOpened = false;
    let open = false;
    for (;;) {
      if (this.deps.now() >= deadline) return { outcome: everOpened || bytesRead > 0 ? 'timeout' : 'no-device', bytesRead };
      if (!open) {
        try {
          await source.open();
          open = true;
          everOpened = true;
          gate.reset();
        } catch (e: unknown) {
          if (!isDeviceGone(e)) throw e;
          await this.deps.sleep(Math.max(0, Math.min(RETRY_MS, deadline - this.deps.now())));
          continue;
        }
      }
      let data: Uint8Array | typeof TIMEOUT;
      try {
        data = await this.readBefore(source, gate.needBytes(), deadline);
      } catch (e: unknown) {
        // 6.x keeps /dev/hwrng while no RNG is registered yet (reads: ENODEV): wait for it
        if (!isDeviceGone(e)) throw e;
        source.close();
        open = false;
        if (bytesRead === 0) everOpened = false;
        await this.deps.sleep(Math.max(0, Math.min(RETRY_MS, deadline - this.deps.now())));
        continue;
      }
      if (data === TIMEOUT) return { outcome: 'timeout', bytesRead };
      if (data.length === 0) {
        // a regular file is read once: its end is the end (reading it again would replay it)
        if ((source as { fileType?: string }).fileType === 'file') {
          const progress = { crngReady: kernel.random.crngReady(), entropyBits: kernel.random.entropyBits(), poolsizeBits };
          return { outcome: gate.counts.blocksPassed > 0 && kernelSeeded(progress) ? 'seeded' : 'exhausted', bytesRead };
        }
        // end of data (a FIFO without a writer): look again until the deadline
        source.close();
        open = false;
        await this.deps.sleep(Math.max(0, Math.min(RETRY_MS, deadline - this.deps.now())));
        continue;
      }
      bytesRead += data.length;
      for (const verdict of gate.push(data)) {
        if (!verdict.passed) continue;
        this.injector.inject(verdict.block, source.quality);
        this.keepTail(verdict.block);
      }
      const progress = {
        crngReady: kernel.random.crngReady(),
        entropyBits: kernel.random.entropyBits(),
        poolsizeBits,
        bytesRead,
        blocksPassed: gate.counts.blocksPassed,
        maxBytes: this.opts.maxBytes,
      };
      if (seedDone(progress)) return { outcome: kernelSeeded(progress) || this.opts.maxBytes !== null ? 'seeded' : 'timeout', bytesRead };
    }
  }

  /** One source read raced against the deadline; on the deadline the read is abandoned (child killed). */
  private async readBefore(source: EntropySource, bytes: number, deadline: number): Promise<Uint8Array | typeof TIMEOUT> {
    const remaining = deadline - this.deps.now();
    if (remaining <= 0) return TIMEOUT;
    const read = source.read(bytes);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), remaining);
    });
    try {
      const r = await Promise.race([read, timeout]);
      if (r === TIMEOUT) {
        read.catch(() => undefined); // rejects with ECLOSED once close() kills the reader
        source.close();
      }
      return r;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private keepTail(block: Uint8Array): void {
    this.hwrngTail.push(block.slice(block.length - 512));
    if (this.hwrngTail.length > 2) this.hwrngTail.shift();
  }

  /**
   * The new seed's bytes. Creditable only when the kernel says ready (SeedRNG):
   * getrandom(GRND_NONBLOCK) succeeds; without getrandom (2.6.32, 3.10), when the
   * input pool holds the fill watermark -- stricter than SeedRNG's poll(POLLIN)
   * there, which only means 64 bits. Then they are read from /dev/urandom, the
   * kernel's CSPRNG. Before that, device bytes that passed the gate are used,
   * uncredited (or /dev/urandom, uncredited, when there are none).
   */
  private freshSeed(poolsizeBits: number | null, crngReady: CrngState): { bytes: Uint8Array; creditable: boolean } {
    const length = seedLengthBytes(poolsizeBits);
    const { kernel } = this.deps;
    if (crngReady === true) return { bytes: kernel.readUrandom(length), creditable: true };
    if (crngReady === null) return { bytes: kernel.readUrandom(length), creditable: kernelSeeded({ crngReady, entropyBits: kernel.random.entropyBits(), poolsizeBits }) };
    const tail = concat(this.hwrngTail);
    if (tail.length >= length) return { bytes: tail.slice(tail.length - length), creditable: false };
    return { bytes: kernel.readUrandom(length), creditable: false };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
