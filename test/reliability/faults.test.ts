// Faults of the source and of the kernel, through the real daemon against the
// simulated kernel (fake timers): short reads, EINTR/EAGAIN storms, EIO, a device
// that goes and comes back, the kernel refusing with EPERM (capability dropped
// mid-run) or EINVAL. Rows of docs/reliability.md that test/daemon/daemon-sim.test.ts
// does not already cover.
import { exitCodeFor } from '../../src/cli/exit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KernelError } from '../../src/kernel/errors';
import { FakeSource, random } from '../fakes/fake-source';
import { passesOnItsOwn } from './fips-reference';
import { RecordingKernel, simDaemon, visibleLines } from './sim';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-05T00:01:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

const hw = (rate = 20000): FakeSource => new FakeSource('hwrng', '/dev/hwrng', random, rate);

describe('source faults', () => {
  it('short reads (at most 37 bytes per read): blocks are assembled across reads, credited bytes are whole passing blocks', async () => {
    const src = hw();
    src.generator = (n) => random(Math.min(n, 37));
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(60000);
    const st = h.daemon.state();
    expect(src.reads).toBeGreaterThan(500); // really short: ≥ 68 reads per block
    expect(st.sources[0]!.blocksPassed).toBeGreaterThan(5);
    expect(st.sources[0]!.state).toBe('ok');
    expect(st.bitsAsked).toBe(h.sim.claimedBits);
    const injected = h.sim.injected();
    for (let i = 0; i + 2500 <= injected.length; i += 2500) expect(passesOnItsOwn(injected.subarray(i, i + 2500))).toBe(true);
    expect(visibleLines(h.logger).filter((l) => /→/.test(l))).toHaveLength(1); // absent → ok only
    await h.daemon.stop();
  });

  for (const code of ['EINTR', 'EAGAIN']) {
    it(`${code} on most reads: retried at once, feeding goes on, no state change is logged`, async () => {
      const src = hw();
      // 4 failures then a good read, over and over (below the 5 quick retries)
      const realRead = src.read.bind(src);
      let n = 0;
      src.read = (bytes: number) => {
        if (n++ % 5 !== 4) src.failNextReads.push(code);
        return realRead(bytes);
      };
      const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
      h.sim.startReader(1024);
      await h.daemon.start();
      await vi.advanceTimersByTimeAsync(60000);
      expect(n).toBeGreaterThan(50);
      expect(h.daemon.state().sources[0]!.state).toBe('ok');
      expect(h.sim.addCalls).toBeGreaterThan(0);
      expect(visibleLines(h.logger).filter((l) => /→/.test(l))).toHaveLength(1);
      await h.daemon.stop();
    });
  }

  it('EAGAIN without end (more than the quick retries): the source counts as lost and is retried with backoff', async () => {
    const src = hw();
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(2000);
    src.failNextReads = new Array(10000).fill('EAGAIN');
    await vi.advanceTimersByTimeAsync(60000);
    expect(h.daemon.state().sources[0]!.state).toBe('absent');
    expect(h.logger.visible(/ok → absent: .*EAGAIN/)).toHaveLength(1);
    src.failNextReads = [];
    await vi.advanceTimersByTimeAsync(70000);
    expect(h.daemon.state().sources[0]!.state).toBe('ok');
    await h.daemon.stop();
  });

  it('EIO from a read: the source is closed, reopened after a backoff and feeds again; said once each way', async () => {
    const src = hw();
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(5000);
    const credited = h.daemon.totals.bitsCredited;
    const opens = src.opens;
    src.failNextReads = ['EIO'];
    await vi.advanceTimersByTimeAsync(30000);
    expect(src.opens).toBe(opens + 1);
    expect(h.logger.visible(/hwrng \(\/dev\/hwrng\): ok → absent: .*EIO/)).toHaveLength(1);
    expect(h.logger.visible('absent → ok: block passed')).toHaveLength(1);
    expect(h.daemon.totals.bitsCredited).toBeGreaterThan(credited);
    await h.daemon.stop();
  });

  it('EIO on every read for 5 minutes: retries back off (1 s, 2 s, 4 s ...), nothing credited, one line', async () => {
    const src = hw();
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    const opens = src.opens;
    src.failNextReads = new Array(100000).fill('EIO');
    await vi.advanceTimersByTimeAsync(1000); // a block read before the fault may still be mixed in
    const calls = h.sim.addCalls;
    await vi.advanceTimersByTimeAsync(299000);
    // 1+2+4+...+256 s > 300 s: at most 9 reopens in 5 minutes, not one per second
    expect(src.opens - opens).toBeGreaterThanOrEqual(5);
    expect(src.opens - opens).toBeLessThanOrEqual(9);
    expect(h.sim.addCalls).toBe(calls);
    expect(h.logger.visible('→ absent')).toHaveLength(1);
    await h.daemon.stop();
  });

  it('ENODEV with the device node gone (ENOENT on open) and back: resumes feeding', async () => {
    const src = hw();
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    src.present = false;
    await vi.advanceTimersByTimeAsync(120000);
    const calls = h.sim.addCalls;
    await vi.advanceTimersByTimeAsync(10000);
    expect(h.sim.addCalls).toBe(calls); // nothing while gone
    src.present = true;
    await vi.advanceTimersByTimeAsync(130000); // at most one backoff period (64 s by now) later
    expect(h.sim.addCalls).toBeGreaterThan(calls);
    expect(h.logger.visible('→ absent')).toHaveLength(1);
    expect(h.logger.visible('absent → ok: block passed')).toHaveLength(1);
    await h.daemon.stop();
  });
});

