// The clone watcher: notices that this VM was restored from a snapshot, migrated
// in or cloned (its VM generation ID changed, kernel/vmgenid.ts) and re-keys the
// kernel from the hardware RNG at once, before the pool and crng state of the
// image serve anyone else. Only where it is needed: a vmgenid device that no
// kernel driver handles (before 5.18; RHEL 6, 7, 8). No event reaches user space
// there (the GPE's Notify finds no driver, and /sys/firmware/acpi/interrupts/gpeXX
// cannot be poll()ed), so the ID is read once per interval: one timer wakeup and
// one mmap of /dev/mem, a few µs, per interval. Where there is no device (a host,
// the idle bench) nothing runs and nothing wakes up.
//
// Re-keying, by era (docs/kernel-eras.md, kernel-entropy.md §6), with bytes that
// passed the same gate as all others (FIPS + the daemon's repeat memory: bytes
// seen before are never credited):
//   no getrandom (2.6.32, 3.10): write(2) to /dev/urandom (reaches its pool at
//     once) and RNDADDENTROPY with credit;
//   getrandom, no RNDRESEEDCRNG (el7.x, 3.17-4.16): RNDADDENTROPY with credit (the
//     crng takes it at its next reseed);
//   4.17-5.17: RNDADDENTROPY, then RNDRESEEDCRNG.
import type { BlockGate } from '../core/gate';
import { Injector } from '../kernel/injector';
import type { RandomDevice } from '../kernel/random-device';
import type { GenerationIdReader } from '../kernel/vmgenid';

export interface CloneLogger {
  notice(line: string): void;
  warning(line: string): void;
  info(line: string): void;
}

/** Fresh bytes from the hardware RNG, up to `bytes`; resolves what was read. */
export type ReadFresh = (bytes: number) => Promise<Uint8Array>;

export interface RekeyDeps {
  device: RandomDevice;
  /** A gate of its own (its FIPS stream), sharing the daemon's repeat memory. */
  gate: BlockGate;
  readFresh: ReadFresh;
  /** Bits credited per byte (the daemon's -e). */
  quality: number;
  /** The kernel has getrandom(2) (3.17+): false means 2.6.32/3.10, where /dev/urandom is written too. */
  hasGetrandom: boolean;
  writeUrandom: (data: Uint8Array) => void;
  /** Passing blocks wanted; the gate's bootstrap word and failed blocks are read on top. */
  blocks?: number;
  now?: () => number;
}

export interface RekeyResult {
  bytes: number;
  bitsAsked: number;
  bitsCredited: number;
  wroteUrandom: boolean;
  reseeded: boolean;
  /** Blocks that failed FIPS or repeated earlier data (not used). */
  rejected: number;
  /** Fresh bytes mixed at once by write(2), credited nothing (before the block's checks end). */
  firstMixBytes: number;
  /** ms from the start to that first mix, and to the credited block. */
  firstMixMs: number;
  creditedMs: number;
}

/** Bytes mixed at once, uncredited: one hwrng read (the 3.10 core answers 64 B per request). */
export const FIRST_MIX_BYTES = 64;

