// `vrngd status` in-process through runCli: the JSON object and the readable
// summary for fixture kernels (--proc-root/--sys-root), the daemon section from
// state files (running, stale, unreadable), and one-line errors with sysexits codes.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli';
import { EX } from '../../src/cli/exit';
import { DaemonState, writeStateFile } from '../../src/daemon/state-file';
import type { StatusReport } from '../../src/cli/commands/status';
import { ROOT } from '../helpers/env';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'kernels');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-status-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const NO_STATE = path.join(tmp, 'absent.json');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(args, { io: { stdout, stderr, stdin: new PassThrough(), env: {} } });
  return { code, out, err };
}

const era = (name: string): string[] => ['--proc-root', path.join(FIXTURES, name, 'proc'), '--sys-root', path.join(FIXTURES, name, 'sys'), '--rng-device', '/dev/null'];

function state(pid: number): DaemonState {
  return {
    pid,
    startedAt: '2026-11-29T03:00:00.000Z',
    updatedAt: '2026-11-29T03:05:00.000Z',
    regime: 'legacy',
    mode: 'feeding below write_wakeup_threshold',
    bitsCredited: 15000,
    bitsAsked: 20000,
    bytesInjected: 2500,
    injections: 1,
    entropyBeforeBits: 100,
    entropyAfterBits: 2600,
    sources: [{ name: 'hwrng', path: '/dev/hwrng', state: 'ok', quality: 8, bytesRead: 5000, blocksPassed: 1, blocksFailed: 1, blocksRepeated: 1, stalls: 0 }],
    fipsFailures: { monobit: 0, poker: 1, runs: 0, longRun: 0, continuousRun: 0 },
  };
}

describe('status --json on fixture kernels', () => {
  it('RHEL 6: legacy, rngd as a feeder, no daemon', async () => {
    const r = await run(['status', '--json', '--state-file', NO_STATE, ...era('el6-2.6.32')]);
    expect(r.code, r.err).toBe(EX.OK);
    expect(r.err).toBe('');
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const s = JSON.parse(r.out) as StatusReport;
    expect(s.kernel).toEqual({
      release: '2.6.32-642.6.2.el6.x86_64',
      regime: 'legacy',
      poolsizeBits: 4096,
      entropyAvailBits: 183,
      writeWakeupThresholdBits: 128,
      crngReady: null,
      getrandom: false,
    });
    expect(s.hwrng).toMatchObject({ present: true, device: '/dev/null', current: 'virtio', available: ['virtio'], quality: null, kernelFeeder: false });
    expect(s.feeders).toEqual(['rngd']);
    expect(s.daemon).toEqual({ running: false, pid: null, stateFile: NO_STATE, stale: null });
    expect(s.live).toBe(false);
    expect(s.notes.join('\n')).toMatch(/only known for the running kernel/);
  });

  it('RHEL 7.9: assisted with the kernel feeder', async () => {
    const s = JSON.parse((await run(['status', '--json', '--state-file', NO_STATE, ...era('el7.9-3.10')])).out) as StatusReport;
    expect(s.kernel).toMatchObject({ regime: 'assisted', poolsizeBits: 4096, writeWakeupThresholdBits: 896 });
    expect(s.hwrng).toMatchObject({ current: 'virtio_rng.0', quality: 1000, kernelFeeder: true });
  });

  it('a running daemon: every state field is included', async () => {
    const file = path.join(tmp, 'running.json');
    writeStateFile(file, state(process.pid));
    const s = JSON.parse((await run(['status', '--json', '--state-file', file, ...era('6.6')])).out) as StatusReport;
    expect(s.daemon).toEqual({ ...state(process.pid), running: true, stateFile: file });
  });

  it('a state file whose pid is gone: not running, stale', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const file = path.join(tmp, 'stale.json');
    writeStateFile(file, state(gone));
    const s = JSON.parse((await run(['status', '--json', '--state-file', file, ...era('6.6')])).out) as StatusReport;
    expect(s.daemon).toEqual({ running: false, pid: null, stateFile: file, stale: { pid: gone, updatedAt: '2026-11-29T03:05:00.000Z' } });
  });

  it('an unreadable (corrupt) state file: not running', async () => {
    const file = path.join(tmp, 'corrupt.json');
    fs.writeFileSync(file, '{"pid": 1, "startedAt"');
    const s = JSON.parse((await run(['status', '--json', '--state-file', file, ...era('6.6')])).out) as StatusReport;
    expect(s.daemon).toMatchObject({ running: false, pid: null, stale: null });
  });
});

describe('status (readable summary)', () => {
  it('6.6 without a daemon', async () => {
    const r = await run(['status', '--state-file', NO_STATE, ...era('6.6')]);
    expect(r.code, r.err).toBe(EX.OK);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('kernel:   6.6.58, regime modern: 256-bit pool, 5.18+ semantics: entropy_avail stays at 256 once the crng is ready; only boot and reseeds matter');
    expect(lines[1]).toBe('entropy:  256 of 256 bits available, write wakeup threshold 256 bits, crng ready: unknown (not the running kernel)');
    expect(lines[2]).toBe('hwrng:    /dev/null present, current virtio_rng.0 (available: virtio_rng.0), quality 1024');
    expect(lines[3]).toBe('          kernel feeds from hwrng: yes (hwrng thread pid 61)');
    expect(lines[4]).toBe('feeders:  none');
    expect(lines[5]).toBe(`daemon:   not running (no readable state file at ${NO_STATE})`);
    expect(lines.length).toBeLessThanOrEqual(8);
  });

  it('RHEL 6 with rngd and a running daemon', async () => {
    const file = path.join(tmp, 'running-text.json');
    writeStateFile(file, state(process.pid));
    const r = await run(['status', '--state-file', file, ...era('el6-2.6.32')]);
    expect(r.code, r.err).toBe(EX.OK);
    expect(r.out).toContain('regime legacy: the kernel does not feed itself from hwrng');
    expect(r.out).toContain('quality not exposed');
    expect(r.out).toContain('kernel feeds from hwrng: no\n');
    expect(r.out).toContain('feeders:  rngd (pid 1502)');
    expect(r.out).toContain(`daemon:   running, pid ${process.pid} since 2026-11-29T03:00:00.000Z, regime legacy: feeding below write_wakeup_threshold`);
    expect(r.out).toContain("credited 15000 bits (kernel's count; asked 20000) from 2500 bytes in 1 injections");
    expect(r.out).toContain('FIPS failures: monobit 0, poker 1, runs 0, long run 0, continuous run 0');
    expect(r.out).toContain('source hwrng /dev/hwrng: ok, 8 bits/byte, 5000 bytes read, 1 blocks passed, 1 failed (1 repeated), 0 stalls');
  });
});

describe('status errors', () => {
  it('a --proc-root without a kernel: one line, exit 66', async () => {
    const r = await run(['status', '--proc-root', tmp, '--sys-root', tmp]);
    expect(r.code).toBe(EX.NOINPUT);
    expect(r.out).toBe('');
    expect(r.err).toBe(`vrngd: status: cannot probe the kernel: ${path.join(tmp, 'sys/kernel/random/poolsize')} is missing or unreadable\n`);
  });

  it('an empty --state-file is a usage error', async () => {
    const r = await run(['status', '--state-file', '']);
    expect(r.code).toBe(EX.USAGE);
    expect(r.err).toBe('vrngd: status: --state-file needs a path\n');
  });

  it('an unknown option is a usage error', async () => {
    const r = await run(['status', '--bogus']);
    expect(r.code).toBe(EX.USAGE);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
