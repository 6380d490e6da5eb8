// FipsStreamChecker: rngtest's reading discipline over a byte stream fed in
// chunks of any size. Discards 32 bits first in pipe mode, bootstraps the
// continuous test from the next 32 bits (little-endian, as rngtest and rngd read
// them), tests every whole 2,500-byte block, stops after --blockcount blocks,
// ignores a trailing partial block, and keeps rngtest's counters. Constant
// memory: one carry block, tested in place otherwise. Pure: values in, counts
// out; the caller does the I/O and the timing.
//
// This is the one place a byte stream is cut into blocks: `vrngd check` uses it
// directly, and the BlockGate (core/gate.ts) that the daemon and `vrngd seed`
// credit through is built on it, so all three agree with rngtest block by block.
import { FIPS_BLOCK_BYTES, FIPS_TESTS, FipsTestName, FipsTester } from './fips';

/** A FIPS tester for one stream (FipsTester, or a stand-in in unit tests). */
export interface BlockTester {
  /** The failure bitmask of block[offset, offset+2500), 0 = pass. */
  testBlock(block: Uint8Array, offset: number): number;
}

export interface FipsStreamOptions {
  /** Stop after this many blocks; 0 = until the end of the input (rngtest -c). */
  blockCount?: number;
  /** rngtest -p: discard 32 more bits before the bootstrap word. */
  pipe?: boolean;
  /** The tester for the stream, given its bootstrap word (default: the FIPS 140-2 engine). */
  createTester?: (bootstrap: number) => BlockTester;
}

export interface FipsStreamCounts {
  /** Bytes rngtest would have read: everything up to the end, or up to the last block with a block count. */
  bytesReceived: number;
  /** Whether the 32-bit bootstrap word (and the pipe-mode discard) could be read; rngtest prints no counts otherwise. */
  bootstrapped: boolean;
  blocksPassed: number;
  blocksFailed: number;
  failures: Record<FipsTestName, number>;
}

/** Called for each block that passed, with the bytes at block[offset, offset+2500); valid only during the call. */
export type PassedBlockSink = (block: Uint8Array, offset: number) => void;
/** Called for each block that failed, likewise, with its failure mask. */
export type FailedBlockSink = (block: Uint8Array, offset: number, mask: number) => void;

const WORD_BYTES = 4;

export class FipsStreamChecker {
  private readonly blockCount: number;
  private readonly headerBytes: number;
  private readonly header = new Uint8Array(8);
  private headerFill = 0;
  private tester: BlockTester | null = null;
  private readonly createTester: (bootstrap: number) => BlockTester;
  private readonly carry = new Uint8Array(FIPS_BLOCK_BYTES);
  private carryFill = 0;
  private bytesReceived = 0;
  private blocksPassed = 0;
  private blocksFailed = 0;
  private readonly failureCounts = new Float64Array(FIPS_TESTS.length);

  constructor(opts: FipsStreamOptions = {}) {
    const blockCount = opts.blockCount ?? 0;
    if (!Number.isSafeInteger(blockCount) || blockCount < 0) throw new RangeError(`blockCount must be a non-negative integer, got ${String(opts.blockCount)}`);
    this.blockCount = blockCount;
    this.headerBytes = opts.pipe ? 2 * WORD_BYTES : WORD_BYTES;
    this.createTester = opts.createTester ?? ((bootstrap) => new FipsTester(bootstrap));
  }

  /** Bytes still needed before the next block can be tested. */
  needBytes(): number {
    return (this.tester === null ? this.headerBytes - this.headerFill : 0) + FIPS_BLOCK_BYTES - this.carryFill;
  }

  /** Whole blocks tested so far. */
  get blocksTested(): number {
    return this.blocksPassed + this.blocksFailed;
  }

  /** True once the block count is reached: further input is not read by rngtest and is ignored here. */
  get done(): boolean {
    return this.blockCount > 0 && this.blocksPassed + this.blocksFailed >= this.blockCount;
  }

  /**
   * Feeds the next bytes of the stream; returns how many of them were consumed
   * (less than chunk.length only when the block count was reached).
   */
  push(chunk: Uint8Array, onPassed?: PassedBlockSink, onFailed?: FailedBlockSink): number {
    let pos = 0;
    const len = chunk.length;
    if (this.tester === null) {
      const take = Math.min(this.headerBytes - this.headerFill, len);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      pos = take;
      if (this.headerFill < this.headerBytes) {
        this.bytesReceived += pos;
        return pos;
      }
      const h = this.header;
      const at = this.headerBytes - WORD_BYTES; // the word after the pipe-mode discard
      this.tester = this.createTester((h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16) | (h[at + 3]! << 24)) >>> 0);
    }
    const tester = this.tester;
    while (pos < len && !this.done) {
      if (this.carryFill > 0 || len - pos < FIPS_BLOCK_BYTES) {
        const take = Math.min(FIPS_BLOCK_BYTES - this.carryFill, len - pos);
        this.carry.set(chunk.subarray(pos, pos + take), this.carryFill);
        this.carryFill += take;
        pos += take;
        if (this.carryFill === FIPS_BLOCK_BYTES) {
          this.carryFill = 0;
          this.record(tester.testBlock(this.carry, 0), this.carry, 0, onPassed, onFailed);
        }
      } else {
        this.record(tester.testBlock(chunk, pos), chunk, pos, onPassed, onFailed);
        pos += FIPS_BLOCK_BYTES;
      }
    }
    this.bytesReceived += pos;
    return pos;
  }

  counts(): FipsStreamCounts {
    const failures = {} as Record<FipsTestName, number>;
    FIPS_TESTS.forEach((t, i) => (failures[t.name] = this.failureCounts[i]!));
    return {
      bytesReceived: this.bytesReceived,
      bootstrapped: this.tester !== null,
      blocksPassed: this.blocksPassed,
      blocksFailed: this.blocksFailed,
      failures,
    };
  }

  /** rngtest's exit verdict: 0 when at least one block was tested and none failed, 1 otherwise. */
  exitStatus(): 0 | 1 {
    return this.blocksFailed === 0 && this.blocksPassed > 0 ? 0 : 1;
  }

  private record(mask: number, block: Uint8Array, offset: number, onPassed?: PassedBlockSink, onFailed?: FailedBlockSink): void {
    if (mask === 0) {
      this.blocksPassed++;
      if (onPassed) onPassed(block, offset);
      return;
    }
    this.blocksFailed++;
    if (onFailed) onFailed(block, offset, mask);
    for (let i = 0; i < FIPS_TESTS.length; i++) if (mask & FIPS_TESTS[i]!.mask) this.failureCounts[i] = this.failureCounts[i]! + 1;
  }
}
