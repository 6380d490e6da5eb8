// The real daemon loop against simulated kernels of every era, with fake timers.
import { exitCodeFor } from '../../src/cli/exit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { biased, FakeSource, loneFailures, random, repeating, stuck, zeros } from '../fakes/fake-source';
import { harness } from './harness';

beforeEach(() => {
  vi.useFakeTimers();
  // A fixed clock: the reseed schedule is wall-clock cron (*/5), so a test started a second
  // before a five-minute boundary would see one reseed more (CI did, at 18:55:00).
  vi.setSystemTime(new Date(2026, 0, 1, 12, 0, 30));
});
afterEach(() => {
  vi.useRealTimers();
});

const hw = (gen = random, rate = 10000): FakeSource => new FakeSource('hwrng', '/dev/hwrng', gen, rate);

describe('legacy kernels (2.6.32 / 3.10): fill on POLLOUT up to the watermark', () => {
  it('3.10 with its default write_wakeup_threshold 128: the daemon raises it to the watermark, so a 1 KiB/s reader never finds the pool short; 128 again at stop', async () => {
    const h = harness({ era: 'v3.10', sources: [hw()], entropyBits: 0, raiseWakeup: true });
    expect(h.sim.writeWakeupThresholdBits).toBe(128);
    h.sim.startReader(1024);
    await h.daemon.start();
    expect(h.sim.writeWakeupThresholdBits).toBe(3072);
    await vi.advanceTimersByTimeAsync(5000);
    h.sim.markSteady();
    await vi.advanceTimersByTimeAsync(60000);
    expect(h.sim.readerReads).toBeGreaterThan(950);
    expect(h.sim.readerShortBits).toBe(0);
    expect(h.sim.lowestAfterSteady as number).toBeGreaterThanOrEqual(3072 - 2 * 512);
    expect(h.logger.visible(/write_wakeup_threshold 128 → 3072/)).toHaveLength(1);
    await h.daemon.stop();
    expect(h.sim.writeWakeupThresholdBits).toBe(128);
  });

  for (const [era, wwt] of [
    ['el6', 896],
    ['v3.10', 896],
  ] as const) {
    it(`${era}, write_wakeup_threshold ${wwt}: a 1 KiB/s /dev/random reader never starves and every bit is accounted for`, async () => {
      const src = hw();
      const h = harness({ era, sources: [src], entropyBits: 0, writeWakeupThresholdBits: wwt });
      h.sim.startReader(1024);
      await h.daemon.start();
      expect(h.daemon.mode).toBe('fill');
      await vi.advanceTimersByTimeAsync(5000);
      expect(h.sim.entropyBits()).toBeGreaterThan(wwt - 512);
      h.sim.markSteady();
      await vi.advanceTimersByTimeAsync(60000);
      // the reader took 64 B (512 bits) every 62.5 ms for a minute, and never found the pool short
      expect(h.sim.readerReads).toBeGreaterThan(950);
      expect(h.sim.readerShortBits).toBe(0);
      expect(h.sim.lowestAfterSteady as number).toBeGreaterThanOrEqual(wwt - 512);
      // accounting: what the daemon claimed is what the kernel was asked for; what it
      // measured is what the kernel credited; the pool balance closes
      const t = h.daemon.totals;
      expect(t.bitsAsked).toBe(h.sim.claimedBits);
      expect(t.bytesInjected).toBe(h.sim.mixedBytes);
      expect(t.injections).toBe(h.sim.addCalls);
      // the kernel counts 1/8 bits, RNDGETENTCNT whole bits: at most one bit of rounding per fill
      expect(Math.abs(t.bitsCredited - h.sim.creditedBits)).toBeLessThanOrEqual(h.sim.addCalls / 10 + 1);
      expect(Math.abs(h.sim.creditedBits - h.sim.drainedBits - h.sim.entropyBits())).toBeLessThan(1);
      if (era === 'el6') expect(t.bitsCredited).toBeLessThan(t.bitsAsked); // asymptotic crediting
      else expect(t.bitsCredited).toBeLessThanOrEqual(t.bitsAsked);
      // nothing credited beyond 8 bits per byte of passing blocks
      const st = h.daemon.state();
      expect(t.bitsAsked).toBeLessThanOrEqual(st.sources[0]!.blocksPassed * 2500 * 8);
      await h.daemon.stop();
      expect(await h.daemon.done()).toBeNull(); // the poll(2) in flight is interrupted
    });
  }

  it('el6 with the default threshold 128: refills to the -W watermark each time the pool drops below 128', async () => {
    const h = harness({ era: 'el6', sources: [hw()], entropyBits: 0, raw: { fillWatermark: '3072' } });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.sim.entropyBits()).toBeGreaterThanOrEqual(3072);
    const calls = h.sim.addCalls;
    await vi.advanceTimersByTimeAsync(10000);
    expect(h.sim.addCalls).toBe(calls); // full pool, no reader: nothing to do
    h.sim.startReader(1024);
    await vi.advanceTimersByTimeAsync(30000);
    expect(h.sim.addCalls).toBeGreaterThan(calls);
    expect(h.daemon.totals.bitsAsked).toBe(h.sim.claimedBits);
    await h.daemon.stop();
  });

  it('a full pool: one poll(2) per 60 s safety re-check (no polling loop), and stop() ends it at once', async () => {
    const h = harness({ era: 'el6', sources: [hw()], entropyBits: 0, raw: { fillWatermark: '3072' } });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.sim.entropyBits()).toBeGreaterThanOrEqual(3072);
    const waits = h.sim.pollWaits;
    await vi.advanceTimersByTimeAsync(120000);
    expect(h.sim.pollWaits - waits).toBeLessThanOrEqual(2); // 2 minutes: at most 2 safety re-checks
    expect(h.sim.pendingPolls).toBe(1);
    await h.daemon.stop();
    expect(h.sim.pendingPolls).toBe(0); // interrupted, no timer advanced
    expect(await h.daemon.done()).toBeNull();
  });
});

