import { describe, expect, it } from 'vitest';
import { ConfigError, parseRunOptions } from '../../src/core/config';

describe('parseRunOptions (rngd flags)', () => {
  it('has rngd defaults: hwrng only, 64-byte steps, 8 bits/byte, reseed every 5 minutes, hourly stats', () => {
    const c = parseRunOptions({});
    expect(c).toMatchObject({
      sources: ['hwrng'],
      stepBytes: 64,
      entropyPerByte: 8,
      fillWatermarkBits: null,
      rngDevice: '/dev/hwrng',
      randomDevice: '/dev/random',
      stallTimeoutMs: 10000,
      reseed: { kind: 'cron', expression: '*/5 * * * *' },
      stats: { kind: 'cron', expression: '0 * * * *' },
      pidFile: null,
      stateFile: '/run/vrngd/state.json',
    });
  });
  it.each([
    [{ randomStep: '0' }, /-s\/--random-step: 0 is out of range/],
    [{ randomStep: '2501' }, /out of range/],
    [{ randomStep: 'abc' }, /not a whole number/],
    [{ entropyCount: '9' }, /-e\/--entropy-count/],
    [{ fillWatermark: '-1' }, /-W/],
    [{ fillWatermark: '5000' }, /out of range/],
    [{ stallTimeout: 'soon' }, /--stall-timeout/],
    [{ stallTimeout: '0' }, /out of range/],
    [{ reseed: '61 * * * *' }, /--reseed/],
    [{ stats: 'hourly' }, /--stats/],
    [{ forceReseed: 'x' }, /-R/],
    [{ dropPrivileges: 'rngd:rngd' }, /CapabilityBoundingSet/],
    [{ pipe: [''] }, /--pipe: empty path/],
    [{ option: ['namedpipe:path:'] }, /empty path/],
    [{ pipe: ['/a', '/b'] }, /--pipe \/b conflicts with --pipe \/a: vrngd reads one pipe source/],
    [{ pipe: ['/y'], option: ['namedpipe:path:/x'] }, /-O namedpipe:path:\/x conflicts with --pipe \/y/],
    [{ stallTimeout: '0.4ms' }, /--stall-timeout: 0.4ms is out of range \(1ms\.\.1h\)/],
    [{ stallTimeout: '0.0001s' }, /out of range/],
    [{ include: ['bogus'] }, /unknown entropy source/],
    [{ include: ['pipe'] }, /needs a path/],
    [{ exclude: ['hwrng'] }, /every entropy source is excluded/],
    [{ background: true, foreground: true }, /contradict/],
    [{ rngDevice: '' }, /empty path/],
    [{ option: ['garbage'] }, /source:key:value/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseRunOptions(raw)).toThrow(ConfigError);
    expect(() => parseRunOptions(raw)).toThrow(message);
  });
  it('-i and a source vrngd lacks are ignored with one warning each (safe: the daemon still feeds checked data)', () => {
    const c = parseRunOptions({ ignorefail: true, include: ['jitter'] });
    expect(c.sources).toEqual(['hwrng']);
    expect(c.warnings).toEqual([expect.stringMatching(/-i\/--ignorefail ignored: vrngd never credits a block that failed FIPS/), expect.stringMatching(/-n jitter: vrngd has no 'jitter' source .*; ignored/)]);
  });
  it('the same pipe path twice is one source, not a conflict; 1.4ms rounds to 1 ms', () => {
    expect(parseRunOptions({ pipe: ['/a', '/a'], option: ['namedpipe:path:/a'] })).toMatchObject({ pipePath: '/a', sources: ['hwrng', 'pipe'] });
    expect(parseRunOptions({ stallTimeout: '1.4ms' }).stallTimeoutMs).toBe(1);
  });
  it('accepts harmless rngd options with one warning each', () => {
    const c = parseRunOptions({ exclude: ['jitter', '2', 'tpm'], useSlowSources: true, option: ['jitter:thread_count:2'] });
    expect(c.sources).toEqual(['hwrng']);
    expect(c.warnings).toHaveLength(5);
    expect(c.warnings.join('\n')).toMatch(/indexes are deprecated/);
  });
  it('maps rngd names, indexes and namedpipe options to vrngd sources', () => {
    expect(parseRunOptions({ include: ['rdrand'] }).sources).toEqual(['hwrng', 'rdrand']);
    expect(parseRunOptions({ include: ['rd'] }).sources).toEqual(['hwrng', 'rdrand']);
    expect(parseRunOptions({ include: ['2'] }).sources).toEqual(['hwrng', 'rdrand']);
    const p = parseRunOptions({ option: ['namedpipe:path:/run/feed'], exclude: ['hwrng'] });
    expect(p).toMatchObject({ sources: ['pipe'], pipePath: '/run/feed' });
    expect(parseRunOptions({ pipe: ['/tmp/f'] }).sources).toEqual(['hwrng', 'pipe']);
  });
  it('-R seconds and --reseed off', () => {
    expect(parseRunOptions({ forceReseed: '30' }).reseed).toEqual({ kind: 'interval', everyMs: 30000 });
    expect(parseRunOptions({ forceReseed: '0' }).reseed).toBeNull();
    expect(parseRunOptions({ reseed: 'off' }).reseed).toBeNull();
    expect(parseRunOptions({ stallTimeout: '500ms' }).stallTimeoutMs).toBe(500);
    expect(parseRunOptions({ background: true }).pidFile).toBe('/run/vrngd.pid');
  });
});
