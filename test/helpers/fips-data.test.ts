import { describe, expect, it } from 'vitest';
import { FipsStreamChecker } from '../../src/core/fips-stream';
import { fixedRandom } from './fips-data';

describe('fixedRandom', () => {
  it('is the same every call, and 64 blocks after the 4-byte bootstrap all pass FIPS 140-2', () => {
    expect(fixedRandom(1000).equals(fixedRandom(1000))).toBe(true);
    expect(fixedRandom(1000).equals(fixedRandom(1000, 'other'))).toBe(false);
    let passed = 0;
    let failed = 0;
    const checker = new FipsStreamChecker();
    checker.push(fixedRandom(2500 * 64 + 4), () => passed++, () => failed++);
    expect([passed, failed]).toEqual([64, 0]);
  });
});
