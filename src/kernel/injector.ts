// The injector: the one path from a passing block to the kernel, for the daemon
// and for `vrngd seed`. It carries out a CreditPolicy (core/credit-policy.ts):
// RNDADDENTROPY in policy-sized steps, claiming creditBits(step, quality) each,
// EINTR/EAGAIN retried, and RNDGETENTCNT read around the steps so that what is
// reported as credited is what the kernel's count really rose by. See random(4).
//
// Batching (issue 16; docs/benchmarks.md): where the kernel credits linearly
// (5.18+, the 'modern' regime; 3.10, found by measurement: a step's rise equal
// to what it asked), the count after k steps is known in advance, min(cap,
// count + k * asked), so the steps up to the watermark (or the whole block) go in
// one batch with RNDGETENTCNT read once before and once after it, and
// bitsCredited is the measured rise over the batch. Where credit is asymptotic
// (2.6.32, RHEL 7.1+, 3.13-5.17: 'assisted', and 'legacy' until a step proves
// it linear) the stop at the watermark needs the real count before each step
// near it, so those steps are measured one by one; but where the kernel is known
// to be asymptotic ('assisted'), the steps that could not reach the watermark even
// if each were credited in full (or all of them, with no watermark) still go as one
// batch: the same steps, and over them the rise telescopes to the same sum.
//
// Either way the steps are still 64-B (policy-sized) RNDADDENTROPY calls, and
// they cross N-API once per batch: RandomDevice.addEntropySteps (the addon's
// src/native/inject.c) makes the steps, and in per-step mode reads RNDGETENTCNT
// after each one inside C and returns every count, so the accounting below is the
// same per step as before without a crossing per step. Devices without it (the
// simulated kernels, unit-test fakes) go through addEntropyStepsVia(), the same
// semantics over their one-step calls.
//
// bitsCredited counts the count's rise over the steps, never more than they asked:
// the kernel's own sources (interrupts, disk timings on 3.10) can add a bit or two
// between the reads, and that is not vrngd's (creditedOf).
//
// A target that answers ENOTTY is not a random device (/dev/null, a plain file,
// a pipe given as -o): from then on the bytes are written to it (rngd's write
// fallback), nothing is asked or credited, no reseed is claimed, and that is
// said once.
import { creditBits } from '../core/credit';
import { claimQuality, CreditPolicy } from '../core/credit-policy';
import { isNotRandomDevice } from './errors';
import { addEntropyStepsVia, RandomDevice } from './random-device';

export interface InjectTotals {
  /** RNDADDENTROPY calls (or writes, for a target that is not a random device). */
  injections: number;
  bytesInjected: number;
  /** Bits vrngd asked the kernel to credit. */
  bitsAsked: number;
  /** Bits the kernel's count (RNDGETENTCNT) rose by around those calls: what was really credited. */
  bitsCredited: number;
  /** RNDGETENTCNT before the first injection, and after the last. */
  entropyBeforeBits: number | null;
  entropyAfterBits: number | null;
}

export const emptyInjectTotals = (): InjectTotals => ({ injections: 0, bytesInjected: 0, bitsAsked: 0, bitsCredited: 0, entropyBeforeBits: null, entropyAfterBits: null });

export interface InjectorOptions {
  /** The target's path, for messages. */
  target: string;
  /** Known before the first call not to be a random device (e.g. -o at a regular file). */
  notRandom?: boolean;
  /** write(2) to /dev/urandom, for policies with writeUrandom. */
  writeUrandom?: (data: Uint8Array) => void;
  /** Said once, when the target turns out not to be a random device. */
  warn?: (line: string) => void;
  debug?: (line: string) => void;
  /**
   * Whether the kernel credits linearly: true (5.18+), false (asymptotic:
   * 3.13-5.17, RHEL 7.1+), null/absent: unknown (legacy kernels: 3.10 is linear,
   * 2.6.32 asymptotic), per-step until a step's measured rise equals what it asked.
   */
  linearCredit?: boolean | null;
}

export class Injector {
  readonly totals: InjectTotals = emptyInjectTotals();
  private notRandom: boolean;
  private linear: boolean | null;

  constructor(private readonly device: RandomDevice, private readonly policy: CreditPolicy, private readonly opts: InjectorOptions) {
    this.notRandom = opts.notRandom === true;
    this.linear = opts.linearCredit ?? null;
  }

  /** Whether steps are batched (the kernel credits linearly, by the regime or as measured). */
  get batching(): boolean {
    return this.linear === true;
  }

  /** False once the target proved not to be a random device: nothing it gets is credited. */
  get credits(): boolean {
    return !this.notRandom;
  }

  /** RNDGETENTCNT, or null for a target that has no pool. */
  entropyBits(): number | null {
    return this.unlessNotRandom(() => this.device.entropyBits(), null);
  }

