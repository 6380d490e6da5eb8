// `vrngd status`: what the kernel probe finds (regime, pool, crng, hwrng, the
// kernel's own feeder, other entropy daemons) and whether the daemon runs, from
// its state file. A few readable lines, or one JSON object with --json. Needs no
// privileges: it only reads procfs/sysfs, stats /dev/hwrng (0600) and calls
// getrandom(GRND_NONBLOCK) through the addon.
import * as path from 'path';
import { Command } from 'commander';
import { ProgramDeps } from '../program';
import { CliError, describeError, exitCodeFor, usageError } from '../exit';
import type { Regime } from '../../core/policy';
import { HwrngInfo, KernelInfo, probeKernel, ProbeResult } from '../../kernel/probe';
import { implicitPidFile, recordedVrngd } from '../../daemon/pid-file';
import { DaemonState, DEFAULT_STATE_FILE, pidAlive, readStateFile } from '../../daemon/state-file';
import { DEFAULT_HWRNG_PATH } from '../../sources/device-source';

export interface StatusCliOptions {
  json?: boolean;
  stateFile: string;
  procRoot: string;
  sysRoot: string;
  rngDevice: string;
}

export type DaemonStatus =
  | ({ running: true; stateFile: string } & DaemonState)
  | {
      running: false;
      pid: null;
      stateFile: string;
      /** A state file was left by a daemon that no longer runs: its pid and last update. */
      stale: { pid: number | null; updatedAt: string | null } | null;
    };

export interface StatusReport {
  /** false when --proc-root names a copied tree: crng readiness (a syscall) is then unknown. */
  live: boolean;
  kernel: KernelInfo;
  hwrng: HwrngInfo;
  feeders: string[];
  feederProcesses: ProbeResult['feederProcesses'];
  notes: string[];
  daemon: DaemonStatus;
}

/**
 * The daemon as its state file shows it. running = the file reads, its pid is
 * alive, and that process is the vrngd that holds the lock beside the state file
 * (pid, start time and executable recorded there, see daemon/pid-file.ts). A state
 * file naming any other process (a recycled pid, a forgery naming rngd) is stale.
 */
export function daemonStatus(stateFile: string): DaemonStatus {
  const state = readStateFile(stateFile);
  const pid = state !== null && Number.isInteger(state.pid) && state.pid > 0 ? state.pid : null;
  if (state !== null && pid !== null && pidAlive(pid) && recordedVrngd(implicitPidFile(stateFile))?.pid === pid) return { ...state, running: true, stateFile };
  const stale = state === null ? null : { pid, updatedAt: typeof state.updatedAt === 'string' ? state.updatedAt : null };
  return { running: false, pid: null, stateFile, stale };
}

export function collectStatus(o: { stateFile: string; procRoot: string; sysRoot: string; rngDevice: string }): StatusReport {
  const daemon = daemonStatus(o.stateFile);
  const live = path.resolve(o.procRoot) === '/proc';
  const notes: string[] = [];
  const probe = probeKernel({
    procRoot: o.procRoot,
    sysRoot: o.sysRoot,
    hwrngDevice: o.rngDevice,
    // the addon's getrandom answers for the running kernel, not for a copied tree
    ...(live ? {} : { crngReady: () => null }),
    excludePids: daemon.running ? [process.pid, daemon.pid] : [process.pid],
  });
  if (!live) notes.push(`crng readiness is only known for the running kernel, not for ${o.procRoot}`);
  return {
    live,
    kernel: probe.kernel,
    hwrng: probe.hwrng,
    feeders: probe.feeders,
    feederProcesses: probe.feederProcesses,
    notes: [...probe.notes, ...notes],
    daemon,
  };
}

const REGIME_MEANING: Record<Regime, string> = {
  legacy: 'the kernel does not feed itself from hwrng; a user-space feeder is the only path into the pool',
  assisted: "the kernel's hwrng thread keeps the pool topped up; a user-space feeder competes for the device",
  modern: '256-bit pool, 5.18+ semantics: entropy_avail stays at 256 once the crng is ready; only boot and reseeds matter',
};

const yesNo = (v: boolean | null, unknown = 'unknown'): string => (v === null ? unknown : v ? 'yes' : 'no');
const bits = (v: number | null): string => (v === null ? '?' : String(v));
const INDENT = '          ';

/** The human summary: one line per subject, continuation lines indented. */
export function formatStatus(r: StatusReport): string {
  const k = r.kernel;
  const h = r.hwrng;
  const lines: string[] = [];
  lines.push(`kernel:   ${k.release}, regime ${k.regime}: ${REGIME_MEANING[k.regime]}`);
  lines.push(
    `entropy:  ${bits(k.entropyAvailBits)} of ${bits(k.poolsizeBits)} bits available, write wakeup threshold ${bits(k.writeWakeupThresholdBits)} bits, ` +
      `crng ready: ${r.live ? yesNo(k.crngReady, 'not exposed (no getrandom)') : 'unknown (not the running kernel)'}`,
  );
  const current = h.current ?? 'none';
  const available = h.available.length > 0 ? h.available.join(' ') : 'none';
  const feederThread = h.feederThreadPid !== null ? ` (hwrng thread pid ${h.feederThreadPid})` : '';
  lines.push(`hwrng:    ${h.device} ${h.present ? 'present' : 'absent'}, current ${current} (available: ${available}), quality ${h.quality ?? 'not exposed'}`);
  lines.push(`${INDENT}kernel feeds from hwrng: ${yesNo(h.kernelFeeder)}${feederThread}`);
  const others = r.feederProcesses.map((p) => `${p.name} (pid ${p.pid})`);
  lines.push(`feeders:  ${others.length > 0 ? others.join(', ') : 'none'}`);
  lines.push(...formatDaemon(r.daemon));
  for (const note of r.notes) lines.push(`note:     ${note}`);
  return `${lines.join('\n')}\n`;
}

