// `vrngd check [FILE]`: rngtest(1) with vrngd's FIPS engine. Reads a file or
// stdin in large chunks (constant memory), tests every whole 2,500-byte block and
// prints rngtest's summary (same labels, same counts, prefix "vrngd check: ").
// --pipe writes the passing blocks to stdout (summary to stderr), --json prints
// the same figures as one object. Exit status as rngtest: 0 when at least one
// block was tested and none failed, 1 otherwise; 66 unreadable file, 64 bad options.
import * as fs from 'fs';
import { Command } from 'commander';
import { CliError, describeError, EX, exitCodeFor, usageError } from '../exit';
import { CliIo } from '../io';
import { ProgramDeps } from '../program';
import { FIPS_BLOCK_BYTES, FIPS_TESTS, FipsTestName } from '../../core/fips';
import { FipsStreamChecker, FipsStreamCounts } from '../../core/fips-stream';
import { ChildReader } from '../../sources/child-reader';
import { BATCH_BLOCKS, FILE_BATCH_BLOCKS, FipsBatchPipeline, loadNativeFips } from '../fips-engine';
import { restoreOpt } from '../v8-opt';

const PREFIX = 'vrngd check: ';
/** Read size for files: 1 MiB, i.e. ~419 blocks per read and per engine call. */
const READ_BYTES = 1 << 20;

export interface CheckOptions {
  file: string | null;
  blockCount: number;
  pipe: boolean;
  json: boolean;
}

/** Throughput samples of one channel, summarised as rngtest's (min; avg; max) bits/s. */
export class SpeedStat {
  private minBitsPerS = Infinity;
  private maxBitsPerS = 0;
  private totalBits = 0;
  private totalNs = 0;
  samples = 0;

  add(bits: number, ns: number): void {
    if (bits <= 0 || ns <= 0) return;
    const bitsPerS = (bits * 1e9) / ns;
    if (bitsPerS < this.minBitsPerS) this.minBitsPerS = bitsPerS;
    if (bitsPerS > this.maxBitsPerS) this.maxBitsPerS = bitsPerS;
    this.totalBits += bits;
    this.totalNs += ns;
    this.samples++;
  }

  /** Bits per second; zeros when nothing was measured (as rngtest prints them). */
  summary(): { min: number; avg: number; max: number } {
    if (this.samples === 0) return { min: 0, avg: 0, max: 0 };
    return { min: this.minBitsPerS, avg: (this.totalBits * 1e9) / this.totalNs, max: this.maxBitsPerS };
  }
}

/** rngtest's stats.c dump_stat_bw format: scaled by 1024 while all three are >= 1024. */
export function formatSpeed(label: string, s: { min: number; avg: number; max: number }): string {
  let { min, avg, max } = s;
  const mult = 'KMGTPE';
  let m = 0;
  while (min >= 1024 && avg >= 1024 && max >= 1024 && m < mult.length) {
    m++;
    min /= 1024;
    avg /= 1024;
    max /= 1024;
  }
  const unit = m ? `${mult[m - 1]}ibits` : 'bits';
  return `${label}: (min=${min.toFixed(3)}; avg=${avg.toFixed(3)}; max=${max.toFixed(3)})${unit}/s`;
}

export interface CheckReport {
  bitsReceived: number;
  /** Pipe mode only: bits written to stdout (passing blocks). */
  bitsSent: number | null;
  /** False when the input ended before the 32-bit bootstrap word (rngtest then prints no counts). */
  bootstrapped: boolean;
  blocksPassed: number;
  blocksFailed: number;
  failures: Record<FipsTestName, number>;
  speedsBitsPerS: {
    input: { min: number; avg: number; max: number };
    fips: { min: number; avg: number; max: number };
    output: { min: number; avg: number; max: number } | null;
  };
  runTimeUs: number;
  exitStatus: number;
}

