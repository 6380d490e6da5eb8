// Reads a character device (/dev/hwrng, -r PATH) through a short-lived reader
// child per request (vrngd-reader, src/native/reader.c), so no read(2) on the
// device ever runs inside the daemon. The reader dies with its parent, whatever
// kills the parent (PR_SET_PDEATHSIG), and leads its own process group.
//
// Why a child: /dev/hwrng waits are killable-only (wait_for_completion_killable),
// and a read blocked on libuv's threadpool keeps Node from exiting at all
// (process.exit joins the pool; measured: a blocked FIFO read hung forever, a
// 64 KiB hwrng read delayed exit by 6.8 s). A child can always be SIGKILLed.
// Why one child per request rather than a long-lived streaming reader: a streaming
// reader would keep pulling from the device into a 64 KiB pipe buffer whether or
// not anybody needs entropy (competing with the kernel's own hwrng thread), and
// a kill would lose up to 64 KiB. A per-request reader reads exactly what was asked
// for with blocking reads of readChunkBytes (never O_NONBLOCK: on RHEL 6 that may
// oops virtio-rng), loses at most one request on a kill, and costs one fork+exec
// per 2,500-byte block (about 2 ms; 4 per second at virtio-rng's 9.6 kB/s).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLOSED } from './entropy-source';
import { codeFromStrerror, sourceError } from './source-error';

export interface ChildReaderOptions {
  path: string;
  /** Bytes per read(2), 64..512. */
  readChunkBytes: number;
  /** The vrngd-reader executable (tests may substitute); default readerPath(). */
  command?: string;
}

/**
 * Where vrngd-reader is: $VRNGD_READER_PATH, else beside the addon in a source
 * checkout (build/Release) or an install. null when none is there.
 */
export function readerPath(): string | null {
  const override = process.env.VRNGD_READER_PATH;
  const roots = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..'), __dirname];
  const candidates = [...(override ? [override] : []), ...roots.flatMap((r) => [path.join(r, 'build', 'Release', 'vrngd-reader'), path.join(r, 'vrngd-reader')])];
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

let cachedReader: string | null | undefined;

export class ChildReader {
  private child: ChildProcess | null = null;
  private rejectPending: ((e: Error) => void) | null = null;

  constructor(private readonly opts: ChildReaderOptions) {}

  /** Reads up to `bytes` bytes (rounded up to whole chunks, then cut). Empty at end of file. */
  read(bytes: number): Promise<Uint8Array> {
    if (this.child) return Promise.reject(sourceError('EBUSY', `${this.opts.path}: a read is already outstanding`));
    const chunk = Math.min(this.opts.readChunkBytes, bytes);
    const count = Math.ceil(bytes / chunk);
    return new Promise<Uint8Array>((resolve, reject) => {
      // stdin is not used: the reader opens the device itself, so a blocking open
      // (a FIFO) also happens in the child. No O_NONBLOCK anywhere.
      if (cachedReader === undefined) cachedReader = readerPath();
      const reader = this.opts.command ?? cachedReader;
      if (reader === null) {
        reject(sourceError('ENOENT', `${this.opts.path}: cannot start reader: vrngd-reader not found (set VRNGD_READER_PATH or rebuild the addon)`, 'spawn'));
        return;
      }
      const child = spawn(reader, [this.opts.path, String(chunk), String(count), String(process.pid)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child = child;
      this.rejectPending = reject;
      const out: Buffer[] = [];
      let outBytes = 0;
      let errText = '';
      child.stdout?.on('data', (b: Buffer) => {
        out.push(b);
        outBytes += b.length;
      });
      child.stderr?.on('data', (b: Buffer) => {
        if (errText.length < 1000) errText += b.toString();
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        this.finish(child);
        reject(sourceError(e.code ?? 'EIO', `${this.opts.path}: cannot start reader: ${e.message}`, 'spawn'));
      });
      child.on('close', (status, signal) => {
        if (this.child !== child) return; // abandoned by close(); already rejected
        this.finish(child);
        if (status === 0) {
          const data = Buffer.concat(out, outBytes);
          resolve(new Uint8Array(data.buffer, data.byteOffset, Math.min(bytes, data.length)));
          return;
        }
        const line = errText.trim().split('\n')[0] ?? '';
        const code = signal ? 'EINTR' : codeFromStrerror(line);
        reject(sourceError(code, `${this.opts.path}: ${line || `reader ended by ${signal ?? `status ${String(status)}`}`}`));
      });
    });
  }

  /** Abandons an outstanding read: SIGKILL the child (the only signal a hwrng wait obeys). */
  close(): void {
    const child = this.child;
    const reject = this.rejectPending;
    if (!child) return;
    this.finish(child);
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.kill('SIGKILL');
    reject?.(sourceError(CLOSED, `${this.opts.path}: read abandoned`));
  }

  get busy(): boolean {
    return this.child !== null;
  }

  private finish(child: ChildProcess): void {
    if (this.child === child) {
      this.child = null;
      this.rejectPending = null;
    }
  }
}
