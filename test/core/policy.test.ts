import { describe, expect, it } from 'vitest';
import { defaultFillWatermarkBits, fillWatermark, planFeeding, standbyReason } from '../../src/core/policy';

describe('policy', () => {
  const k = (over: object) => ({ regime: 'legacy' as const, poolsizeBits: 4096, writeWakeupThresholdBits: 128, crngReady: null, kernelFeeder: false, ...over });
  it('watermark: ¾ poolsize by default, clamped, -W 0 = the kernel wake level', () => {
    expect(fillWatermark(k({}), null)).toBe(3072);
    expect(fillWatermark(k({ poolsizeBits: 256 }), 4000)).toBe(256);
    expect(fillWatermark(k({ writeWakeupThresholdBits: 896 }), 0)).toBe(896);
  });
  it('stands hwrng by only where the kernel thread feeds it', () => {
    expect(standbyReason(k({ regime: 'modern', kernelFeeder: true }), true, false)).toMatch(/not competing/);
    expect(standbyReason(k({ regime: 'assisted', kernelFeeder: true }), true, false)).toMatch(/not competing/);
    expect(standbyReason(k({ regime: 'modern', kernelFeeder: true }), true, true)).toBeNull();
    expect(standbyReason(k({ regime: 'modern', kernelFeeder: false }), true, false)).toBeNull();
    expect(standbyReason(k({ regime: 'modern', kernelFeeder: true }), false, false)).toBeNull();
    expect(standbyReason(k({ regime: 'legacy', kernelFeeder: true }), true, false)).toBeNull();
  });
  it('arms the reseed schedule only on a ready modern kernel with something to read', () => {
    const reseed = { kind: 'cron' as const, expression: '*/5 * * * *' };
    const base = { standbyNote: null, test: false, fillWatermarkBits: null, reseed };
    expect(planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: true }), activeSources: 1 })).toMatchObject({ mode: 'reseed', reseed });
    expect(planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: false }), activeSources: 1 })).toMatchObject({ mode: 'seed', reseed: null });
    expect(planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: true }), activeSources: 0 })).toMatchObject({ mode: 'idle', reseed: null });
    expect(planFeeding({ ...base, kernel: k({}), activeSources: 1 })).toMatchObject({ mode: 'fill', fillWatermarkBits: 3072, reseed: null });
    expect(planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: true }), activeSources: 1, reseed: null })).toMatchObject({ mode: 'idle' });
  });
  it('one read-ahead rule: sources read ahead where blocks are taken as fast as they come (fill, seed, test), never in reseed or idle', () => {
    const reseed = { kind: 'cron' as const, expression: '*/5 * * * *' };
    const base = { standbyNote: null, test: false, fillWatermarkBits: null, reseed, activeSources: 1 };
    const plans = [
      planFeeding({ ...base, kernel: k({}) }),
      planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: false }) }),
      planFeeding({ ...base, kernel: k({}), test: true }),
      planFeeding({ ...base, kernel: k({ regime: 'modern', crngReady: true }) }),
      planFeeding({ ...base, kernel: k({}), activeSources: 0 }),
    ];
    expect(plans.map((p) => [p.mode, p.readAhead])).toEqual([
      ['fill', true],
      ['seed', true],
      ['test', true],
      ['reseed', false],
      ['idle', false],
    ]);
  });
  it('the default watermark is 3/4 of the pool, 3072 bits when its size is unknown', () => {
    expect(defaultFillWatermarkBits(256)).toBe(192);
    expect(defaultFillWatermarkBits(null)).toBe(3072);
    expect(defaultFillWatermarkBits(0)).toBe(3072);
  });
});
