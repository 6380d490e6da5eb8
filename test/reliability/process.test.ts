// The real binary (node dist/cli/main.js, built by the global setup) under
// process-level faults: SIGTERM during start-up, during a blocked read and during
// injection; SIGKILL and restart (the state file is never torn, a stale pid file
// does not block); a second instance; a read-only and a full state directory.
// Runs without root where it can: the daemon writes to a plain file (-o FILE, the
// rngd write fallback: fill mode, one block per wakeup, no kernel involved) and
// reads /dev/urandom or a FIFO through its dd reader child. The state-directory
// faults mount small tmpfs file systems and need root; they skip otherwise.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, skipReason, which } from '../helpers/env';
import { readStateFile } from '../../src/daemon/state-file';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-rel-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function start(args: string[]): Running {
  // -o FILE must exist (rngd's write fallback writes to it, never creates it)
  const o = args.indexOf('-o');
  if (o >= 0 && !fs.existsSync(args[o + 1] as string)) fs.writeFileSync(args[o + 1] as string, '');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' } });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  return { child, stderr: () => err, exited };
}

/** Resolves when stderr matches (the daemon says what it does; no sleeps). */
async function until(r: Running, text: string | RegExp, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  while (!(typeof text === 'string' ? r.stderr().includes(text) : text.test(r.stderr()))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; stderr:\n${r.stderr()}`);
    if (r.child.exitCode !== null) throw new Error(`exited (${r.child.exitCode}) before ${String(text)}; stderr:\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function untilFile(file: string, pred: (size: number) => boolean, timeoutMs = 15000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const size = fs.existsSync(file) ? fs.statSync(file).size : -1;
    if (pred(size)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${file} (size ${size})`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function sigterm(r: Running): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now();
  r.child.kill('SIGTERM');
  const { code, signal, at } = await r.exited;
  return { code, signal, ms: at - t0 };
}

const noStack = (s: string): void => {
  expect(s).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
};

// rngd-style feeding into a plain file: no root, no kernel
const feedArgs = (name: string, extra: string[] = []): string[] => ['run', '-f', '-r', '/dev/urandom', '-o', path.join(tmp, `${name}.out`), '--state-file', path.join(tmp, `${name}.json`), ...extra];

describe('SIGTERM: exit within 1 s wherever it lands', () => {
  it.each([0, 30, 80, 150, 300])('during start-up, %i ms after spawn', async (delayMs) => {
    const r = start(feedArgs(`startup-${delayMs}`));
    await new Promise((res) => setTimeout(res, delayMs));
    const { code, signal, ms } = await sigterm(r);
    expect(ms).toBeLessThan(1000);
    // before the handlers are installed the default action ends it; after, a clean 0
    expect(code === 0 || signal === 'SIGTERM', `code ${code} signal ${signal}\n${r.stderr()}`).toBe(true);
    noStack(r.stderr());
  });

  it('during injection (blocks being written continuously)', async () => {
    const out = path.join(tmp, 'inject.out');
    const r = start(feedArgs('inject'));
    await until(r, /filling|feeding|legacy/);
    const size0 = fs.existsSync(out) ? fs.statSync(out).size : 0;
    await untilFile(out, (s) => s > size0 + 50 * 2500); // 50 more blocks: it is injecting now
    const { code, ms } = await sigterm(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(r.stderr()).toMatch(/SIGTERM: stopping/);
    expect(r.stderr()).toMatch(/stopped; \d+ bits credited/);
    // what was written is whole FIPS-passed blocks in -s steps; the count in the state matches the file
    const st = readStateFile(path.join(tmp, 'inject.json'));
    expect(st?.bytesInjected).toBe(fs.statSync(out).size);
    noStack(r.stderr());
  });

  it('during a blocked read (a FIFO nobody writes to): exit 0', async () => {
    // the dd child's SIGKILL on a blocked device read: test/sources/device-source.test.ts
    const fifo = path.join(tmp, 'blocked.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = start(['run', '-f', '-r', fifo, '-o', path.join(tmp, 'blocked.out'), '--state-file', path.join(tmp, 'blocked.json')]);
    await until(r, /filling|feeding|legacy/);
    const t0 = Date.now();
    while ((readStateFile(path.join(tmp, 'blocked.json'))?.sources[0]?.state ?? '') !== 'ok' && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 20));
    expect(readStateFile(path.join(tmp, 'blocked.json'))?.sources[0]).toMatchObject({ state: 'ok', bytesRead: 0 });
    const { code, ms } = await sigterm(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    noStack(r.stderr());
  });
});

describe('SIGKILL and restart', () => {
  it('the state file is never torn: 25 SIGKILLs of a process rewriting it as fast as it can', async () => {
    const file = path.join(tmp, 'torn.json');
    const writer = `
      const { writeStateFile } = require(${JSON.stringify(path.join(path.dirname(CLI), '..', 'daemon', 'state-file.js'))});
      const big = Array.from({ length: 200 }, (_, i) => ({ name: 'hwrng', path: '/dev/hwrng' + i, state: 'ok', quality: 8, bytesRead: i, blocksPassed: i, blocksFailed: 0, stalls: 0 }));
      let n = 0;
      process.stdout.write('go\\n');
      for (;;) writeStateFile(${JSON.stringify(file)}, { pid: process.pid, startedAt: '', updatedAt: String(n++), regime: 'legacy', mode: 'x'.repeat(n % 5000), bitsCredited: n, bytesInjected: 0, injections: 0, entropyBeforeBits: null, entropyAfterBits: null, sources: big, fipsFailures: { monobit: 0, poker: 0, runs: 0, longRun: 0, continuousRun: 0 } });
    `;
    let checked = 0;
    for (let i = 0; i < 25; i++) {
      const child = spawn(process.execPath, ['-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((res) => child.stdout.once('data', () => res()));
      await new Promise((res) => setTimeout(res, 20 + ((i * 37) % 120)));
      child.kill('SIGKILL');
      await new Promise((res) => child.on('exit', res));
      if (!fs.existsSync(file)) continue;
      const st = readStateFile(file);
      expect(st, `torn after kill ${i}: ${fs.readFileSync(file, 'utf8').slice(-80)}`).not.toBeNull();
      expect(st!.sources).toHaveLength(200);
      // one write's content, never two mixed: mode's length follows its counter
      expect(st!.mode.length).toBe((Number(st!.updatedAt) + 1) % 5000);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('SIGKILLed daemon: the state file is whole, the stale pid file does not block the restart', async () => {
    const pidFile = path.join(tmp, 'kill.pid');
    const state = path.join(tmp, 'kill.json');
    const args = feedArgs('kill', ['-p', pidFile]);
    const first = start(args);
    await until(first, /filling|feeding|legacy/);
    await untilFile(state, (s) => s > 0);
    await new Promise((res) => setTimeout(res, 1200)); // a coalesced state write or two
    first.child.kill('SIGKILL');
    await first.exited;
    expect(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])).toBe(first.child.pid); // left behind: stale
    const before = readStateFile(state);
    expect(before?.pid).toBe(first.child.pid);

    const out = path.join(tmp, 'kill.out');
    const written = fs.statSync(out).size;
    const second = start(args);
    await until(second, /filling|feeding|legacy/);
    await untilFile(pidFile, () => Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) === second.child.pid);
    // it writes blocks: running, signal handlers in place (a block needs a dd round trip)
    await untilFile(out, (s) => s > written);
    const t0 = Date.now();
    while (readStateFile(state)?.pid !== second.child.pid && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 20));
    expect(readStateFile(state)?.pid).toBe(second.child.pid);
    const { code, ms } = await sigterm(second);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(fs.existsSync(pidFile)).toBe(false); // removed at a clean exit
    noStack(second.stderr());
  });

  it('a second instance on the same pid file is refused with one clear line (69); the first keeps running', async () => {
    const pidFile = path.join(tmp, 'two.pid');
    const first = start(feedArgs('two-a', ['-p', pidFile]));
    await until(first, /filling|feeding|legacy/);
    fs.writeFileSync(path.join(tmp, 'two-b.out'), '');
    const second = spawnSync(process.execPath, [CLI, ...feedArgs('two-b', ['-p', pidFile])], { encoding: 'utf8', timeout: 15000 });
    expect(second.status).toBe(69);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(new RegExp(`^vrngd: another vrngd is already running \\(pid ${first.child.pid}, pid file ${pidFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
    expect(first.child.exitCode).toBeNull();
    const { code } = await sigterm(first);
    expect(code).toBe(0);
  });
});

const noMount = skipReason([
  [isRoot, 'mounting a read-only or full tmpfs needs root'],
  [which('mount') !== null, 'mount(8) missing'],
]);

function tmpfs(name: string, opts: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, `vrngd-${name}`, dir]);
  mounts.push(dir);
  return dir;
}

