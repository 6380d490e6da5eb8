// The block gate: assembles a source's bytes into 2,500-byte blocks, tests each
// block before any of it may be credited, and says which blocks passed. Pure: no
// I/O, no timers. One BlockGate per source (the FIPS continuous test is per
// source); reset() when the source is reopened.
//
// API (stable; the daemon and `vrngd seed` use it):
//   const gate = createFipsGate();          // core/fips-gate.ts, FIPS 140-2 tester
//   for (const v of gate.push(bytes)) if (v.passed) use(v.block); // else discarded
//   gate.needBytes()  → bytes still missing for the next verdict
//   gate.counts       → blocksPassed, blocksFailed, blocksRepeated, fipsFailures per test
//
// The first 4 bytes of every stream are not part of any block: they seed the
// FIPS continuous-run test (rngd discards and uses its first words the same way),
// and are never credited.
//
// On top of FIPS the gate rejects a block that repeats itself or the previous
// block (any 16-byte sequence seen twice in the last 5,000 bytes). FIPS alone
// passes a replayed random block, or a source stuck in a loop of good-looking
// data; random data repeats 16 bytes by chance with probability about 1e-29.
// Because a repetition can only be seen against history, with baselineBlock the
// first block a gate ever sees is a baseline: tested, remembered, never passed
// (verdict.baseline). The daemon uses it (a replaying source credits 0 bits).
// The memory survives reset(), so a device that replays the same data after
// every reopen is caught too. The check is allocation-free: a rolling hash of
// every 16-byte window indexes a fixed open-addressed table, and a hash hit is
// confirmed byte by byte (same verdicts as comparing the windows themselves).
// Memory: two blocks of bytes and hashes plus a 16,384-slot table per gate.

export const BLOCK_BYTES = 2500;
export const BOOTSTRAP_BYTES = 4;
const REPEAT_WINDOW_BYTES = 16;
/** Windows per block: every 16-byte sequence that starts and ends inside it. */
const WINDOWS = BLOCK_BYTES - REPEAT_WINDOW_BYTES + 1;
/** Table slots: a power of two, over 3× the 2 × 2,485 windows it holds. */
const TABLE_BITS = 14;
/** The rolling hash's base (odd), and base^15 mod 2^32 to drop the outgoing byte. */
const HASH_BASE = 0x01000193;
let basePow = 1;
for (let k = 1; k < REPEAT_WINDOW_BYTES; k++) basePow = Math.imul(basePow, HASH_BASE);
const HASH_BASE_POW = basePow;

export type FipsTestName = 'monobit' | 'poker' | 'runs' | 'longRun' | 'continuousRun';
export const FIPS_TEST_NAMES: readonly FipsTestName[] = ['monobit', 'poker', 'runs', 'longRun', 'continuousRun'];

export interface BlockTester {
  /** Returns a failure bitmask, 0 = pass. */
  testBlock(block: Uint8Array, offset?: number): number;
}

export interface BlockGateOptions {
  /** A FIPS tester for one stream, seeded with its first 32-bit word. */
  createTester: (bootstrap: number) => BlockTester;
  /** Names of the tests set in a failure mask. */
  failureNames: (mask: number) => FipsTestName[];
  /** Also reject repeated data (default true). */
  rejectRepeats?: boolean;
  /** Never pass the first block: it is the repetition baseline (default false). */
  baselineBlock?: boolean;
}

export interface GateVerdict {
  /**
   * The 2,500 bytes: a fresh array the caller owns and may keep (the runner holds
   * a passing block until it is credited, and one push() can complete several
   * blocks, so the gate cannot lend one reused buffer).
   */
  block: Uint8Array;
  passed: boolean;
  /** FIPS tests that failed (empty when passed or when only the repeat check failed). */
  failures: FipsTestName[];
  /** True when the block repeated earlier data. */
  repeated: boolean;
  /** The gate's first block: the repetition baseline, never passed, not counted as failed. */
  baseline: boolean;
}

export interface GateCounts {
  blocksPassed: number;
  blocksFailed: number;
  /** Failed blocks that repeated earlier data (counted in blocksFailed too). */
  blocksRepeated: number;
  /** Baseline blocks (see above): neither passed nor failed. */
  blocksBaseline: number;
  fipsFailures: Record<FipsTestName, number>;
}

export const emptyFipsFailures = (): Record<FipsTestName, number> => ({ monobit: 0, poker: 0, runs: 0, longRun: 0, continuousRun: 0 });

export class BlockGate {
  readonly counts: GateCounts = { blocksPassed: 0, blocksFailed: 0, blocksRepeated: 0, blocksBaseline: 0, fipsFailures: emptyFipsFailures() };
  private tester: BlockTester | null = null;
  private bootstrap: number[] = [];
  private pending = new Uint8Array(BLOCK_BYTES);
  private pendingBytes = 0;
  /** The previous block's bytes at [0, 2500), the block being judged at [2500, 5000). */
  private readonly history = new Uint8Array(2 * BLOCK_BYTES);
  /** The windows of the previous block and of the current one, one hash table each. */
  private previous = new WindowTable();
  private current = new WindowTable();
  private hasPrevious = false;

  constructor(private readonly opts: BlockGateOptions) {}

  /** Bytes still needed before push() can return the next verdict. */
  needBytes(): number {
    return (this.tester ? 0 : BOOTSTRAP_BYTES - this.bootstrap.length) + BLOCK_BYTES - this.pendingBytes;
  }

