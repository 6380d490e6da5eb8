// The SysV init script (scripts/sysvinit/vrngd) for real: installed by install.sh
// into a temporary root and run against the built daemon (`vrngd -b`) with a FIFO
// as its only source, so it never competes for /dev/hwrng: start, status, a second
// start, a second instance refused by the daemon, reload (SIGHUP), stop, status,
// condrestart, restart. Paths come from the script's environment overrides.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env';
import { installIntoTempRoot, run, RunResult } from './install-root';

const INIT = 'etc/init.d/vrngd';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits (up to timeoutMs) for a condition the daemon makes true; no fixed sleeps. */
function waitFor(cond: () => boolean, timeoutMs: number): boolean {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    spawnSync('sleep', ['0.05']);
  }
  return cond();
}

describe('the init script without a daemon', () => {
  let root = '';
  beforeAll(() => {
    root = installIntoTempRoot();
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    VRNGD_BIN: path.join(root, 'usr/sbin/vrngd'),
    PIDFILE: path.join(root, 'run/vrngd.pid'),
    LOCKFILE: path.join(root, 'var/lock/subsys/vrngd'),
    SYSCONFIG: path.join(root, 'etc/sysconfig/vrngd'),
    VRNGD_INIT_FUNCTIONS: '',
    RNGD_INIT: '/nonexistent', // the host's own rngd init script is never asked
  });

  it('start stops a running rngd through its init script first, and refuses to start beside it when that fails', () => {
    const dir = fs.mkdtempSync(path.join(root, 'rngd-'));
    const rngd = path.join(dir, 'rngd');
    const log = path.join(dir, 'calls');
    // a fake rngd init script: "running" until stopped; stop fails when told to
    fs.writeFileSync(rngd, `#!/bin/sh\necho "$1" >> ${log}\ncase "$1" in status) [ ! -e ${dir}/stopped ] ;; stop) [ -e ${dir}/fail ] && exit 1; touch ${dir}/stopped ;; esac\n`, { mode: 0o755 });
    const bin = path.join(dir, 'fake-vrngd');
    fs.writeFileSync(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'fail'), '');
    const refused = run(path.join(root, INIT), ['start'], { env: { ...env(), VRNGD_BIN: bin, RNGD_INIT: rngd } });
    expect(refused.stdout).toMatch(/not starting beside rngd/);
    expect(refused.status).toBe(1);
    fs.rmSync(path.join(dir, 'fail'));
    const started = run(path.join(root, INIT), ['start'], { env: { ...env(), VRNGD_BIN: bin, RNGD_INIT: rngd } });
    expect(started.stdout).toMatch(/stopping rngd, which vrngd replaces/);
    expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['status', 'stop', 'status', 'stop']);
    expect(fs.existsSync(path.join(dir, 'stopped'))).toBe(true);
  });

  it('carries chkconfig and LSB headers', () => {
    const text = fs.readFileSync(path.join(root, INIT), 'utf8');
    expect(text).toMatch(/^# chkconfig: 2345 \d+ \d+$/m);
    expect(text).toMatch(/^# description: /m);
    expect(text).toMatch(/### BEGIN INIT INFO[\s\S]*# Provides:\s+vrngd[\s\S]*# Default-Start:\s+2 3 4 5[\s\S]*### END INIT INFO/);
    expect(fs.statSync(path.join(root, INIT)).mode & 0o111).not.toBe(0);
  });

  it('prints usage and exits 2 on an unknown action', () => {
    const r = run(path.join(root, INIT), ['bogus'], { env: env() });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/Usage: .*start\|stop\|status\|restart\|condrestart\|try-restart\|reload/);
  });

  it('reports stopped (3), a stale pid file (1), and reload of a stopped service (7)', () => {
    expect(run(path.join(root, INIT), ['status'], { env: env() })).toMatchObject({ status: 3, stdout: 'vrngd is stopped\n' });
    fs.mkdirSync(path.join(root, 'run'), { recursive: true });
    const dead = spawnSync('true').pid as number; // exited: its pid is free
    fs.writeFileSync(path.join(root, 'run/vrngd.pid'), `${dead}\n`);
    expect(run(path.join(root, INIT), ['status'], { env: env() })).toMatchObject({ status: 1, stdout: 'vrngd dead but pid file exists\n' });
    expect(run(path.join(root, INIT), ['reload'], { env: env() }).status).toBe(7);
    // stop on a stopped service succeeds and clears the stale pid file
    expect(run(path.join(root, INIT), ['stop'], { env: env() }).status).toBe(0);
    expect(fs.existsSync(path.join(root, 'run/vrngd.pid'))).toBe(false);
    expect(run(path.join(root, INIT), ['condrestart'], { env: env() }).status).toBe(0);
    expect(run(path.join(root, INIT), ['status'], { env: env() }).status).toBe(3);
  });

  it('passes VRNGD_NODE from the sysconfig file to the launcher, and reports a failed start', () => {
    const sysconfig = path.join(root, 'etc/sysconfig/vrngd');
    const original = fs.readFileSync(sysconfig, 'utf8');
    fs.writeFileSync(sysconfig, `${original}VRNGD_NODE=/nonexistent/node\n`);
    try {
      const r = run(path.join(root, INIT), ['start'], { env: env() });
      expect(r.stdout).toBe('Starting vrngd:  failed\n');
      expect(r.stderr).toMatch(/\/nonexistent\/node/);
      expect(r.status).not.toBe(0);
      expect(fs.existsSync(path.join(root, 'var/lock/subsys/vrngd'))).toBe(false);
    } finally {
      fs.writeFileSync(sysconfig, original);
    }
  });

  it('uses RHEL functions for its result markers when the file exists', () => {
    const functions = path.join(root, 'functions');
    // the two RHEL 6 /etc/rc.d/init.d/functions helpers the script calls
    fs.writeFileSync(functions, 'success() { echo -n "[  OK  ]"; }\nfailure() { echo -n "[FAILED]"; }\n');
    const r = run(path.join(root, INIT), ['stop'], { env: { ...env(), VRNGD_INIT_FUNCTIONS: functions } });
    expect(r.stdout).toBe('Stopping vrngd: [  OK  ]\n');
    expect(r.status).toBe(0);
  });
});

