// The daemon's publisher: the state file (read by `vrngd status`), the Prometheus
// metrics file and the --stats summary timer. It takes a snapshot of the feed
// loop's DaemonState when asked and writes it; a write that fails is said once
// and feeding goes on. Wakeups: one coalescing timer after activity (soon()), one
// scheduler for --stats; none while idle.
import type { Schedule } from '../core/config';
import { DaemonState, prometheusText, summaryLine } from '../core/stats';
import type { Logger } from '../log/logger';
import { Scheduler } from './scheduler';

export interface PublisherOptions {
  logger: Logger;
  /** The feed loop's current state. */
  snapshot: () => DaemonState;
  /** Writes the state file atomically (throws on failure). */
  writeState?: (state: DaemonState) => void;
  writeMetrics?: (text: string) => void;
  /** Coalescing delay for state-file writes (default 1 s). */
  publishDelayMs?: number;
  /** --stats: the summary schedule, or null for off; explicit when given on the command line. */
  stats: Schedule | null;
  statsExplicit: boolean;
}

export class Publisher {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private statsScheduler: Scheduler | null = null;
  private stateWriteFailed = false;
  private metricsWriteFailed = false;
  private lastStatsLine = '';
  private stopped = false;

  constructor(private readonly o: PublisherOptions) {}

  /** Publishes within publishDelayMs: many changes in a burst are one write. */
  soon(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.now();
    }, this.o.publishDelayMs ?? 1000);
  }

  /** Publishes at once (start, a full pool, a reseed, stop). */
  now(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const state = this.o.snapshot();
    const { logger } = this.o;
    try {
      this.o.writeState?.(state);
      if (this.stateWriteFailed) logger.notice('state file written again');
      this.stateWriteFailed = false;
    } catch (e: unknown) {
      if (!this.stateWriteFailed) logger.warning(`cannot write the state file: ${e instanceof Error ? e.message : String(e)}; feeding goes on (said once)`);
      this.stateWriteFailed = true;
    }
    try {
      this.o.writeMetrics?.(prometheusText(state));
      this.metricsWriteFailed = false;
    } catch (e: unknown) {
      if (!this.metricsWriteFailed) logger.warning(`cannot write the metrics file: ${e instanceof Error ? e.message : String(e)} (said once)`);
      this.metricsWriteFailed = true;
    }
  }

  /**
   * --stats: the hourly (default) summary runs only while the daemon feeds (a
   * schedule, fill or seed mode), or when --stats was given explicitly: an idle
   * daemon has nothing new to report and no reason to wake up. The line is logged
   * at info only when something changed since the last one (rngd users complain
   * about hourly noise), at debug otherwise. Called at start and at each change
   * of mode; arms at most one timer.
   */
  armStats(feeding: boolean): void {
    const s = this.o.stats;
    const wanted = s !== null && (this.o.statsExplicit || feeding);
    if (!wanted || this.statsScheduler || this.stopped) return;
    const scheduler = new Scheduler(s);
    this.statsScheduler = scheduler;
    const tick = async (): Promise<void> => {
      while (!this.stopped && (await scheduler.next())) {
        const st = this.o.snapshot();
        const line = summaryLine({ ...st, entropyAfterBits: null, entropyBeforeBits: null });
        if (line !== this.lastStatsLine) this.o.logger.info(summaryLine(st));
        else this.o.logger.debug(summaryLine(st));
        this.lastStatsLine = line;
      }
    };
    void tick();
  }

  /** Cancels the timers and publishes the final state. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.statsScheduler?.cancel();
    this.now();
  }
}