export function formatReport(r: CheckReport, drained: boolean, pipe: boolean): string {
  const lines: string[] = [];
  if (drained && !pipe) lines.push('entropy source drained');
  if (!r.bootstrapped) {
    lines.push(`input ended before the ${pipe ? 64 : 32}-bit bootstrap (${r.bitsReceived} bits received); no block tested`);
    return lines.map((l) => `${PREFIX}${l}\n`).join('');
  }
  lines.push(`bits received from input: ${r.bitsReceived}`);
  if (r.bitsSent !== null) lines.push(`bits sent to output: ${r.bitsSent}`);
  lines.push(`FIPS 140-2 successes: ${r.blocksPassed}`);
  lines.push(`FIPS 140-2 failures: ${r.blocksFailed}`);
  for (const t of FIPS_TESTS) lines.push(`${t.label}: ${r.failures[t.name]}`);
  lines.push(formatSpeed('input channel speed', r.speedsBitsPerS.input));
  lines.push(formatSpeed('FIPS tests speed', r.speedsBitsPerS.fips));
  if (r.speedsBitsPerS.output) lines.push(formatSpeed('output channel speed', r.speedsBitsPerS.output));
  lines.push(`Program run time: ${r.runTimeUs} microseconds`);
  return lines.map((l) => `${PREFIX}${l}\n`).join('');
}

const nowNs = (): number => Number(process.hrtime.bigint());

/** A chunk reader: resolves to the next chunk, or null at the end of the input. */
type ChunkReader = {
  /** A regular file: it is read as fast as the engine tests, in big batches. */
  regularFile?: boolean;
  next(): Promise<Uint8Array | null>;
  /** Ends the input now (on a signal): a pending next() resolves null or rejects soon. */
  abort(): void;
  close(): Promise<void>;
};

async function openFile(path: string, firstBytes: number): Promise<ChunkReader> {
  let fd: number;
  try {
    // a device or FIFO is read through the reader child, never on the thread pool:
    // a 1 MiB read of a ~10 kB/s /dev/hwrng took minutes and ignored SIGINT
    // (fs.stat with a callback: fs.promises is experimental on Node 10, the el6 runtime)
    const st = await new Promise<fs.Stats>((resolve, reject) => fs.stat(path, (err, s) => (err ? reject(err) : resolve(s))));
    if (st.isCharacterDevice() || st.isFIFO() || st.isSocket()) return childChunkReader(path, firstBytes);
  } catch (e: unknown) {
    throw new CliError(`check: cannot open ${path}: ${describeError(e)}`, exitCodeFor(e, { input: true }));
  }
  try {
    fd = await new Promise<number>((resolve, reject) => fs.open(path, 'r', (err, n) => (err ? reject(err) : resolve(n))));
  } catch (e: unknown) {
    throw new CliError(`check: cannot open ${path}: ${describeError(e)}`, exitCodeFor(e, { input: true }));
  }
  return fdReader(fd, path, true);
}

/**
 * Reads a file descriptor in 1 MiB chunks with one read ahead: while the caller
 * tests one buffer, the thread pool fills the other. Two buffers, reused.
 */
function fdReader(fd: number, label: string, closeFd: boolean): ChunkReader {
  const buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  let which: 0 | 1 = 0;
  let pending: Promise<number> | null = null;
  let ended = false;
  const readInto = (buf: Buffer): Promise<number> =>
    new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n))));
  return {
    regularFile: true,
    async next() {
      if (ended) return null;
      const buf = buffers[which];
      let n: number;
      try {
        n = await (pending ?? readInto(buf));
      } catch (e: unknown) {
        ended = true;
        throw new CliError(`check: cannot read ${label}: ${describeError(e)}`, exitCodeFor(e, { input: true }));
      } finally {
        pending = null;
      }
      if (n === 0) {
        ended = true;
        return null;
      }
      which = which === 0 ? 1 : 0;
      pending = readInto(buffers[which]);
      pending.catch(() => undefined); // a failure is reported by the next call
      return buf.subarray(0, n);
    },
    abort() {
      ended = true;
    },
    async close() {
      if (pending) await pending.catch(() => undefined);
      if (closeFd) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    },
  };
}

