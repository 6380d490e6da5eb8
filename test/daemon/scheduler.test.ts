import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Scheduler } from '../../src/daemon/scheduler';
import { acquirePidFile, parsePidFile, processExe, processStartTicks } from '../../src/daemon/pid-file';
import { CliError } from '../../src/cli/exit';
import { ROOT } from '../helpers/env';

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

  it('writes our pid and identity, removes it on release, and replaces a stale file', () => {
    fs.writeFileSync(file, '999999\n');
    const release = acquirePidFile(file, process.pid);
    try {
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toBe(`${process.pid}\nvrngd start=${processStartTicks(process.pid)} exe=${process.execPath}\n`);
      expect(parsePidFile(text)).toEqual({ pid: process.pid, startTicks: processStartTicks(process.pid), exe: process.execPath });
      expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    } finally {
      release();
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a live process that is not the recorded vrngd does not hold the lock, whatever it calls itself', async () => {
    const other = spawn('sleep', ['30']);
    const vr = spawn('bash', ['-c', 'exec -a "node /srv/app/main.js vrngd" sleep 30']);
    try {
      await new Promise((r) => setTimeout(r, 100)); // exec -a has happened
      for (const pid of [other.pid as number, vr.pid as number]) {
        // a bare pid, and a pid with a forged identity line (right exe, wrong start time)
        for (const text of [`${pid}\n`, `${pid}\nvrngd start=1 exe=${processExe(pid)}\n`]) {
          fs.writeFileSync(file, text);
          const release = acquirePidFile(file, process.pid);
          expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe(String(process.pid));
          release();
        }
      }
    } finally {
      other.kill('SIGKILL');
      vr.kill('SIGKILL');
    }
  });

  it('a pid file whose lock is held by a process it names is refused with 69 naming that pid', async () => {
    const holder = spawn(process.execPath, ['-e', `
      const { acquirePidFile } = require(${JSON.stringify(path.join(ROOT, 'dist', 'daemon', 'pid-file.js'))});
      acquirePidFile(${JSON.stringify(file)});
      process.stdout.write('locked\\n');
      setTimeout(() => undefined, 30000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout?.on('data', () => resolve()));
      let err: unknown;
      try {
        acquirePidFile(file, process.pid);
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(69);
      expect((err as CliError).message).toBe(`another vrngd is already running (pid ${holder.pid}, pid file ${file})`);
      // a forged identity cannot make the holder look like anything else either: the file is not ours to overwrite
      expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
