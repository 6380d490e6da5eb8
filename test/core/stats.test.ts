import { describe, expect, it } from 'vitest';
import { DaemonState, prometheusText, summaryLine } from '../../src/core/stats';

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
