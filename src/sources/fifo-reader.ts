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
      const all = Buffer.concat(this.chunks, this.bufferedBytes);
      const take = Math.min(w.bytes, all.length);
      const rest = all.subarray(take);
      this.chunks = rest.length ? [Buffer.from(rest)] : [];
      this.bufferedBytes = rest.length;
      if (this.bufferedBytes < this.maxBufferedBytes) this.socket?.resume();
      this.waiter = null;
      w.resolve(new Uint8Array(all.buffer, all.byteOffset, take));
    } else if (this.failure) {
      this.waiter = null;
      w.reject(this.failure);
    } else if (this.ended) {
      this.waiter = null;
      w.resolve(new Uint8Array(0));
    }
  }
}
