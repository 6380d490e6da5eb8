// The native addon against the real kernel of this machine: real ioctls on
// /dev/random, real /dev/hwrng bytes injected with credit, ENOTTY on /dev/null,
// abuse that must throw and never crash, one load inside a Worker, and EPERM
// from an unprivileged child turned into exit 77 by the shared mapping.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/native/binding';
import { fromNativeError, KernelError } from '../../src/kernel/errors';
import { describeError, EX, exitCodeFor } from '../../src/cli/exit';
import { LinuxRandomDevice } from '../../src/kernel/random-device';
import { hasHwrng, isRoot, ROOT, skipReason, which } from '../helpers/env';

const binding = loadBinding();
let randomFd = -1;
let nullFd = -1;

beforeAll(() => {
  randomFd = fs.openSync('/dev/random', 'r');
  nullFd = fs.openSync('/dev/null', 'r');
});
afterAll(() => {
  fs.closeSync(randomFd);
  fs.closeSync(nullFd);
});

const readProc = (name: string): number => Number(fs.readFileSync(`/proc/sys/kernel/random/${name}`, 'utf8').trim());

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('getEntropyCount (RNDGETENTCNT)', () => {
  it('agrees with /proc/sys/kernel/random/entropy_avail', () => {
    const before = readProc('entropy_avail');
    const bits = binding.getEntropyCount(randomFd);
    const after = readProc('entropy_avail');
    expect(Number.isInteger(bits)).toBe(true);
    expect(bits).toBeGreaterThanOrEqual(Math.min(before, after));
    expect(bits).toBeLessThanOrEqual(Math.max(before, after, readProc('poolsize')));
  });

  it('fails with errno and syscall on /dev/null, mapped to ENOTTY in one place', () => {
    const raw = caught(() => binding.getEntropyCount(nullFd)) as Error & { errno: number; syscall: string };
    expect(raw.errno).toBe(-25);
    expect(raw.syscall).toBe('ioctl(RNDGETENTCNT)');
    const err = fromNativeError(raw);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).code).toBe('ENOTTY');
    expect(exitCodeFor(err)).toBe(EX.OSERR);
  });

  it('EBADF on a closed descriptor', () => {
    const fd = fs.openSync('/dev/random', 'r');
    fs.closeSync(fd);
    expect((fromNativeError(caught(() => binding.getEntropyCount(fd))) as KernelError).code).toBe('EBADF');
  });
});

describe('addEntropy (RNDADDENTROPY)', () => {
  it.skipIf(skipReason([[hasHwrng, 'needs root and a readable /dev/hwrng']]))('injects real /dev/hwrng bytes with credit', () => {
    const fd = fs.openSync('/dev/hwrng', 'r');
    const data = Buffer.alloc(64);
    let got = 0;
    while (got < data.length) got += fs.readSync(fd, data, got, data.length - got, null);
    fs.closeSync(fd);
    const device = new LinuxRandomDevice();
    try {
      const before = device.entropyBits();
      expect(() => device.addEntropy(data, 8 * data.length)).not.toThrow();
      const after = device.entropyBits();
      // A 5.18+ kernel whose crng is ready ignores the credit (entropy stays 256);
      // older kernels raise it, asymptotically. It never falls because of an add.
      expect(after).toBeGreaterThanOrEqual(Math.min(before, readProc('poolsize')) - 64);
      expect(after).toBeLessThanOrEqual(readProc('poolsize'));
    } finally {
      device.close();
    }
  });

  it('ENOTTY on /dev/null (not a random device)', () => {
    const e = fromNativeError(caught(() => binding.addEntropy(nullFd, new Uint8Array(8), 0))) as KernelError;
    expect(e.code).toBe('ENOTTY');
    expect(e.syscall).toBe('ioctl(RNDADDENTROPY)');
  });

  it('rejects bad counts and buffers before any syscall', () => {
    const data = new Uint8Array(16);
    expect(caught(() => binding.addEntropy(randomFd, data, -1))).toBeInstanceOf(RangeError);
    expect(caught(() => binding.addEntropy(randomFd, data, 129))).toBeInstanceOf(RangeError);
    expect(caught(() => binding.addEntropy(randomFd, new Uint8Array(0), 0))).toBeInstanceOf(RangeError);
    expect(caught(() => binding.addEntropy(randomFd, new Uint8Array(binding.constants.MAX_ADD_BYTES + 1), 0))).toBeInstanceOf(RangeError);
    expect(caught(() => binding.addEntropy(randomFd, data, 1.5))).toBeInstanceOf(TypeError);
    expect(caught(() => binding.addEntropy(randomFd, data, Number.NaN))).toBeInstanceOf(TypeError);
  });
});

