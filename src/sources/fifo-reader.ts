// Reads a named pipe as a libuv stream. The FIFO is opened O_RDONLY|O_NONBLOCK
// (for FIFOs only — never for /dev/hwrng) so open(2) does not wait for a writer,
// and net.Socket reads it through epoll, not the threadpool: a FIFO with no writer
// never blocks shutdown. Buffering is bounded: the stream is paused above
// maxBufferedBytes, so a fast writer blocks instead of growing memory.
import * as fs from 'fs';
import * as net from 'net';
import { CLOSED } from './entropy-source';
import { sourceError } from './source-error';

export class FifoReader {
  private socket: net.Socket | null = null;
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already handed out. */
  private head = 0;
  private bufferedBytes = 0;
  private ended = false;
  private failure: Error | null = null;
  private waiter: { bytes: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly path: string, private readonly maxBufferedBytes = 16384) {}

  open(): void {
    const fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket = socket;
    this.ended = false;
    this.failure = null;
    socket.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.bufferedBytes += b.length;
      if (this.bufferedBytes >= this.maxBufferedBytes) socket.pause();
      this.serve();
    });
    socket.on('end', () => {
      this.ended = true;
      this.serve();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.failure = sourceError(e.code ?? 'EIO', `${this.path}: ${e.message}`);
      this.serve();
    });
  }

  read(bytes: number): Promise<Uint8Array> {
    if (this.waiter) return Promise.reject(sourceError('EBUSY', `${this.path}: a read is already outstanding`));
    if (!this.socket) return Promise.reject(sourceError(CLOSED, `${this.path}: not open`));
    return new Promise((resolve, reject) => {
      this.waiter = { bytes, resolve, reject };
      this.serve();
    });
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    this.chunks = [];
    this.head = 0;
    this.bufferedBytes = 0;
    socket?.destroy();
    const w = this.waiter;
    this.waiter = null;
    w?.reject(sourceError(CLOSED, `${this.path}: read abandoned`));
  }

  private serve(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.bufferedBytes > 0) {
      // a view of the first chunk when it holds the whole answer (the usual case:
      // socket chunks are 64 KiB, reads 2,500 B), else one copy of just `take`
      // bytes; never a concatenation of everything buffered (issue 16: 4 % of the
      // pipeline was re-concatenating the buffer on every read)
      const take = Math.min(w.bytes, this.bufferedBytes);
      const first = this.chunks[0] as Buffer;
      let out: Uint8Array;
      if (first.length - this.head >= take) {
        out = first.subarray(this.head, this.head + take);
        this.head += take;
      } else {
        const buf = Buffer.allocUnsafe(take);
        let filled = 0;
        while (filled < take) {
          const c = this.chunks[0] as Buffer;
          const n = Math.min(c.length - this.head, take - filled);
          c.copy(buf, filled, this.head, this.head + n);
          filled += n;
          this.head += n;
          if (this.head === c.length) {
            this.chunks.shift();
            this.head = 0;
          }
        }
        out = buf;
      }
      if (this.chunks.length > 0 && this.head === (this.chunks[0] as Buffer).length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.bufferedBytes -= take;
      if (this.bufferedBytes < this.maxBufferedBytes) this.socket?.resume();
      this.waiter = null;
      w.resolve(out);
    } else if (this.failure) {
      this.waiter = null;
      w.reject(this.failure);
    } else if (this.ended) {
      this.waiter = null;
      w.resolve(new Uint8Array(0));
    }
  }
}
