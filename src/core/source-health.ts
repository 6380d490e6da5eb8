// The life of one source as a pure state machine: ok → failing → disabled after
// repeated FIPS failures, stalled when a read takes too long, absent when the
// device is gone; every way out of a bad state goes through a retry whose delay
// grows exponentially (rngd disables a failing source forever and exits when the
// last one dies). Transitions are returned so the daemon logs each change once;
// repetitions only increase counters.
import { Backoff } from './backoff';

export type SourceState = 'ok' | 'stalled' | 'failing' | 'disabled' | 'absent';

export interface HealthOptions {
  /** Consecutive failed blocks that disable the source (FIPS false alarms are ~1 in 1,250 blocks). */
  disableAfterFailures: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

export const DEFAULT_HEALTH: HealthOptions = { disableAfterFailures: 4, retryInitialMs: 1000, retryMaxMs: 300000 };

export interface Transition {
  from: SourceState;
  to: SourceState;
  /** Set when the source must be closed and retried after this delay. */
  retryAfterMs?: number;
}

export class SourceHealth {
  private current: SourceState;
  private consecutiveFailures = 0;
  private everOpened = false;
  private readonly backoff: Backoff;
  /** Events that repeated a state without changing it (not logged). */
  repeats = 0;

  constructor(private readonly opts: HealthOptions = DEFAULT_HEALTH, initial: SourceState = 'absent') {
    this.current = initial;
    this.backoff = new Backoff({ initialMs: opts.retryInitialMs, maxMs: opts.retryMaxMs });
  }

  get state(): SourceState {
    return this.current;
  }

  /**
   * The source opened. The first open makes it ok; after that, a reopen changes
   * nothing by itself: a source that stalled, failed or lost its device is ok
   * again only once a block passes (else a device that opens but never delivers
   * would flap ok ↔ stalled in the log).
   */
  opened(): Transition | null {
    if (this.everOpened) return null;
    this.everOpened = true;
    return this.move('ok');
  }

  blockPassed(): Transition | null {
    this.consecutiveFailures = 0;
    this.backoff.reset();
    return this.move('ok');
  }

  blockFailed(): Transition | null {
    // a disabled source on its retry: one more failed block keeps it disabled, longer
    if (this.current === 'disabled') return this.move('disabled', this.backoff.nextDelayMs());
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.opts.disableAfterFailures) {
      this.consecutiveFailures = 0;
      return this.move('disabled', this.backoff.nextDelayMs());
    }
    return this.move('failing');
  }

  /** A read stayed outstanding past the stall timeout. */
  stalled(): Transition | null {
    return this.move('stalled', this.backoff.nextDelayMs());
  }

  /** Open or read failed with a fault that needs a reopen (ENODEV, ENOENT, EIO, EOF...). */
  lost(): Transition | null {
    return this.move('absent', this.backoff.nextDelayMs());
  }

  /** The source ended for good (a regular file read to its end): disabled, no retry. */
  ended(): Transition | null {
    return this.move('disabled');
  }

  private move(to: SourceState, retryAfterMs?: number): Transition | null {
    const from = this.current;
    this.current = to;
    if (from === to && retryAfterMs === undefined) {
      this.repeats++;
      return null;
    }
    if (from === to) this.repeats++;
    return { from, to, retryAfterMs };
  }
}
