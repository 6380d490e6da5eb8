// vrngd run's state-file plumbing on real file systems: the directory is created
// when missing, a read-only file system is named as such (EROFS, not Node's
// recursive-mkdir ENOENT), and temp files of dead writers are removed at start.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeStateIn } from '../../src/daemon/compose';
import { makeDirs } from '../../src/fs/safe-file';
import { readStateFile, type DaemonState } from '../../src/daemon/state-file';
import { CLI, isRoot, skipReason, which } from '../helpers/env';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-run-state-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const state = (pid: number): DaemonState => ({ pid, startedAt: '', updatedAt: '', regime: 'legacy', mode: 'x', bitsCredited: 0, bytesInjected: 0, injections: 0, entropyBeforeBits: null, entropyAfterBits: null, sources: [], fipsFailures: { monobit: 0, poker: 0, runs: 0, longRun: 0, continuousRun: 0 } });

describe('state directory', () => {
  it('missing directories are created, existing ones are left alone', () => {
    const file = path.join(tmp, 'a', 'b', 'state.json');
    writeStateIn(file, state(1));
    writeStateIn(file, state(2));
    expect(readStateFile(file)?.pid).toBe(2);
    expect(() => makeDirs(path.join(tmp, 'a'))).not.toThrow();
  });

  const noMount = skipReason([
    [isRoot, 'mounting a read-only tmpfs needs root'],
    [which('mount') !== null, 'mount(8) missing'],
  ]);
  it.skipIf(noMount)('a read-only file system is reported as EROFS, not ENOENT', () => {
    const dir = path.join(tmp, 'ro');
    fs.mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'vrngd-ro', dir]);
    mounts.push(dir);
    expect(() => writeStateIn(path.join(dir, 'sub', 'deeper', 'state.json'), state(1))).toThrow(/^EROFS/);
    expect(() => writeStateIn(path.join(dir, 'state.json'), state(1))).toThrow(/^EROFS/);
  });
});

describe.skipIf(skipReason([[isRoot, 'vrngd run needs root']]))('vrngd run at start', () => {
  it('removes temp files that dead writers left beside the state file, and keeps live ones', async () => {
    const file = path.join(tmp, 'start', 'state.json');
    fs.mkdirSync(path.dirname(file));
    const deadPid = 2 ** 22 + 1; // above any pid_max: never alive
    const dead = path.join(tmp, 'start', `.state.json.${deadPid}.tmp`);
    const live = path.join(tmp, 'start', `.state.json.${process.pid}.tmp`);
    fs.writeFileSync(dead, '{');
    fs.writeFileSync(live, '{');
    fs.writeFileSync(path.join(tmp, 'start.out'), ''); // -o at a plain file: no kernel involved
    const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', path.join(tmp, 'start.out'), '--state-file', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' } });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`${code} ${signal} ${err}`)));
    const t0 = Date.now();
    // a state written after the first injection: the signal handlers are in place by then
    while (readStateFile(file)?.pid !== child.pid || !((readStateFile(file)?.injections ?? 0) > 0)) {
      if (Date.now() - t0 > 10000) throw new Error(`no state file; stderr:\n${err}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    child.kill('SIGTERM');
    expect(await exited).toMatch(/^0 null/);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });
});
