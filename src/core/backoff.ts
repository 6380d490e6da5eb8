// Exponential backoff for reopening lost sources and retrying disabled ones.
// Pure: it computes delays; the daemon owns the timers.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next attempt; each call doubles it (up to maxMs). */
  nextDelayMs(): number {
    const factor = this.opts.factor ?? 2;
    const ms = Math.min(this.opts.maxMs, this.opts.initialMs * Math.pow(factor, this.attempt));
    this.attempt++;
    return ms;
  }

  reset(): void {
    this.attempt = 0;
  }
}
