// Daemon statistics: DaemonState (what the state file holds and `vrngd status`
// reads), and its two other renderings — a one-line summary for the log and
// Prometheus text for the node_exporter textfile collector. Pure: the daemon
// feeds it numbers.
import type { SourceState } from './source-health';

export interface FipsFailureCounts {
  monobit: number;
  poker: number;
  runs: number;
  longRun: number;
  continuousRun: number;
}

export interface SourceStats {
  name: string;
  path: string;
  state: SourceState;
  /** Bits credited per byte, 0..8. */
  quality: number;
  bytesRead: number;
  blocksPassed: number;
  blocksFailed: number;
  stalls: number;
  /** Failed blocks that repeated earlier data (counted in blocksFailed too). */
  blocksRepeated?: number;
  /** Configured but deliberately not read (e.g. the kernel's hwrng thread feeds the device). */
  standby?: boolean;
}

export interface DaemonState {
  pid: number;
  startedAt: string;
  updatedAt: string;
  regime: string;
  /** Why the daemon is (not) feeding, for humans: e.g. "kernel hwrng thread feeds /dev/hwrng; not competing". */
  mode: string;
  /** Bits the kernel credited: the rise of its count (RNDGETENTCNT) around each injection. */
  bitsCredited: number;
  /** Bits vrngd asked for in RNDADDENTROPY (more than bitsCredited where the kernel credits asymptotically). */
  bitsAsked?: number;
  bytesInjected: number;
  injections: number;
  entropyBeforeBits: number | null;
  entropyAfterBits: number | null;
  sources: SourceStats[];
  fipsFailures: FipsFailureCounts;
  /** RNDRESEEDCRNG calls that succeeded. */
  reseeds?: number;
  /** Feeding mode: fill, seed, reseed, idle, test. */
  feedMode?: string;
  /** The reseed schedule in force, or null when no timer is armed. */
  reseedSchedule?: string | null;
  /** VM generation ID changes seen (restores, incoming migrations, clones; src/clone/), each re-keyed. */
  clonesDetected?: number;
}

export function sumFipsFailures(sources: Array<{ fipsFailures: FipsFailureCounts }>): FipsFailureCounts {
  const out: FipsFailureCounts = { monobit: 0, poker: 0, runs: 0, longRun: 0, continuousRun: 0 };
  for (const s of sources) for (const k of Object.keys(out) as Array<keyof FipsFailureCounts>) out[k] += s.fipsFailures[k];
  return out;
}

export function summaryLine(state: DaemonState): string {
  const src = state.sources
    .map((s) => `${s.name}=${s.state}${s.standby ? '(standby)' : ''} read ${s.bytesRead} B, ${s.blocksPassed} passed/${s.blocksFailed} failed, ${s.stalls} stalls`)
    .join('; ');
  const f = state.fipsFailures;
  return (
    `stats: ${state.regime} ${state.feedMode ?? "-"}; credited ${state.bitsCredited} bits (asked ${state.bitsAsked ?? '-'}) in ${state.injections} injections (${state.bytesInjected} B)` +
    `, entropy ${state.entropyBeforeBits ?? '-'}→${state.entropyAfterBits ?? '-'}` +
    `, reseeds ${state.reseeds ?? 0}; FIPS failures monobit ${f.monobit} poker ${f.poker} runs ${f.runs} long-run ${f.longRun} continuous ${f.continuousRun}; ${src || 'no sources'}`
  );
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text exposition format (version 0.0.4). */
export function prometheusText(state: DaemonState): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number | null]>): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      if (value === null) continue;
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
      lines.push(`${name}${l.length ? `{${l.join(',')}}` : ''} ${value}`);
    }
  };
  metric('vrngd_bits_credited_total', 'counter', 'Entropy bits the kernel credited: the rise of RNDGETENTCNT around each RNDADDENTROPY.', [[{}, state.bitsCredited]]);
  metric('vrngd_bits_asked_total', 'counter', 'Entropy bits asked for in RNDADDENTROPY calls.', [[{}, state.bitsAsked ?? 0]]);
  metric('vrngd_bytes_injected_total', 'counter', 'Bytes mixed into the kernel.', [[{}, state.bytesInjected]]);
  metric('vrngd_injections_total', 'counter', 'RNDADDENTROPY calls.', [[{}, state.injections]]);
  metric('vrngd_reseeds_total', 'counter', 'RNDRESEEDCRNG calls that succeeded.', [[{}, state.reseeds ?? 0]]);
  metric('vrngd_entropy_avail_bits', 'gauge', 'Last RNDGETENTCNT value read.', [[{}, state.entropyAfterBits]]);
  metric('vrngd_info', 'gauge', 'Kernel regime and feeding mode.', [[{ regime: state.regime, mode: state.feedMode ?? "" }, 1]]);
  const per = (s: SourceStats): Record<string, string> => ({ source: s.name, path: s.path });
  metric('vrngd_source_bytes_read_total', 'counter', 'Bytes read per source.', state.sources.map((s) => [per(s), s.bytesRead]));
  metric('vrngd_source_blocks_passed_total', 'counter', 'FIPS blocks passed per source.', state.sources.map((s) => [per(s), s.blocksPassed]));
  metric('vrngd_source_blocks_failed_total', 'counter', 'Blocks discarded per source.', state.sources.map((s) => [per(s), s.blocksFailed]));
  metric('vrngd_source_blocks_repeated_total', 'counter', 'Blocks discarded per source because they repeated data seen before.', state.sources.map((s) => [per(s), s.blocksRepeated ?? 0]));
  metric('vrngd_source_stalls_total', 'counter', 'Reads that exceeded the stall timeout.', state.sources.map((s) => [per(s), s.stalls]));
  metric(
    'vrngd_source_up',
    'gauge',
    'Source state is ok (1) or not (0).',
    state.sources.map((s) => [{ ...per(s), state: s.state }, s.state === 'ok' ? 1 : 0]),
  );
  metric(
    'vrngd_fips_failures_total',
    'counter',
    'Failed FIPS 140-2 tests, per test.',
    (Object.keys(state.fipsFailures) as Array<keyof FipsFailureCounts>).map((k) => [{ test: k }, state.fipsFailures[k]]),
  );
  return `${lines.join('\n')}\n`;
}
