// The real binary (node dist/cli/main.js, built by the global setup) on this
// machine: the real /dev/hwrng, kernel and /dev/random. Needs root.
import { afterAll, describe, expect, it } from 'vitest';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, hasHwrng, isRoot, skipReason } from '../helpers/env';
import type { DaemonState } from '../../src/daemon/state-file';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-run-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const noRoot = skipReason([[isRoot, 'vrngd run needs root (RNDADDENTROPY, /dev/hwrng)']]);

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '' } });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exited };
}

/** Resolves when stderr contains `text` (the daemon says what it does; no sleeps). */
async function until(r: Running, text: string | RegExp, timeoutMs = 10000): Promise<void> {
  const t0 = Date.now();
  while (!(typeof text === 'string' ? r.stderr().includes(text) : text.test(r.stderr()))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; stderr:\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function stopTimed(r: Running): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  r.child.kill('SIGTERM');
  const { code } = await r.exited;
  return { code, ms: Date.now() - t0 };
}

const readState = (file: string): DaemonState => JSON.parse(fs.readFileSync(file, 'utf8')) as DaemonState;

describe.skipIf(noRoot)('vrngd run on this machine', () => {
  it.skipIf(!hasHwrng)('against the real /dev/hwrng: modern regime, respects the kernel feeder (no read), stops within 1 s', async () => {
    const state = path.join(tmp, 'real.json');
    const r = start(['run', '-f', '--state-file', state]);
    await until(r, /idle, modern kernel/);
    // no reader child: /dev/hwrng is not read
    const children = spawnSync('ps', ['--ppid', String(r.child.pid), '-o', 'comm=']).stdout.toString().trim();
    expect(children).toBe('');
    await new Promise((res) => setTimeout(res, 1500)); // a few seconds of running
    const st = readState(state);
    expect(st).toMatchObject({ regime: 'modern', feedMode: 'idle', reseedSchedule: null, bitsCredited: 0 });
    expect(st.mode).toMatch(/kernel's hwrng thread already feeds/);
    expect(st.sources[0]).toMatchObject({ name: 'hwrng', path: '/dev/hwrng', standby: true, bytesRead: 0 });
    const { code, ms } = await stopTimed(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(r.stderr()).toMatch(/^vrngd: kernel .*: modern regime/m);
    // said once
    expect(r.stderr().match(/hwrng thread already feeds/g)).toHaveLength(1);
  });

  it.skipIf(!hasHwrng)('--compete: reads /dev/hwrng through the killable reader, credits FIPS-passing bytes, reseeds', async () => {
    const state = path.join(tmp, 'compete.json');
    const metrics = path.join(tmp, 'compete.prom');
    const r = start(['run', '-f', '--compete', '--state-file', state, '--metrics-file', metrics]);
    await until(r, 'reseed: mixed 2500 B');
    r.child.kill('SIGUSR1');
    await until(r, /stats: modern reseed; credited 0 bits \(asked 20000\)/);
    const { code, ms } = await stopTimed(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    const st = readState(state);
    // this kernel (5.19+, crng ready) mixes the bytes but no longer counts them: asked 20000, credited 0
    expect(st).toMatchObject({ bitsAsked: 20000, bitsCredited: 0, bytesInjected: 2500, reseeds: 1 });
    expect(st.sources[0]!.blocksPassed).toBe(1);
    expect(fs.readFileSync(metrics, 'utf8')).toContain('vrngd_bits_asked_total 20000');
  });

  it('-r FIFO with nothing written: stops within 1 s of SIGTERM, exit 0', async () => {
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = start(['-f', '-r', fifo, '--state-file', path.join(tmp, 'fifo.json')]);
    await until(r, 'reseeding now and on schedule');
    await new Promise((res) => setTimeout(res, 300)); // the read is outstanding
    const { code, ms } = await stopTimed(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
  });

  it('-r /dev/zero credits nothing', async () => {
    const state = path.join(tmp, 'zero.json');
    const r = start(['-f', '-r', '/dev/zero', '--state-file', state]);
    await until(r, 'failing → disabled');
    const { code } = await stopTimed(r);
    expect(code).toBe(0);
    const st = readState(state);
    expect(st.bitsCredited).toBe(0);
    expect(st.injections).toBe(0);
    expect(st.sources[0]).toMatchObject({ path: '/dev/zero', blocksPassed: 0, state: 'disabled' });
    expect(st.sources[0]!.blocksFailed).toBeGreaterThanOrEqual(4);
    expect(st.fipsFailures.monobit).toBeGreaterThanOrEqual(4);
  });

  it('SIGHUP reopens the sources and the log file; vrngd status --json reads the running daemon', async () => {
    const state = path.join(tmp, 'hup.json');
    const log = path.join(tmp, 'hup.log');
    const r = start(['-f', '-r', '/dev/urandom', '--state-file', state, '--log-file', log]);
    await until(r, 'reseed: mixed 2500 B');
    const status = spawnSync(process.execPath, [CLI, 'status', '--json', '--state-file', state], { encoding: 'utf8' });
    const daemon = (JSON.parse(status.stdout) as { daemon: { pid: number; bitsAsked: number; sources: Array<{ path: string }> } }).daemon;
    expect(daemon).toMatchObject({ pid: r.child.pid, bitsAsked: 20000 });
    expect(daemon.sources[0]!.path).toBe('/dev/urandom');
    fs.renameSync(log, `${log}.1`); // logrotate
    r.child.kill('SIGHUP');
    await until(r, 'reopening sources (SIGHUP)');
    const t0 = Date.now();
    while (!(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('reopening sources')) && Date.now() - t0 < 3000) await new Promise((res) => setTimeout(res, 20));
    expect(fs.readFileSync(log, 'utf8')).toContain('reopening sources (SIGHUP)');
    expect(fs.readFileSync(`${log}.1`, 'utf8')).not.toContain('reopening sources');
    const { code } = await stopTimed(r);
    expect(code).toBe(0);
  });

  it('-o at a plain file writes checked bytes and credits nothing (rngd\'s write fallback)', async () => {
    const out = path.join(tmp, 'out.bin');
    fs.writeFileSync(out, '');
    const state = path.join(tmp, 'out.json');
    const r = start(['-f', '-r', '/dev/urandom', '-o', out, '--state-file', state]);
    await until(r, 'is not a random device');
    const t0 = Date.now();
    while (fs.statSync(out).size < 5000 && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 20));
    const { code } = await stopTimed(r);
    expect(code).toBe(0);
    expect(fs.statSync(out).size).toBeGreaterThanOrEqual(5000);
    const st = readState(state);
    expect(st.bitsCredited).toBe(0);
    expect(st.bitsAsked).toBe(0);
    expect(st.bytesInjected).toBe(fs.statSync(out).size);
  });

  it('-o /dev/null (a character device that answers ENOTTY): credits 0, says so once, claims no reseed', async () => {
    const state = path.join(tmp, 'null.json');
    const r = start(['-f', '-r', '/dev/urandom', '-o', '/dev/null', '--state-file', state]);
    await until(r, 'is not a random device');
    await new Promise((res) => setTimeout(res, 500));
    r.child.kill('SIGUSR1');
    await until(r, /stats: /);
    const { code } = await stopTimed(r);
    expect(code).toBe(0);
    const st = readState(state);
    expect(st).toMatchObject({ bitsCredited: 0, bitsAsked: 0, reseeds: 0 });
    expect(st.bytesInjected).toBeGreaterThanOrEqual(2500);
    expect(r.stderr().match(/is not a random device/g)).toHaveLength(1);
    expect(r.stderr()).not.toMatch(/reseed: mixed|kernel reseeded/);
  });

  it('-t tests the source, feeds nothing and prints the rate at exit', async () => {
    const r = start(['-t', '-r', '/dev/urandom', '--state-file', 'off']);
    let out = '';
    r.child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    await until(r, 'test mode');
    await new Promise((res) => setTimeout(res, 300));
    const { code } = await stopTimed(r);
    expect(code).toBe(0);
    expect(out).toMatch(/^Entropy rate: [\d.e+]+ Mbits\/sec averaged over \d+ blocks for [\d.]+ seconds\n$/);
    expect(r.stderr()).toMatch(/stopped; 0 bits credited \(0 asked\) in 0 injections/);
  });

  it('no usable source: exit 69 naming what was tried', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '-f', '-r', path.join(tmp, 'missing'), '--state-file', 'off'], { encoding: 'utf8' });
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/no usable entropy source \(tried hwrng \(.*missing\): ENOENT/);
  });

  it('-b detaches, writes the pid file, refuses a second instance, and a stale pid file does not block', async () => {
    const pidFile = path.join(tmp, 'vrngd.pid');
    fs.writeFileSync(pidFile, '999999\n'); // stale
    const args = ['run', '-b', '-p', pidFile, '-x', 'hwrng', '--pipe', path.join(tmp, 'bg.fifo'), '--state-file', path.join(tmp, 'bg.json'), '--log-file', path.join(tmp, 'bg.log')];
    execFileSync('mkfifo', [path.join(tmp, 'bg.fifo')]);
    const first = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15000 });
    expect(first.status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pid).not.toBe(999999);
    try {
      const second = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15000 });
      expect(second.status).toBe(69);
      expect(second.stderr).toMatch(new RegExp(`another vrngd is already running \\(pid ${pid}`));
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    const t0 = Date.now();
    while (fs.existsSync(pidFile) && Date.now() - t0 < 3000) await new Promise((res) => setTimeout(res, 20));
    expect(fs.existsSync(pidFile)).toBe(false); // removed at exit
  });
});

describe('vrngd sources', () => {
  it('lists hwrng and rdrand with a correct exit status', () => {
    const r = spawnSync(process.execPath, [CLI, 'sources', '--json'], { encoding: 'utf8' });
    const list = (JSON.parse(r.stdout) as { sources: Array<{ name: string; available: boolean }> }).sources;
    expect(list.map((s) => s.name)).toEqual(['hwrng', 'rdrand']);
    expect(r.status).toBe(list.some((s) => s.available) ? 0 : 69);
    const none = spawnSync(process.execPath, [CLI, '-l', '-r', path.join(tmp, 'nothing')], { encoding: 'utf8' });
    const rdrand = list.find((s) => s.name === 'rdrand')!.available;
    expect(none.status).toBe(rdrand ? 0 : 69);
    expect(none.stdout).toMatch(/hwrng .*nothing: unavailable \(ENOENT/);
  });
});
