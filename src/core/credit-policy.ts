// The crediting policy: every decision between "this block passed the gate" and
// "the kernel was asked to credit it", named in one place, for the daemon and for
// `vrngd seed`. Pure. The injector (kernel/injector.ts) carries it out.
//
// What "credited" means everywhere (state file, status, logs, seed's line): the
// bits the kernel's own count (RNDGETENTCNT) rose by around each RNDADDENTROPY,
// where the kernel counts. What vrngd *asked* for is kept beside it as bitsAsked.
// The two differ on purpose: 2.6.32, RHEL 7.1+ and 3.13–5.17 credit
// asymptotically (128 asked gives +95 on 5.4), 5.19+ counts nothing once the
// crng is ready, and a target that is not a random device (/dev/null, a file, a
// pipe: ENOTTY) credits 0 whatever was asked.
import { effectiveQuality, MAX_BITS_PER_BYTE } from './credit';
import { BlockGate, type BlockGateOptions } from './gate';
import type { RepeatCheck } from './repeat-memory';

export interface CreditPolicy {
  /**
   * Whether a source's first block is only a repetition baseline (tested,
   * remembered, never credited).
   * - The daemon: yes. It runs for the whole uptime, so one block at start costs
   *   nothing, and a device that replays one fixed block after every open is then
   *   credited 0 bits, not one block per open.
   * - `vrngd seed`: no. It runs at early boot, often reads only a few blocks, and
   *   exists to credit the kernel as fast as the device allows; within its run the
   *   repeat memory still refuses any block seen before.
   */
  baselineBlock: boolean;
  /** The most a byte may claim (bits, 0..8): the daemon's -e; the seeder claims the source's quality. */
  maxBitsPerByte: number;
  /**
   * Bytes per RNDADDENTROPY call.
   * - The daemon: rngd's -s (64 by default), and RNDGETENTCNT is read after every
   *   step, so in fill mode it stops at the watermark and keeps the rest for later.
   * - The seeder: 500 bytes, a fifth of a block: 5.19+ counts at most 256 bits of
   *   one call before the crng is ready, and a boot-time seeder wants few calls.
   */
  stepBytes: number;
  /**
   * Also write(2) each block to /dev/urandom. The seeder on kernels without
   * getrandom (2.6.32, 3.10): there write(2) reaches the urandom pool at once,
   * while RNDADDENTROPY feeds only the input pool, which /dev/urandom drains from
   * only when it has 192+ bits. The daemon does not: it keeps the input pool full,
   * which is what the urandom pool reseeds from.
   */
  writeUrandom: boolean;
}

export function daemonCreditPolicy(config: { entropyPerByte: number; stepBytes: number }): CreditPolicy {
  return { baselineBlock: true, maxBitsPerByte: config.entropyPerByte, stepBytes: config.stepBytes, writeUrandom: false };
}

export const SEED_STEP_BYTES = 500;

export function seedCreditPolicy(kernel: { hasGetrandom: boolean }): CreditPolicy {
  return { baselineBlock: false, maxBitsPerByte: MAX_BITS_PER_BYTE, stepBytes: SEED_STEP_BYTES, writeUrandom: !kernel.hasGetrandom };
}

/**
 * The gate a policy credits through. The daemon gives all its sources one RepeatMemory:
 * nothing is credited twice, whichever source it came from. createTester: the FIPS engine
 * (default: core/fips.ts's; the daemon and the seed inject the addon's, src/native/fips-tester.ts).
 */
export function gateFor(policy: Pick<CreditPolicy, 'baselineBlock'>, repeats?: RepeatCheck, createTester?: BlockGateOptions['createTester']): BlockGate {
  return new BlockGate({ baselineBlock: policy.baselineBlock, repeats, createTester });
}

/** Bits per byte a source of this quality may claim under the policy. */
export function claimQuality(policy: CreditPolicy, sourceQuality: number): number {
  return effectiveQuality(sourceQuality, policy.maxBitsPerByte);
}