describe('modern kernels (5.19+ semantics)', () => {
  it('feeds until the crng is ready, reseeds, then mixes a fresh block on the reseed schedule only', async () => {
    const src = hw();
    const h = harness({ era: 'modern', sources: [src], entropyBits: 0, crngReady: false, kernelFeeder: false });
    await h.daemon.start();
    expect(h.daemon.mode).toBe('seed');
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.sim.crngReady()).toBe(true);
    expect(h.daemon.mode).toBe('reseed');
    expect(h.sim.reseeds).toBe(1);
    const reads = src.reads;
    const mixed = h.sim.mixedBytes;
    await vi.advanceTimersByTimeAsync(5 * 60 * 1000 + 1000);
    // one reseed when ready, the next at the next */5 minute
    expect(h.sim.reseeds).toBe(2);
    expect(h.sim.mixedBytes).toBe(mixed + 2500);
    // between reseeds nothing is read: one block per scheduled reseed
    expect(src.reads - reads).toBeLessThanOrEqual(2);
    await h.daemon.stop();
  });

  it("with the kernel's hwrng thread present: does not read /dev/hwrng, says so once, and arms no timer at all", async () => {
    const src = hw();
    const h = harness({ era: 'modern', sources: [src], entropyBits: 256, kernelFeeder: true });
    await h.daemon.start();
    expect(h.daemon.mode).toBe('idle');
    await vi.advanceTimersByTimeAsync(2000); // let the coalesced state write happen
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3 * 3600 * 1000);
    expect(src.reads).toBe(0);
    expect(h.sim.addCalls).toBe(0);
    expect(h.logger.visible("kernel's hwrng thread")).toHaveLength(1);
    expect(h.notifier.sent[0]).toMatch(/^READY=1 STATUS=.*idle.*hwrng standby/);
    expect(h.states.at(-1)!.sources[0]).toMatchObject({ standby: true, bytesRead: 0 });
    await h.daemon.stop();
  });

  it('--compete reads /dev/hwrng anyway', async () => {
    const src = hw();
    const h = harness({ era: 'modern', sources: [src], entropyBits: 256, kernelFeeder: true, raw: { compete: true } });
    await h.daemon.start();
    expect(h.daemon.mode).toBe('reseed');
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.sim.reseeds).toBe(1); // fresh bytes once at start
    expect(h.sim.mixedBytes).toBe(2500);
    expect(vi.getTimerCount()).toBe(2); // the next */5 reseed and the hourly stats line, nothing else
    await h.daemon.stop();
  });

  it('assisted (RHEL 7.9): a pipe source fills while hwrng stays on standby', async () => {
    const pipe = new FakeSource('pipe', '/run/feed', random, 10000, 8, 'pipe');
    const h = harness({ era: 'el7', sources: [hw(), pipe], entropyBits: 100, kernelFeeder: true });
    await h.daemon.start();
    expect(h.daemon.mode).toBe('fill');
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.sim.entropyBits()).toBeGreaterThanOrEqual(3072);
    expect(h.daemon.state().sources.map((s) => [s.name, s.standby, s.bytesRead > 0])).toEqual([
      ['hwrng', true, false],
      ['pipe', false, true],
    ]);
    await h.daemon.stop();
  });
});

