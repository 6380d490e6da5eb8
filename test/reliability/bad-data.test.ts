// Bad data kinds through the real daemon (source → FIPS gate → RNDADDENTROPY)
// against a simulated legacy kernel that is drained all the time, so the daemon
// wants entropy throughout. The kernel records every byte it is given; the check
// is independent of the gate: every credited 2,500-byte block must pass the
// reference FIPS tests (fips-reference.ts) on its own, and for a source that
// never produces a good block nothing at all may reach the kernel. Failures are
// counted per FIPS test in the daemon's state.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FipsTestName } from '../../src/core/gate';
import { FakeSource, Generator, random } from '../fakes/fake-source';
import { passesOnItsOwn } from './fips-reference';
import { allOnes, allZeros, biasedBits, counter, drifting, passesThenFails, repeatedBlock, repeatingWord, simDaemon } from './sim';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date(2026, 0, 1, 12, 0, 30)); // a fixed clock, as in daemon-sim
});
afterEach(() => {
  vi.useRealTimers();
});

const hw = (gen: Generator, rate = 50000): FakeSource => new FakeSource('hwrng', '/dev/hwrng', gen, rate);

/** Splits what the kernel got into whole 2,500-byte blocks (one source: injected in block order). */
function creditedBlocks(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 2500 <= bytes.length; i += 2500) out.push(bytes.subarray(i, i + 2500));
  return out;
}

async function runFor(gen: Generator, ms: number) {
  const src = hw(gen);
  const h = simDaemon({ era: 'el6', sources: [src], entropyBits: 0 });
  h.sim.startReader(2048); // someone keeps reading /dev/random: the daemon always wants blocks
  await h.daemon.start();
  await vi.advanceTimersByTimeAsync(ms);
  await h.daemon.stop();
  await vi.advanceTimersByTimeAsync(600);
  return { h, src, st: h.daemon.state() };
}

const ALWAYS_BAD: Array<[string, () => Generator, FipsTestName[], boolean]> = [
  // name, generator, FIPS tests that must have counted failures, repeat check must fire
  ['all zeros', () => allZeros, ['monobit', 'poker', 'runs', 'longRun', 'continuousRun'], true],
  ['all ones', () => allOnes, ['monobit', 'poker', 'runs', 'longRun', 'continuousRun'], true],
  ['a repeating 32-bit word', repeatingWord, ['continuousRun', 'poker'], true],
  ['a 32-bit counter', counter, ['poker'], false],
];

describe('sources that never produce a good block: 0 bits credited, failures counted per test', () => {
  for (const [name, gen, tests, repeats] of ALWAYS_BAD) {
    it(name, async () => {
      const { h, src, st } = await runFor(gen(), 120000);
      expect(src.bytesServed).toBeGreaterThan(10 * 2500);
      expect(h.sim.addCalls).toBe(0);
      expect(h.sim.claimedBits).toBe(0);
      expect(h.sim.mixedBytes).toBe(0);
      expect(st.bitsCredited).toBe(0);
      expect(st.sources[0]!.blocksPassed).toBe(0);
      expect(st.sources[0]!.blocksFailed).toBeGreaterThanOrEqual(4);
      for (const t of tests) expect(st.fipsFailures[t], t).toBeGreaterThan(0);
      if (repeats) expect(st.sources[0]!.blocksRepeated).toBeGreaterThan(0);
      // per-test counts never exceed the failed blocks
      for (const n of Object.values(st.fipsFailures)) expect(n).toBeLessThanOrEqual(st.sources[0]!.blocksFailed);
      // said once each: failing, then disabled (repetitions at debug only)
      expect(h.logger.visible('ok → failing')).toHaveLength(1);
      expect(h.logger.visible('failing → disabled')).toHaveLength(1);
    });
  }

  it('a block repeated (a replaying device whose blocks pass FIPS): caught by the repeat check alone', async () => {
    const { h, st } = await runFor(repeatedBlock(), 120000);
    expect(h.sim.addCalls).toBe(0);
    expect(st.bitsCredited).toBe(0);
    expect(st.sources[0]!.blocksPassed).toBe(0);
    expect(st.sources[0]!.blocksRepeated).toBeGreaterThanOrEqual(4);
    expect(st.sources[0]!.blocksRepeated).toBe(st.sources[0]!.blocksFailed);
  });
});

describe('sources that are partly bad: only blocks that pass are credited', () => {
  it('52 % ones: most blocks fail monobit; every credited block passes the reference tests', async () => {
    const { h, st } = await runFor(biasedBits(0.52), 120000);
    const s = st.sources[0]!;
    expect(s.blocksFailed).toBeGreaterThan(0);
    expect(st.fipsFailures.monobit).toBeGreaterThan(0);
    expect(st.fipsFailures.monobit).toBeGreaterThan(s.blocksFailed / 2);
    const blocks = creditedBlocks(h.sim.injected());
    for (const b of blocks) expect(passesOnItsOwn(b)).toBe(true);
    expect(st.bitsAsked).toBe(h.sim.claimedBits);
    expect(st.bitsCredited).toBeLessThanOrEqual(s.blocksPassed * 2500 * 8);
  });

  it('a slowly drifting source (fair, then more and more ones): credited while good, nothing after it drifts', async () => {
    // p(1) rises 0.02 every 100 kB: fine at first, failing monobit nearly always past 100 kB
    const { h, src, st } = await runFor(drifting(2e-7), 300000);
    expect(src.bytesServed).toBeGreaterThan(50000); // well into the drift (p(1) ≥ 0.51)
    const blocks = creditedBlocks(h.sim.injected());
    expect(blocks.length).toBeGreaterThan(5);
    for (const b of blocks) expect(passesOnItsOwn(b)).toBe(true);
    expect(st.fipsFailures.monobit).toBeGreaterThan(0);
    // the source ends up disabled and stays so (retried with backoff, never credited again)
    expect(st.sources[0]!.state).toBe('disabled');
  });

  it('passes for a while, then fails (zeros): the good part is credited, no byte of the bad part', async () => {
    const p = passesThenFails(100 * 2500, allZeros);
    const { h, st } = await runFor(p.gen, 120000);
    const injected = h.sim.injected();
    expect(injected.length).toBeGreaterThan(10 * 2500);
    // every credited block is a piece of the good data
    const good = p.good();
    for (const b of creditedBlocks(injected)) expect(good.indexOf(b)).toBeGreaterThanOrEqual(0);
    expect(st.sources[0]!.blocksFailed).toBeGreaterThanOrEqual(4);
    expect(st.fipsFailures.monobit).toBeGreaterThanOrEqual(4);
    expect(h.logger.visible('failing → disabled')).toHaveLength(1);
  });

  it('control: a good source is credited and its blocks pass the reference (the check can tell)', async () => {
    const { h, st } = await runFor(random, 20000);
    const blocks = creditedBlocks(h.sim.injected());
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks) expect(passesOnItsOwn(b)).toBe(true);
    expect(passesOnItsOwn(Buffer.from(biasedBits(0.6)(2500)))).toBe(false);
    expect(st.bitsAsked).toBe(h.sim.claimedBits);
  });
});
