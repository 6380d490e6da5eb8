// The installed bundle under every runtime a package ships (el6: Node 10.24.1,
// el7: Node 16.20.2; fetched by scripts/dev/setup-node10.sh / setup-node16.sh, which
// .ci/run calls): every command through the installed launcher -- run, seed,
// status, check, sources, -b -- and the signals (SIGUSR1 summary, SIGHUP, SIGTERM
// within 1 s). Sources are files and FIFOs of random bytes and the daemon writes
// to /dev/null (-o), so nothing here reads /dev/hwrng; `seed` credits 2,500
// checked bytes to this host's kernel (RNDADDENTROPY, allowed here).
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedRandom } from '../helpers/fips-data';
import { isRoot } from '../helpers/env';
import { installIntoTempRoot } from '../service/install-root';
import { RELEASES, runtimeOf } from './elf';

const runtimes = Object.entries(RELEASES).map(([rel, r]) => ({ rel, version: r.node, bin: runtimeOf(r), cache: r.cache }));
for (const r of runtimes) if (!r.bin) process.stderr.write(`skip: ${r.rel} runtime Node ${r.version} missing (bash scripts/dev/setup-${r.cache}.sh)\n`);
const present = runtimes.filter((r) => r.bin !== null).map((r) => [`${r.rel} Node ${r.version}`, r.bin as string] as [string, string]);

