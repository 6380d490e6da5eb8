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
    const buf = Buffer.alloc(bytes);
    const key = this.key;
    const at = this.position;
    return new Promise((resolve, reject) => {
      fs.read(fd, buf, 0, bytes, at, (err, n) => {
        if (err) return reject(sourceError(err.code ?? 'EIO', `${this.path}: ${err.message}`));
        if (this.fd !== fd) return reject(sourceError(CLOSED, `${this.path}: read abandoned`));
        consumed.set(key, at + n);
        resolve(new Uint8Array(buf.buffer, buf.byteOffset, n));
      });
    });
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