/**
 * A character device or FIFO, read by a vrngd-reader child (src/sources/child-reader.ts)
 * in requests that start at one FIPS block, so results come at the device's pace,
 * and grow while the device keeps up (up to 1 MiB) so a fast device is not read one
 * fork at a time. abort() kills the child: a stop is immediate even mid-read.
 */
function childChunkReader(path: string, firstBytes: number): ChunkReader {
  const reader = new ChildReader({ path, readChunkBytes: 512 });
  let ended = false;
  let requestBytes = FIPS_BLOCK_BYTES;
  // the first request is the header and the first block (2,504 or 2,508 bytes), so
  // block 1 is tested after one device read, and later requests end on block edges
  let first = true;
  return {
    async next() {
      if (ended) return null;
      const t0 = Date.now();
      let data: Uint8Array;
      try {
        data = await reader.read(first ? firstBytes : requestBytes);
      } catch (e: unknown) {
        ended = true;
        throw new CliError(`check: cannot read ${path}: ${describeError(e)}`, exitCodeFor(e, { input: true }));
      }
      if (data.length === 0) {
        ended = true;
        return null;
      }
      const ms = Date.now() - t0;
      if (first) {
        first = false;
        return data;
      }
      if (ms < 50 && data.length === requestBytes) requestBytes = Math.min(requestBytes * 2, READ_BYTES);
      else if (ms > 500) requestBytes = Math.max(Math.floor(requestBytes / 2), FIPS_BLOCK_BYTES);
      return data;
    },
    abort() {
      ended = true;
      reader.close();
    },
    async close() {
      reader.close();
    },
  };
}

/**
 * Standard input: read the descriptor directly when it is a regular file (fast
 * path); a pipe or socket into one reused buffer (pipeReader); else the stream.
 */
function stdinReader(io: CliIo): ChunkReader {
  if (io.stdin === process.stdin) {
    try {
      const st = fs.fstatSync(0);
      if (st.isFile()) return fdReader(0, 'standard input', false);
      if ((st.isFIFO() || st.isSocket()) && PIPE_ONREAD) return pipeReader(0);
    } catch {
      /* fall back to the stream */
    }
  }
  return streamReader(io.stdin);
}

/** net.Socket's onread (a caller's buffer, reused for every read): Node >= 12.1; Node 10 reads the stream. */
const PIPE_ONREAD = Number(process.versions.node.split('.')[0]) >= 13;

/**
 * A pipe on a descriptor, read by libuv into ONE buffer that every read reuses
 * (net.Socket's onread): the stream's reader allocated a new 64 KiB Buffer per
 * read, and on a 1 GB pipe the garbage held peak RSS at 87 MiB (goal 50). Each
 * read pauses the socket until the caller asks for the next chunk, so the buffer
 * is never overwritten while it is being tested, and the writer is held back by
 * the pipe itself (backpressure); nothing is retained between chunks. Non-blocking
 * reads on the event loop: SIGINT stops it at once, on a slow pipe too.
 */
function pipeReader(fd: number): ChunkReader {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const net = require('net') as typeof import('net');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let ready: Uint8Array | null = null;
  let ended = false;
  let failed: unknown = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const socket = new net.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (n: number): boolean => {
        ready = buffer.subarray(0, n);
        notify();
        return false; // pause until next()
      },
    },
  } as import('net').SocketConstructorOpts);
  socket.on('end', () => {
    ended = true;
    notify();
  });
  socket.on('error', (e: unknown) => {
    failed = e;
    notify();
  });
  socket.on('close', () => {
    ended = true;
    notify();
  });
  let first = true;
  return {
    async next() {
      if (!first && ready === null && !ended && failed === null) socket.resume();
      first = false;
      while (ready === null && !ended && failed === null) await new Promise<void>((resolve) => (wake = resolve));
      if (ready !== null) {
        const chunk = ready;
        ready = null;
        return chunk;
      }
      if (failed !== null) throw new CliError(`check: cannot read standard input: ${describeError(failed)}`, EX.IOERR);
      return null;
    },
    abort() {
      ended = true;
      socket.destroy();
      notify();
    },
    async close() {
      socket.destroy();
    },
  };
}

