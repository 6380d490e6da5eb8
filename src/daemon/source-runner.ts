// Runs one EntropySource for the daemon: opens it (and reopens it with backoff
// after ENODEV/ENOENT, EOF, a stall or too many failed blocks), keeps at most one
// read outstanding with a stall timer armed only while that read is pending,
// pushes what it reads through the source's BlockGate and holds at most one
// passing block for the feeder. It reads only while a block is wanted (or, with
// prefetch, until one block is buffered), so an idle daemon does no I/O and has
// no timers.
import { BlockGate } from '../core/gate';
import { SourceHealth, SourceState, Transition, HealthOptions } from '../core/source-health';
import { errorCode, isRetryable } from '../kernel/errors';
import { CLOSED, EntropySource } from '../sources/entropy-source';
import type { SourceStats } from './state-file';

export interface RunnerOptions {
  stallTimeoutMs: number;
  health: HealthOptions;
  /** Called on every state change (never on repetitions), with a one-line reason. */
  onChange: (runner: SourceRunner, t: Transition, reason: string) => void;
  /** Called when a passing block becomes available. */
  onBlock: (runner: SourceRunner) => void;
  /** Debug-level detail (repetitions, retries). */
  debug: (message: string) => void;
}

/** Consecutive EINTR/EAGAIN answers retried at once before the source counts as lost. */
const MAX_QUICK_RETRIES = 5;

export class SourceRunner {
  readonly health: SourceHealth;
  bytesRead = 0;
  stalls = 0;
  /** Configured but not read (policy decided; e.g. the kernel feeds this device). */
  standby = false;
  /** Read ahead one block even when none is wanted (legacy fill mode: low latency under drain). */
  prefetch = false;
  private isOpen = false;
  private reading = false;
  private wanted = false;
  private stopped = false;
  private finished = false;
  private buffered: Uint8Array | null = null;
  private quickRetries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stallTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(readonly source: EntropySource, readonly gate: BlockGate, private readonly opts: RunnerOptions) {
    this.health = new SourceHealth(opts.health, 'absent');
  }

  get state(): SourceState {
    return this.health.state;
  }

  /** Usable now or later (not ended for good, not standby). */
  get active(): boolean {
    return !this.standby && !this.finished && !this.stopped;
  }

  /** First open. Resolves the error on failure (a retry is scheduled unless stopped), null on success. */
  async start(): Promise<Error | null> {
    return this.openNow();
  }

  /** Asks for a block: starts a read if none is buffered or outstanding. */
  want(): void {
    this.wanted = true;
    this.pump();
  }

  /** Takes the buffered block, if any. */
  take(): Uint8Array | null {
    const b = this.buffered;
    this.buffered = null;
    if (b) {
      this.wanted = false;
      this.pump();
    }
    return b;
  }

  /**
   * SIGHUP: a device is closed and opened again now (backoff restarts), which is
   * how a replugged or rebound hwrng is picked up. A FIFO that is open stays
   * open: closing it would kill its writer with SIGPIPE. A regular file is read
   * once per process (file-reader.ts), so an exhausted one stays finished.
   */
  reopen(): void {
    if (this.stopped || this.standby || this.finished) return;
    const type = this.fileType();
    if (this.isOpen && (type === 'fifo' || type === 'file')) {
      this.opts.debug(`${this.source.name}: ${type} ${this.source.path} stays open across the reload`);
      return;
    }
    this.closeSource();
    void this.openNow();
  }

  private fileType(): string | null {
    return (this.source as { fileType?: string | null }).fileType ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.closeSource();
  }

  stats(): SourceStats {
    const c = this.gate.counts;
    return {
      name: this.source.name,
      path: this.source.path,
      state: this.health.state,
      quality: this.source.quality,
      bytesRead: this.bytesRead,
      blocksPassed: c.blocksPassed,
      blocksFailed: c.blocksFailed,
      blocksRepeated: c.blocksRepeated,
      stalls: this.stalls,
      standby: this.standby,
    };
  }

