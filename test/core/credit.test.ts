import { describe, expect, it } from 'vitest';
import { creditBits, effectiveQuality } from '../../src/core/credit';

describe('creditBits', () => {
  it('credits quality bits per byte, rounding down, never more than 8 per byte', () => {
    expect(creditBits(64, 8)).toBe(512);
    expect(creditBits(64, 0)).toBe(0);
    expect(creditBits(3, 0.5)).toBe(1);
    expect(() => creditBits(64, 9)).toThrow(RangeError);
    expect(() => creditBits(-1, 8)).toThrow(RangeError);
    expect(() => creditBits(1.5, 8)).toThrow(RangeError);
    expect(() => creditBits(1, Number.NaN)).toThrow(RangeError);
  });
  it('caps a source by -e', () => {
    expect(effectiveQuality(8, 2)).toBe(2);
    expect(effectiveQuality(1, 8)).toBe(1);
    expect(effectiveQuality(8, 12)).toBe(8);
  });
});
