import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Scheduler } from '../../src/daemon/scheduler';
import { acquirePidFile } from '../../src/daemon/pid-file';

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

describe('pid file and single-instance lock', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-pid-'));
  const file = path.join(dir, 'vrngd.pid');

  it('writes our pid, removes it on release, and replaces a stale file', () => {
    fs.writeFileSync(file, '999999\n');
    const release = acquirePidFile(file, process.pid);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a live process that is not vrngd does not hold the lock; a live vrngd does', async () => {
    const other = spawn('sleep', ['30']);
    const vr = spawn('bash', ['-c', 'exec -a vrngd sleep 30']);
    try {
      fs.writeFileSync(file, `${other.pid}\n`);
      acquirePidFile(file, 4242)();
      await new Promise((r) => setTimeout(r, 100)); // exec -a has happened
      fs.writeFileSync(file, `${vr.pid}\n`);
      expect(() => acquirePidFile(file, 4243)).toThrow(new RegExp(`another vrngd is already running \\(pid ${vr.pid}`));
      expect(fs.readFileSync(file, 'utf8').trim()).toBe(String(vr.pid));
    } finally {
      other.kill('SIGKILL');
      vr.kill('SIGKILL');
    }
  });
});
