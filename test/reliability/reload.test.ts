// SIGHUP storms (systemctl reload, logrotate, a loop gone wrong): reloads coalesce
// to at most one per second (RELOAD_COALESCE_MS), each said once, and a stop right
// after 1,500 of them is as quick as any other. The real binary; -o at a file.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/env';
import { readStateFile } from '../../src/daemon/state-file';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-reload-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SIGHUP storm', () => {
  it('1,500 SIGHUPs 1 ms apart: at most one reload per second, then SIGTERM stops within 1 s', async () => {
    const out = path.join(tmp, 'out');
    const log = path.join(tmp, 'log');
    const state = path.join(tmp, 'state.json');
    fs.writeFileSync(out, '');
    const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', state, '--log-file', log], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' },
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const t0 = Date.now();
    while (!((readStateFile(state)?.injections ?? 0) > 0)) {
      expect(Date.now() - t0, 'the daemon did not start').toBeLessThan(15000);
      await sleep(20);
    }
    const h0 = Date.now();
    for (let i = 0; i < 1500; i++) {
      child.kill('SIGHUP');
      await sleep(1);
    }
    const stormMs = Date.now() - h0;
    const s0 = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopMs = Date.now() - s0;
    const reopens = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('reopening sources (SIGHUP)')).length;
    process.stderr.write(`SIGHUP storm: 1500 signals in ${stormMs} ms, ${reopens} reloads, stop ${stopMs} ms\n`);
    expect(reopens).toBeGreaterThanOrEqual(1);
    expect(reopens).toBeLessThanOrEqual(Math.ceil(stormMs / 1000) + 1);
    expect(stopMs).toBeLessThan(1000);
  }, 60000);

  it('-b: SIGTERM ends the detached daemon within 1 s (exited = gone or a zombie: its reaper is pid 1, not us)', async () => {
    const pidFile = path.join(tmp, 'bg.pid');
    const out = path.join(tmp, 'bg.out');
    fs.writeFileSync(out, '');
    const r = spawnSync(process.execPath, [CLI, 'run', '-b', '-p', pidFile, '-r', '/dev/urandom', '-o', out, '--state-file', path.join(tmp, 'bg.json'), '-q'], { encoding: 'utf8', timeout: 20000 });
    expect(r.status, r.stderr).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    await sleep(500);
    const s0 = Date.now();
    process.kill(pid, 'SIGTERM');
    const state = (): string => {
      try {
        const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return st.slice(st.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
      } catch {
        return 'gone';
      }
    };
    while (!['gone', 'Z', 'X'].includes(state())) {
      expect(Date.now() - s0).toBeLessThan(3000);
      await sleep(5);
    }
    const stopMs = Date.now() - s0;
    process.stderr.write(`-b stop: exited ${stopMs} ms after SIGTERM\n`);
    expect(stopMs).toBeLessThan(1000);
    expect(fs.existsSync(pidFile)).toBe(false);
  }, 30000);
});
