// `vrngd run` options: validation and rngd compatibility, as a pure function from
// the raw option values to a RunConfig (or a one-line ConfigError → exit 64).
// Both rngd dialects are read (rngd 5's forms arrive through the hidden options of
// rngd-dialect.ts): flags keep their meaning where vrngd can honour it; flags that
// do not apply are accepted with one warning where ignoring them is safe, and
// refused only where ignoring them would be unsafe (docs/operations.md "rngd compatibility").
import { isValidCron } from './schedule';

/** The entropy sources vrngd knows (src/sources/: hwrng and pipe are DeviceSource, rdrand RdrandSource). */
export type SourceKind = 'hwrng' | 'rdrand' | 'pipe';

export type Schedule = { kind: 'cron'; expression: string } | { kind: 'interval'; everyMs: number };

export const DEFAULTS = {
  rngDevice: '/dev/hwrng',
  randomDevice: '/dev/random',
  pidFile: '/run/vrngd.pid',
  stateFile: '/run/vrngd/state.json',
  stepBytes: 64,
  entropyPerByte: 8,
  stallTimeoutMs: 10000,
  reseed: '*/5 * * * *',
  stats: '0 * * * *',
} as const;

export class ConfigError extends Error {}

/** Raw values as commander delivers them (strings, booleans, repeated arrays). */
export interface RawRunOptions {
  foreground?: boolean;
  background?: boolean;
  pidFile?: string;
  rngDevice?: string;
  randomDevice?: string;
  fillWatermark?: string;
  entropyCount?: string;
  randomStep?: string;
  exclude?: string[];
  include?: string[];
  quiet?: boolean;
  debug?: boolean;
  test?: boolean;
  list?: boolean;
  option?: string[];
  ignorefail?: boolean;
  forceReseed?: string;
  useSlowSources?: boolean;
  dropPrivileges?: string;
  pipe?: string[];
  stallTimeout?: string;
  reseed?: string;
  stats?: string;
  stateFile?: string;
  metricsFile?: string;
  logFile?: string;
  syslog?: boolean;
  compete?: boolean;
  /** rngd 5's -v/--verbose (report the sources): vrngd always does. */
  verbose?: boolean;
  /** rngd 5's -n/--no-tpm 0|1, as translated by rngd-dialect.ts. */
  rngd5NoTpm?: string[];
  /** rngd 5's -d/--no-drng 0|1. */
  rngd5NoDrng?: string[];
  /** RHEL 6's -t/--timeout SECONDS (the last one counts, as in rngd). */
  rngd5Timeout?: string[];
}

export interface RunConfig {
  background: boolean;
  /** null: no pid file (foreground without -p). */
  pidFile: string | null;
  rngDevice: string;
  randomDevice: string;
  /** null: ¾ of the kernel's poolsize (rngd's default). */
  fillWatermarkBits: number | null;
  /** -e: bits credited per byte at most (0..8). */
  entropyPerByte: number;
  /** -s: bytes per RNDADDENTROPY call. */
  stepBytes: number;
  sources: SourceKind[];
  pipePath: string | null;
  quiet: boolean;
  debug: boolean;
  test: boolean;
  list: boolean;
  stallTimeoutMs: number;
  /** The reseed schedule asked for (in force only where the policy says so). null: off. */
  reseed: Schedule | null;
  /** null: off. */
  stats: Schedule | null;
  statsExplicit: boolean;
  stateFile: string | null;
  metricsFile: string | null;
  logFile: string | null;
  syslog: boolean;
  /** Read /dev/hwrng even where the kernel's own hwrng thread feeds from it. */
  compete: boolean;
  /** One line each, logged once at start. */
  warnings: string[];
}

// rngd 6.17's source table, in index order (rngd.c:162-175)
const RNGD_SOURCES = ['hwrng', 'tpm', 'rdrand', 'darn', 'rndr', 'nist', 'jitter', 'pkcs11', 'rtlsdr', 'qrypt', 'namedpipe'] as const;
const OURS: Record<string, SourceKind> = { hwrng: 'hwrng', rdrand: 'rdrand', namedpipe: 'pipe', pipe: 'pipe' };

/** `-O namedpipe:path:X` or `--pipe X`, as the user wrote it. */
const pipeLabel = (flag: string, p: string): string => (flag.endsWith(':') ? `${flag}${p}` : `${flag} ${p}`);

