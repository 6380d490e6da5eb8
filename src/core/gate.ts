// The block gate: the one path from a source's bytes to blocks that may be
// credited, used by the daemon and by `vrngd seed`. Pure: no I/O, no timers.
// One BlockGate per source (the FIPS continuous test is per stream); reset()
// when the source is reopened.
//
//   const gate = new BlockGate({ repeats: new RepeatMemory(), baselineBlock: true });
//   for (const v of gate.push(bytes)) if (v.passed) use(v.block); // else discarded
//   gate.needBytes()  → bytes still missing for the next verdict
//   gate.counts       → blocksPassed, blocksFailed, blocksRepeated, fipsFailures per test
//
// Blocks are cut and tested by FipsStreamChecker (core/fips-stream.ts), exactly as
// `vrngd check` and rngtest do: the first 4 bytes of every stream are the
// bootstrap word of the continuous-run test (little-endian) and are never
// credited, then every 2,500 bytes are one block. So a block passes FIPS here
// exactly when rngtest passes it (test/core/gate-agreement.test.ts).
//
// On top of FIPS the gate rejects data seen before (core/repeat-memory.ts): a
// replaying device, a looping pipe, a file read twice credit nothing. The memory
// outlives reset(), and the daemon shares one among all its sources.
import { FIPS_BLOCK_BYTES, fipsFailureNames, FipsTestName } from './fips';
import { BlockTester, FipsStreamChecker } from './fips-stream';
import { RepeatCheck, RepeatMemory } from './repeat-memory';

export type { FipsTestName } from './fips';
export type { BlockTester } from './fips-stream';

export const BLOCK_BYTES = FIPS_BLOCK_BYTES;
export const BOOTSTRAP_BYTES = 4;

export interface BlockGateOptions {
  /**
   * The memory of data seen before; null turns the repeat check off (benchmarks
   * only). Default: a memory of this gate's own (the JS reference; the daemon
   * injects the native one, src/native/repeat-memory.ts).
   */
  repeats?: RepeatCheck | null;
  /** Never pass the first block: it is the repetition baseline (see credit-policy.ts). */
  baselineBlock?: boolean;
  /** The FIPS tester for each stream (default: the FIPS 140-2 engine; unit tests swap it). */
  createTester?: (bootstrap: number) => BlockTester;
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
  private stream: FipsStreamChecker;
  private readonly repeats: RepeatCheck | null;
  private judged = 0;

  constructor(private readonly opts: BlockGateOptions = {}) {
    this.repeats = opts.repeats === undefined ? new RepeatMemory(BLOCK_BYTES) : opts.repeats;
    this.stream = this.newStream();
  }

  /** Bytes still needed before push() can return the next verdict. */
  needBytes(): number {
    return this.stream.needBytes();
  }

  /** Starts a new stream (after a reopen): new bootstrap word, partial block dropped; repetition memory kept. */
  reset(): void {
    this.stream = this.newStream();
  }

  /** Feeds bytes; returns a verdict for every block completed by them. */
  push(data: Uint8Array): GateVerdict[] {
    const out: GateVerdict[] = [];
    this.stream.push(
      data,
      (block, offset) => out.push(this.judge(block, offset, 0)),
      (block, offset, mask) => out.push(this.judge(block, offset, mask)),
    );
    return out;
  }

  private newStream(): FipsStreamChecker {
    return new FipsStreamChecker({ createTester: this.opts.createTester });
  }

  private judge(data: Uint8Array, offset: number, mask: number): GateVerdict {
    const block = data.slice(offset, offset + BLOCK_BYTES);
    const repeated = this.repeats ? this.repeats.seen(block) : false;
    const failures = mask ? (fipsFailureNames(mask) as FipsTestName[]) : [];
    const baseline = this.opts.baselineBlock === true && this.judged++ === 0;
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
}