describe('bad data is never credited', () => {
  for (const [name, gen] of [
    ['zero bytes', () => zeros],
    ['a repeating block', () => repeating()],
    ['biased bits', () => biased],
    ['a stuck source', () => stuck],
  ] as const) {
    it(`${name}: 0 bits credited, blocks counted as failed, source disabled and retried with backoff`, async () => {
      const src = hw(gen(), 50000);
      const h = harness({ era: 'el6', sources: [src], entropyBits: 0 });
      await h.daemon.start();
      await vi.advanceTimersByTimeAsync(30000);
      expect(h.sim.addCalls).toBe(0);
      expect(h.sim.claimedBits).toBe(0);
      expect(h.daemon.totals.bitsCredited).toBe(0);
      const st = h.daemon.state();
      expect(st.sources[0]!.blocksPassed).toBe(0);
      expect(st.sources[0]!.blocksFailed).toBeGreaterThanOrEqual(4);
      expect(src.opens).toBeGreaterThan(2); // disabled, then retried
      // each state change logged once, repetitions not logged
      expect(h.logger.visible('ok → failing')).toHaveLength(1);
      expect(h.logger.visible('failing → disabled')).toHaveLength(1);
      expect(h.logger.visible('→ ok')).toHaveLength(1); // the first open only
      await h.daemon.stop();
    });
  }

  it('a lone failed block (a FIPS false alarm) is a debug line, counted, with no state change', async () => {
    const src = hw(loneFailures(40), 1e6);
    const h = harness({ era: 'el6', sources: [src], raw: { test: true } });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(1000); // 400 blocks, 10 of them with a 32-bit run of zeros
    await h.daemon.stop();
    const st = h.daemon.state();
    expect(st.sources[0]!.blocksPassed).toBeGreaterThan(280);
    // the injected ones, plus any true false alarm of the random data (~1 in 1,300)
    const blocks = st.sources[0]!.blocksPassed + st.sources[0]!.blocksFailed + 1; // + the baseline block
    expect(st.fipsFailures.longRun).toBeGreaterThanOrEqual(Math.floor(blocks / 40));
    expect(st.fipsFailures.longRun).toBeGreaterThanOrEqual(7);
    expect(h.logger.lines.filter((l) => l.level === 'debug' && /block discarded: failed FIPS 140-2/.test(l.message))).toHaveLength(st.sources[0]!.blocksFailed);
    const visible = h.logger.lines.filter((l) => l.level !== 'debug' && l.level !== 'info');
    expect(visible.map((l) => l.message).filter((m) => /failing|→ ok: block passed/.test(m))).toEqual([]);
    expect(visible.length).toBeLessThanOrEqual(3); // opened, the plan, nothing else
    expect(st.sources[0]!.state).toBe('ok');
  });

  it('plain random data over 4,000 blocks: only the start-up lines are above debug', async () => {
    const h = harness({ era: 'el6', sources: [hw(random, 1e7)], raw: { test: true } });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(4000); // one block per fake millisecond
    await h.daemon.stop();
    const st = h.daemon.state().sources[0]!;
    expect(st.blocksPassed + st.blocksFailed).toBeGreaterThan(3000); // ~3 false alarms expected
    const visible = h.logger.lines.filter((l) => l.level !== 'debug' && l.level !== 'info').map((l) => l.message);
    expect(visible.length).toBeLessThanOrEqual(3);
    expect(visible.filter((m) => /failing/.test(m))).toEqual([]);
  });

  it('counts failures per FIPS test', async () => {
    const h = harness({ era: 'el6', sources: [hw(biased, 50000)], entropyBits: 0 });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.daemon.state().fipsFailures.monobit).toBeGreaterThan(0);
    await h.daemon.stop();
  });
});

