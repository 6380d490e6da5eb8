// The kernel's random device as a port (RandomDevice) and its Linux adapter.
// The adapter opens /dev/random itself (TS owns every fd) and calls the addon for
// the ioctls and poll. See random(4), ioctl(2), poll(2).
import * as fs from 'fs';
import { loadBinding, RndBinding } from '../native/binding';
import { fromNativeError, isRetryable, kernelCall } from './errors';

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
  /**
   * RNDADDENTROPY in steps, in one call (see StepsRequest): the injector's path.
   * Optional: addEntropyStepsVia() does the same through addEntropy() and
   * entropyBits() for a device without it (the simulated kernels, unit-test fakes).
   */
  addEntropySteps?(req: StepsRequest): StepsOutcome;
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

/**
 * Steps of stepBytes (the last may be shorter), one RNDADDENTROPY each claiming
 * bitsFull (bitsLast for a shorter last step), EINTR/EAGAIN retried MAX_STEP_RETRIES
 * times, at most maxSteps. perStep: RNDGETENTCNT after every step, and a stop
 * before a step once the count (startBits before the first) has reached untilBits;
 * where the kernel's credit is asymptotic the stop needs the real count before each
 * step. stopWhenLinear: also stop after a step whose measured rise equals its claim
 * of 8+ bits (a legacy kernel proving linear credit). Without perStep (linear
 * credit) nothing is read: the caller reads the count once after the batch.
 */
export interface StepsRequest {
  data: Uint8Array;
  stepBytes: number;
  bitsFull: number;
  bitsLast: number;
  maxSteps: number;
  startBits: number;
  untilBits: number | null;
  perStep: boolean;
  stopWhenLinear: boolean;
}

export interface StepsOutcome {
  /** Steps made (each reached the kernel). */
  steps: number;
  /** With perStep: the count after step k at [k]; the last one is unusable when countFailed. Valid until the next call (a reused array). */
  counts: ArrayLike<number>;
  /** The KernelError that ended the steps (a refused step, or a failed count after one), else null. */
  error: unknown;
  /** The error came from the RNDGETENTCNT after the last step made (that step's count is unknown). */
  countFailed: boolean;
}

/** Consecutive EINTR/EAGAIN answers retried per step (the addon's MAX_RETRIES, src/native/inject.c). */
export const MAX_STEP_RETRIES = 5;

/** addEntropySteps through the port's one-step calls: the reference for src/native/inject.c. */
export function addEntropyStepsVia(device: RandomDevice, req: StepsRequest): StepsOutcome {
  const counts: number[] = [];
  let count = req.startBits;
  let off = 0;
  let steps = 0;
  while (off < req.data.length && steps < req.maxSteps) {
    if (req.perStep && req.untilBits !== null && count >= req.untilBits) break;
    const chunk = req.data.subarray(off, Math.min(off + req.stepBytes, req.data.length));
    const bits = chunk.length === req.stepBytes ? req.bitsFull : req.bitsLast;
    for (let attempt = 0; ; attempt++) {
      try {
        device.addEntropy(chunk, bits);
        break;
      } catch (e: unknown) {
        if (isRetryable(e) && attempt < MAX_STEP_RETRIES) continue;
        return { steps, counts, error: e, countFailed: false };
      }
    }
    off += chunk.length;
    steps++;
    if (req.perStep) {
      const before = count;
      try {
        count = device.entropyBits();
      } catch (e: unknown) {
        counts.push(before);
        return { steps, counts, error: e, countFailed: true };
      }
      counts.push(count);
      if (req.stopWhenLinear && bits >= 8 && count - before === bits) break;
    }
  }
  return { steps, counts, error: null, countFailed: false };
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

  /** One N-API crossing for all the steps (src/native/inject.c); the out array is reused. */
  private stepsOut = new Int32Array(2 + 64);

  addEntropySteps(req: StepsRequest): StepsOutcome {
    if (req.perStep && this.stepsOut.length < 2 + req.maxSteps) this.stepsOut = new Int32Array(2 + req.maxSteps);
    const out = this.stepsOut;
    let raised: unknown;
    try {
      raised = this.binding.addEntropySteps(this.fd, req.data, req.stepBytes, req.bitsFull, req.bitsLast, req.maxSteps, req.startBits, req.untilBits ?? -1, (req.perStep ? 1 : 0) | (req.stopWhenLinear ? 2 : 0), out);
    } catch (e: unknown) {
      throw fromNativeError(e); // usage errors: a bug, never the kernel's answer
    }
    const steps = out[0] as number;
    return { steps, counts: req.perStep ? out.subarray(2, 2 + steps) : out.subarray(2, 2), error: raised === undefined || raised === null ? null : fromNativeError(raised), countFailed: (out[1] as number) < 0 };
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
