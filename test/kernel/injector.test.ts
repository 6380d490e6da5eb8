// The injector's batching (issue 16): where credit is linear, the steps up to the
// watermark go in one batch with RNDGETENTCNT read before and after it; the result
// must be what per-step accounting gives (same bytes consumed, same ioctls, same
// bits asked and credited, same kernel count), with fewer RNDGETENTCNT reads.
// Where credit is asymptotic nothing is batched.
import { describe, expect, it } from 'vitest';
import { daemonCreditPolicy, seedCreditPolicy } from '../../src/core/credit-policy';
import { Injector } from '../../src/kernel/injector';
import { Era, SimKernel } from '../sim/sim-kernel';

/** A SimKernel that counts RNDGETENTCNT reads. */
class CountingKernel extends SimKernel {
  reads = 0;
  entropyBits(): number {
    this.reads++;
    return super.entropyBits();
  }
}

const data = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);

function run(era: Era, linearCredit: boolean | null, start: number, blocks: Array<{ bytes: number; until: number | null }>, stepBytes = 64) {
  const k = new CountingKernel({ era, entropyBits: start, crngReady: era === 'modern' ? start >= 256 : undefined });
  const inj = new Injector(k, daemonCreditPolicy({ entropyPerByte: 8, stepBytes }), { target: '/dev/random', linearCredit });
  const consumed = blocks.map((b) => inj.inject(data(b.bytes), 1000, b.until).consumed);
  const { injections, bytesInjected, bitsAsked, bitsCredited, entropyAfterBits } = inj.totals;
  const reads = k.reads;
  return { outcome: { consumed, injections, bytesInjected, bitsAsked, bitsCredited, entropyAfterBits, kernel: k.entropyBits(), addCalls: k.addCalls }, reads, batching: inj.batching };
}

describe('injector batching where credit is linear', () => {
  const cases: Array<[string, Era, number, Array<{ bytes: number; until: number | null }>]> = [
    ['3.10, fill from 0 to 3072 with 2,500-B blocks', 'v3.10', 0, [1, 2, 3].map(() => ({ bytes: 2500, until: 3072 }))],
    ['3.10, near the 4096 clamp, no watermark', 'v3.10', 4000, [{ bytes: 2500, until: null }]],
    ['3.10, watermark inside a step, odd step size', 'v3.10', 100, [{ bytes: 2500, until: 1001 }, { bytes: 2500, until: 1001 }]],
    ['5.18+, crng not ready, from 0', 'modern', 0, [{ bytes: 2500, until: 256 }, { bytes: 2500, until: 256 }]],
    ['5.18+, crng ready (count stays 256)', 'modern', 256, [{ bytes: 2500, until: null }, { bytes: 2500, until: 4096 }]],
  ];
  for (const [name, era, start, blocks] of cases) {
    it(`${name}: the same outcome as the asymptotic-credit accounting, no more RNDGETENTCNT reads`, () => {
      const step = name.includes('odd step') ? 100 : 64;
      // told "asymptotic": per step near the watermark, a batch only where no step could reach it
      const asym = run(era, false, start, blocks, step);
      const batched = run(era, true, start, blocks, step);
      expect(batched.outcome).toEqual(asym.outcome);
      expect(batched.batching).toBe(true);
      expect(asym.batching).toBe(false);
      expect(batched.reads).toBeLessThanOrEqual(asym.reads);
    });
  }

  it('a legacy kernel of unknown credit is measured: 3.10 (linear) starts batching after one step', () => {
    const unknown = run('v3.10', null, 0, [{ bytes: 2500, until: null }]);
    const perStep = run('v3.10', false, 0, [{ bytes: 2500, until: null }]);
    expect(unknown.outcome).toEqual(perStep.outcome);
    expect(unknown.batching).toBe(true);
    expect(unknown.reads).toBe(1 + 1 + 1); // before, after the first step, after the batch
  });

  for (const era of ['el6', 'el7'] as Era[]) {
    it(`${era} (asymptotic credit): never batched as linear; known asymptotic, the steps far below the watermark go in one call, with the same outcome as measuring every step`, () => {
      const blocks = [0, 1, 2, 3].map(() => ({ bytes: 2500, until: 3072 }));
      // not told: every step measured, since none proves linear credit
      const unknown = run(era, null, 0, blocks);
      expect(unknown.batching).toBe(false);
      expect(unknown.reads).toBe(unknown.outcome.injections + blocks.length);
      expect(unknown.outcome.bitsCredited).toBeLessThan(unknown.outcome.bitsAsked); // asymptotic: about 3/4
      // told: the same steps, the same stop at the watermark, the same credit, fewer reads
      const known = run(era, false, 0, blocks);
      expect(known.outcome).toEqual(unknown.outcome);
      expect(known.batching).toBe(false);
      expect(known.reads).toBeLessThan(unknown.reads);
      // no watermark (a reseed's block): one call, two reads
      const free = run(era, false, 100, [{ bytes: 2500, until: null }]);
      expect(free.outcome).toEqual(run(era, null, 100, [{ bytes: 2500, until: null }]).outcome);
      expect(free.reads).toBe(2); // before the call and after it
    });
  }

  it('a step refused in the middle of a batch: the steps before it are counted and measured, the error passed on', () => {
    const k = new CountingKernel({ era: 'v3.10', entropyBits: 0 });
    const inj = new Injector(k, daemonCreditPolicy({ entropyPerByte: 8, stepBytes: 64 }), { target: '/dev/random', linearCredit: true });
    k.failNextAdd = [];
    const original = k.addEntropy.bind(k);
    let calls = 0;
    k.addEntropy = (d, bits) => {
      if (++calls === 5) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      original(d, bits);
    };
    expect(() => inj.inject(data(2500), 1000, null)).toThrow('EPERM');
    expect(inj.totals.injections).toBe(4);
    expect(inj.totals.bitsAsked).toBe(4 * 64 * 8);
    expect(inj.totals.bitsCredited).toBe(k.entropyBits());
    expect(k.entropyBits()).toBe(4 * 64 * 8);
  });

  it('the seeder (no linearCredit given) keeps per-step accounting on an asymptotic kernel', () => {
    const k = new CountingKernel({ era: 'el7', entropyBits: 0 });
    const inj = new Injector(k, seedCreditPolicy({ hasGetrandom: true }), { target: '/dev/random' });
    inj.inject(data(2500), 1000, null);
    expect(k.reads).toBe(inj.totals.injections + 1);
  });
});

describe('bitsCredited never exceeds what was asked', () => {
  /** A 3.10 kernel whose own interrupts add 3 bits at every RNDADDENTROPY (the e2e saw one such bit). */
  class NoisyKernel extends SimKernel {
    addEntropy(d: Uint8Array, bits: number): void {
      super.addEntropy(d, bits);
      super.addEntropy(new Uint8Array(1), 3);
    }
  }
  for (const linearCredit of [true, false]) {
    it(`${linearCredit ? 'one batch' : 'each step measured'}: the kernel's own extra bits are not vrngd's`, () => {
      const k = new NoisyKernel({ era: 'v3.10', entropyBits: 0 });
      const inj = new Injector(k, daemonCreditPolicy({ entropyPerByte: 1, stepBytes: 64 }), { target: '/dev/random', linearCredit });
      inj.inject(data(640), 1000, null);
      expect(inj.totals.bitsAsked).toBe(640); // 10 steps of 64 B at 1 bit a byte
      expect(k.entropyBits()).toBe(640 + 10 * 3); // the kernel really gained more
      expect(inj.totals.bitsCredited).toBe(640);
    });
  }
});
