// The kernel probe against the live machine: every number must equal what /proc
// and /sys say (read here, independently), crng readiness comes from the real
// addon, and on the test VM (5.18+ with virtio-rng and the kernel's hwrng thread)
// the regime is modern and the kernel feeds.
import * as fs from 'fs';
import { describe, expect, it } from 'vitest';
import { probeKernel } from '../../src/kernel/probe';
import { loadBinding } from '../../src/native/binding';
import { readNumber as readNum, readTrimmed as read, skipReason } from '../helpers/env';

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
    expect(r.kernel.crngReady).toBe(loadBinding().crngReady());

    const current = read(`${HWRNG}/rng_current`);
    expect(r.hwrng.current).toBe(current === '' || current === 'none' ? null : current);
    expect(r.hwrng.available).toEqual((read(`${HWRNG}/rng_available`) ?? '').split(/\s+/).filter((n) => n && n !== 'none'));
    expect(r.hwrng.quality).toBe(readNum(`${HWRNG}/rng_quality`) ?? readNum('/sys/module/rng_core/parameters/current_quality'));
    expect(r.hwrng.defaultQuality).toBe(readNum('/sys/module/rng_core/parameters/default_quality'));
    expect(r.hwrng.present).toBe(fs.existsSync('/dev/hwrng') && fs.statSync('/dev/hwrng').isCharacterDevice());
    const threads = hwrngThreads();
    expect(r.hwrng.feederThreadPid).toBe(threads[0] ?? null);
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
