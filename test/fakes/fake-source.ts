// FakeSource: an EntropySource behind the port for daemon tests. It produces
// bytes from a generator at a given rate (setTimeout, so fake timers drive it)
// and can fail on demand: stall (a read that never returns until close), device
// gone (ENODEV on read, ENOENT on open until restored), EINTR, EPERM on open.
import { randomBytes } from 'crypto';
import { KernelError } from '../../src/kernel/errors';
import { CLOSED, EntropySource, SourceKind } from '../../src/sources/entropy-source';

export type Generator = (bytes: number) => Uint8Array;

export const random: Generator = (n) => randomBytes(n);
export const zeros: Generator = (n) => new Uint8Array(n);
export const stuck: Generator = (n) => new Uint8Array(n).fill(0xa5);
/** Bits set with probability 0.6: fails monobit. */
export const biased: Generator = (n) => {
  const out = new Uint8Array(n);
  const r = randomBytes(n * 8);
  for (let i = 0; i < n * 8; i++) if ((r[i] as number) < 154) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
  return out;
};
/** The same good-looking 2,500-byte block over and over (a replaying device). */
export function repeating(): Generator {
  const block = randomBytes(2500);
  let pos = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = block[pos] as number;
      pos = (pos + 1) % block.length;
    }
    return out;
  };
}

/**
 * Random data in which every `every`-th 2,500-byte block (counted from the
 * source's first byte, the gate's block boundaries) carries a 32-bit run of
 * zeros: a lone FIPS long-run failure, as healthy data gives ~1 block in 1,300.
 */
export function loneFailures(every: number): Generator {
  let offset = 0;
  return (n) => {
    const out = new Uint8Array(randomBytes(n));
    for (let i = 0; i < n; i++) {
      const abs = offset + i;
      const block = Math.floor(abs / 2500);
      const inBlock = abs % 2500;
      if (block % every === every - 1 && inBlock >= 1000 && inBlock < 1004) out[i] = 0;
    }
    offset += n;
    return out;
  };
}

const kerr = (code: string, msg: string): KernelError => new KernelError(code, 0, 'read', msg);

export class FakeSource implements EntropySource {
  readonly kind: SourceKind;
  quality: number;
  present = true;
  stalled = false;
  /** Errors for the next reads, in order (e.g. 'EINTR', 'ENODEV'). */
  failNextReads: string[] = [];
  openError: string | null = null;
  /**
   * End of data after this many bytes (a regular file or a FIFO whose writer
   * left): reads then resolve an empty array, as DeviceSource's do. null: endless.
   */
  endAfterBytes: number | null = null;
  opens = 0;
  reads = 0;
  bytesServed = 0;
  private isOpen = false;
  private pending: { reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> | null } | null = null;

  constructor(
    readonly name: string,
    readonly path: string,
    public generator: Generator = random,
    /** Bytes per second; the read of n bytes resolves after n/rate seconds. */
    public bytesPerSecond = 10000,
    quality = 8,
    kind: SourceKind = 'hwrng',
  ) {
    this.quality = quality;
    this.kind = kind;
  }

  async open(): Promise<void> {
    if (this.openError) throw kerr(this.openError, `${this.path}: ${this.openError}`);
    if (!this.present) throw kerr('ENOENT', `${this.path}: No such file or directory`);
    this.opens++;
    this.isOpen = true;
  }

  read(bytes: number): Promise<Uint8Array> {
    if (!this.isOpen) return Promise.reject(kerr(CLOSED, 'not open'));
    if (this.pending) return Promise.reject(kerr('EBUSY', 'read outstanding'));
    this.reads++;
    return new Promise((resolve, reject) => {
      const fail = this.failNextReads.shift();
      const p = { reject, timer: null as ReturnType<typeof setTimeout> | null };
      this.pending = p;
      const done = (): void => {
        if (this.pending === p) this.pending = null;
      };
      if (fail) {
        p.timer = setTimeout(() => {
          done();
          reject(kerr(fail, `${this.path}: ${fail}`));
        }, 1);
        return;
      }
      if (!this.present) {
        p.timer = setTimeout(() => {
          done();
          reject(kerr('ENODEV', `${this.path}: No such device`));
        }, 1);
        return;
      }
      if (this.stalled) return; // never resolves: only close() ends it
      const n = this.endAfterBytes === null ? bytes : Math.max(0, Math.min(bytes, this.endAfterBytes - this.bytesServed));
      p.timer = setTimeout(() => {
        done();
        this.bytesServed += n;
        resolve(n === 0 ? new Uint8Array(0) : this.generator(n));
      }, n === 0 ? 1 : Math.max(1, Math.round((n * 1000) / this.bytesPerSecond)));
    });
  }

  close(): void {
    this.isOpen = false;
    const p = this.pending;
    this.pending = null;
    if (p) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(kerr(CLOSED, 'read abandoned'));
    }
  }

  get readOutstanding(): boolean {
    return this.pending !== null;
  }
}
