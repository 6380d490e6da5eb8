// `vrngd check`'s engine: the C FIPS engine of the addon (src/native/fips.c) as
// async work on libuv's thread pool, with up to two batches in flight while the
// main thread reads and copies the next chunk; or, when the addon cannot load (or
// VRNGD_FIPS_ENGINE=js), the JS engine (core/fips.ts) on the main thread.
//
// Either way the bytes go through one FipsStreamChecker in stream order, which
// keeps rngtest's reading discipline and counters (header, bootstrap, --blockcount,
// trailing partial block); with the C engine its per-block tester only hands out
// the masks the batch computed, in order. Bounded memory: three batch buffers.
import { FIPS_BLOCK_BYTES } from '../core/fips';
import { BlockTester, FipsStreamChecker, PassedBlockSink } from '../core/fips-stream';
import { loadBinding, RndBinding } from '../native/binding';

export type NativeFips = Pick<RndBinding, 'fipsTestBlocks' | 'fipsTestBlocksAsync'>;

/** The C engine, or null and why not (check then runs the JS engine and says so once on stderr). */
export function loadNativeFips(env: NodeJS.ProcessEnv = process.env): { engine: NativeFips | null; reason: string | null } {
  if (env.VRNGD_FIPS_ENGINE === 'js') return { engine: null, reason: null };
  try {
    const b = loadBinding();
    if (typeof b.fipsTestBlocksAsync !== 'function' || typeof b.fipsTestBlocks !== 'function') {
      return { engine: null, reason: 'the native addon has no FIPS engine (an older build)' };
    }
    return { engine: b, reason: null };
  } catch (e: unknown) {
    return { engine: null, reason: `the native addon did not load (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * Blocks per batch (262,500 bytes): ~40 us of tests on one core, so the pool's
 * per-work overhead stays small, and three such buffers keep peak RSS low.
 */
export const BATCH_BLOCKS = 105;
/**
 * Blocks per batch when the input is a regular file (1,050,000 bytes, about one
 * 1 MiB read): a file never waits, so fewer, longer jobs cost fewer hand-offs
 * between the main thread and the pool (each costs tens of microseconds on a
 * 2-vCPU VM); the 1 GB-pipe memory goal concerns pipes, which keep BATCH_BLOCKS.
 */
export const FILE_BATCH_BLOCKS = 420;
/**
 * Whole blocks wait this long for more input before they are tested in a batch of
 * their own: a fast pipe (64 KiB reads) fills batches, a slow device is still
 * tested, and printed, at its own pace.
 */
export const FLUSH_MS = 5;
/** Batches on the thread pool at once (2 cores); one more buffer is being filled. */
export const IN_FLIGHT = 2;

interface Batch {
  buf: Buffer;
  /** Bytes in buf: whole blocks, then at most one partial block until submitted. */
  fill: number;
  blocks: number;
  masks: Uint8Array;
  /** Settles when its results went through the checker and onResult (its buffer is free again). */
  consumed: Promise<void> | null;
}

export interface BatchResult {
  /** Blocks this batch tested. */
  blocks: number;
  /** Nanoseconds the tests took on the pool thread. */
  ns: number;
}

/**
 * Cuts the stream into batches of whole blocks (after rngtest's header: 4 bytes,
 * 8 with pipe), tests them with the C engine off the main thread, and feeds the
 * results to the checker in stream order. The continuous-test word and the last
 * bit that a batch starts from are its predecessor's last word and last bit (the
 * bootstrap word and 0 for the first), so batches need not wait for each other.
 */
export class FipsBatchPipeline {
  private readonly free: Batch[] = [];
  /** Submitted and not yet consumed, oldest first (never empty while free is). */
  private readonly inFlight: Batch[] = [];
  private cur: Batch;
  private readonly headerBytes: number;
  private readonly blockCount: number;
  private headerSeen = 0;
  private readonly header = new Uint8Array(8);
  private last32 = 0;
  private lastBit = 0;
  private submitted = 0;
  private masks: Uint8Array = new Uint8Array(0);
  /** Results are consumed in submission order, as soon as each is ready (a slow device prints at its pace). */
  private chain: Promise<void> = Promise.resolve();
  private failed: { error: unknown } | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** A push is running (the flush timer must not submit in between). */
  private busy = false;
  /** The flush timer's submit, which a push waits for. */
  private timerSubmit: Promise<void> | null = null;
  private maskPos = 0;
  readonly checker: FipsStreamChecker;

  constructor(
    private readonly engine: NativeFips,
    opts: { blockCount: number; pipe: boolean },
    /** After each batch's blocks went through the checker (onPassed saw the passing ones), in stream order. */
    private readonly onResult: (r: BatchResult) => Promise<void>,
    private readonly onPassed?: PassedBlockSink,
    batchBlocks = BATCH_BLOCKS,
  ) {
    this.headerBytes = opts.pipe ? 8 : 4;
    this.blockCount = opts.blockCount;
    const tester: BlockTester = { testBlock: () => this.masks[this.maskPos++]! };
    this.checker = new FipsStreamChecker({ blockCount: opts.blockCount, pipe: opts.pipe, createTester: () => tester });
    for (let i = 0; i <= IN_FLIGHT; i++) {
      this.free.push({ buf: Buffer.allocUnsafe(batchBlocks * FIPS_BLOCK_BYTES), fill: 0, blocks: 0, masks: new Uint8Array(batchBlocks), consumed: null });
    }
    this.cur = this.free.pop()!;
  }

  /** True once --blockcount blocks are in (submitted or waiting in the buffer): the rest of the input is not read. */
  get full(): boolean {
    return this.blockCount > 0 && this.submitted + Math.floor(this.cur.fill / FIPS_BLOCK_BYTES) >= this.blockCount;
  }

  /** Whole blocks in the buffer that are still to be tested (none beyond --blockcount). */
  private get untested(): number {
    const whole = Math.floor(this.cur.fill / FIPS_BLOCK_BYTES);
    return this.blockCount > 0 ? Math.min(whole, Math.max(0, this.blockCount - this.submitted)) : whole;
  }

  /** The next chunk of the stream (its buffer may be reused once this resolves). */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.timerSubmit) await this.timerSubmit;
    this.rethrow();
    this.busy = true;
    try {
      await this.pushChunk(chunk);
    } finally {
      this.busy = false;
    }
    // what this chunk completed is tested soon even if no more input comes (a slow device)
    if (this.untested > 0 && this.flushTimer === null) this.flushTimer = setTimeout(() => this.flushLater(), FLUSH_MS);
  }

  private flushLater(): void {
    this.flushTimer = null;
    if (this.busy) {
      this.flushTimer = setTimeout(() => this.flushLater(), FLUSH_MS);
      return;
    }
    if (this.untested === 0 || this.timerSubmit) return;
    this.timerSubmit = this.submit()
      .catch((error: unknown) => {
        this.failed ??= { error };
      })
      .finally(() => {
        this.timerSubmit = null;
      });
  }

  private async pushChunk(chunk: Uint8Array): Promise<void> {
    let pos = 0;
    if (this.headerSeen < this.headerBytes) {
      const take = Math.min(this.headerBytes - this.headerSeen, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerSeen);
      this.checker.push(chunk.subarray(0, take));
      this.headerSeen += take;
      pos = take;
      if (this.headerSeen < this.headerBytes) return;
      const h = this.header;
      const at = this.headerBytes - 4;
      this.last32 = (h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16) | (h[at + 3]! << 24)) >>> 0;
    }
    while (pos < chunk.length && !this.full) {
      const cur = this.cur;
      const take = Math.min(chunk.length - pos, cur.buf.length - cur.fill);
      cur.buf.set(chunk.subarray(pos, pos + take), cur.fill);
      cur.fill += take;
      pos += take;
      if (cur.fill === cur.buf.length) await this.submit();
    }
  }

  /** End of input (or a stop): the remaining whole blocks, then every result in order. */
  async finish(): Promise<void> {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.timerSubmit) await this.timerSubmit;
    this.rethrow();
    if (this.untested > 0) await this.submit();
    await this.chain;
    this.rethrow();
    // the trailing partial block: counted as received, never tested (as rngtest)
    if (this.cur.fill > 0 && !(this.blockCount > 0 && this.submitted >= this.blockCount)) this.checker.push(this.cur.buf.subarray(0, this.cur.fill));
    this.cur.fill = 0;
  }

  private async submit(): Promise<void> {
    const batch = this.cur;
    let blocks = Math.floor(batch.fill / FIPS_BLOCK_BYTES);
    if (this.blockCount > 0) blocks = Math.min(blocks, this.blockCount - this.submitted);
    while (this.free.length === 0) {
      await this.inFlight[0]!.consumed;
      this.rethrow();
    }
    const next = this.free.pop()!;
    const used = blocks * FIPS_BLOCK_BYTES;
    // the partial block goes on into the next buffer, unless the block count ends the test here
    const rest = this.blockCount > 0 && this.submitted + blocks >= this.blockCount ? 0 : batch.fill - used;
    if (rest > 0) next.buf.set(batch.buf.subarray(used, batch.fill), 0);
    next.fill = rest;
    this.cur = next;
    batch.fill = used;
    batch.blocks = blocks;
    if (blocks === 0) {
      this.free.push(batch);
      return;
    }
    const done = this.engine.fipsTestBlocksAsync(batch.buf, blocks, this.last32, this.lastBit, batch.masks);
    this.chain = batch.consumed = this.chain
      .then(() => this.consume(batch, done))
      .catch((error: unknown) => {
        this.failed ??= { error };
      });
    this.submitted += blocks;
    const end = used - 4;
    const b = batch.buf;
    this.last32 = (b[end]! | (b[end + 1]! << 8) | (b[end + 2]! << 16) | (b[end + 3]! << 24)) >>> 0;
    this.lastBit = b[used - 1]! & 1;
    this.inFlight.push(batch);
  }

  private rethrow(): void {
    if (this.failed) throw this.failed.error;
  }

  private async consume(batch: Batch, done: Promise<number>): Promise<void> {
    try {
      const ns = await done;
      if (this.failed) return; // after a failure: no more results, only the buffers back
      this.masks = batch.masks;
      this.maskPos = 0;
      this.checker.push(batch.buf.subarray(0, batch.blocks * FIPS_BLOCK_BYTES), this.onPassed);
      if (this.maskPos !== batch.blocks) throw new Error(`FipsBatchPipeline: the checker took ${this.maskPos} of ${batch.blocks} results`);
      await this.onResult({ blocks: batch.blocks, ns });
    } finally {
      this.inFlight.shift(); // batch: results are consumed in submission order
      batch.fill = 0;
      this.free.push(batch);
    }
  }
}