/** Reads until `blocks` blocks pass the gate (at most 4 tries per block), then injects them the era's way. */
export async function rekey(d: RekeyDeps): Promise<RekeyResult> {
  const clock = d.now ?? Date.now;
  const t0 = clock();
  // at once: a few fresh bytes mixed by write(2), credited nothing (write(2) credits
  // nothing in any era; anyone may do it). Under TCG a checked 2,500-byte block takes
  // 1-2 s to read from virtio-rng, and until then every clone's output is the image's.
  const first = await d.readFresh(FIRST_MIX_BYTES);
  if (first.length > 0) d.writeUrandom(first);
  const firstMixMs = clock() - t0;
  const want = d.blocks ?? 1;
  const passed: Uint8Array[] = [];
  let rejected = 0;
  for (let tries = 0; passed.length < want && tries < 4 * want; tries++) {
    const chunk = await d.readFresh(d.gate.needBytes());
    if (chunk.length === 0) break;
    for (const v of d.gate.push(chunk)) {
      if (v.passed) passed.push(v.block);
      else if (!v.baseline) rejected++;
    }
  }
  d.gate.reset();
  if (passed.length === 0) throw new Error(`no block from the hardware RNG passed the checks (${rejected} rejected)`);
  const data = Buffer.concat(passed);
  const injector = new Injector(d.device, { baselineBlock: false, maxBitsPerByte: d.quality, stepBytes: 512, writeUrandom: !d.hasGetrandom }, { target: '/dev/random', writeUrandom: d.writeUrandom });
  injector.inject(data, d.quality);
  const reseeded = d.hasGetrandom ? injector.reseed() : false;
  return { bytes: data.length, bitsAsked: injector.totals.bitsAsked, bitsCredited: injector.totals.bitsCredited, wroteUrandom: !d.hasGetrandom, reseeded, rejected, firstMixBytes: first.length, firstMixMs, creditedMs: clock() - t0 };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface CloneWatchDeps {
  reader: GenerationIdReader;
  intervalMs: number;
  rekey: () => Promise<RekeyResult>;
  logger: CloneLogger;
  /** After each event (the caller writes the state file). */
  onEvent?: (clonesDetected: number) => void;
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (t: unknown) => void;
}

export class CloneWatch {
  clonesDetected = 0;
  rekeys = 0;
  private id: Uint8Array | null = null;
  private timer: unknown = null;
  private busy = false;
  private readFailed = false;
  /** The last check: detection to re-key done, ms (for the log and tests). */
  lastRekeyMs: number | null = null;

  constructor(private readonly d: CloneWatchDeps) {}

  /** Reads the ID once (throws when it cannot) and arms the interval. */
  start(): void {
    this.id = this.d.reader.read();
    const set = this.d.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms));
    this.timer = set(() => void this.check(), this.d.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) (this.d.clearInterval ?? ((t: unknown) => clearInterval(t as NodeJS.Timeout)))(this.timer);
    this.timer = null;
    this.d.reader.close();
  }

  /** One check: read the ID; when it changed, log, count and re-key. Resolves true on an event. */
  async check(): Promise<boolean> {
    if (this.busy || this.id === null) return false;
    let now: Uint8Array;
    try {
      now = this.d.reader.read();
    } catch (e: unknown) {
      if (!this.readFailed) this.d.logger.warning(`clone watch: cannot read the VM generation ID: ${e instanceof Error ? e.message : String(e)} (said once)`);
      this.readFailed = true;
      return false;
    }
    this.readFailed = false;
    if (Buffer.from(now).equals(Buffer.from(this.id))) return false;
    const was = this.id;
    this.id = now;
    this.clonesDetected++;
    this.busy = true;
    const clock = this.d.now ?? Date.now;
    const t0 = clock();
    let line: string;
    let ok = false;
    try {
      const r = await this.d.rekey();
      this.rekeys++;
      ok = true;
      this.lastRekeyMs = clock() - t0;
      const how = r.wroteUrandom ? 'written to /dev/urandom and credited' : r.reseeded ? 'credited, crng reseeded (RNDRESEEDCRNG)' : 'credited (no RNDRESEEDCRNG here: the crng takes it at its next reseed)';
      line = `VM generation ID changed (${hex(was)} -> ${hex(now)}): restored or cloned VM; re-keyed the kernel from the hardware RNG: ${r.firstMixBytes} B mixed uncredited after ${r.firstMixMs} ms, then ${r.bytes} checked bytes ${how}, ${r.bitsCredited} bits credited, after ${r.creditedMs} ms`;
    } catch (e: unknown) {
      this.lastRekeyMs = null;
      line = `VM generation ID changed (${hex(was)} -> ${hex(now)}): restored or cloned VM; re-keying failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
    // the state file first, then the line: whoever reads the line finds the count
    try {
      this.d.onEvent?.(this.clonesDetected);
    } catch (e: unknown) {
      this.d.logger.warning(`clone watch: cannot write the state file: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (ok) this.d.logger.notice(line);
    else this.d.logger.warning(line);
    return true;
  }
}