class RefusingKernel extends RecordingKernel {
  refuse: string | null = null;
  override addEntropy(data: Uint8Array, entropyBits: number): void {
    if (this.refuse === 'EINVAL') throw new KernelError('EINVAL', -22, 'ioctl(RNDADDENTROPY)', 'ioctl(RNDADDENTROPY): EINVAL');
    super.addEntropy(data, entropyBits);
  }
}

describe('the kernel refusing', () => {
  it('EPERM after a capability drop mid-run: stops with 77, names CAP_SYS_ADMIN, claims nothing more', async () => {
    const h = simDaemon({ era: 'el6', sources: [hw()], entropyBits: 0 });
    h.sim.startReader(1024);
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(5000);
    const claimed = h.sim.claimedBits;
    expect(claimed).toBeGreaterThan(0);
    h.sim.noPermission = true;
    await vi.advanceTimersByTimeAsync(10000);
    expect(exitCodeFor(await h.daemon.done())).toBe(77);
    expect(h.daemon.fatalError?.message).toMatch(/permission denied: needs CAP_SYS_ADMIN/);
    expect(h.daemon.fatalError?.message.split('\n')).toHaveLength(1);
    expect(h.daemon.totals.bitsAsked).toBe(claimed); // the refused call is not counted
    expect(h.notifier.sent.at(-1)).toBe('STOPPING=1');
  });

  it('EINVAL from RNDADDENTROPY: stops with 71 and a one-line message naming EINVAL; the refused call is not counted', async () => {
    const src = hw();
    const sim = new RefusingKernel({ era: 'el6', entropyBits: 0 });
    const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
    // same wiring, refusing kernel: rebuild with it
    const { buildDaemon } = await import('../../src/daemon/daemon');
    const { BlockGate } = await import('../../src/core/gate');
    const daemon = buildDaemon({
      config: h.config,
      device: sim,
      kernel: sim.kernelView(),
      sources: [{ source: src, gate: new BlockGate({ baselineBlock: true }), readsKernelHwrng: false }],
      logger: h.logger,
      notifier: h.notifier,
    });
    sim.startReader(1024);
    await daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    const claimed = sim.claimedBits;
    expect(claimed).toBeGreaterThan(0);
    sim.refuse = 'EINVAL';
    await vi.advanceTimersByTimeAsync(10000);
    expect(exitCodeFor(await daemon.done())).toBe(71);
    expect(daemon.fatalError?.message).toMatch(/RNDADDENTROPY on \/dev\/random failed: EINVAL/);
    expect(daemon.fatalError?.message.split('\n')).toHaveLength(1);
    expect(daemon.totals.bitsAsked).toBe(claimed);
    sim.stopReader();
  });
});