describe('abuse never crashes the process', () => {
  const b = binding as unknown as Record<string, (...args: unknown[]) => unknown>;
  const cases: Array<[string, unknown[]]> = [
    ['getEntropyCount', []],
    ['getEntropyCount', ['3']],
    ['getEntropyCount', [-1]],
    ['getEntropyCount', [2 ** 40]],
    ['addEntropy', []],
    ['addEntropy', [3]],
    ['addEntropy', [3, 'bytes', 8]],
    ['addEntropy', [3, new Float32Array(4), 8]],
    ['addEntropy', [3, new Uint16Array(4), 8]],
    ['addEntropy', [3, {}, 8]],
    ['addEntropy', [3, new Uint8Array(4), '8']],
    ['pollFd', []],
    ['pollFd', [0, 1]],
    ['pollFd', [0, 1, -1]],
    ['pollFd', [0, 1, 60001]],
    ['pollFd', [0, 1, Infinity]],
    ['pollFd', [0, 'POLLIN', 10]],
    ['pollFd', [0, 1, 10, 'wake']],
    ['pollFd', [0, 1, 10, -2]],
    ['reseedCrng', []],
    ['reseedCrng', [null]],
    ['sendDatagram', []],
    ['sendDatagram', ['relative/path', 'READY=1']],
    ['sendDatagram', ['/x', 'a'.repeat(5000)]], // message too long
    ['sendDatagram', ['@' + 'x'.repeat(200), 'READY=1']], // path too long
    ['readCpuRng', []],
    ['readCpuRng', [new Uint16Array(4), false]],
  ];
  it.each(cases.map(([n, a]) => [n, JSON.stringify(a).slice(0, 60), a] as const))('%s(%s) throws TypeError or RangeError', (name, _label, args) => {
    const fn = b[name];
    expect(fn).toBeTypeOf('function');
    const e = caught(() => fn!(...args));
    expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
  });
});

describe('pollFd (poll(2) off the main thread)', () => {
  it('resolves revents on /dev/random', async () => {
    const { POLLIN, POLLOUT } = binding.constants;
    const revents = await binding.pollFd(randomFd, POLLIN | POLLOUT, 0);
    const ready = binding.crngReady();
    if (ready === true && readProc('poolsize') === 256) {
      // 5.18+: POLLIN once the crng is ready, POLLOUT never again (kernel doc §3.7)
      expect(revents & POLLIN).toBe(POLLIN);
      expect(revents & POLLOUT).toBe(0);
    } else {
      expect(revents & ~(POLLIN | POLLOUT)).toBe(0);
    }
  });

  it('times out with 0 and does not block the event loop meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    // POLLPRI is never raised on /dev/random: a pure timeout
    const revents = await binding.pollFd(randomFd, 0x002, 120);
    clearInterval(timer);
    expect(revents).toBe(0);
    expect(ticks).toBeGreaterThan(3);
  });

  it('a byte on the wake pipe ends a long poll at once', async () => {
    const [r, w] = binding.makeWakePipe();
    try {
      const pending = binding.pollFd(randomFd, 0x002, 60000, r);
      setTimeout(() => fs.writeSync(w, Buffer.from([1])), 20);
      expect(await pending).toBe(binding.constants.POLL_WOKEN);
    } finally {
      fs.closeSync(r);
      fs.closeSync(w);
    }
  });

  it('LinuxRandomDevice.interruptPoll resolves a pending poll with 0', async () => {
    const device = new LinuxRandomDevice();
    try {
      await device.poll(0x002, 0); // creates the wake pipe
      const pending = device.poll(0x002, 60000);
      setTimeout(() => device.interruptPoll(), 20);
      expect(await pending).toBe(0);
      expect(await device.poll(0x002, 0)).toBe(0); // drained: the next poll is not woken early
    } finally {
      device.close();
    }
  });

  it('reports POLLNVAL for a closed descriptor', async () => {
    const fd = fs.openSync('/dev/null', 'r');
    fs.closeSync(fd);
    expect((await binding.pollFd(fd, binding.constants.POLLIN, 0)) & 0x20).toBe(0x20);
  });
});

