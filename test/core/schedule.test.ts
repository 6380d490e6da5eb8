import { describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { isValidCron, nextCronTime } from '../../src/core/schedule';
import { ROOT } from '../helpers/env';

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

  it("agrees with node-cron's own validate() (only its validator is loaded, not its index)", async () => {
    const cron = (await import('node-cron')) as unknown as { validate(e: string): boolean };
    const cases = ['*/5 * * * *', '0 * * * *', '*/10 * * * * *', '0 0 1 jan mon', '0 0 * * 7', '61 * * * *', '* * *', '', 'x * * * *', '1-5/2 * * * *', '0 0 31 2 *', '* * * * * * *', '5-1 * * * *', ' */5  * * * * '];
    for (const e of cases) expect(isValidCron(e), e).toBe(cron.validate(e) && e.trim().split(/\s+/).length >= 5);
  });

  it("loads node-cron's validator and converter only, not its index (task loop, scheduler, uuid)", () => {
    const probe = `require(${JSON.stringify(path.join(ROOT, 'dist', 'core', 'schedule.js'))}); const ks = Object.keys(require.cache); console.log(JSON.stringify([ks.some((k) => /node-cron[\\/\\\\]src[\\/\\\\]pattern-validation\\.js$/.test(k)), ks.some((k) => /node-cron[\\/\\\\]src[\\/\\\\]node-cron\\.js$/.test(k) || /[\\/\\\\]uuid[\\/\\\\]/.test(k))]))`;
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // control: the validator is loaded (so the probe sees node-cron's files at all); the index is not
    expect(JSON.parse(r.stdout)).toEqual([true, false]);
  });
});
