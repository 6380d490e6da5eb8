// The life of one source as a pure state machine: ok → failing → disabled after
// consecutive FIPS failures (a lone failed block is a false alarm, not a state), stalled when a read takes too long, absent when the
// device is gone; every way out of a bad state goes through a retry whose delay
// grows exponentially (rngd disables a failing source forever and exits when the
// last one dies). Transitions are returned so the daemon logs each change once;
// repetitions only increase counters.
import { Backoff } from './backoff';

export type SourceState = 'ok' | 'stalled' | 'failing' | 'disabled' | 'absent';

export interface HealthOptions {
  /** Consecutive failed blocks that disable the source (FIPS false alarms are ~1 in 1,250 blocks). */
  disableAfterFailures: number;
  /**
   * Consecutive failed blocks that make the source `failing` (logged); fewer are
   * counted but change nothing. Default FAILING_AFTER_FAILURES.
   */
  failingAfterFailures?: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/**
 * Healthy random data fails FIPS 140-2 by chance about 1 block in 1,300, so a
 * lone failure is noise: logging it (and the recovery on the next block) would
 * put two lines in the journal every few minutes under demand. Two in a row
 * still happen on a healthy source (≈ 6e-7 per block: every few days at
 * virtio-rng rates); three in a row (≈ 4e-10) do not, while a broken source
 * fails nearly every block and gets there at once. rngd similarly re-reads a
 * failed block up to 6 times before complaining.
 */
export const FAILING_AFTER_FAILURES = 3;

/**
 * Passing blocks in a row that bring a failing or disabled source back to ok.
 * A broken source (52 % ones, say) still passes a block now and then; if one
 * pass meant "ok" it would cycle ok → failing → disabled → ok in the log and
 * its retry delay would start over each time. Three passes in a row from a
 * source that is really that biased practically never happen, while a source
 * that recovered delivers them in well under a second. Blocks that pass in the
 * meantime have passed FIPS and may be credited as always: this is about what
 * the log and status say, not about crediting.
 */
export const RECOVER_AFTER_PASSES = 3;

/**
 * The failure rate over the last RATE_WINDOW_BLOCKS blocks catches what runs of
 * consecutive failures miss: a source failing every other block never fails three
 * in a row, and one alternating 3 good and 4 bad blocks passed three in a row
 * often enough to be called ok again, reset its retry delay to 1 s and write 284
 * log lines a minute. `failing` once at least RATE_MIN_BLOCKS blocks are in the
 * window and a quarter of them failed (a healthy source: 4 in 16 ≈ 1e-9); back to
 * `ok` only with RECOVER_AFTER_PASSES passes in a row *and* at most 1 failure in 16
 * over the window, so a short run of passes neither says ok nor resets the backoff.
 */
export const RATE_WINDOW_BLOCKS = 32;
export const RATE_MIN_BLOCKS = 16;

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
  private consecutivePasses = 0;
  private everOpened = false;
  private readonly backoff: Backoff;
  /** The last RATE_WINDOW_BLOCKS outcomes, true = failed, oldest first. */
  private readonly window: boolean[] = [];
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

  /** Failed blocks and blocks seen in the rate window (for logs and status). */
  get recentFailures(): { failed: number; blocks: number } {
    return { failed: this.window.filter(Boolean).length, blocks: this.window.length };
  }

  private record(failed: boolean): void {
    this.window.push(failed);
    if (this.window.length > RATE_WINDOW_BLOCKS) this.window.shift();
  }

  blockPassed(): Transition | null {
    this.consecutiveFailures = 0;
    this.consecutivePasses++;
    this.record(false);
    const { failed, blocks } = this.recentFailures;
    if ((this.current === 'failing' || this.current === 'disabled') && (this.consecutivePasses < RECOVER_AFTER_PASSES || failed * 16 > blocks)) {
      this.repeats++;
      return null;
    }
    this.backoff.reset();
    return this.move('ok');
  }
  blockFailed(): Transition | null {
    this.consecutivePasses = 0;
    this.record(true);
    // a disabled source on its retry: one more failed block keeps it disabled, longer
    if (this.current === 'disabled') return this.move('disabled', this.backoff.nextDelayMs());
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.opts.disableAfterFailures) {
      this.consecutiveFailures = 0;
      return this.move('disabled', this.backoff.nextDelayMs());
    }
    if (this.consecutiveFailures >= (this.opts.failingAfterFailures ?? FAILING_AFTER_FAILURES)) return this.move('failing');
    const { failed, blocks } = this.recentFailures;
    if (blocks >= RATE_MIN_BLOCKS && failed * 4 >= blocks) return this.move('failing');
    // a lone false alarm (or the start of a run): counted by the gate, no state change
    this.repeats++;
    return null;
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
