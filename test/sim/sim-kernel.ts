// A simulated kernel random device, built from docs/kernel-eras.md:
// the same RandomDevice port as LinuxRandomDevice, so the real daemon loop runs
// against it. Eras:
// - 'el6'   2.6.32 RHEL 6: 4096-bit pool, write_wakeup_threshold 128, asymptotic
//           crediting in 1/8-bit units, no getrandom, no RNDRESEEDCRNG.
// - 'v3.10' 3.10 upstream (RHEL 7.0): as el6 but whole bits, linear credit, clamp 4096.
// - 'el7'   RHEL 7.1–7.9 / 4.8–5.17: asymptotic, threshold 896, getrandom; the
//           kernel's hwrng thread exists (kernelFeeder).
// - 'modern' 5.19+/6.x: 256-bit init_bits that only rise until the crng is ready,
//           credit ignored afterwards, POLLOUT only while not ready, RNDRESEEDCRNG.
// A /dev/random reader can drain the legacy pools at a given rate. Timers are
// plain setTimeout, so vitest's fake timers drive it.
import { KernelError } from '../../src/kernel/errors';
import type { RandomDevice } from '../../src/kernel/random-device';
import type { KernelView } from '../../src/core/policy';

export type Era = 'el6' | 'v3.10' | 'el7' | 'modern';

const POLLIN = 1;
const POLLOUT = 4;

export interface SimOptions {
  era: Era;
  /** Initial entropy_avail in bits. */
  entropyBits?: number;
  /** Override write_wakeup_threshold (legacy eras accept writes; 896 on el6 is a tuned host). */
  writeWakeupThresholdBits?: number;
  crngReady?: boolean;
}

const err = (code: string, errno: number, syscall: string): KernelError => new KernelError(code, -errno, syscall, `${syscall}: ${code}`);

/** The addon's limits (src/native/vrngd.c MAX_ADD_BYTES, MAX_POLL_MS). */
const MAX_ADD_BYTES = 2500;
const MAX_POLL_MS = 60000;
/** The addon's argument errors (napi_throw_range_error / napi_throw_type_error): thrown before any kernel call. */
const argError = (Kind: RangeErrorConstructor | TypeErrorConstructor, code: string, message: string): Error => Object.assign(new Kind(message), { code });

export class SimKernel implements RandomDevice {
  readonly era: Era;
  readonly poolsizeBits: number;
  /** /proc/sys/kernel/random/write_wakeup_threshold: POLLOUT below it (legacy eras); settable as root can. */
  writeWakeupThresholdBits: number;
  /** Entropy in 1/8 bits (el6, el7 fixed point) or bits ×8 for whole-bit eras. */
  private eighths: number;
  private ready: boolean;
  // ledger
  claimedBits = 0;
  creditedBits = 0;
  mixedBytes = 0;
  writtenBytes = 0;
  addCalls = 0;
  drainedBits = 0;
  reseeds = 0;
  readerShortBits = 0;
  readerReads = 0;
  /** poll() calls that had to wait (each is one wakeup of the daemon). */
  pollWaits = 0;
  /** Lowest entropy_avail seen right after a reader's read, once armed by markSteady(). */
  lowestAfterSteady: number | null = null;
  /** Errors thrown by the next addEntropy calls, in order (EINTR, EPERM...). */
  failNextAdd: string[] = [];
  /** Every addEntropy call refuses with EPERM (no CAP_SYS_ADMIN). */
  noPermission = false;
  private pollWaiters: Array<{ events: number; resolve: (r: number) => void; timer: ReturnType<typeof setTimeout> }> = [];
  private reader: ReturnType<typeof setInterval> | null = null;
  private steady = false;
  closed = false;

  constructor(opts: SimOptions) {
    this.era = opts.era;
    this.poolsizeBits = opts.era === 'modern' ? 256 : 4096;
    this.writeWakeupThresholdBits = opts.writeWakeupThresholdBits ?? { el6: 128, 'v3.10': 128, el7: 896, modern: 256 }[opts.era];
    this.eighths = Math.min(this.poolsizeBits, opts.entropyBits ?? 0) * 8;
    this.ready = opts.crngReady ?? (opts.era === 'modern' ? (opts.entropyBits ?? 0) >= 256 : true);
  }

  /** What the probe would report for this kernel. */
  kernelView(kernelFeeder: boolean | null = this.era === 'el7' || this.era === 'modern' ? true : false): KernelView {
    return {
      regime: this.era === 'modern' ? 'modern' : this.era === 'el7' ? 'assisted' : 'legacy',
      poolsizeBits: this.poolsizeBits,
      writeWakeupThresholdBits: this.writeWakeupThresholdBits,
      crngReady: this.crngReady(),
      kernelFeeder,
    };
  }

  entropyBits(): number {
    this.checkOpen('ioctl(RNDGETENTCNT)');
    return Math.floor(this.eighths / 8);
  }

  /** As LinuxRandomDevice after close(): the fd is gone, so every call on it fails. */
  private checkOpen(syscall: string): void {
    if (this.closed) throw err('EBADF', 9, syscall);
  }