function intIn(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`${flag}: '${value}' is not a whole number (${min}..${max})`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${flag}: ${n} is out of range (${min}..${max})`);
  return n;
}

/** "10", "10s", "500ms", "2m" → milliseconds. */
export function parseDurationMs(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`${flag}: '${value}' is not a duration (e.g. 10, 10s, 500ms, 2m)`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : n * 1000;
  // below 1 ms would round to 0 (no timeout at all), so it is out of range, not rounded
  if (!(ms >= 1) || ms > 3600000) throw new ConfigError(`${flag}: ${value} is out of range (1ms..1h)`);
  return Math.round(ms);
}

function schedule(flag: string, value: string): Schedule | null {
  if (['off', 'none', '0', 'never'].includes(value.trim())) return null;
  if (!isValidCron(value)) throw new ConfigError(`${flag}: '${value}' is not a cron expression (e.g. '*/5 * * * *', or 'off')`);
  return { kind: 'cron', expression: value.trim() };
}

/** rngd's -x/-n argument: short-name prefix or index. */
function sourceArg(flag: string, value: string, warnings: string[]): { ours: SourceKind | null; rngdName: string } {
  const v = value.trim().toLowerCase();
  let rngdName: string | undefined;
  if (/^\d+$/.test(v)) {
    rngdName = RNGD_SOURCES[Number(v)];
    if (rngdName) warnings.push(`${flag} ${v}: source indexes are deprecated (as in rngd); use the name '${rngdName}'`);
  } else if (v.length > 0) {
    rngdName = v === 'pipe' ? 'pipe' : RNGD_SOURCES.find((n) => n.startsWith(v));
  }
  if (!rngdName) throw new ConfigError(`${flag}: unknown entropy source '${value}' (vrngd has hwrng, rdrand, pipe)`);
  return { ours: OURS[rngdName] ?? null, rngdName };
}

export function parseRunOptions(raw: RawRunOptions): RunConfig {
  const warnings: string[] = [];
  if (raw.ignorefail) warnings.push('-i/--ignorefail ignored: vrngd never credits a block that failed FIPS 140-2; it drops the block and keeps feeding');
  if (raw.dropPrivileges !== undefined)
    throw new ConfigError('-D/--drop-privileges is refused: ignoring it would run vrngd with more privilege than asked; run it under systemd with CapabilityBoundingSet=CAP_SYS_ADMIN (the shipped unit does)');
  if (raw.background && raw.foreground) throw new ConfigError('-b/--background and -f/--foreground contradict each other');
  if (raw.useSlowSources) warnings.push('-u/--use-slow-sources ignored: vrngd has no slow sources');

  const enabled = new Set<SourceKind>(['hwrng']);
  // one pipe source: a second, different path (--pipe twice, or --pipe and -O namedpipe:path:) is refused, not dropped
  let pipePath: string | null = null;
  let pipeFrom = '';
  const setPipe = (flag: string, p: string): void => {
    if (p.trim() === '') throw new ConfigError(`${flag}: empty path`);
    if (pipePath !== null && pipePath !== p) throw new ConfigError(`${pipeLabel(flag, p)} conflicts with ${pipeLabel(pipeFrom, pipePath)}: vrngd reads one pipe source`);
    pipePath = p;
    pipeFrom = flag;
  };
  for (const p of raw.pipe ?? []) setPipe('--pipe', p);
  for (const o of raw.option ?? []) {
    const [src, key, ...rest] = o.split(':');
    const val = rest.join(':');
    if (src === 'namedpipe' && key === 'path') setPipe('-O namedpipe:path:', val);
    else if (src === 'namedpipe' && key === 'timeout') warnings.push(`-O ${o}: use --stall-timeout; ignored`);
    else if (!src || !key) throw new ConfigError(`-O/--option: '${o}' is not source:key:value (vrngd prints no per-source option list)`);
    else warnings.push(`-O ${o}: vrngd has no such per-source option; ignored`);
  }
  if (pipePath !== null) enabled.add('pipe');
  for (const x of raw.include ?? []) {
    const { ours, rngdName } = sourceArg('-n/--include', x, warnings);
    if (!ours) {
      // safe to ignore: the sources vrngd has still feed, and nothing unchecked is credited
      warnings.push(`-n ${x}: vrngd has no '${rngdName}' source (it has hwrng, rdrand, pipe); ignored`);
      continue;
    }
    if (ours === 'pipe' && pipePath === null) throw new ConfigError('-n pipe needs a path: --pipe PATH (or -O namedpipe:path:PATH)');
    enabled.add(ours);
  }
  for (const x of raw.exclude ?? []) {
    const { ours, rngdName } = sourceArg('-x/--exclude', x, warnings);
    if (!ours) warnings.push(`-x ${x}: vrngd has no '${rngdName}' source; nothing to exclude`);
    else enabled.delete(ours);
  }
  // rngd 5: -n/--no-tpm 0|1 and -d/--no-drng 0|1 (rngd-dialect.ts)
  for (const v of raw.rngd5NoTpm ?? []) {
    if (v === '0') warnings.push("-n 0 (rngd 5's --no-tpm=0, use a TPM): vrngd has no TPM source; ignored");
    else if (v !== '1') throw new ConfigError(`-n/--no-tpm: rngd 5's option takes 1 or 0, got '${v}'`);
    // 1: no TPM, which is what vrngd does anyway
  }
  for (const v of raw.rngd5NoDrng ?? []) {
    if (v === '1') enabled.delete('rdrand');
    else if (v === '0') {
      if (!enabled.has('rdrand')) warnings.push("-d 0 (rngd 5's --no-drng=0, use RDRAND): vrngd reads RDRAND only with -n rdrand; ignored");
    } else throw new ConfigError(`-d/--no-drng: rngd 5's option takes 1 or 0, got '${v}'`);
  }
  if (enabled.size === 0) throw new ConfigError('every entropy source is excluded: nothing to feed from');

  const stepBytes = raw.randomStep === undefined ? DEFAULTS.stepBytes : intIn('-s/--random-step', raw.randomStep, 1, 2500);
  const entropyPerByte = raw.entropyCount === undefined ? DEFAULTS.entropyPerByte : intIn('-e/--entropy-count', raw.entropyCount, 0, 8);
  const fillWatermarkBits = raw.fillWatermark === undefined ? null : intIn('-W/--fill-watermark', raw.fillWatermark, 0, 4096);
  const stallTimeoutMs = raw.stallTimeout === undefined ? DEFAULTS.stallTimeoutMs : parseDurationMs('--stall-timeout', raw.stallTimeout);

  let reseed: Schedule | null = { kind: 'cron', expression: DEFAULTS.reseed };
  if (raw.reseed !== undefined) reseed = schedule('--reseed', raw.reseed);
  if (raw.forceReseed !== undefined) {
    if (raw.reseed !== undefined) throw new ConfigError('-R/--force-reseed and --reseed both set the reseed schedule; use one');
    const seconds = intIn('-R/--force-reseed', raw.forceReseed, 0, 86400);
    reseed = seconds === 0 ? null : { kind: 'interval', everyMs: seconds * 1000 };
  }
  const timeout = raw.rngd5Timeout?.[raw.rngd5Timeout.length - 1];
  if (timeout !== undefined) {
    // RHEL 6's rngd: "interval written to random-device when the entropy pool is full"
    if (raw.reseed !== undefined || raw.forceReseed !== undefined) throw new ConfigError('-t/--timeout (rngd 5) and -R/--reseed both set how often vrngd writes while the pool is full; use one');
    const seconds = intIn('-t/--timeout', timeout, 0, 86400);
    if (seconds === 0) warnings.push(`-t 0: rngd 5's timeout of 0 would write without pause; vrngd keeps its reseed schedule ${DEFAULTS.reseed}`);
    else {
      reseed = { kind: 'interval', everyMs: seconds * 1000 };
      warnings.push(`-t ${seconds}: rngd 5's timeout; vrngd refills on the kernel's wakeups, and on a 5.18+ kernel reseeds every ${seconds} s while the pool is full`);
    }
  }
  const stats = raw.stats === undefined ? { kind: 'cron' as const, expression: DEFAULTS.stats } : schedule('--stats', raw.stats);

  for (const [flag, v] of [
    ['-r/--rng-device', raw.rngDevice],
    ['-o/--random-device', raw.randomDevice],
    ['-p/--pid-file', raw.pidFile],
    ['--state-file', raw.stateFile],
    ['--metrics-file', raw.metricsFile],
    ['--log-file', raw.logFile],
  ] as Array<[string, string | undefined]>) {
    if (v !== undefined && v.trim() === '') throw new ConfigError(`${flag}: empty path`);
  }

  const test = raw.test ?? false;
  return {
    background: (raw.background ?? false) && !test,
    pidFile: raw.pidFile ?? (raw.background ? DEFAULTS.pidFile : null),
    rngDevice: raw.rngDevice ?? DEFAULTS.rngDevice,
    randomDevice: raw.randomDevice ?? DEFAULTS.randomDevice,
    fillWatermarkBits,
    entropyPerByte,
    stepBytes,
    sources: (['hwrng', 'rdrand', 'pipe'] as SourceKind[]).filter((s) => enabled.has(s)),
    pipePath,
    quiet: raw.quiet ?? false,
    debug: raw.debug ?? false,
    test,
    list: raw.list ?? false,
    stallTimeoutMs,
    reseed,
    stats,
    statsExplicit: raw.stats !== undefined,
    stateFile: raw.stateFile === undefined ? DEFAULTS.stateFile : ['off', 'none'].includes(raw.stateFile) ? null : raw.stateFile,
    metricsFile: raw.metricsFile ?? null,
    logFile: raw.logFile ?? null,
    syslog: raw.syslog ?? false,
    compete: raw.compete ?? false,
    warnings,
  };
}
