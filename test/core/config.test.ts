import { describe, expect, it } from 'vitest';
import { ConfigError, parseRunOptions } from '../../src/core/config';
import { fillWatermark, planFeeding, standbyReason } from '../../src/core/policy';
import { isValidCron, nextCronTime } from '../../src/core/schedule';
import { prometheusText, summaryLine } from '../../src/core/stats';
import type { DaemonState } from '../../src/daemon/state-file';

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
});

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

describe('stats renderings', () => {
  const st: DaemonState = {
    pid: 1,
    startedAt: 'x',
    updatedAt: 'y',
    regime: 'legacy',
    mode: 'filling',
    feedMode: 'fill',
    bitsCredited: 690,
    bitsAsked: 1024,
    bytesInjected: 128,
    injections: 2,
    entropyBeforeBits: 10,
    entropyAfterBits: 700,
    reseeds: 0,
    sources: [{ name: 'hwrng', path: '/dev/"hw"', state: 'ok', quality: 8, bytesRead: 5004, blocksPassed: 1, blocksFailed: 1, stalls: 0 }],
    fipsFailures: { monobit: 1, poker: 0, runs: 0, longRun: 0, continuousRun: 0 },
  };
  it('summary line', () => {
    expect(summaryLine(st)).toMatch(/^stats: legacy fill; credited 690 bits \(asked 1024\) in 2 injections \(128 B\), entropy 10→700.*monobit 1/);
  });
  it('Prometheus text with escaped labels', () => {
    const text = prometheusText(st);
    expect(text).toContain('vrngd_bits_credited_total 690\n');
    expect(text).toContain('vrngd_bits_asked_total 1024\n');
    expect(text).toContain('vrngd_source_bytes_read_total{source="hwrng",path="/dev/\\"hw\\""} 5004');
    expect(text).toContain('vrngd_fips_failures_total{test="monobit"} 1');
    expect(text).toMatch(/# TYPE vrngd_entropy_avail_bits gauge\nvrngd_entropy_avail_bits 700/);
  });
});
