// The kernel probe against fixture trees for every kernel era (test/fixtures/kernels),
// and against mutated copies of them for the edge rows of the kernelFeeder decision
// table: quality 0 with a running thread, hidden kernel threads, no current rng,
// a vanished thread, no hw_random core, and a missing /proc.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { decideKernelFeeder, decideRegime, probeKernel, ProbeOptions, ProbeResult } from '../../src/kernel/probe';
import { KernelError } from '../../src/kernel/errors';
import { EX, exitCodeFor } from '../../src/cli/exit';
import { ROOT } from '../helpers/env';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'kernels');

/** A fixture era, probed with an injected crng answer; /dev/null stands in for a character device node. */
function probeEra(era: string, crngReady: boolean | null, extra: ProbeOptions = {}): ProbeResult {
  return probeKernel({
    procRoot: path.join(FIXTURES, era, 'proc'),
    sysRoot: path.join(FIXTURES, era, 'sys'),
    hwrngDevice: '/dev/null',
    crngReady: () => crngReady,
    excludePids: [],
    ...extra,
  });
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A private copy of a fixture era that a test may change. */
function copyEra(era: string): { root: string; opts: ProbeOptions } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `vrngd-probe-${era}-`));
  tmpDirs.push(root);
  fs.cpSync(path.join(FIXTURES, era), root, { recursive: true });
  return { root, opts: { procRoot: path.join(root, 'proc'), sysRoot: path.join(root, 'sys'), hwrngDevice: '/dev/null', excludePids: [] } };
}

describe('fixture eras', () => {
  it('RHEL 6 (2.6.32): legacy, no getrandom, no quality files, name virtio, rngd running', () => {
    const r = probeEra('el6-2.6.32', null);
    expect(r.kernel).toEqual({
      release: '2.6.32-642.6.2.el6.x86_64',
      regime: 'legacy',
      poolsizeBits: 4096,
      entropyAvailBits: 183,
      writeWakeupThresholdBits: 128,
      crngReady: null,
      getrandom: false,
    });
    expect(r.hwrng).toEqual({
      present: true,
      device: '/dev/null',
      current: 'virtio',
      available: ['virtio'],
      quality: null,
      kernelFeeder: false,
      defaultQuality: null,
      feederThreadPid: null,
    });
    expect(r.feeders).toEqual(['rngd']);
    expect(r.feederProcesses).toEqual([{ pid: 1502, name: 'rngd' }]);
    expect(r.notes).toEqual([]);
  });

  it('RHEL 7.0 (3.10.0-123): legacy like RHEL 6', () => {
    const r = probeEra('el7.0-3.10', null);
    expect(r.kernel).toMatchObject({ release: '3.10.0-123.el7.x86_64', regime: 'legacy', poolsizeBits: 4096, entropyAvailBits: 742, writeWakeupThresholdBits: 128, getrandom: false });
    expect(r.hwrng).toMatchObject({ current: 'virtio', available: ['virtio'], quality: null, kernelFeeder: false, feederThreadPid: null });
    expect(r.feeders).toEqual([]);
  });

  it('RHEL 7.9 (3.10.0-1160): assisted, the backported hwrng thread credits at quality 1000', () => {
    const r = probeEra('el7.9-3.10', true);
    expect(r.kernel).toEqual({
      release: '3.10.0-1160.el7.x86_64',
      regime: 'assisted',
      poolsizeBits: 4096,
      entropyAvailBits: 3061,
      writeWakeupThresholdBits: 896,
      crngReady: true,
      getrandom: true,
    });
    expect(r.hwrng).toMatchObject({ current: 'virtio_rng.0', available: ['virtio_rng.0'], quality: 1000, defaultQuality: 0, kernelFeeder: true, feederThreadPid: 457 });
    expect(r.feeders).toEqual([]);
  });

  it('5.10 before the 2022 backports: assisted; haveged and the 15-byte comm of jitterentropy-rngd are feeders', () => {
    const r = probeEra('5.10-2021', false);
    expect(r.kernel).toMatchObject({ release: '5.10.0-8-amd64', regime: 'assisted', poolsizeBits: 4096, entropyAvailBits: 3487, writeWakeupThresholdBits: 896, crngReady: false, getrandom: true });
    expect(r.hwrng).toMatchObject({ current: 'virtio_rng.0', quality: 1000, defaultQuality: 0, kernelFeeder: true, feederThreadPid: 163 });
    expect(r.feeders).toEqual(['haveged', 'jitterentropy-rngd']);
    expect(r.feederProcesses).toEqual([
      { pid: 402, name: 'haveged' },
      { pid: 405, name: 'jitterentropy-rngd' },
    ]);
  });

  it('6.6: modern, 256/256/256, rng_quality 1024, thread running', () => {
    const r = probeEra('6.6', true);
    expect(r.kernel).toEqual({
      release: '6.6.58',
      regime: 'modern',
      poolsizeBits: 256,
      entropyAvailBits: 256,
      writeWakeupThresholdBits: 256,
      crngReady: true,
      getrandom: true,
    });
    expect(r.hwrng).toMatchObject({ current: 'virtio_rng.0', available: ['virtio_rng.0'], quality: 1024, defaultQuality: 1024, kernelFeeder: true, feederThreadPid: 61 });
    expect(r.notes).toEqual([]);
  });
});

