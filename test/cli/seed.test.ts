// `vrngd seed` end to end: the built binary against the real kernel and the real
// /dev/hwrng (real RNDADDENTROPY injection), a missing device, a FIFO nobody
// writes, an unprivileged user, bad options, and the seed file across two runs.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, hasHwrng, isRoot, ROOT, skipReason, which } from '../helpers/env';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function vrngd(args: string[], opts: { node?: string; asNobody?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const node = opts.node ?? process.execPath;
  const cmd = opts.asNobody ? 'setpriv' : node;
  const argv = opts.asNobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', node, CLI, ...args] : [CLI, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const LINE = /^vrngd seed: seeded: read (\d+) bytes from \/dev\/hwrng, credited (\d+) bits \((\d+) asked\), entropy (\d+) -> (\d+) bits, crng ready (yes|no) -> (yes|no), (\d+) ms\n$/;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-seed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const noRoot = skipReason([[isRoot, 'not root: RNDADDENTROPY needs CAP_SYS_ADMIN']]);
const noHwrng = skipReason([[hasHwrng, 'no readable /dev/hwrng (root and a virtio-rng device needed)']]);

describe('vrngd seed: options', () => {
  it.each([
    [['seed', '--bytes', 'abc']],
    [['seed', '--bytes', '0']],
    [['seed', '--timeout', '-1']],
    [['seed', '--timeout', 'soon']],
    // would round to a 0 ms timeout (issue 14)
    [['seed', '--timeout', '0.0000001']],
    [['seed', '--timeout', '0.0004']],
    // an extra word ran a real seed before (issue 14)
    [['seed', 'extra-arg']],
    [['seed', '--rng-device', '']],
    [['seed', '--no-such-option']],
  ])('%j exits 64 with one line', async (args) => {
    const r = await vrngd(args);
    expect(r.status).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vrngd: /);
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(noRoot !== null)('vrngd seed: failures', () => {
  it('a missing device: 69 once the timeout has passed, not later', async () => {
    const r = await vrngd(['seed', '--rng-device', path.join(tmp, 'no-such-hwrng'), '--timeout', '0.5', '--json']);
    expect(r.status).toBe(69);
    const report = JSON.parse(r.stdout) as { outcome: string; elapsedMs: number; bytesRead: number; exitCode: number };
    expect(report).toMatchObject({ outcome: 'no-device', bytesRead: 0, exitCode: 69 });
    expect(report.elapsedMs).toBeGreaterThanOrEqual(500);
    expect(report.elapsedMs).toBeLessThan(1500);
    expect(r.stderr).toMatch(/^vrngd: seed: no device at .*no-such-hwrng within 500 ms\n$/);
  });

  it('a FIFO nobody writes: 75 at the timeout, with nothing credited', async () => {
    const fifo = path.join(tmp, 'silent.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await vrngd(['seed', '--rng-device', fifo, '--timeout', '0.5', '--json']);
    expect(r.status).toBe(75);
    const report = JSON.parse(r.stdout) as { outcome: string; creditedBits: number; elapsedMs: number };
    expect(report.outcome).toBe('timeout');
    expect(report.creditedBits).toBe(0);
    expect(report.elapsedMs).toBeLessThan(1500);
    expect(r.stderr).toMatch(/gave too little before the 500 ms timeout/);
  });

  it('a source that fails FIPS (zeros from a file): 75, never credited', async () => {
    const zeros = path.join(tmp, 'zeros.bin');
    fs.writeFileSync(zeros, Buffer.alloc(10000));
    const r = await vrngd(['seed', '--rng-device', zeros, '--timeout', '0.5', '--json']);
    expect(r.status).toBe(75);
    const report = JSON.parse(r.stdout) as { creditedBits: number; blocksFailed: number; blocksPassed: number };
    expect(report.creditedBits).toBe(0);
    expect(report.blocksPassed).toBe(0);
    expect(report.blocksFailed).toBeGreaterThan(0);
  });

  it('unprivileged (setpriv to nobody): 77 with one line naming CAP_SYS_ADMIN', async () => {
    expect(which('setpriv')).not.toBeNull();
    const r = await vrngd(['seed', '--timeout', '2'], { asNobody: true });
    expect(r.status).toBe(77);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/CAP_SYS_ADMIN/);
  });
});

describe.skipIf(noRoot !== null || noHwrng !== null)('vrngd seed: the real /dev/hwrng and kernel', () => {
  it('exits 0 with its one line after real injection', async () => {
    const r = await vrngd(['seed', '--timeout', '20']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = LINE.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [, bytes, credited, asked] = m as RegExpExecArray;
    expect(Number(bytes)).toBeGreaterThanOrEqual(2504);
    expect(Number(asked)).toBeGreaterThan(0);
    expect(Number(credited)).toBeLessThanOrEqual(Number(asked)); // what the kernel's count rose by
  });

  it('--json: the same facts as one object; RNDRESEEDCRNG done on this 4.17+ kernel', async () => {
    const r = await vrngd(['seed', '--timeout', '20', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ outcome: 'seeded', device: '/dev/hwrng', crngReady: true, reseeded: true, exitCode: 0 });
    expect(report.askedBits).toBe((report.blocksPassed as number) * 2500 * 8);
    expect(report.creditedBits as number).toBeLessThanOrEqual(report.askedBits as number);
  });

  it('--seed-file: writes a creditable seed, and the next run removes, credits and rewrites it', async () => {
    const seedFile = path.join(tmp, 'state', 'seed');
    const first = await vrngd(['seed', '--timeout', '20', '--seed-file', seedFile, '--json']);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout).seedFile).toMatchObject({ loadedBytes: 0, written: true, writtenCreditable: true });
    const stored1 = fs.readFileSync(seedFile);
    expect(stored1.subarray(0, 8).toString('latin1')).toBe('vrngdsd1');
    expect(fs.statSync(seedFile).mode & 0o777).toBe(0o600);
    const second = await vrngd(['seed', '--timeout', '20', '--seed-file', seedFile, '--json']);
    expect(second.status).toBe(0);
    const s2 = JSON.parse(second.stdout).seedFile as { loadedBytes: number; loadedCreditedBits: number };
    expect(s2.loadedBytes).toBe(stored1.length - 16);
    expect(s2.loadedCreditedBits).toBe(s2.loadedBytes * 8);
    expect(fs.readFileSync(seedFile).equals(stored1)).toBe(false);
    expect(fs.existsSync(`${seedFile}.new`)).toBe(false);
    // crediting switched off (SeedRNG's variable): mixed, 0 bits
    const third = await vrngd(['seed', '--timeout', '20', '--seed-file', seedFile, '--json'], { env: { SEEDRNG_SKIP_CREDIT: 'yes' } });
    expect(JSON.parse(third.stdout).seedFile.loadedCreditedBits).toBe(0);
  });

  const node16 = path.join(ROOT, '.cache', 'node16', 'package', 'bin', 'node');
  it.skipIf(!fs.existsSync(node16))('runs on the Node 16 floor with the preload library too', async () => {
    const preload = path.join(ROOT, 'build', 'Release', 'vrngd-preload.so');
    const r = await vrngd(['seed', '--timeout', '20'], { node: node16, env: { LD_PRELOAD: preload } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(LINE);
  });
});