function streamReader(stream: NodeJS.ReadableStream): ChunkReader {
  const it = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const destroy = (): boolean => {
    const d = (stream as { destroy?: () => void }).destroy;
    if (typeof d !== 'function') return false;
    d.call(stream);
    return true;
  };
  return {
    async next() {
      let r: IteratorResult<Buffer | string>;
      try {
        r = await it.next();
      } catch (e: unknown) {
        throw new CliError(`check: cannot read standard input: ${describeError(e)}`, exitCodeFor(e, { stream: true }));
      }
      if (r.done) return null;
      return typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
    },
    abort() {
      destroy();
    },
    async close() {
      // destroy rather than it.return(): return() waits for a pending read, which may never come
      if (!destroy() && it.return) await it.return();
    },
  };
}

/** Writes to a stream, waiting for 'drain' when it asks us to; rejects on a write error (EPIPE...). */
function makeWriter(out: NodeJS.WritableStream): { write(b: Uint8Array): Promise<void>; dispose(): void } {
  let failed: unknown = null;
  const onError = (e: unknown): void => {
    failed = e;
  };
  out.on('error', onError);
  return {
    write(b) {
      if (failed) return Promise.reject(failed);
      if (out.write(b)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (): void => {
          out.removeListener('drain', done);
          out.removeListener('error', fail);
          resolve();
        };
        const fail = (e: unknown): void => {
          out.removeListener('drain', done);
          out.removeListener('error', fail);
          reject(e);
        };
        out.on('drain', done);
        out.on('error', fail);
      });
    },
    dispose: () => out.removeListener('error', onError),
  };
}