// The daemon's -b/--background (detach, pid file, single-instance lock) lands with
// the daemon issue; until `vrngd run --help` lists it this block skips.
function daemonHasBackground(): boolean {
  const r = run(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js'), 'run', '--help']);
  return r.status === 0 && /--background/.test(r.stdout);
}

describe('the init script life cycle against the real daemon', () => {
  const noDaemon = skipReason([[daemonHasBackground(), 'vrngd run -b not built yet (daemon issue)']]);
  let root = '';
  let env: NodeJS.ProcessEnv = {};
  let pidFile = '';
  const init = (action: string, extra: NodeJS.ProcessEnv = {}): RunResult => run(path.join(root, INIT), [action], { env: { ...env, ...extra }, timeoutMs: 30000 });
  const pidOf = (): number => Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);

  beforeAll(() => {
    if (noDaemon) return;
    root = installIntoTempRoot();
    const fifo = path.join(root, 'source.fifo');
    spawnSync('mkfifo', [fifo]);
    pidFile = path.join(root, 'run/vrngd.pid');
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'etc/sysconfig/vrngd'),
      `VRNGD_ARGS="-r ${fifo} -x rdrand --state-file ${path.join(root, 'run/state.json')} --log-file ${path.join(root, 'vrngd.log')}"\n`,
    );
    env = {
      PATH: process.env.PATH,
      VRNGD_NODE: process.execPath,
      VRNGD_BIN: path.join(root, 'usr/sbin/vrngd'),
      PIDFILE: pidFile,
      LOCKFILE: path.join(root, 'var/lock/subsys/vrngd'),
      SYSCONFIG: path.join(root, 'etc/sysconfig/vrngd'),
      VRNGD_INIT_FUNCTIONS: '',
      RNGD_INIT: '/nonexistent',
    };
  });
  afterAll(() => {
    if (!root) return;
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0 && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(noDaemon !== null)('start, status, second start, reload, stop, status', () => {
    const start = init('start');
    expect(start.stdout + start.stderr).toMatch(/Starting vrngd: .*done/);
    expect(start.status).toBe(0);
    const pid = pidOf();
    expect(pidAlive(pid)).toBe(true);
    expect(fs.existsSync(env.LOCKFILE as string)).toBe(true);

    const status = init('status');
    expect(status.stdout).toBe(`vrngd (pid ${pid}) is running...\n`);
    expect(status.status).toBe(0);

    // a second start through the script: already running, same process
    const again = init('start');
    expect(again.stdout).toBe(`vrngd is already running (pid ${pid})\n`);
    expect(again.status).toBe(0);
    // a second daemon started directly: the single-instance lock refuses it
    const second = run(env.VRNGD_BIN as string, ['-b', '-p', pidFile, '-r', path.join(root, 'source.fifo'), '-x', 'rdrand', '--state-file', path.join(root, 'run/state2.json')], { env });
    expect(second.status).not.toBe(0);
    expect(second.stderr).toMatch(/vrngd/);
    expect(pidOf()).toBe(pid);
    expect(pidAlive(pid)).toBe(true);

    // reload: SIGHUP is handled (the daemon logs its reopen), the process stays
    const log = path.join(root, 'vrngd.log');
    const reopened = (): boolean => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('reopening sources (SIGHUP)');
    expect(reopened()).toBe(false);
    const reload = init('reload');
    expect(reload.status).toBe(0);
    expect(waitFor(reopened, 10000)).toBe(true);
    expect(pidAlive(pid)).toBe(true);
    expect(init('status').status).toBe(0);

    const stop = init('stop');
    expect(stop.status).toBe(0);
    expect(pidAlive(pid)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(env.LOCKFILE as string)).toBe(false);
    expect(init('status')).toMatchObject({ status: 3, stdout: 'vrngd is stopped\n' });
  });

  it.skipIf(noDaemon !== null)('restart starts a new process; condrestart only restarts a running one', () => {
    expect(init('condrestart').status).toBe(0);
    expect(init('status').status).toBe(3);
    expect(init('restart').status).toBe(0);
    const first = pidOf();
    expect(init('try-restart').status).toBe(0);
    const second = pidOf();
    expect(second).not.toBe(first);
    expect(pidAlive(first)).toBe(false);
    expect(pidAlive(second)).toBe(true);
    expect(init('stop').status).toBe(0);
    expect(pidAlive(second)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it.skipIf(noDaemon !== null)('stop: a vrngd that ignores SIGTERM is SIGKILLed after STOP_TIMEOUT; one that exits goes at once', async () => {
    // a process with the identity the daemon writes (start time, executable) in the pid
    // file; its parent is a bash that waits for it, so that it is reaped at once as init
    // would (a zombie of ours would look alive to kill -0 while spawnSync blocks us)
    const forged = async (ignoreTerm: boolean): Promise<{ pid: number; status: Promise<string> }> => {
      const parent = spawn('bash', ['-c', `(${ignoreTerm ? 'trap "" TERM; ' : ''}exec sleep 300) & echo $!; wait $!; echo "status $?"`]);
      let out = '';
      const lines: string[] = [];
      const waiters: Array<() => void> = [];
      parent.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        while (out.includes('\n')) {
          lines.push(out.slice(0, out.indexOf('\n')));
          out = out.slice(out.indexOf('\n') + 1);
          for (const w of waiters.splice(0)) w();
        }
      });
      const nth = (n: number): Promise<string> => new Promise((resolve) => {
        const check = (): void => (lines.length > n ? resolve(lines[n] as string) : void waiters.push(check));
        check();
      });
      const pid = Number(await nth(0));
      spawnSync('sleep', ['0.2']);
      const start = (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ')[19];
      fs.writeFileSync(pidFile, `${pid}\nvrngd start=${start} exe=${fs.readlinkSync(`/proc/${pid}/exe`)}\n`);
      return { pid, status: nth(1) };
    };
    const stubborn = await forged(true);
    try {
      expect(init('status').stdout).toBe(`vrngd (pid ${stubborn.pid}) is running...\n`);
      const t0 = Date.now();
      const r = init('stop', { STOP_TIMEOUT: '1' });
      const ms = Date.now() - t0;
      expect(r.status).toBe(0);
      expect(await stubborn.status).toBe('status 137'); // 128 + SIGKILL
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThan(6000);
    } finally {
      if (pidAlive(stubborn.pid)) process.kill(stubborn.pid, 'SIGKILL');
    }
    const willing = await forged(false);
    try {
      const t0 = Date.now();
      expect(init('stop').status).toBe(0);
      expect(Date.now() - t0).toBeLessThan(1000); // STOP_TIMEOUT is 10 s: it did not wait for it
      expect(await willing.status).toBe('status 143'); // 128 + SIGTERM
      expect(fs.existsSync(pidFile)).toBe(false);
    } finally {
      if (pidAlive(willing.pid)) process.kill(willing.pid, 'SIGKILL');
    }
  });

  it.skipIf(noDaemon !== null)('a stale pid file naming an unrelated live process: status says dead, start starts vrngd, stop never signals that process', () => {
    const unrelated = spawn('bash', ['-c', 'exec -a "vrngd -b" sleep 300']);
    try {
      spawnSync('sleep', ['0.1']);
      const exe = fs.readlinkSync(`/proc/${unrelated.pid}/exe`);
      // a bare pid (an old or foreign file), then a forged identity line with the right exe and a wrong start time
      for (const text of [`${unrelated.pid}\n`, `${unrelated.pid}\nvrngd start=1 exe=${exe}\n`]) {
        fs.writeFileSync(pidFile, text);
        expect(init('status')).toMatchObject({ status: 1, stdout: 'vrngd dead but pid file exists\n' });
        expect(init('stop').status).toBe(0);
        expect(pidAlive(unrelated.pid as number)).toBe(true);
      }
      fs.writeFileSync(pidFile, `${unrelated.pid}\n`);
      const start = init('start');
      expect(start.status, start.stdout + start.stderr).toBe(0);
      const pid = pidOf();
      expect(pid).not.toBe(unrelated.pid);
      expect(init('status').stdout).toBe(`vrngd (pid ${pid}) is running...\n`);
      expect(init('stop').status).toBe(0);
      expect(pidAlive(pid)).toBe(false);
      expect(pidAlive(unrelated.pid as number)).toBe(true);
    } finally {
      unrelated.kill('SIGKILL');
    }
  });
});