describe('crngReady and reseedCrng', () => {
  it('crngReady agrees with getrandom on this kernel', () => {
    const ready = binding.crngReady();
    expect([true, false, null]).toContain(ready);
    // On 5.19+ entropy_avail reads 256 exactly when the crng is ready (kernel doc §3.8)
    if (readProc('poolsize') === 256) expect(ready).toBe(readProc('entropy_avail') === 256);
  });

  it('reseedCrng maps ENOTTY on /dev/null', () => {
    expect((fromNativeError(caught(() => binding.reseedCrng(nullFd))) as KernelError).code).toBe('ENOTTY');
  });

  it.skipIf(skipReason([[isRoot, 'needs root for RNDRESEEDCRNG']]))('reseedCrng on a ready 4.17+ kernel reseeds', () => {
    expect(binding.reseedCrng(randomFd)).toBe(binding.crngReady() === true);
  });
});

describe('cpu RNG', () => {
  it('fills a buffer only where CPUID says the instruction exists', () => {
    const support = binding.cpuRngSupport();
    const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
    expect(support.rdrand).toBe(/\brdrand\b/.test(cpuinfo));
    expect(support.rdseed).toBe(/\brdseed\b/.test(cpuinfo));
    const buf = new Uint8Array(37);
    if (support.rdrand) {
      expect(binding.readCpuRng(buf, false)).toBe(37);
      expect(buf.some((x) => x !== 0)).toBe(true);
    } else {
      expect((fromNativeError(caught(() => binding.readCpuRng(buf, false))) as KernelError).code).toBe('ENODEV');
    }
    if (!support.rdseed) expect((fromNativeError(caught(() => binding.readCpuRng(buf, true))) as KernelError).code).toBe('ENODEV');
  });
});

describe('worker threads', () => {
  it('loads and works inside a Worker as well as on the main thread', async () => {
    const addon = path.join(ROOT, 'build', 'Release', 'vrngd.node');
    const worker = new Worker(
      `const { parentPort, workerData } = require('worker_threads');
       const fs = require('fs');
       const b = require(workerData);
       const fd = fs.openSync('/dev/random', 'r');
       let enotty = null;
       try { b.getEntropyCount(fs.openSync('/dev/null', 'r')); } catch (e) { enotty = e.errno; }
       b.pollFd(fd, b.constants.POLLIN, 0).then((r) => parentPort.postMessage({ bits: b.getEntropyCount(fd), enotty, r }));`,
      { eval: true, workerData: addon },
    );
    const msg = await new Promise<{ bits: number; enotty: number; r: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(msg.enotty).toBe(-25);
    expect(msg.bits).toBeGreaterThanOrEqual(0);
    expect(binding.getEntropyCount(randomFd)).toBeGreaterThanOrEqual(0);
  });
});

describe('without CAP_SYS_ADMIN', () => {
  const setpriv = which('setpriv');
  it.skipIf(skipReason([[isRoot, 'needs root to drop to an unprivileged user'], [setpriv !== null, 'needs setpriv (util-linux)']]))(
    'addEntropy fails with EPERM, and the shared mapping gives exit 77 and one line naming CAP_SYS_ADMIN',
    () => {
      const script = `
        const { LinuxRandomDevice } = require('./dist/kernel/random-device');
        const { exitCodeFor, describeError } = require('./dist/cli/exit');
        const dev = new LinuxRandomDevice();
        try { dev.addEntropy(new Uint8Array(16), 128); console.log(JSON.stringify({ ok: true })); }
        catch (e) { console.log(JSON.stringify({ code: e.code, exit: exitCodeFor(e), line: describeError(e, 'inject') })); }`;
      const out = execFileSync(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      const result = JSON.parse(out) as { code: string; exit: number; line: string };
      expect(result.code).toBe('EPERM');
      expect(result.exit).toBe(77);
      expect(result.line).toMatch(/^inject: permission denied: ioctl\(RNDADDENTROPY\) needs CAP_SYS_ADMIN/);
      expect(result.line).not.toContain('\n');
      // and in-process, the same mapping
      const local = new KernelError('EPERM', -1, 'ioctl(RNDADDENTROPY)', 'ioctl(RNDADDENTROPY): Operation not permitted');
      expect(exitCodeFor(local)).toBe(77);
      expect(describeError(local)).toContain('CAP_SYS_ADMIN');
    },
  );

  it.skipIf(skipReason([[isRoot, 'needs root to drop to an unprivileged user'], [setpriv !== null, 'needs setpriv (util-linux)']]))(
    'getEntropyCount still works unprivileged',
    () => {
      const r = spawnSync(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e',
        "const b=require('./build/Release/vrngd.node');console.log(b.getEntropyCount(require('fs').openSync('/dev/random','r')))"], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(0);
    },
  );
});