describe('a second instance in the foreground (no -p)', () => {
  it('is refused with one clear line (69) when the state file names a live vrngd; the first keeps running', async () => {
    const first = start(feedArgs('fg-a'));
    await until(first, /filling|feeding|legacy/);
    await untilFile(path.join(tmp, 'fg-a.json'), (s) => s > 0);
    fs.writeFileSync(path.join(tmp, 'fg-b.out'), '');
    const second = spawnSync(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', path.join(tmp, 'fg-b.out'), '--state-file', path.join(tmp, 'fg-a.json')], { encoding: 'utf8', timeout: 15000 });
    expect(second.status).toBe(69);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(new RegExp(`^vrngd: another vrngd is already running \\(pid ${first.child.pid}, state file `));
    expect(fs.statSync(path.join(tmp, 'fg-b.out')).size).toBe(0);
    expect(first.child.exitCode).toBeNull();
    const { code } = await sigterm(first);
    expect(code).toBe(0);
    // a state file left by a stopped daemon does not block the next start
    const third = start(feedArgs('fg-a'));
    await until(third, /filling|feeding|legacy/);
    const out = path.join(tmp, 'fg-a.out');
    const size = fs.statSync(out).size;
    await untilFile(out, (s) => s > size);
    expect((await sigterm(third)).code).toBe(0);
  });
});

describe.skipIf(noMount)('state directory faults (real tmpfs mounts)', () => {
  it.each([
    ['read-only', 'ro,size=1m', /cannot write the state file: EROFS/],
    ['full', 'size=8k', /cannot write the state file: ENOSPC/],
  ] as const)('%s: keeps feeding and says so once', async (name, opts, said) => {
    const dir = tmpfs(name, opts);
    if (name === 'full') {
      // fill it: nothing left for the state file
      try {
        fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(1 << 20));
      } catch {
        /* ENOSPC: full now */
      }
    }
    const out = path.join(tmp, `${name}.out`);
    const r = start(['run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', path.join(dir, 'state.json')]);
    await until(r, said);
    await untilFile(out, (s) => s > 100 * 2500); // feeding goes on
    await new Promise((res) => setTimeout(res, 2500)); // more coalesced writes fail meanwhile
    const { code, ms } = await sigterm(r);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(r.stderr().match(/cannot write the state file/g)).toHaveLength(1);
    noStack(r.stderr());
  });
});