  /** Starts a new stream (after a reopen): new bootstrap word, partial block dropped; repetition memory kept. */
  reset(): void {
    this.tester = null;
    this.bootstrap = [];
    this.pendingBytes = 0;
  }

  /** Feeds bytes; returns a verdict for every block completed by them. */
  push(data: Uint8Array): GateVerdict[] {
    const out: GateVerdict[] = [];
    let i = 0;
    while (!this.tester && i < data.length) {
      this.bootstrap.push(data[i++] as number);
      if (this.bootstrap.length === BOOTSTRAP_BYTES) {
        const [a, b, c, d] = this.bootstrap as [number, number, number, number];
        this.tester = this.opts.createTester(((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
      }
    }
    while (i < data.length) {
      const take = Math.min(BLOCK_BYTES - this.pendingBytes, data.length - i);
      this.pending.set(data.subarray(i, i + take), this.pendingBytes);
      this.pendingBytes += take;
      i += take;
      if (this.pendingBytes === BLOCK_BYTES) {
        out.push(this.judge(this.pending.slice()));
        this.pendingBytes = 0;
      }
    }
    return out;
  }

  private judge(block: Uint8Array): GateVerdict {
    const mask = (this.tester as BlockTester).testBlock(block);
    const checkRepeats = this.opts.rejectRepeats !== false;
    const baseline = checkRepeats && this.opts.baselineBlock === true && !this.hasPrevious;
    const repeated = checkRepeats ? this.checkRepeats(block) : false;
    const failures = mask ? this.opts.failureNames(mask) : [];
    if (baseline && mask === 0 && !repeated) {
      this.counts.blocksBaseline++;
      return { block, passed: false, failures, repeated, baseline: true };
    }
    const passed = mask === 0 && !repeated;
    if (passed) this.counts.blocksPassed++;
    else {
      this.counts.blocksFailed++;
      if (repeated) this.counts.blocksRepeated++;
      for (const name of failures) this.counts.fipsFailures[name]++;
    }
    return { block, passed, failures, repeated, baseline: false };
  }

  /** True when any 16-byte sequence of the block occurs twice in it or in the previous block. */
  private checkRepeats(block: Uint8Array): boolean {
    const h = this.history;
    h.set(block, BLOCK_BYTES);
    const cur = this.current;
    const prev = this.previous;
    cur.clear();
    let repeated = false;
    let x = 0;
    for (let k = 0; k < REPEAT_WINDOW_BYTES - 1; k++) x = (Math.imul(x, HASH_BASE) + (h[BLOCK_BYTES + k] as number)) | 0;
    for (let i = 0; i < WINDOWS; i++) {
      const start = BLOCK_BYTES + i;
      if (i > 0) x = (x - Math.imul(h[start - 1] as number, HASH_BASE_POW)) | 0;
      x = (Math.imul(x, HASH_BASE) + (h[start + REPEAT_WINDOW_BYTES - 1] as number)) | 0;
      // previous-block windows sit at [0, 2485) of history, this block's at [2500, 4985)
      if (!repeated && this.hasPrevious && prev.has(x, h, start, 0)) repeated = true;
      if (cur.addOrFind(x, h, start, repeated)) repeated = true;
    }
    // the current block becomes the previous one
    h.copyWithin(0, BLOCK_BYTES);
    this.previous = cur;
    this.current = prev;
    this.hasPrevious = true;
    return repeated;
  }
}

/**
 * Open-addressed (linear probing) set of 16-byte windows of one block, keyed by
 * their rolling hash; entries point into the gate's history buffer, so a hash hit
 * is confirmed byte by byte. Emptied in O(1) by a new stamp.
 */
class WindowTable {
  private readonly stamps = new Int32Array(1 << TABLE_BITS);
  private readonly hashes = new Int32Array(1 << TABLE_BITS);
  /** Window start in the current block (0..2484). */
  private readonly starts = new Int32Array(1 << TABLE_BITS);
  private stamp = 0;

  clear(): void {
    if (this.stamp === 0x7fffffff) {
      this.stamps.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
  }

  /** Whether a window equal to h[at, at+16) is in the table; its entries are read at base + start. */
  has(hash: number, h: Uint8Array, at: number, base: number): boolean {
    const mask = (1 << TABLE_BITS) - 1;
    for (let s = Math.imul(hash, 0x9e3779b1) >>> (32 - TABLE_BITS); this.stamps[s] === this.stamp; s = (s + 1) & mask) {
      if (this.hashes[s] === hash && sameWindow(h, base + (this.starts[s] as number), at)) return true;
    }
    return false;
  }

  /**
   * Adds the window at h[at, at+16) (a start in the second half of h) unless an
   * equal one is there already; returns true when it was (a repeat). With
   * `known` (a repeat already found) it only adds, without comparing.
   */
  addOrFind(hash: number, h: Uint8Array, at: number, known: boolean): boolean {
    const mask = (1 << TABLE_BITS) - 1;
    let s = Math.imul(hash, 0x9e3779b1) >>> (32 - TABLE_BITS);
    for (; this.stamps[s] === this.stamp; s = (s + 1) & mask) {
      if (!known && this.hashes[s] === hash && sameWindow(h, BLOCK_BYTES + (this.starts[s] as number), at)) return true;
    }
    this.stamps[s] = this.stamp;
    this.hashes[s] = hash;
    this.starts[s] = at - BLOCK_BYTES;
    return false;
  }
}

function sameWindow(h: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; k < REPEAT_WINDOW_BYTES; k++) if (h[a + k] !== h[b + k]) return false;
  return true;
}
