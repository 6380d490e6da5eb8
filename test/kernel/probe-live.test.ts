// The kernel probe against the live machine: every number must equal what /proc
// and /sys say (read here, independently), crng readiness must agree with what
// the kernel shows by other roads than the probe's getrandom(GRND_NONBLOCK) call
// (poll(2) on /dev/random, and on 5.18+ entropy_avail against poolsize; python's
// os.getrandom where it is installed), and on the test VM (5.18+ with virtio-rng
// and the kernel's hwrng thread) the regime is modern and the kernel feeds.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { describe, expect, it } from 'vitest';
import { LinuxRandomDevice } from '../../src/kernel/random-device';
import { probeKernel } from '../../src/kernel/probe';
import { loadBinding } from '../../src/native/binding';
import { readNumber as readNum, readTrimmed as read, skipReason, which } from '../helpers/env';

const RANDOM = '/proc/sys/kernel/random';
const HWRNG = '/sys/class/misc/hw_random';

/** pids whose comm is `hwrng`, from our own scan of /proc. */
function hwrngThreads(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => read(`/proc/${n}/comm`) === 'hwrng')
    .map(Number);
}

describe('probeKernel on this machine', () => {
  it('reports exactly what /proc and /sys say', () => {
    const availBefore = readNum(`${RANDOM}/entropy_avail`);
    const r = probeKernel();
    const availAfter = readNum(`${RANDOM}/entropy_avail`);

    expect(r.kernel.release).toBe(read('/proc/sys/kernel/osrelease'));
    expect(r.kernel.poolsizeBits).toBe(readNum(`${RANDOM}/poolsize`));
    expect(r.kernel.writeWakeupThresholdBits).toBe(readNum(`${RANDOM}/write_wakeup_threshold`));
    expect(r.kernel.entropyAvailBits).not.toBeNull();
    expect(r.kernel.entropyAvailBits).toBeGreaterThanOrEqual(Math.min(availBefore ?? 0, availAfter ?? 0));
    expect(r.kernel.entropyAvailBits).toBeLessThanOrEqual(Math.max(availBefore ?? 0, availAfter ?? 0));
    expect([true, false, null]).toContain(r.kernel.crngReady);

    const current = read(`${HWRNG}/rng_current`);
    expect(r.hwrng.current).toBe(current === '' || current === 'none' ? null : current);
    expect(r.hwrng.available).toEqual((read(`${HWRNG}/rng_available`) ?? '').split(/\s+/).filter((n) => n && n !== 'none'));
    expect(r.hwrng.quality).toBe(readNum(`${HWRNG}/rng_quality`) ?? readNum('/sys/module/rng_core/parameters/current_quality'));
    expect(r.hwrng.defaultQuality).toBe(readNum('/sys/module/rng_core/parameters/default_quality'));
    expect(r.hwrng.present).toBe(fs.existsSync('/dev/hwrng') && fs.statSync('/dev/hwrng').isCharacterDevice());
    const threads = hwrngThreads();
    expect(r.hwrng.feederThreadPid).toBe(threads[0] ?? null);
  });

  it('crng readiness agrees with what the kernel shows by other roads than the probe\'s getrandom call', async () => {
    const r = probeKernel();
    const poolsize = readNum(`${RANDOM}/poolsize`);
    if (r.kernel.crngReady === null) {
      // no getrandom (2.6.32, 3.10): the probe must say so, and not be guessing
      expect(r.kernel.getrandom).toBe(false);
      return;
    }
    expect(r.kernel.getrandom).toBe(true);
    // 5.18+ (poolsize 256): /dev/random is readable (POLLIN) exactly when the crng is
    // ready, and entropy_avail reaches 256 exactly then (init_bits only rise until then)
    if (poolsize === 256) {
      const dev = new LinuxRandomDevice();
      let revents: number;
      try {
        revents = await dev.poll(loadBinding().constants.POLLIN, 0);
      } finally {
        dev.close();
      }
      expect(revents === loadBinding().constants.POLLIN, 'poll(/dev/random, POLLIN, 0)').toBe(r.kernel.crngReady);
      expect((readNum(`${RANDOM}/entropy_avail`) ?? 0) >= 256, 'entropy_avail >= 256').toBe(r.kernel.crngReady);
    }
    // another process, another getrandom implementation (CPython's os.getrandom)
    const py = which('python3');
    if (py) {
      const out = spawnSync(py, ['-c', 'import os\ntry:\n  os.getrandom(1, os.GRND_NONBLOCK); print("ready")\nexcept BlockingIOError: print("not-ready")\nexcept (AttributeError, OSError): print("none")'], { encoding: 'utf8', timeout: 10000 });
      const answer = out.stdout.trim();
      if (answer === 'ready' || answer === 'not-ready') expect(answer === 'ready', 'python3 os.getrandom(GRND_NONBLOCK)').toBe(r.kernel.crngReady);
      else process.stderr.write(`note: python3 gave no getrandom answer (${JSON.stringify(answer || out.stderr.trim())}); checked by poll and entropy_avail only\n`);
    }
  });

  it('the probe reports the crng readiness it is given, not a constant (both answers)', () => {
    expect(probeKernel({ crngReady: () => false }).kernel.crngReady).toBe(false);
    expect(probeKernel({ crngReady: () => true }).kernel.crngReady).toBe(true);
  });

  const onTestVm = skipReason([
    [read(`${RANDOM}/poolsize`) === '256', 'not a 5.18+ kernel (poolsize is not 256)'],
    [read(`${HWRNG}/rng_current`) === 'virtio_rng.0', 'no virtio_rng.0 current hwrng'],
    [hwrngThreads().length > 0, 'no hwrng kernel thread visible in /proc'],
  ]);
  it.skipIf(onTestVm)('on the test VM: modern, crng ready, virtio_rng.0 fed by the kernel', () => {
    const r = probeKernel();
    expect(r.kernel.regime).toBe('modern');
    expect(r.kernel.crngReady).toBe(true);
    expect(r.kernel.getrandom).toBe(true);
    expect(r.hwrng.present).toBe(true);
    expect(r.hwrng.current).toBe('virtio_rng.0');
    expect(r.hwrng.kernelFeeder).toBe(true);
    expect(r.hwrng.quality).toBeGreaterThan(0);
  });
});
