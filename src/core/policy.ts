// Feeding policy by kernel regime: what the daemon does, decided from the probe
// and the options. Pure. The reasons are in docs/kernel-eras.md:
// - legacy (2.6.32/3.10, RHEL 6/7.0): nothing feeds the pools from virtio-rng but
//   us. Sleep in poll(POLLOUT) on /dev/random (input < write_wakeup_threshold),
//   then inject -s byte steps until entropy_avail reaches the fill watermark,
//   reading RNDGETENTCNT back after every step (asymptotic crediting).
// - assisted (RHEL 7.1+, 3.17–5.17): the kernel's hwrng thread already reads
//   /dev/hwrng and keeps the pool near 896 bits; a second reader only competes for
//   the same device. Other sources (pipe, rdrand) still fill like legacy.
// - modern (5.18+/5.19+ semantics): entropy counting stops once the crng is ready
//   (entropy_avail frozen at 256, POLLOUT never again). Feed as fast as possible
//   until ready; afterwards only mix fresh bytes on a schedule and RNDRESEEDCRNG.
import type { Schedule } from './config';

export type Regime = 'legacy' | 'assisted' | 'modern';
export type FeedMode = 'fill' | 'seed' | 'reseed' | 'idle' | 'test';

export interface KernelView {
  regime: Regime;
  poolsizeBits: number;
  writeWakeupThresholdBits: number;
  crngReady: boolean | null;
  /** The kernel's hwrng thread feeds from the current hwrng (probe: hwrng.kernelFeeder). */
  kernelFeeder: boolean | null;
}

/** Why a source that is configured must not be read, or null. */
export function standbyReason(kernel: KernelView, readsKernelHwrng: boolean, compete: boolean): string | null {
  if (!readsKernelHwrng || compete) return null;
  if (kernel.regime === 'legacy' || kernel.kernelFeeder !== true) return null;
  return "the kernel's hwrng thread already feeds from /dev/hwrng; not competing for the device (--compete overrides)";
}

export interface Plan {
  mode: FeedMode;
  /** fill: inject until entropy_avail reaches this. */
  fillWatermarkBits: number;
  /** The schedule really in force (only in mode 'reseed'); null: no timer at all. */
  reseed: Schedule | null;
  /** One line for the log and sd_notify STATUS. */
  summary: string;
  /**
   * Whether sources read ahead (keep the next block ready). Where the daemon takes
   * blocks as fast as they come (fill, seed, test) a read is always outstanding;
   * where it takes one now and then (reseed) or none (idle), a read ahead would
   * hold bytes that are stale by the time they are mixed, so sources read on demand.
   */
  readAhead: boolean;
}

const READS_AHEAD: ReadonlySet<FeedMode> = new Set<FeedMode>(['fill', 'seed', 'test']);

/** rngd's default fill watermark: 3/4 of the pool (3072 of 4096 bits); 4096 bits when the pool size is unknown. */
export function defaultFillWatermarkBits(poolsizeBits: number | null): number {
  return Math.floor(((poolsizeBits && poolsizeBits > 0 ? poolsizeBits : 4096) * 3) / 4);
}

/** The fill mode's watermark: -W as given (at most the pool), else the default. */
export function fillWatermark(kernel: KernelView, requestedBits: number | null): number {
  // -W 0 (rngd: leave write_wakeup_threshold alone): top up to the kernel's own wake level
  if (requestedBits === 0) return Math.min(kernel.writeWakeupThresholdBits, kernel.poolsizeBits);
  if (requestedBits === null) return defaultFillWatermarkBits(kernel.poolsizeBits);
  return Math.min(requestedBits, kernel.poolsizeBits);
}

function decidePlan(input: { kernel: KernelView; activeSources: number; standbyNote: string | null; test: boolean; fillWatermarkBits: number | null; reseed: Schedule | null }): Omit<Plan, 'readAhead'> {
  const { kernel } = input;
  const watermark = fillWatermark(kernel, input.fillWatermarkBits);
  const base = { fillWatermarkBits: watermark, reseed: null };
  if (input.test) return { ...base, mode: 'test', summary: 'test mode: sources are read and tested, nothing reaches the kernel' };
  if (input.activeSources === 0) {
    return { ...base, mode: 'idle', summary: `idle, ${kernel.regime} kernel: ${input.standbyNote ?? 'no source to read'}` };
  }
  if (kernel.regime === 'modern') {
    if (kernel.crngReady === false) return { ...base, mode: 'seed', summary: 'modern kernel, crng not ready: feeding as fast as the sources allow' };
    if (!input.reseed) return { ...base, mode: 'idle', summary: 'modern kernel, crng ready, reseed schedule off: idle' };
    return { ...base, mode: 'reseed', reseed: input.reseed, summary: `modern kernel, crng ready: mixing fresh bytes and reseeding now and on schedule ${describeSchedule(input.reseed)}` };
  }
  return {
    ...base,
    mode: 'fill',
    summary: `${kernel.regime} kernel: filling to ${watermark} bits when entropy_avail drops below ${kernel.writeWakeupThresholdBits}`,
  };
}

/** The feeding plan for a kernel and the sources in use: the daemon asks once at start and once per change. */
export function planFeeding(input: { kernel: KernelView; activeSources: number; standbyNote: string | null; test: boolean; fillWatermarkBits: number | null; reseed: Schedule | null }): Plan {
  const plan = decidePlan(input);
  return { ...plan, readAhead: READS_AHEAD.has(plan.mode) };
}

export function describeSchedule(s: Schedule): string {
  return s.kind === 'cron' ? `'${s.expression}'` : `every ${s.everyMs / 1000} s`;
}
