// The fill mode's hold on /proc/sys/kernel/random/write_wakeup_threshold: raised
// to the fill watermark while the daemon runs, and the value it found put back at
// stop. See random(4) and docs/kernel-eras.md.
import { errorCode } from '../kernel/errors';
import type { Logger } from '../log/logger';

export class WakeupThreshold {
  /** As raised, and the value found (restored at stop). */
  private raised: { bits: number; was: number } | null = null;

  /** `sysctl` absent: the kernel ignores the threshold or the target is not the kernel's /dev/random. */
  constructor(
    private readonly sysctl: { set(bits: number): void } | undefined,
    private readonly kernelBits: number,
    private readonly logger: Logger,
  ) {}

  /** Below this entropy_avail the kernel wakes the feeder (POLLOUT). */
  get wakeBelowBits(): number {
    return this.raised?.bits ?? this.kernelBits;
  }

  /**
   * The kernel wakes a feeder (POLLOUT) only below write_wakeup_threshold: 128 bits
   * on 2.6.32 and 3.10, which a reader of /dev/random empties in milliseconds, so a
   * feeder that waits for it lets the pool touch 0 (seen on a booted 3.10 with a
   * 1 KiB/s reader: 93 % of seconds above 128). rngd raises it to its fill
   * watermark (-W) and so does vrngd, for as long as it runs: then every drop
   * below the watermark wakes it. Said once; a refusal is said once and the
   * daemon feeds on the kernel's own threshold.
   */
  raise(targetBits: number): void {
    const was = this.kernelBits;
    if (!this.sysctl || this.raised || targetBits <= was) return;
    try {
      this.sysctl.set(targetBits);
      this.raised = { bits: targetBits, was };
      this.logger.notice(`write_wakeup_threshold ${was} → ${targetBits} bits: the kernel wakes vrngd whenever the pool drops below the fill watermark (as rngd does; ${was} again at stop)`);
    } catch (e: unknown) {
      this.logger.warning(`cannot raise write_wakeup_threshold to ${targetBits}: ${errorCode(e) ?? String(e)}; refilling below ${was} only`);
    }
  }

  restore(): void {
    const r = this.raised;
    if (!r || !this.sysctl) return;
    this.raised = null;
    try {
      this.sysctl.set(r.was);
    } catch (e: unknown) {
      this.logger.warning(`cannot restore write_wakeup_threshold to ${r.was}: ${errorCode(e) ?? String(e)}`);
    }
  }
}
