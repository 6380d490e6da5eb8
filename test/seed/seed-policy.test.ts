// When the seeder may stop, and its one output line.
import { describe, expect, it } from 'vitest';
import { formatSeedLine, kernelSeeded, seedDone, SeedReport } from '../../src/core/seed-policy';
import { defaultFillWatermarkBits as fillWatermarkBits } from '../../src/core/policy';

const p = { crngReady: false as boolean | null, entropyBits: 5, poolsizeBits: 256 as number | null, bytesRead: 2504, blocksPassed: 1, maxBytes: null as number | null };

describe('seed policy', () => {
  it('modern kernels: seeded when getrandom says ready, after at least one passing block', () => {
    expect(seedDone({ ...p, crngReady: true })).toBe(true);
    expect(seedDone({ ...p, crngReady: false })).toBe(false);
    expect(seedDone({ ...p, crngReady: true, blocksPassed: 0 })).toBe(false);
  });

  it('legacy kernels (no getrandom): seeded at the fill watermark, 3/4 of the pool', () => {
    expect(fillWatermarkBits(4096)).toBe(3072);
    expect(fillWatermarkBits(null)).toBe(3072);
    expect(kernelSeeded({ crngReady: null, entropyBits: 3071, poolsizeBits: 4096 })).toBe(false);
    expect(kernelSeeded({ crngReady: null, entropyBits: 3072, poolsizeBits: 4096 })).toBe(true);
  });

  it('--bytes caps the run even when the kernel is not seeded', () => {
    expect(seedDone({ ...p, maxBytes: 2504 })).toBe(true);
    expect(seedDone({ ...p, maxBytes: 5008 })).toBe(false);
  });

  it('prints bytes read, bits credited, entropy before/after, crng state and milliseconds on one line', () => {
    const r: SeedReport = {
      device: '/dev/hwrng', bytesRead: 2504, blocksPassed: 1, blocksFailed: 0, creditedBits: 250, askedBits: 20000,
      entropyBeforeBits: 6, entropyAfterBits: 256, crngReadyBefore: false, crngReady: true, reseeded: true,
      elapsedMs: 812, seedFile: null, outcome: 'seeded',
    };
    const line = formatSeedLine(r);
    expect(line).not.toContain('\n');
    expect(line).toBe('vrngd seed: seeded: read 2504 bytes from /dev/hwrng, credited 250 bits (20000 asked), entropy 6 -> 256 bits, crng ready no -> yes, 812 ms');
    expect(formatSeedLine({ ...r, crngReadyBefore: null, crngReady: null })).toContain('crng ready n/a (no getrandom) -> n/a (no getrandom)');
  });
});
