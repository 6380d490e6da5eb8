// The pid file and single-instance lock (src/daemon/pid-file.ts): what it records,
// which holders refuse a start ('unavailable', exit 69) and which are replaced.
import { describe, expect, it } from 'vitest';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquirePidFile, parsePidFile, processExe, processStartTicks } from '../../src/daemon/pid-file';
import { DomainError } from '../../src/core/errors';
import { EX, exitCodeFor } from '../../src/cli/exit';
import { ROOT } from '../helpers/env';

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
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).kind).toBe('unavailable');
      expect(exitCodeFor(err)).toBe(EX.UNAVAILABLE);
      expect((err as DomainError).message).toBe(`another vrngd is already running (pid ${holder.pid}, pid file ${file})`);
      // a forged identity cannot make the holder look like anything else either: the file is not ours to overwrite
      expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