  /**
   * Mixes `data` in policy steps, each claiming creditBits(step, quality). Stops
   * early, before a step, once the kernel's count has reached `untilBits` (the
   * caller keeps the rest). Throws the KernelError of a refused call (EPERM
   * without CAP_SYS_ADMIN); a refused step is not counted.
   */
  inject(data: Uint8Array, sourceQuality: number, untilBits: number | null = null): { consumed: number; entropyBits: number | null } {
    const quality = claimQuality(this.policy, sourceQuality);
    const t = this.totals;
    const stepBytes = this.policy.stepBytes;
    let entropy = this.entropyBits();
    let off = 0;
    while (off < data.length) {
      if (untilBits !== null && entropy !== null && entropy >= untilBits) break;
      if (this.notRandom || entropy === null) {
        off = this.writeRest(data, off);
        break;
      }
      // one call for all the steps (src/native/inject.c: one N-API crossing). Linear
      // credit: every step up to the watermark (or the end of the data), RNDGETENTCNT
      // read here once after the batch. Otherwise every step measured (inside the call),
      // stopping before a step once the watermark is reached.
      const rest = data.length - off;
      const bitsFull = creditBits(stepBytes, quality);
      const bitsLast = rest % stepBytes === 0 ? bitsFull : creditBits(rest % stepBytes, quality);
      // asymptotic credit (known: never less than a step's claim short of the cap), far
      // below the watermark: the steps that could not reach it even if each were credited
      // in full go as one batch too; the same steps as per-step mode would make, since it
      // only stops before a step once the count is at the watermark. Near it, per step.
      const farSteps = this.linear === false ? (untilBits === null ? Infinity : Math.floor((untilBits - entropy) / Math.max(1, bitsFull))) : 0;
      const linear = this.linear === true || farSteps >= 2;
      let maxSteps = Math.ceil(rest / stepBytes);
      if (this.linear === true && untilBits !== null) {
        const perStep = rest < stepBytes ? bitsLast : bitsFull; // the first step's claim
        if (perStep > 0) maxSteps = Math.min(maxSteps, Math.max(1, Math.ceil((untilBits - entropy) / perStep)));
      } else if (this.linear === false && linear) {
        maxSteps = Math.min(maxSteps, farSteps);
      }
      const before = entropy;
      const req = { data: off === 0 ? data : data.subarray(off), stepBytes, bitsFull, bitsLast, maxSteps, startBits: entropy, untilBits, perStep: !linear, stopWhenLinear: this.linear === null };
      const r = this.device.addEntropySteps ? this.device.addEntropySteps(req) : addEntropyStepsVia(this.device, req);
      let asked = 0;
      let prev: number | null = before;
      for (let k = 0; k < r.steps; k++) {
        const len = Math.min(stepBytes, rest - k * stepBytes);
        const claim = len === stepBytes ? bitsFull : bitsLast;
        off += len;
        asked += claim;
        t.injections++;
        t.bytesInjected += len;
        t.bitsAsked += claim;
        if (linear) continue;
        const after = r.countFailed && k === r.steps - 1 ? null : (r.counts[k] as number);
        if (prev !== null && after !== null) {
          if (t.entropyBeforeBits === null) t.entropyBeforeBits = prev;
          t.bitsCredited += creditedOf(after - prev, claim);
          // a legacy kernel proves linear credit by one measured step: +asked exactly
          // (asymptotic credit gives about 3/4 of it); 8+ bits, so rounding cannot fake it
          if (this.linear === null && claim >= 8 && after - prev === claim) this.linear = true;
        }
        prev = after;
      }
      let failure: unknown = r.error;
      if (failure !== null && isNotRandomDevice(failure) && !r.countFailed) {
        // ENOTTY: not a random device after all; the rest is written (next turn)
        this.markNotRandom();
        failure = null;
        entropy = null;
      }
      if (linear) {
        // also when a step was refused: the steps before it are measured
        try {
          entropy = r.steps > 0 || failure === null ? this.entropyBits() : entropy;
        } catch (e: unknown) {
          if (failure === null) throw e;
          entropy = null;
        }
        if (r.steps > 0 && before !== null && entropy !== null) {
          if (t.entropyBeforeBits === null) t.entropyBeforeBits = before;
          t.bitsCredited += creditedOf(entropy - before, asked);
        }
      } else if (!this.notRandom) {
        entropy = r.steps > 0 ? prev : entropy;
      }
      if (r.steps > 0 || this.notRandom) t.entropyAfterBits = entropy;
      if (failure !== null) throw failure;
      if (this.opts.debug && r.steps > 0) this.opts.debug(`asked ${asked} bits for ${r.steps} step(s) of ${stepBytes} B (${linear ? 'one batch' : 'each measured'}), entropy_avail ${before ?? '-'} → ${entropy ?? '-'}`);
      if (r.steps === 0 && !this.notRandom) break; // the watermark was reached
    }
    if (this.policy.writeUrandom && off > 0) this.opts.writeUrandom?.(data.subarray(0, off));
    return { consumed: off, entropyBits: entropy };
  }

  /** A target that is no random device: the rest of data written in steps, nothing credited. */
  private writeRest(data: Uint8Array, off: number): number {
    const stepBytes = this.policy.stepBytes;
    while (off < data.length) {
      const chunk = data.subarray(off, Math.min(off + stepBytes, data.length));
      this.device.write(chunk);
      off += chunk.length;
      this.totals.injections++;
      this.totals.bytesInjected += chunk.length;
    }
    this.totals.entropyAfterBits = null;
    return off;
  }

  /**
   * RNDRESEEDCRNG: true when the kernel reseeded; false where it has no such call
   * (before 4.17) or the target is not a random device. Throws ENODATA before the
   * crng is ready, and any other refusal.
   */
  reseed(): boolean {
    return this.unlessNotRandom(() => this.device.reseedCrng(), false);
  }

  /** fn(), or `otherwise` for a target known (or found now, by ENOTTY) not to be a random device. */
  private unlessNotRandom<T>(fn: () => T, otherwise: T): T {
    if (this.notRandom) return otherwise;
    try {
      return fn();
    } catch (e: unknown) {
      if (!isNotRandomDevice(e)) throw e;
      this.markNotRandom();
      return otherwise;
    }
  }

  private markNotRandom(): void {
    if (this.notRandom) return;
    this.notRandom = true;
    this.opts.warn?.(`${this.opts.target} is not a random device (ENOTTY): checked bytes are written to it, nothing is credited`);
  }
}

/** What a rise of the kernel's count credits to vrngd: the rise, but never below 0 nor above what was asked. */
export function creditedOf(rise: number, asked: number): number {
  return Math.max(0, Math.min(rise, asked));
}