  addEntropy(data: Uint8Array, entropyBits: number): void {
    this.checkOpen('ioctl(RNDADDENTROPY)');
    // the addon's own checks, in its order, before the ioctl (test/contract/random-device.ts)
    if (!(data instanceof Uint8Array)) throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', 'Usage: addEntropy(fd, data, entropyBits): data must be a Uint8Array');
    if (data.length === 0 || data.length > MAX_ADD_BYTES) throw argError(RangeError, 'ERR_OUT_OF_RANGE', `addEntropy: data must hold 1 to ${MAX_ADD_BYTES} bytes`);
    if (!Number.isInteger(entropyBits)) throw argError(TypeError, 'ERR_INVALID_ARG_TYPE', 'Usage: addEntropy(fd, data, entropyBits): entropyBits must be an integer');
    if (entropyBits < 0 || entropyBits > 8 * data.length) throw argError(RangeError, 'ERR_OUT_OF_RANGE', 'addEntropy: entropyBits must be 0 to 8 x data length');
    const next = this.failNextAdd.shift();
    if (next === 'EINTR') throw err('EINTR', 4, 'ioctl(RNDADDENTROPY)');
    if (next === 'EAGAIN') throw err('EAGAIN', 11, 'ioctl(RNDADDENTROPY)');
    if (this.noPermission || next === 'EPERM') throw err('EPERM', 1, 'ioctl(RNDADDENTROPY)');
    this.addCalls++;
    this.claimedBits += entropyBits;
    this.mixedBytes += data.length;
    const before = this.eighths;
    if (this.era === 'modern') {
      if (!this.ready) {
        this.eighths = Math.min(256 * 8, this.eighths + Math.min(entropyBits, 256) * 8);
        if (this.eighths >= 256 * 8) this.ready = true;
      }
    } else if (this.era === 'v3.10') {
      this.eighths = Math.min(this.poolsizeBits * 8, this.eighths + entropyBits * 8);
    } else {
      // credit_entropy_bits(): add = (pool − E)·N·3/4 / pool, in steps of at most pool/2 (1/8-bit units)
      const poolEighths = this.poolsizeBits * 8;
      let nbits = entropyBits * 8;
      let e = this.eighths;
      const maxStep = poolEighths / 2;
      while (nbits > 0) {
        const step = Math.min(nbits, maxStep);
        e += Math.floor(((poolEighths - e) * step * 3) / 4 / poolEighths);
        nbits -= step;
      }
      this.eighths = Math.min(poolEighths, e);
    }
    this.creditedBits += (this.eighths - before) / 8;
    this.wakePollers();
  }

  write(data: Uint8Array): void {
    this.checkOpen('write');
    this.writtenBytes += data.length;
  }

  poll(events: number, timeoutMs: number): Promise<number> {
    if (this.closed) return Promise.reject(err('EBADF', 9, 'poll'));
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_POLL_MS) return Promise.reject(argError(RangeError, 'ERR_OUT_OF_RANGE', `pollFd: timeoutMs must be 0 to ${MAX_POLL_MS}`));
    const now = this.revents(events);
    if (now) return Promise.resolve(now);
    this.pollWaits++;
    return new Promise((resolve) => {
      const w = {
        events,
        resolve,
        timer: setTimeout(() => {
          this.pollWaiters = this.pollWaiters.filter((x) => x !== w);
          resolve(0);
        }, timeoutMs),
      };
      this.pollWaiters.push(w);
    });
  }

  /** As the addon's wake pipe: every pending poll resolves 0 at once. */
  interruptPoll(): void {
    for (const w of this.pollWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(0);
    }
  }

  /** Polls waiting now. */
  get pendingPolls(): number {
    return this.pollWaiters.length;
  }

  crngReady(): boolean | null {
    if (this.era === 'el6' || this.era === 'v3.10') return null;
    return this.ready;
  }

  reseedCrng(): boolean {
    this.checkOpen('ioctl(RNDRESEEDCRNG)');
    if (this.era !== 'modern') return false;
    if (!this.ready) throw err('ENODATA', 61, 'ioctl(RNDRESEEDCRNG)');
    this.reseeds++;
    return true;
  }

  close(): void {
    this.closed = true;
    this.stopReader();
  }

  /**
   * A /dev/random reader taking `bytesPerSecond` in 64-byte reads. Legacy /dev/random
   * debits 8 bits per byte and blocks below read_wakeup_threshold (64 bits); a read
   * that finds less gets what there is (the rest is counted as readerShortBits).
   */
  startReader(bytesPerSecond: number): void {
    const readBytes = 64;
    const everyMs = (1000 * readBytes) / bytesPerSecond;
    this.reader = setInterval(() => {
      if (this.era === 'modern') return;
      const want = readBytes * 8;
      const have = this.entropyBits();
      const take = have >= 64 ? Math.min(want, have - (have % 8)) : 0;
      this.eighths -= take * 8;
      this.drainedBits += take;
      this.readerShortBits += want - take;
      this.readerReads++;
      if (this.steady) this.lowestAfterSteady = Math.min(this.lowestAfterSteady ?? Infinity, this.entropyBits());
      this.wakePollers();
    }, everyMs);
  }

  stopReader(): void {
    if (this.reader) clearInterval(this.reader);
    this.reader = null;
  }

  /** From now on, record the lowest entropy_avail seen after each reader's read. */
  markSteady(): void {
    this.steady = true;
    this.lowestAfterSteady = null;
    this.readerShortBits = 0;
  }

  private revents(events: number): number {
    let r = 0;
    if (this.era === 'modern') {
      if (this.ready) r |= POLLIN;
      else r |= POLLOUT;
    } else {
      if (this.entropyBits() >= 64) r |= POLLIN;
      if (this.entropyBits() < this.writeWakeupThresholdBits) r |= POLLOUT;
    }
    return r & events;
  }

  private wakePollers(): void {
    for (const w of [...this.pollWaiters]) {
      const r = this.revents(w.events);
      if (r) {
        clearTimeout(w.timer);
        this.pollWaiters = this.pollWaiters.filter((x) => x !== w);
        w.resolve(r);
      }
    }
  }
}
