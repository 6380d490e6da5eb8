import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH, RATE_WINDOW_BLOCKS, SourceHealth } from '../../src/core/source-health';
import { Backoff } from '../../src/core/backoff';

describe('SourceHealth', () => {
  it('disables after consecutive failures, retries with growing delays, and reports each change once', () => {
    const h = new SourceHealth({ disableAfterFailures: 4, retryInitialMs: 1000, retryMaxMs: 4000 }, 'absent');
    expect(h.opened()).toEqual({ from: 'absent', to: 'ok', retryAfterMs: undefined });
    expect(h.blockPassed()).toBeNull();
    // lone false alarms (and pairs) change nothing
    expect(h.blockFailed()).toBeNull();
    expect(h.blockPassed()).toBeNull();
    expect(h.blockFailed()).toBeNull();
    expect(h.blockFailed()).toBeNull();
    expect(h.blockPassed()).toBeNull();
    expect(h.state).toBe('ok');
    // three in a row: failing; the fourth disables
    expect(h.blockFailed()).toBeNull();
    expect(h.blockFailed()).toBeNull();
    expect(h.blockFailed()).toMatchObject({ from: 'ok', to: 'failing' });
    expect(h.blockFailed()).toEqual({ from: 'failing', to: 'disabled', retryAfterMs: 1000 });
    // a reopen alone changes nothing; a failed block on the retry keeps it disabled, longer
    expect(h.opened()).toBeNull();
    expect(h.blockFailed()).toEqual({ from: 'disabled', to: 'disabled', retryAfterMs: 2000 });
    expect(h.blockFailed()?.retryAfterMs).toBe(4000);
    // back to ok only after three passes in a row and a low failure rate over the
    // last 32 blocks; a pass between failures changes nothing
    expect(h.blockPassed()).toBeNull();
    expect(h.blockFailed()).toEqual({ from: 'disabled', to: 'disabled', retryAfterMs: 4000 });
    expect(h.blockPassed()).toBeNull();
    expect(h.blockPassed()).toBeNull();
    expect(h.state).toBe('disabled');
    let passes = 3;
    while (h.blockPassed() === null) passes++;
    expect(h.state).toBe('ok');
    expect(h.recentFailures.failed * 16).toBeLessThanOrEqual(h.recentFailures.blocks);
    expect(passes).toBeGreaterThan(20); // the failures had to age out of the window
    expect(h.lost()).toEqual({ from: 'ok', to: 'absent', retryAfterMs: 1000 });
    expect(h.lost()?.retryAfterMs).toBe(2000);
    expect(h.blockPassed()?.to).toBe('ok');
    expect(h.stalled()?.retryAfterMs).toBe(1000);
    expect(h.repeats).toBeGreaterThan(0);
    expect(h.ended()).toEqual({ from: 'stalled', to: 'disabled', retryAfterMs: undefined });
  });
  it('a failing source that passes now and then does not flap back to ok', () => {
    const h = new SourceHealth({ disableAfterFailures: 100, retryInitialMs: 10, retryMaxMs: 40 }, 'ok');
    for (let i = 0; i < 3; i++) h.blockFailed();
    expect(h.state).toBe('failing');
    const changes: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      // pass, pass, fail: never three passes in a row
      for (const t of [h.blockPassed(), h.blockPassed(), h.blockFailed()]) if (t) changes.push(t);
    }
    expect(changes).toEqual([]);
    expect(h.state).toBe('failing');
    const t = Array.from({ length: RATE_WINDOW_BLOCKS }, () => h.blockPassed()).filter(Boolean);
    expect(t).toEqual([{ from: 'failing', to: 'ok', retryAfterMs: undefined }]);
  });

  it('3 good / 4 bad blocks, alternating: disabled once, never ok again, the retry delay keeps growing', () => {
    const h = new SourceHealth(DEFAULT_HEALTH, 'ok');
    const said: Array<{ from: string; to: string }> = [];
    const delays: number[] = [];
    for (let cycle = 0; cycle < 40; cycle++) {
      for (const t of [h.blockPassed(), h.blockPassed(), h.blockPassed(), h.blockFailed(), h.blockFailed(), h.blockFailed(), h.blockFailed()]) {
        if (!t) continue;
        if (t.from !== t.to) said.push({ from: t.from, to: t.to });
        if (t.retryAfterMs !== undefined) delays.push(t.retryAfterMs);
      }
    }
    expect(said).toEqual([
      { from: 'ok', to: 'failing' },
      { from: 'failing', to: 'disabled' },
    ]);
    expect(delays.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(delays[delays.length - 1]).toBe(DEFAULT_HEALTH.retryMaxMs);
  });

  it('50 % of blocks failing, alternating (never two in a row): failing within 16 blocks, said once', () => {
    const h = new SourceHealth(DEFAULT_HEALTH, 'ok');
    const said: Array<{ at: number; to: string }> = [];
    for (let i = 0; i < 1000; i++) {
      const t = i % 2 === 0 ? h.blockPassed() : h.blockFailed();
      if (t && t.from !== t.to) said.push({ at: i + 1, to: t.to });
    }
    expect(said).toEqual([{ at: 16, to: 'failing' }]);
    expect(h.state).toBe('failing');
  });

  it('a healthy source with lone false alarms (1 in 50 here, 25x the real rate) stays ok without a word', () => {
    const h = new SourceHealth(DEFAULT_HEALTH, 'ok');
    let changes = 0;
    for (let i = 0; i < 100000; i++) if ((i % 50 === 49 ? h.blockFailed() : h.blockPassed()) !== null) changes++;
    expect(changes).toBe(0);
    expect(h.state).toBe('ok');
  });
  it('failingAfterFailures at or above disableAfterFailures goes straight to disabled', () => {
    const h = new SourceHealth({ disableAfterFailures: 2, failingAfterFailures: 3, retryInitialMs: 10, retryMaxMs: 40 }, 'ok');
    expect(h.blockFailed()).toBeNull();
    expect(h.blockFailed()).toEqual({ from: 'ok', to: 'disabled', retryAfterMs: 10 });
  });
  it('Backoff doubles up to the cap', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 50 });
    expect([b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs()]).toEqual([10, 20, 40, 50]);
    b.reset();
    expect(b.nextDelayMs()).toBe(10);
  });
});