/** A value from the state file, fit for a terminal: no control characters or escape sequences, at most 200 characters. */
export function clean(v: unknown): string {
  if (typeof v !== 'number' && typeof v !== 'string') return '?';
  // eslint-disable-next-line no-control-regex
  const s = String(v).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function formatDaemon(d: DaemonStatus): string[] {
  if (!d.running) {
    if (d.stale === null) return [`daemon:   not running (no readable state file at ${clean(d.stateFile)})`];
    return [`daemon:   not running (stale state file ${clean(d.stateFile)} from pid ${d.stale.pid ?? '?'}, last updated ${clean(d.stale.updatedAt ?? '?')})`];
  }
  // The state file may come from another vrngd version: print what is there.
  const n = clean;
  const lines = [`daemon:   running, pid ${d.pid} since ${n(d.startedAt)}, regime ${n(d.regime)}${d.mode ? `: ${n(d.mode)}` : ''}`];
  lines.push(
    `${INDENT}credited ${n(d.bitsCredited)} bits (kernel's count; asked ${d.bitsAsked === undefined ? '?' : n(d.bitsAsked)}) from ${n(d.bytesInjected)} bytes in ${n(d.injections)} injections; ` +
      `entropy before/after last: ${n(d.entropyBeforeBits)}/${n(d.entropyAfterBits)} bits; updated ${n(d.updatedAt)}`,
  );
  // fields added by later daemon versions (optional in DaemonState)
  const later = d as DaemonState & Partial<{ reseeds: number; feedMode: string; reseedSchedule: string | null }>;
  const extra: string[] = [];
  if (later.reseeds !== undefined) extra.push(`${n(later.reseeds)} crng reseeds`);
  if (later.feedMode !== undefined) extra.push(`feed mode ${n(later.feedMode)}`);
  if (later.reseedSchedule !== undefined) extra.push(`reseed schedule ${later.reseedSchedule === null ? 'none' : n(later.reseedSchedule)}`);
  if (extra.length > 0) lines.push(`${INDENT}${extra.join(', ')}`);
  const f = d.fipsFailures;
  if (f && typeof f === 'object') {
    lines.push(`${INDENT}FIPS failures: monobit ${n(f.monobit)}, poker ${n(f.poker)}, runs ${n(f.runs)}, long run ${n(f.longRun)}, continuous run ${n(f.continuousRun)}`);
  }
  for (const s of (Array.isArray(d.sources) ? d.sources : []) as Array<DaemonState['sources'][number] & { standby?: boolean }>) {
    lines.push(
      `${INDENT}source ${n(s.name)} ${n(s.path)}: ${n(s.state)}, ${n(s.quality)} bits/byte, ${n(s.bytesRead)} bytes read, ` +
        `${n(s.blocksPassed)} blocks passed, ${n(s.blocksFailed)} failed (${s.blocksRepeated === undefined ? '?' : n(s.blocksRepeated)} repeated), ${n(s.stalls)} stalls${s.standby ? ' (standby)' : ''}`,
    );
  }
  return lines;
}

export function statusCommand(o: StatusCliOptions, deps: ProgramDeps): void {
  for (const [flag, value] of [['--state-file', o.stateFile], ['--proc-root', o.procRoot], ['--sys-root', o.sysRoot], ['--rng-device', o.rngDevice]] as const) {
    if (value === '') throw usageError(`status: ${flag} needs a path`);
  }
  let report: StatusReport;
  try {
    report = collectStatus(o);
  } catch (e: unknown) {
    // a root given on the command line is an input (66); the real /proc missing is 69
    const given = path.resolve(o.procRoot) !== '/proc';
    throw new CliError(`status: ${describeError(e)}`, exitCodeFor(e, { input: given }));
  }
  deps.io.stdout.write(o.json ? `${JSON.stringify(report)}\n` : formatStatus(report));
}

export function register(program: Command, deps: ProgramDeps): void {
  program
    .command('status')
    .description('show the kernel regime, entropy pool, hwrng and kernel feeder, other feeders and the daemon (needs no privileges)')
    .option('--json', 'print one JSON object')
    .option('--state-file <path>', 'the daemon state file to read', DEFAULT_STATE_FILE)
    .option('-r, --rng-device <path>', 'the hwrng device node to look for', DEFAULT_HWRNG_PATH)
    .option('--proc-root <dir>', 'read a copied /proc tree instead of /proc', '/proc')
    .option('--sys-root <dir>', 'read a copied /sys tree instead of /sys', '/sys')
    .action((o: StatusCliOptions) => statusCommand(o, deps));
}
