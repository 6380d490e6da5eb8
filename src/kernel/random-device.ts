// The kernel's random device as a port (RandomDevice) and its Linux adapter.
// The adapter opens /dev/random itself (TS owns every fd) and calls the addon for
// the ioctls and poll. See random(4), ioctl(2), poll(2).
import * as fs from 'fs';
import { loadBinding, RndBinding } from '../native/binding';
import { fromNativeError, kernelCall } from './errors';

export interface RandomDevice {
  /** RNDGETENTCNT: the input pool's entropy estimate, in bits. */
  entropyBits(): number;
  /**
   * RNDADDENTROPY: mix `data` (1..2500 bytes) and credit `entropyBits` (0..8*length).
   * @throws KernelError code EPERM without CAP_SYS_ADMIN. Bad arguments never reach
   * the kernel: RangeError code ERR_OUT_OF_RANGE (data length, count out of range),
   * TypeError code ERR_INVALID_ARG_TYPE (a count that is not an integer).
   * test/contract/random-device.ts holds every implementation to this.
   */
  addEntropy(data: Uint8Array, entropyBits: number): void;
  /** Mixes data without credit by write(2) (on 2.6.32/3.10 this reaches the urandom pool at once). */
  write(data: Uint8Array): void;
  /**
   * Waits up to timeoutMs (≤ 60000) for events (POLLIN/POLLOUT); resolves revents,
   * 0 on timeout or when interruptPoll() was called meanwhile.
   */
  poll(events: number, timeoutMs: number): Promise<number>;
  /**
   * Makes a pending poll() resolve 0 at once (a stop never waits for its timeout).
   * Optional: only adapters whose poll can block a thread for long need it.
   */
  interruptPoll?(): void;
  /** getrandom(GRND_NONBLOCK): true ready, false not yet, null kernel has no getrandom. */
  crngReady(): boolean | null;
  /** RNDRESEEDCRNG: true done, false unsupported (pre-4.17). @throws ENODATA before the crng is ready. */
  reseedCrng(): boolean;
  close(): void;
}

/** poll(2)'s POLLOUT and the addon's longest poll timeout, from the binding (never copied). */
export interface PollConstants {
  POLLOUT: number;
  MAX_POLL_MS: number;
}

export function pollConstants(binding: RndBinding = loadBinding()): PollConstants {
  return { POLLOUT: binding.constants.POLLOUT, MAX_POLL_MS: binding.constants.MAX_POLL_MS };
}

export interface LinuxRandomDeviceOptions {
  path?: string;
  binding?: RndBinding;
  /** Open for writing too (needed for write(2) and for -o targets that are not random devices). */
  writable?: boolean;
}

export class LinuxRandomDevice implements RandomDevice {
  readonly path: string;
  private fd: number;
  private readonly binding: RndBinding;

  constructor(opts: LinuxRandomDeviceOptions = {}) {
    this.path = opts.path ?? '/dev/random';
    this.binding = opts.binding ?? loadBinding();
    this.fd = fs.openSync(this.path, opts.writable ? 'r+' : 'r');
  }

  entropyBits(): number {
    return kernelCall(() => this.binding.getEntropyCount(this.fd));
  }

  /** ENOTTY: the target is not a random device (the injector's write fallback, kernel/injector.ts). */
  addEntropy(data: Uint8Array, entropyBits: number): void {
    kernelCall(() => this.binding.addEntropy(this.fd, data, entropyBits));
  }

  write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off);
  }

  /** [readFd, writeFd]: a byte written wakes the poll thread (see interruptPoll). */
  private wake: [number, number] | null = null;

  async poll(events: number, timeoutMs: number): Promise<number> {
    this.wake ??= kernelCall(() => this.binding.makeWakePipe());
    const wakeFd = this.wake[0];
    let revents: number;
    try {
      revents = await this.binding.pollFd(this.fd, events, timeoutMs, wakeFd);
    } catch (e: unknown) {
      throw fromNativeError(e);
    }
    if (revents !== this.binding.constants.POLL_WOKEN) return revents;
    try {
      fs.readSync(wakeFd, Buffer.alloc(64)); // drain: the pipe is non-blocking
    } catch {
      // EAGAIN: already drained
    }
    return 0;
  }

  interruptPoll(): void {
    if (!this.wake) return;
    try {
      fs.writeSync(this.wake[1], Buffer.from([1]));
    } catch {
      // EAGAIN: the pipe is full, so a wakeup is pending anyway
    }
  }

  crngReady(): boolean | null {
    return kernelCall(() => this.binding.crngReady());
  }

  reseedCrng(): boolean {
    return kernelCall(() => this.binding.reseedCrng(this.fd));
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    if (this.wake) for (const fd of this.wake) fs.closeSync(fd);
    this.wake = null;
  }
}