describe('hwrng device presence comes from stat', () => {
  it('a missing node is absent', () => {
    expect(probeEra('6.6', true, { hwrngDevice: '/nonexistent/hwrng' }).hwrng.present).toBe(false);
  });
  it('a regular file is not a device', () => {
    expect(probeEra('6.6', true, { hwrngDevice: path.join(FIXTURES, 'README.md') }).hwrng.present).toBe(false);
  });
});

describe('feeders', () => {
  it('excludes vrngd itself by pid', () => {
    expect(probeEra('el6-2.6.32', null, { excludePids: [1502] }).feeders).toEqual([]);
  });

  it('ignores a kernel thread that happens to be called rngd, and a user process called hwrng is not the kernel feeder', () => {
    const { root, opts } = copyEra('el7.0-3.10');
    const proc = path.join(root, 'proc');
    fs.mkdirSync(path.join(proc, '40'));
    fs.writeFileSync(path.join(proc, '40', 'comm'), 'rngd\n');
    fs.writeFileSync(path.join(proc, '40', 'stat'), '40 (rngd) S 2 0 0 0 -1 2129984 0 0 0 0\n');
    fs.mkdirSync(path.join(proc, '900'));
    fs.writeFileSync(path.join(proc, '900', 'comm'), 'hwrng\n');
    fs.writeFileSync(path.join(proc, '900', 'stat'), '900 (hwrng) S 1 900 900 0 -1 4194560 0 0 0 0\n');
    const r = probeKernel({ ...opts, crngReady: () => null });
    expect(r.feeders).toEqual([]);
    expect(r.hwrng.feederThreadPid).toBeNull();
    expect(r.hwrng.kernelFeeder).toBe(false);
  });
});