describe('stalls and faults', () => {
  it('a stalled read marks the source stalled once, kills the read, and the source comes back', async () => {
    const src = hw();
    src.stalled = true;
    const h = harness({ era: 'el6', sources: [src], entropyBits: 0, raw: { stallTimeout: '10s' } });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(9000);
    expect(h.daemon.state().sources[0]!.state).toBe('ok');
    await vi.advanceTimersByTimeAsync(1500);
    expect(h.daemon.state().sources[0]!.state).toBe('stalled');
    expect(src.readOutstanding).toBe(false);
    await vi.advanceTimersByTimeAsync(60000);
    expect(h.logger.visible('→ stalled')).toHaveLength(1);
    expect(h.daemon.state().sources[0]!.stalls).toBeGreaterThan(1);
    expect(h.sim.addCalls).toBe(0);
    src.stalled = false;
    await vi.advanceTimersByTimeAsync(20000);
    expect(h.daemon.state().sources[0]!.state).toBe('ok');
    expect(h.sim.addCalls).toBeGreaterThan(0);
    await h.daemon.stop();
  });

  it('ENODEV mid-run closes the source, every source lost is said once, and the device returning resumes feeding', async () => {
    const src = hw();
    const h = harness({ era: 'el6', sources: [src], entropyBits: 0 });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    const credited = h.daemon.totals.bitsCredited;
    expect(credited).toBeGreaterThan(0);
    src.present = false;
    h.sim.startReader(1024);
    await vi.advanceTimersByTimeAsync(60000);
    expect(h.daemon.state().sources[0]!.state).toBe('absent');
    expect(h.logger.visible('every entropy source is unavailable')).toHaveLength(1);
    expect(h.logger.visible(/ok → absent: .*(ENODEV|No such device)/)).toHaveLength(1);
    const opensWhileGone = src.opens;
    src.present = true;
    await vi.advanceTimersByTimeAsync(20000);
    expect(src.opens).toBeGreaterThan(opensWhileGone);
    expect(h.daemon.state().sources[0]!.state).toBe('ok');
    expect(h.daemon.totals.bitsCredited).toBeGreaterThan(credited);
    expect(h.logger.visible('available again')).toHaveLength(1);
    await h.daemon.stop();
  });

  it('EINTR from a read and from RNDADDENTROPY is retried without a state change', async () => {
    const src = hw();
    src.failNextReads = ['EINTR', 'EINTR'];
    const h = harness({ era: 'el6', sources: [src], entropyBits: 0 });
    h.sim.failNextAdd = ['EINTR', 'EAGAIN'];
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.sim.entropyBits()).toBeGreaterThanOrEqual(3072);
    expect(h.logger.lines.filter((l) => l.level !== 'debug' && /→/.test(l.message))).toHaveLength(1); // absent → ok only
    expect(h.daemon.totals.bitsAsked).toBe(h.sim.claimedBits);
    await h.daemon.stop();
  });

  it('EPERM from RNDADDENTROPY stops the daemon with 77 and names CAP_SYS_ADMIN', async () => {
    const h = harness({ era: 'el6', sources: [hw()], entropyBits: 0 });
    h.sim.noPermission = true;
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(exitCodeFor(await h.daemon.done())).toBe(77);
    expect(h.daemon.fatalError?.message).toMatch(/CAP_SYS_ADMIN/);
    expect(h.daemon.totals.bitsCredited).toBe(0);
  });

  it('no usable source at start: 69, naming what was tried', async () => {
    const a = hw();
    a.present = false;
    const b = new FakeSource('pipe', '/run/feed', random, 10000, 8, 'pipe');
    b.openError = 'EACCES';
    const h = harness({ era: 'el6', sources: [a, b] });
    await expect(h.daemon.start()).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/hwrng \(\/dev\/hwrng\): ENOENT.*pipe \(\/run\/feed\): EACCES/) });
    await vi.advanceTimersByTimeAsync(60000);
    expect(a.opens + b.opens).toBe(0); // no retries after giving up
  });

  it('stop() with a read blocked returns at once and abandons the read', async () => {
    const src = hw();
    src.stalled = true;
    const h = harness({ era: 'el6', sources: [src], entropyBits: 0 });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(src.readOutstanding).toBe(true);
    await h.daemon.stop();
    expect(src.readOutstanding).toBe(false);
    expect(await h.daemon.done()).toBeNull(); // no poll slice to wait for
    expect(h.notifier.sent.at(-1)).toBe('STOPPING=1');
  });
});

