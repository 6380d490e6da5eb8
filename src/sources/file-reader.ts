// Reads a regular file front to back (a pipe source pointed at a captured file).
// Regular-file reads never wait on a device, so fs on the threadpool is safe here.
import * as fs from 'fs';
import { CLOSED } from './entropy-source';
import { sourceError } from './source-error';

export class FileReader {
  private fd = -1;
  private position = 0;

  constructor(private readonly path: string) {}

  open(): void {
    this.fd = fs.openSync(this.path, 'r');
    this.position = 0;
  }

  read(bytes: number): Promise<Uint8Array> {
    const fd = this.fd;
    if (fd < 0) return Promise.reject(sourceError(CLOSED, `${this.path}: not open`));
    const buf = Buffer.alloc(bytes);
    return new Promise((resolve, reject) => {
      fs.read(fd, buf, 0, bytes, this.position, (err, n) => {
        if (err) return reject(sourceError(err.code ?? 'EIO', `${this.path}: ${err.message}`));
        if (this.fd !== fd) return reject(sourceError(CLOSED, `${this.path}: read abandoned`));
        this.position += n;
        resolve(new Uint8Array(buf.buffer, buf.byteOffset, n));
      });
    });
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
