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
// every reopen is caught too. Cost: one block (2,500 bytes) per gate.

export const BLOCK_BYTES = 2500;
export const BOOTSTRAP_BYTES = 4;
const REPEAT_WINDOW_BYTES = 16;

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
  /** The 2,500 bytes (a copy owned by the caller). */
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
  private previousWindows: Set<string> | null = null;

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
    const baseline = checkRepeats && this.opts.baselineBlock === true && this.previousWindows === null;
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
    const text = Buffer.from(block.buffer, block.byteOffset, block.length).toString('latin1');
    const windows = new Set<string>();
    let repeated = false;
    for (let i = 0; i + REPEAT_WINDOW_BYTES <= text.length; i++) {
      const w = text.substr(i, REPEAT_WINDOW_BYTES);
      if (windows.has(w) || this.previousWindows?.has(w)) repeated = true;
      windows.add(w);
    }
    this.previousWindows = windows;
    return repeated;
  }
}
