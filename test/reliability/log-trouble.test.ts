// Log trouble is said once, where it can still be heard: a --log-file on a file
// system that fills up or turns read-only, a -b daemon with no syslog socket, and
// a metrics file on a full disk (no temp file left behind). Real tmpfs mounts
// (root only; skipped with a printed reason otherwise), the real binary.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, skipReason } from '../helpers/env';

const noMount = skipReason([[isRoot, 'not root: the log faults mount tmpfs file systems']]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-logtrouble-'));
const mounts: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});
const env = { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tmpfs(name: string, opts: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, `vrngd-${name}`, dir]);
  mounts.push(dir);
  return dir;
}
function fill(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(4 << 20));
  } catch {
    /* ENOSPC: full now */
  }
}

async function startDaemon(name: string, extra: string[]): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const out = path.join(tmp, `${name}.out`);
  fs.writeFileSync(out, '');
  const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', path.join(tmp, `${name}.json`), ...extra], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const t0 = Date.now();
  while (!/filling|feeding|legacy/.test(err)) {
    if (Date.now() - t0 > 15000 || child.exitCode !== null) throw new Error(`did not start:\n${err}`);
    await sleep(20);
  }
  return { child, stderr: () => err, exited };
}

describe.skipIf(noMount !== null)('log trouble, said once', () => {
  it('--log-file on a file system that fills up: said once on stderr, and once more when it works again', async () => {
    const dir = tmpfs('logfull', 'size=64k');
    const log = path.join(dir, 'vrngd.log');
    const d = await startDaemon('logfull', ['--log-file', log]);
    // the same line reaches the file's sink a moment after stderr (two winston transports)
    for (const t0 = Date.now(); !/filling|feeding|legacy/.test(fs.readFileSync(log, 'utf8')) && Date.now() - t0 < 3000; ) await sleep(20);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/filling|feeding|legacy/);
    fill(dir);
    // a statistics line each: more than the slack left in the log file's last page
    for (let i = 0; i < 60; i++) {
      d.child.kill('SIGUSR1');
      await sleep(15);
    }
    await sleep(200);
    expect(d.stderr().match(/log file .*: ENOSPC.*its lines are lost until it works again/g)).toHaveLength(1);
    const sizeWhenFull = fs.statSync(log).size;
    fs.rmSync(path.join(dir, 'filler'));
    d.child.kill('SIGUSR1');
    await sleep(300);
    expect(d.stderr()).toMatch(new RegExp(`log file ${log} works again \\(\\d+ lines? lost\\)`));
    expect(fs.statSync(log).size).toBeGreaterThan(sizeWhenFull); // the next line is in the file again
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(d.stderr().match(/ENOSPC/g)).toHaveLength(1);
  });

  it('--log-file on a read-only file system: said once, the daemon runs on', async () => {
    const dir = tmpfs('logro', 'ro,size=1m');
    const log = path.join(dir, 'vrngd.log');
    const d = await startDaemon('logro', ['--log-file', log]);
    for (let i = 0; i < 5; i++) {
      d.child.kill('SIGUSR1');
      await sleep(100);
    }
    d.child.kill('SIGHUP'); // the reopen cannot help either, and is not a second complaint
    await sleep(300);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const said = d.stderr().match(/log file [^\n]*EROFS[^\n]*/g) ?? [];
    expect(said, d.stderr()).toHaveLength(1);
    expect(d.stderr()).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
  });

  it('-b with no syslog socket: the start says once that syslog lines are lost, and still starts', () => {
    const pidFile = path.join(tmp, 'nosyslog.pid');
    const out = path.join(tmp, 'nosyslog.out');
    fs.writeFileSync(out, '');
    const r = spawnSync(process.execPath, [CLI, 'run', '-b', '-p', pidFile, '-r', '/dev/urandom', '-o', out, '--state-file', path.join(tmp, 'nosyslog.json')], {
      encoding: 'utf8',
      env: { ...env, VRNGD_SYSLOG_SOCKET: path.join(tmp, 'no-such-socket') },
      timeout: 20000,
    });
    try {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.match(/syslog \(\/dev\/log\): .*(ENOENT|No such file).*its lines are lost until it works again/g)).toHaveLength(1);
    } finally {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
  });

  it('--metrics-file on a full disk: said once, no temp file left behind', async () => {
    const dir = tmpfs('metricsfull', 'size=16k');
    fill(dir);
    const d = await startDaemon('metricsfull', ['--metrics-file', path.join(dir, 'vrngd.prom')]);
    const t0 = Date.now();
    while (!/cannot write the metrics file/.test(d.stderr())) {
      expect(Date.now() - t0).toBeLessThan(15000);
      await sleep(50);
    }
    await sleep(1500); // more writes fail meanwhile
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['filler']);
    expect(d.stderr().match(/cannot write the metrics file/g)).toHaveLength(1);
  });
});
