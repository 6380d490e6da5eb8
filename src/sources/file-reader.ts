// Reads a regular file front to back (a pipe source pointed at a captured file).
// Regular-file reads never wait on a device, so fs on the threadpool is safe here.
//
// A file is read once per process: where a reader stopped is remembered by the
// file's identity (device and inode), so reopening it -- a retry after failed
// blocks or a read error, a SIGHUP, a second source on the same file -- goes on
// from there instead of replaying bytes that were already judged and credited.
// A new file at the same path (another inode) is new data and starts at 0.
import * as fs from 'fs';
import { CLOSED } from './entropy-source';
import { sourceError } from './source-error';

/** Bytes consumed so far of each file this process opened, by "dev:ino". */
const consumed = new Map<string, number>();

export class FileReader {
  private fd = -1;
  private key = '';
  /** The read on the threadpool now; close() abandons it and leaves its fd to it. */
  private inFlight: { reject: (e: Error) => void } | null = null;

  constructor(private readonly path: string) {}

  open(): void {
    const fd = fs.openSync(this.path, 'r');
    const st = fs.fstatSync(fd);
    this.fd = fd;
    this.key = `${st.dev}:${st.ino}`;
  }

  /** Where the next read starts. */
  get position(): number {
    return consumed.get(this.key) ?? 0;
  }

  read(bytes: number): Promise<Uint8Array> {
    const fd = this.fd;
    if (fd < 0) return Promise.reject(sourceError(CLOSED, `${this.path}: not open`));
    if (this.inFlight) return Promise.reject(sourceError('EBUSY', `${this.path}: a read is already outstanding`));
    const buf = Buffer.alloc(bytes);
    const key = this.key;
    const at = this.position;
    return new Promise((resolve, reject) => {
      const op = { reject };
      this.inFlight = op;
      fs.read(fd, buf, 0, bytes, at, (err, n) => {
        if (this.inFlight !== op) {
          // abandoned by close(), which already rejected it with ECLOSED: the fd
          // is closed only now, so its number was never reused under this read
          fs.close(fd, () => undefined);
          return;
        }
        this.inFlight = null;
        if (err) return reject(sourceError(err.code ?? 'EIO', `${this.path}: ${err.message}`));
        consumed.set(key, at + n);
        resolve(new Uint8Array(buf.buffer, buf.byteOffset, n));
      });
    });
  }

  /**
   * Never waits: an outstanding read rejects with ECLOSED at once, and its fd is
   * closed when that read returns from the threadpool (closing it now would let
   * the read fail with EBADF, or read another file that got the same fd number).
   */
  close(): void {
    const fd = this.fd;
    this.fd = -1;
    const op = this.inFlight;
    this.inFlight = null;
    if (op) op.reject(sourceError(CLOSED, `${this.path}: read abandoned`));
    else if (fd >= 0) fs.closeSync(fd);
  }
}