let root = '';
let work = '';
let launcher = '';
let randomFile = '';
beforeAll(() => {
  root = installIntoTempRoot([]);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-rt-'));
  launcher = path.join(root, 'usr/sbin/vrngd');
  randomFile = path.join(work, 'random');
  fs.writeFileSync(randomFile, crypto.randomBytes(2500 * 40));
}, 120000);
afterAll(() => {
  for (const d of [root, work]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

function vrngd(node: string, args: string[], input?: Buffer, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(launcher, args, { encoding: 'utf8', input, env: { PATH: process.env.PATH, VRNGD_NODE: node, ...env }, timeout: 60000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (cond()) resolve(true);
      else if (Date.now() > until) resolve(false);
      else setTimeout(tick, 50);
    };
    tick();
  });
}

const readJson = (f: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
};

describe.skipIf(present.length === 0).each(present)('installed bundle on %s', (_name, node) => {
  it('runs on the runtime it was given', () => {
    const r = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(_name.replace(/^.* Node /, 'v'));
  });

  it('--version, --help, a usage error (64, one line)', () => {
    expect(vrngd(node, ['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = vrngd(node, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: vrngd/);
    const bad = vrngd(node, ['run', '--no-such-flag']);
    expect(bad.status).toBe(64);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('status --json and sources', () => {
    const s = vrngd(node, ['status', '--json']);
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    const j = JSON.parse(s.stdout) as { live: boolean; kernel: { poolsizeBits: number } };
    expect(j.live).toBe(true);
    expect(j.kernel.poolsizeBits).toBeGreaterThan(0);
    const src = vrngd(node, ['sources']);
    expect(src.status).toBe(0);
    expect(src.stdout).toMatch(/^hwrng /m);
  });

  it('check: FIPS counts on random input, and a zero stream fails', () => {
    const ok = vrngd(node, ['check'], fixedRandom(2500 * 8 + 4)); // rngtest: the first 32 bits prime the continuous-run test;
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/FIPS 140-2 successes: 8$/m);
    const zeros = vrngd(node, ['check'], Buffer.alloc(2500 * 2 + 4));
    expect(zeros.status).toBe(1);
    expect(zeros.stdout).toMatch(/FIPS 140-2 failures: 2$/m);
  });

  it.skipIf(!isRoot)('seed: one checked block from a file, credited to this kernel', () => {
    const r = vrngd(node, ['seed', '--rng-device', randomFile, '--bytes', '2500', '--timeout', '10', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { blocksPassed: number; askedBits: number };
    expect(j.blocksPassed).toBe(1);
    expect(j.askedBits).toBeGreaterThan(0); // asked: this host's crng is ready, so its count no longer rises
  });

  it('run -f: feeds (to -o /dev/null), SIGUSR1 prints a summary, SIGHUP keeps it running, SIGTERM stops it within 1 s', async () => {
    const state = path.join(work, `state-${path.basename(path.dirname(path.dirname(node)))}-${Date.now()}.json`);
    const child = spawn(launcher, ['run', '-f', '-r', '/dev/urandom', '-o', os.devNull, '--state-file', state], { env: { PATH: process.env.PATH, VRNGD_NODE: node }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    try {
      expect(await waitFor(() => ((readJson(state)?.bytesInjected as number) ?? 0) > 0, 20000), `state ${state}; stderr ${err}`).toBe(true);
      const before = err.length;
      child.kill('SIGUSR1');
      expect(await waitFor(() => err.length > before, 5000)).toBe(true);
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      expect(child.exitCode).toBeNull();
      const t0 = Date.now();
      child.kill('SIGTERM');
      const e = await exited;
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(e).toEqual({ code: 0, signal: null });
      expect(err).not.toMatch(/internal error|TypeError|at .*\.js:\d+/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60000);

  it('-b: detaches, writes its pid file, and stops on SIGTERM removing it', async () => {
    const pidFile = path.join(work, `pid-${Date.now()}`);
    const state = path.join(work, `bstate-${Date.now()}.json`);
    const log = path.join(work, `log-${Date.now()}`);
    const r = vrngd(node, ['-b', '-r', randomFile, '-o', os.devNull, '-p', pidFile, '--state-file', state, '--log-file', log]);
    expect(r.status, r.stderr).toBe(0);
    expect(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 10000)).toBe(true);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]); // line 2 is the identity record
    expect(pid).toBeGreaterThan(1);
    try {
      expect(await waitFor(() => readJson(state) !== null, 20000)).toBe(true);
      process.kill(pid, 'SIGTERM');
      expect(await waitFor(() => !fs.existsSync(pidFile), 3000)).toBe(true);
      expect(fs.readFileSync(log, 'utf8')).not.toMatch(/internal error|TypeError/);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }, 60000);
});

// TurboFan is off while vrngd starts (src/cli/startup-flags.ts) and, for `run`, on
// again once the daemon is up. V8's --trace-opt (through the launcher's
// VRNGD_NODE_FLAGS) prints a line for each function it optimises.
const TURBOFAN = /turbofan|optimized recompilation/i;
const withSystemNode: Array<[string, string]> = [...present, [`this machine's Node ${process.version}`, process.execPath]];

describe.each(withSystemNode)('TurboFan at start-up, installed bundle on %s', (_name, node) => {
  const traced = (args: string[], input?: Buffer, env: Record<string, string> = {}): { status: number | null; optimised: number } => {
    const r = vrngd(node, args, input, { VRNGD_NODE_FLAGS: '--trace-opt', ...env });
    return { status: r.status, optimised: (r.stdout.match(new RegExp(TURBOFAN.source, 'gi')) ?? []).length };
  };

  it('status and check (C engine) optimise nothing; check with the JS engine does (control)', () => {
    expect(traced(['status']).optimised).toBe(0);
    const data = fixedRandom(2500 * 400 + 4);
    const native = traced(['check'], data);
    expect(native.status).toBe(0);
    expect(native.optimised).toBe(0);
    const js = traced(['check'], data, { VRNGD_FIPS_ENGINE: 'js' });
    expect(js.status).toBe(0);
    expect(js.optimised).toBeGreaterThan(0);
  });

  it('run: the daemon optimises its read-and-test loop once it is up (-t: /dev/urandom as fast as it comes)', async () => {
    const state = path.join(work, `opt-state-${path.basename(path.dirname(path.dirname(node)))}-${Date.now()}.json`);
    const child = spawn(launcher, ['run', '-f', '-t', '-q', '-r', '/dev/urandom', '--state-file', state], {
      env: { PATH: process.env.PATH, VRNGD_NODE: node, VRNGD_NODE_FLAGS: '--trace-opt' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      expect(await waitFor(() => TURBOFAN.test(out), 30000), 'no function optimised in 30 s').toBe(true);
      const passed = (): number => (readJson(state)?.sources as Array<{ blocksPassed: number }> | undefined)?.[0]?.blocksPassed ?? 0;
      expect(await waitFor(() => passed() > 0, 10000), 'no block tested').toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60000);
});
