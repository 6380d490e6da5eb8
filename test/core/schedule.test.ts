import { describe, expect, it } from 'vitest';
import { isValidCron, nextCronTime } from '../../src/core/schedule';

describe('schedule', () => {
  it('validates with node-cron and finds the next firing', () => {
    expect(isValidCron('*/5 * * * *')).toBe(true);
    expect(isValidCron('*/10 * * * * *')).toBe(true);
    expect(isValidCron('* * *')).toBe(false);
    const t = new Date(2026, 0, 31, 23, 58, 30);
    expect(nextCronTime('*/5 * * * *', t)).toEqual(new Date(2026, 1, 1, 0, 0, 0));
    expect(nextCronTime('0 * * * *', new Date(2026, 0, 1, 5, 0, 0))).toEqual(new Date(2026, 0, 1, 6, 0, 0));
    expect(nextCronTime('*/15 * * * * *', new Date(2026, 0, 1, 5, 0, 7))).toEqual(new Date(2026, 0, 1, 5, 0, 15));
  });
});
