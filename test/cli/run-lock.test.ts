// The single-instance lock of `vrngd run` in the foreground (no -p/-b): a pid file
// beside the state file. The real binary, no root needed (-o at a plain file).
import { afterAll, describe, expect, it } from 'vitest';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { implicitPidFile } from '../../src/daemon/pid-file';
import { readStateFile } from '../../src/daemon/state-file';
import { CLI } from '../helpers/env';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-run-lock-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const args = (name: string, state: string): string[] => {
  const out = path.join(tmp, `${name}.out`);
  fs.writeFileSync(out, '');
  return ['run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', state];
};
const env = { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' };

async function startFeeding(a: string[]): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, ...a], { stdio: ['ignore', 'ignore', 'pipe'], env });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const t0 = Date.now();
  const state = a[a.length - 1] as string;
  // a state written after the first injection: the signal handlers are in place by then
  while (!/filling to/.test(err) || !((readStateFile(state)?.injections ?? 0) > 0)) {
    if (Date.now() - t0 > 10000 || child.exitCode !== null) throw new Error(`did not start; stderr:\n${err}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  return { child, stderr: () => err, exited };
}

describe('vrngd run -f: single instance without -p', () => {
  it('the lock sits beside the state file', () => {
    expect(implicitPidFile('/run/vrngd/state.json')).toBe('/run/vrngd/state.pid');
    expect(implicitPidFile('/x/state')).toBe('/x/state.pid');
  });

  it('a second instance on the same state file exits 69 with one line naming the pid; the first keeps running and removes its lock at exit', async () => {
    const state = path.join(tmp, 'two.json');
    const first = await startFeeding(args('a', state));
    expect(Number(fs.readFileSync(path.join(tmp, 'two.pid'), 'utf8').split('\n')[0])).toBe(first.child.pid);
    const second = spawnSync(process.execPath, [CLI, ...args('b', state)], { encoding: 'utf8', env, timeout: 15000 });
    expect(second.status).toBe(69);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toBe(`vrngd: another vrngd is already running (pid ${first.child.pid}, state file ${state})\n`);
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'two.pid'))).toBe(false);
  });

  it('a stale lock (a dead pid) does not block', async () => {
    const state = path.join(tmp, 'stale.json');
    fs.writeFileSync(path.join(tmp, 'stale.pid'), `${2 ** 22 + 1}\n`);
    const r = await startFeeding(args('stale', state));
    expect(Number(fs.readFileSync(path.join(tmp, 'stale.pid'), 'utf8').split('\n')[0])).toBe(r.child.pid);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });
});
