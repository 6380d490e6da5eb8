// The schedule adapter: waits for the next firing of a cron expression (parsed and
// matched with node-cron's own code, core/schedule.ts) or of a fixed interval, by
// arming ONE setTimeout for that moment. node-cron's task loop would wake the
// process every second for as long as a task exists; this wakes it once per event.
// Nothing is armed unless a caller is waiting, so an idle daemon has no timers.
import type { Schedule } from '../core/config';
import { nextCronTime } from '../core/schedule';

/** setTimeout's limit (2^31-1 ms ≈ 24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 0x7fffffff;

export class Scheduler {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private cancelWait: (() => void) | null = null;

  constructor(private readonly schedule: Schedule, private readonly now: () => number = () => Date.now()) {}

  /** Milliseconds from now to the next firing (null: never). */
  nextDelayMs(): number | null {
    const t = this.now();
    if (this.schedule.kind === 'interval') return this.schedule.everyMs;
    const next = nextCronTime(this.schedule.expression, new Date(t));
    return next ? Math.max(0, next.getTime() - t) : null;
  }

  /** Resolves true at the next firing, false when cancelled (or never). */
  next(): Promise<boolean> {
    this.cancel();
    const delay = this.nextDelayMs();
    if (delay === null) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const due = this.now() + delay;
      const arm = (): void => {
        const left = due - this.now();
        if (left <= 0) {
          this.timer = null;
          this.cancelWait = null;
          resolve(true);
          return;
        }
        this.timer = setTimeout(arm, Math.min(left, MAX_TIMEOUT_MS));
      };
      this.cancelWait = () => resolve(false);
      arm();
    });
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.cancelWait;
    this.cancelWait = null;
    c?.();
  }
}