  private async openNow(): Promise<Error | null> {
    if (this.stopped) return null;
    this.clearTimers();
    try {
      await this.source.open();
    } catch (e: unknown) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.lose(`cannot open: ${err.message}`);
      return err;
    }
    if (this.stopped) {
      this.source.close();
      return null;
    }
    this.isOpen = true;
    this.quickRetries = 0;
    this.gate.reset();
    this.generation++;
    this.change(this.health.opened(), 'opened');
    this.pump();
    return null;
  }

  private pump(): void {
    if (!this.isOpen || this.reading || this.stopped || this.standby || this.buffered) return;
    if (!this.wanted && !this.prefetch) return;
    this.reading = true;
    const gen = this.generation;
    this.stallTimer = setTimeout(() => this.onStall(gen), this.opts.stallTimeoutMs);
    this.source.read(this.gate.needBytes()).then(
      (data) => this.onData(gen, data),
      (e: unknown) => this.onError(gen, e),
    );
  }

  private settle(gen: number): boolean {
    if (gen !== this.generation) return false;
    this.reading = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    return !this.stopped;
  }

  private onData(gen: number, data: Uint8Array): void {
    if (!this.settle(gen)) return;
    this.quickRetries = 0;
    if (data.length === 0) {
      if (this.fileType() === 'file') {
        // a regular file is read once per process: its end is the source's end
        this.finished = true;
        this.closeSource();
        // said once, whatever state the source was in (a disabled one stays disabled)
        const t = this.health.ended() ?? { from: this.state, to: this.state };
        this.opts.onChange(this, t, 'source exhausted: end of file reached (a file is read once; nothing of it is read again)');
        return;
      }
      this.lose('end of data (the writer closed the pipe)');
      return;
    }
    this.bytesRead += data.length;
    for (const v of this.gate.push(data)) {
      if (v.baseline) {
        this.opts.debug(`${this.source.name}: first block kept as the repetition baseline, not credited`);
        continue;
      }
      if (v.passed) {
        this.buffered = v.block;
        this.change(this.health.blockPassed(), 'block passed');
      } else {
        const why = [v.failures.length ? `failed FIPS 140-2 ${v.failures.join(', ')}` : '', v.repeated ? 'repeats earlier data' : ''].filter(Boolean).join(' and ');
        const t = this.health.blockFailed();
        this.opts.debug(`${this.source.name}: block discarded: ${why}`);
        if (t?.to === 'disabled') {
          this.closeSource();
          this.change(t, `blocks keep failing (last ${why}); retrying in ${fmtMs(t.retryAfterMs ?? 0)}`);
          this.scheduleRetry(t.retryAfterMs ?? 0);
          return;
        }
        this.change(t, `a block ${why}`);
      }
    }
    if (this.buffered) this.opts.onBlock(this);
    this.pump();
  }

  private onError(gen: number, e: unknown): void {
    if (!this.settle(gen)) return;
    const code = errorCode(e);
    if (code === CLOSED) return;
    const message = e instanceof Error ? e.message : String(e);
    if (isRetryable(e) && this.quickRetries < MAX_QUICK_RETRIES) {
      this.quickRetries++;
      this.opts.debug(`${this.source.name}: ${code ?? 'error'} (${message}); retrying the read`);
      this.pump();
      return;
    }
    this.lose(message);
  }

  private onStall(gen: number): void {
    if (gen !== this.generation || !this.reading) return;
    this.stallTimer = null;
    this.stalls++;
    this.reading = false;
    this.generation++;
    this.closeSource(); // SIGKILLs a reader child: the only way out of a hwrng wait
    const t = this.health.stalled();
    this.change(t, `no data for ${fmtMs(this.opts.stallTimeoutMs)}; reader killed, retrying in ${fmtMs(t?.retryAfterMs ?? 0)}`);
    this.scheduleRetry(t?.retryAfterMs ?? 1000);
  }

  private lose(reason: string): void {
    this.closeSource();
    const t = this.health.lost();
    this.change(t, `${reason}; retrying in ${fmtMs(t?.retryAfterMs ?? 0)}`);
    this.scheduleRetry(t?.retryAfterMs ?? 1000);
  }

  private scheduleRetry(ms: number): void {
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.openNow();
    }, ms);
  }

  private change(t: Transition | null, reason: string): void {
    if (!t) return;
    if (t.from === t.to) {
      this.opts.debug(`${this.source.name}: still ${t.to}: ${reason}`);
      return;
    }
    this.opts.onChange(this, t, reason);
  }

  private closeSource(): void {
    this.isOpen = false;
    this.buffered = null;
    this.generation++;
    this.reading = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.source.close();
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.retryTimer = null;
    this.stallTimer = null;
  }
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
