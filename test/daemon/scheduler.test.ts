import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../src/daemon/scheduler';

describe('Scheduler: one timer per firing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date(2026, 0, 1, 12, 0, 30));
  });
  afterEach(() => vi.useRealTimers());

  it('fires at the next cron match with a single timer armed', async () => {
    const s = new Scheduler({ kind: 'cron', expression: '*/5 * * * *' });
    let fired = false;
    void s.next().then((v) => (fired = v));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(4 * 60 * 1000 + 29 * 1000);
    expect(fired).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fired).toBe(true);
    expect(new Date().getMinutes()).toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('chains waits longer than setTimeout allows (yearly schedule)', async () => {
    const s = new Scheduler({ kind: 'cron', expression: '0 0 1 1 *' });
    let fired = false;
    void s.next().then((v) => (fired = v));
    await vi.advanceTimersByTimeAsync(300 * 24 * 3600 * 1000);
    expect(fired).toBe(false);
    await vi.advanceTimersByTimeAsync(70 * 24 * 3600 * 1000);
    expect(fired).toBe(true);
    expect(new Date().getFullYear()).toBe(2027);
  });

  it('cancel() resolves false and leaves no timer', async () => {
    const s = new Scheduler({ kind: 'interval', everyMs: 30000 });
    const p = s.next();
    s.cancel();
    expect(await p).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