export async function runCheck(opts: CheckOptions, io: CliIo): Promise<number> {
  const startNs = nowNs();
  const report = opts.pipe ? io.stderr : io.stdout;
  // the C engine on the thread pool; the JS engine when the addon cannot load (said once, on stderr)
  const native = loadNativeFips();
  if (native.reason !== null) io.stderr.write(`${PREFIX}${native.reason}; testing with the JS engine\n`);
  if (native.engine === null) restoreOpt();
  const reader = opts.file === null ? stdinReader(io) : await openFile(opts.file, (opts.pipe ? 8 : 4) + FIPS_BLOCK_BYTES);
  if (!opts.pipe && !opts.json) report.write(`${PREFIX}starting FIPS tests...\n`);
  const writer = opts.pipe ? makeWriter(io.stdout) : null;
  const input = new SpeedStat();
  const fips = new SpeedStat();
  const output = new SpeedStat();
  // pipe mode: the passing blocks of one chunk or batch, copied out (the input buffers are reused)
  const passed: { buf: Buffer | null; bytes: number; room: number } = { buf: null, bytes: 0, room: 0 };
  const onPassed = writer
    ? (block: Uint8Array, offset: number): void => {
        passed.buf ??= Buffer.allocUnsafe(passed.room);
        passed.buf.set(block.subarray(offset, offset + FIPS_BLOCK_BYTES), passed.bytes);
        passed.bytes += FIPS_BLOCK_BYTES;
      }
    : undefined;
  const writePassed = async (): Promise<void> => {
    const t0 = nowNs();
    if (writer && passed.buf !== null && passed.bytes > 0) {
      try {
        await writer.write(passed.buf.subarray(0, passed.bytes));
      } catch (e: unknown) {
        throw new CliError(`check: cannot write the passing blocks: ${describeError(e)}`, EX.IOERR);
      }
      output.add(passed.bytes * 8, nowNs() - t0);
    }
    passed.buf = null;
    passed.bytes = 0;
  };
  const batchBlocks = reader.regularFile ? FILE_BATCH_BLOCKS : BATCH_BLOCKS;
  const pipeline = native.engine
    ? new FipsBatchPipeline(
        native.engine,
        { blockCount: opts.blockCount, pipe: opts.pipe },
        async (r) => {
          fips.add(r.blocks * FIPS_BLOCK_BYTES * 8, r.ns);
          await writePassed();
        },
        onPassed,
        batchBlocks,
      )
    : null;
  const checker = pipeline ? pipeline.checker : new FipsStreamChecker({ blockCount: opts.blockCount, pipe: opts.pipe });
  let drained = false;
  // As rngtest: SIGINT/SIGTERM stop the test (a pending read is abandoned) and the
  // summary is printed. Only in the real process; a second signal kills as usual.
  let stopped = false;
  const onSignal = (): void => {
    stopped = true;
    reader.abort();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  const handleSignals = io.stdin === process.stdin;
  if (handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    for (;;) {
      const t0 = nowNs();
      let chunk: Uint8Array | null;
      try {
        chunk = await reader.next();
      } catch (e: unknown) {
        if (!stopped) throw e;
        chunk = null; // aborted by a signal
      }
      if (chunk === null || stopped) {
        drained = !stopped;
        break;
      }
      const t1 = nowNs();
      input.add(chunk.length * 8, t1 - t0);
      // at most one carried block more than the whole blocks in this chunk; a batch at most batchBlocks
      passed.room = pipeline ? batchBlocks * FIPS_BLOCK_BYTES : (Math.floor(chunk.length / FIPS_BLOCK_BYTES) + 1) * FIPS_BLOCK_BYTES;
      if (pipeline) {
        await pipeline.push(chunk);
        if (pipeline.full || stopped) break;
        continue;
      }
      const testedBefore = checker.blocksTested;
      checker.push(chunk, onPassed);
      fips.add((checker.blocksTested - testedBefore) * FIPS_BLOCK_BYTES * 8, nowNs() - t1);
      await writePassed();
      if (checker.done || stopped) break;
    }
    // the batches still on the pool, in order (also after a stop: their blocks were read)
    if (pipeline) await pipeline.finish();
  } finally {
    if (handleSignals) onSignal();
    await reader.close().catch(() => undefined);
    writer?.dispose();
  }
  const counts: FipsStreamCounts = checker.counts();
  const exitStatus = checker.exitStatus();
  const result: CheckReport = {
    bitsReceived: counts.bytesReceived * 8,
    bitsSent: opts.pipe ? counts.blocksPassed * FIPS_BLOCK_BYTES * 8 : null,
    bootstrapped: counts.bootstrapped,
    blocksPassed: counts.blocksPassed,
    blocksFailed: counts.blocksFailed,
    failures: counts.failures,
    speedsBitsPerS: { input: input.summary(), fips: fips.summary(), output: opts.pipe ? output.summary() : null },
    runTimeUs: Math.round((nowNs() - startNs) / 1000),
    exitStatus,
  };
  report.write(opts.json ? `${JSON.stringify(result)}\n` : formatReport(result, drained, opts.pipe));
  return exitStatus;
}

function parseBlockCount(value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw usageError(`check: --blockcount must be a non-negative integer, got '${value}'`);
  }
  return Number(value);
}

export function register(program: Command, deps: ProgramDeps): void {
  program
    .command('check')
    .argument('[file]', "input to test; standard input when absent or '-'")
    .description('test a random source with the FIPS 140-2 tests, as rngtest(1) does')
    .option('-c, --blockcount <n>', 'stop after n blocks of 20,000 bits (0 = until the end of the input)', '0')
    .option('-p, --pipe', 'write the blocks that passed to stdout; the summary goes to stderr')
    .option('--json', 'print the summary as one JSON object')
    .action(async (file: string | undefined, opts: { blockcount: string; pipe?: boolean; json?: boolean }) => {
      const blockCount = parseBlockCount(opts.blockcount);
      process.exitCode = await runCheck(
        { file: file === undefined || file === '-' ? null : file, blockCount, pipe: opts.pipe ?? false, json: opts.json ?? false },
        deps.io,
      );
    });
}