describe('statistics, state file, notifications', () => {
  it('a state file that cannot be written is reported once and feeding goes on', async () => {
    const h = harness({ era: 'el6', sources: [hw()], entropyBits: 0, failStateWrites: true });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(10000);
    expect(h.logger.visible('cannot write the state file')).toHaveLength(1);
    expect(h.sim.entropyBits()).toBeGreaterThanOrEqual(3072);
    await h.daemon.stop();
  });

  it('the state has the fields vrngd status reads, and SIGUSR1 logs a summary line', async () => {
    const h = harness({ era: 'el6', sources: [hw()], entropyBits: 0 });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(5000);
    const st = h.states.at(-1)!;
    expect(st).toMatchObject({ regime: 'legacy', feedMode: 'fill', bitsCredited: h.daemon.totals.bitsCredited });
    expect(st.sources[0]).toMatchObject({ name: 'hwrng', path: '/dev/hwrng', state: 'ok', quality: 8 });
    expect(Object.keys(st.fipsFailures).sort()).toEqual(['continuousRun', 'longRun', 'monobit', 'poker', 'runs']);
    h.daemon.logStats();
    expect(h.logger.visible(/^stats: legacy fill; credited \d+ bits/)).toHaveLength(1);
    await h.daemon.stop();
  });

  it('pings the watchdog at half the interval only while running', async () => {
    const h = harness({ era: 'modern', sources: [hw()], entropyBits: 256, kernelFeeder: true, watchdogMs: 10000 });
    await h.daemon.start();
    await vi.advanceTimersByTimeAsync(20000);
    expect(h.notifier.sent.filter((s) => s === 'WATCHDOG=1')).toHaveLength(4);
    await h.daemon.stop();
    await vi.advanceTimersByTimeAsync(20000);
    expect(h.notifier.sent.filter((s) => s === 'WATCHDOG=1')).toHaveLength(4);
  });
});