describe('kernelFeeder edge cases (mutated fixtures)', () => {
  it('RHEL 7.9 with current_quality written 0: thread still runs but does not credit → legacy', () => {
    const { root, opts } = copyEra('el7.9-3.10');
    fs.writeFileSync(path.join(root, 'sys/module/rng_core/parameters/current_quality'), '0\n');
    const r = probeKernel({ ...opts, crngReady: () => true });
    expect(r.hwrng).toMatchObject({ quality: 0, kernelFeeder: false, feederThreadPid: 457 });
    expect(r.kernel.regime).toBe('legacy');
    expect(r.notes.join('\n')).toMatch(/mixes without crediting/);
  });

  it('6.6 with rng_quality 0: not crediting, still modern', () => {
    const { root, opts } = copyEra('6.6');
    fs.writeFileSync(path.join(root, 'sys/class/misc/hw_random/rng_quality'), '0\n');
    const r = probeKernel({ ...opts, crngReady: () => true });
    expect(r.hwrng).toMatchObject({ quality: 0, kernelFeeder: false });
    expect(r.kernel.regime).toBe('modern');
  });

  it('rng_quality wins over current_quality when both exist', () => {
    const { root, opts } = copyEra('6.6');
    fs.writeFileSync(path.join(root, 'sys/class/misc/hw_random/rng_quality'), '700\n');
    expect(probeKernel({ ...opts, crngReady: () => true }).hwrng.quality).toBe(700);
  });

  it('6.18 with `none` current: no current rng, `none` left out of available, thread gone → not feeding', () => {
    const { root, opts } = copyEra('6.6');
    const cls = path.join(root, 'sys/class/misc/hw_random');
    fs.writeFileSync(path.join(cls, 'rng_current'), 'none\n');
    fs.writeFileSync(path.join(cls, 'rng_available'), 'virtio_rng.0 none\n');
    fs.rmSync(path.join(root, 'proc/61'), { recursive: true });
    const r = probeKernel({ ...opts, crngReady: () => true });
    expect(r.hwrng).toMatchObject({ current: null, available: ['virtio_rng.0'], kernelFeeder: false, feederThreadPid: null });
    expect(r.kernel.regime).toBe('modern');
  });

  it('RHEL 7.9 whose thread is not running although quality is 1000 (kthreadd visible) → not feeding, legacy', () => {
    const { root, opts } = copyEra('el7.9-3.10');
    fs.rmSync(path.join(root, 'proc/457'), { recursive: true });
    const r = probeKernel({ ...opts, crngReady: () => true });
    expect(r.hwrng.kernelFeeder).toBe(false);
    expect(r.kernel.regime).toBe('legacy');
  });

  it('RHEL 7.9 seen through hidepid or a pid namespace (no kthreadd, no hwrng thread visible) → unknown, legacy with a note', () => {
    const { root, opts } = copyEra('el7.9-3.10');
    fs.rmSync(path.join(root, 'proc/457'), { recursive: true });
    fs.rmSync(path.join(root, 'proc/2'), { recursive: true });
    const r = probeKernel({ ...opts, crngReady: () => true });
    expect(r.hwrng.kernelFeeder).toBeNull();
    expect(r.kernel.regime).toBe('legacy');
    expect(r.notes.join('\n')).toMatch(/not visible/);
  });

  it('a thread without any quality file (unknown backport) → unknown', () => {
    const { root, opts } = copyEra('el7.0-3.10');
    fs.mkdirSync(path.join(root, 'proc/300'));
    fs.writeFileSync(path.join(root, 'proc/300/comm'), 'hwrng\n');
    fs.writeFileSync(path.join(root, 'proc/300/stat'), '300 (hwrng) S 2 0 0 0 -1 2129984 0 0\n');
    const r = probeKernel({ ...opts, crngReady: () => null });
    expect(r.hwrng).toMatchObject({ feederThreadPid: 300, kernelFeeder: null });
    expect(r.kernel.regime).toBe('legacy');
  });

  it('no hw_random core at all: nothing current, nothing available, not feeding', () => {
    const { root, opts } = copyEra('el6-2.6.32');
    fs.rmSync(path.join(root, 'sys'), { recursive: true });
    const r = probeKernel({ ...opts, hwrngDevice: '/nonexistent/hwrng', crngReady: () => null });
    expect(r.hwrng).toMatchObject({ present: false, current: null, available: [], quality: null, kernelFeeder: false });
    expect(r.kernel.regime).toBe('legacy');
  });
});

describe('decision tables', () => {
  const base = { threadSeen: true, kernelThreadsVisible: true, quality: 1024, current: 'virtio_rng.0', hwrngCoreLoaded: true };
  it.each([
    [{ quality: null, threadSeen: false }, false],
    [{ quality: null, threadSeen: true }, null],
    [{ current: null }, false],
    [{ quality: 0 }, false],
    [{ quality: 0, threadSeen: false }, false],
    [{}, true],
    [{ threadSeen: false }, false],
    [{ threadSeen: false, kernelThreadsVisible: false }, null],
  ] as const)('kernelFeeder %o → %s', (change, expected) => {
    expect(decideKernelFeeder({ ...base, ...change, notes: [] })).toBe(expected);
  });

  it.each([
    [256, true, 'modern'],
    [256, false, 'modern'],
    [256, null, 'modern'],
    [4096, true, 'assisted'],
    [4096, false, 'legacy'],
    [4096, null, 'legacy'],
  ] as const)('poolsize %d, kernelFeeder %s → %s', (pool, feeder, regime) => {
    expect(decideRegime(pool, feeder)).toBe(regime);
  });
});

describe('no kernel to probe', () => {
  it('a root without poolsize throws a KernelError ENOENT that exits 69', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-probe-empty-'));
    tmpDirs.push(empty);
    let err: unknown;
    try {
      probeKernel({ procRoot: empty, sysRoot: empty, crngReady: () => null });
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).code).toBe('ENOENT');
    expect((err as KernelError).message).toContain(path.join(empty, 'sys/kernel/random/poolsize'));
    expect(exitCodeFor(err)).toBe(EX.UNAVAILABLE);
  });
});
