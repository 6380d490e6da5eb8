// `vrngd run`: the feeding daemon, with rngd's flags (vrngd -f -r /dev/hwrng with
// no command lands here too, see run-cli.ts). Builds the real parts — probe,
// /dev/random, sources with their FIPS gates, logger, sd_notify, state file — hands
// them to the Daemon, and turns signals into stop/reload/stats.
import { spawn } from 'child_process';
import { Writable } from 'stream';
import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { CliError, EX, usageError } from '../exit';
import { ProgramDeps } from '../program';
import { ConfigError, parseRunOptions, RawRunOptions, RunConfig } from '../../core/config';
import { daemonCreditPolicy, gateFor } from '../../core/credit-policy';
import { RepeatMemory } from '../../core/repeat-memory';
import { RNGD5_OPTIONS, translateRngdArgv } from '../../core/rngd-dialect';
import type { KernelView } from '../../core/policy';
import { buildDaemon, Daemon, SourceSetup } from '../../daemon/daemon';
import type { CloneWatch } from '../../clone/clone-watch';
import { parseCloneWatch, startCloneWatch } from '../../clone/setup';
import { acquirePidFile, implicitPidFile, processExe } from '../../daemon/pid-file';
import { makeDirs, preflightWrite, writeFileAtomic } from '../../fs/safe-file';
import { createNotifier } from '../../daemon/sd-notify';
import { type DaemonState, pidAlive, readStateFile, removeStaleTempFiles, writeStateFile } from '../../daemon/state-file';
import { probeKernel, ProbeResult } from '../../kernel/probe';
import { fromNativeError } from '../../kernel/errors';
import { LinuxRandomDevice } from '../../kernel/random-device';
import { createLogger } from '../../log/logger';
import { createSource } from '../../sources/open-source';
import { listSources } from './sources';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-f, --foreground', 'stay in the foreground (the default; rngd compatibility)')
    .option('-b, --background', 'detach, write the pid file and hold the single-instance lock')
    .option('-p, --pid-file <path>', 'pid file (default /run/vrngd.pid with -b)')
    .option('-r, --rng-device <path>', 'hardware RNG device, FIFO or file for the hwrng source', '/dev/hwrng')
    .option('-o, --random-device <path>', 'kernel random device (a non-random-device target gets plain writes)', '/dev/random')
    .option('-W, --fill-watermark <bits>', 'fill entropy_avail up to this many bits (default 3/4 of poolsize)')
    .option('-e, --entropy-count <bits>', 'credit at most this many bits per byte, 0..8', '8')
    .option('-s, --random-step <bytes>', 'bytes per RNDADDENTROPY call, 1..2500', '64')
    .option('-x, --exclude <source>', 'disable a source (hwrng, rdrand, pipe; rngd names/indexes accepted)', collect)
    .option('-n, --include <source>', 'enable a source (rdrand is off by default); -n 0|1 is rngd 5\'s --no-tpm', collect)
    .option('-q, --quiet', 'log nothing')
    .option('-d, --debug', 'log debug messages (-d 0|1 is rngd 5\'s --no-drng)')
    .option('-t, --test', 'read and test the sources, feed nothing to the kernel; print the rate at exit (-t SECONDS is rngd 5\'s --timeout)')
    .option('-v, --verbose', 'rngd 5: report the sources (vrngd always does; never prints the version)')
    .option('-l, --list', 'list the sources and exit (as vrngd sources)')
    .option('-O, --option <src:key:value>', 'rngd per-source option (namedpipe:path:PATH is honoured)', collect)
    .option('-i, --ignorefail', 'rngd: credit failing blocks (ignored with a warning: vrngd never does)')
    .option('-R, --force-reseed <seconds>', 'reseed every N seconds (rngd 6.11+; 0 disables)')
    .option('-u, --use-slow-sources', 'rngd: use slow sources (no effect)')
    .option('-D, --drop-privileges <user:group>', 'rngd: drop privileges (refused; use the systemd unit)')
    .option('--pipe <path>', 'add a pipe source reading this FIFO or file', collect)
    .option('--stall-timeout <duration>', 'a read outstanding longer than this marks the source stalled', '10s')
    .option('--reseed <cron>', "reseed schedule on modern kernels once the crng is ready, or 'off'", '*/5 * * * *')
    .option('--stats <cron>', "one-line statistics summary schedule, or 'off'", '0 * * * *')
    .option('--state-file <path>', "state file read by vrngd status, or 'off'", '/run/vrngd/state.json')
    .option('--metrics-file <path>', 'Prometheus text file (node_exporter textfile collector)')
    .option('--log-file <path>', 'also log to this file (reopened on SIGHUP)')
    .option('--syslog', 'also log to syslog (/dev/log)')
    .option('--compete', "read /dev/hwrng even where the kernel's hwrng thread already feeds from it")
    .option('--clone-watch <interval>', "where a VM generation ID device has no kernel driver: how often to read the ID (restore/clone detection, docs/snapshots.md), or 'off'", '1s')
    .option('--check-options', 'check the other options (both rngd dialects), print their warnings and what run would do, start nothing')
    // rngd 5's forms, written by translateRngdArgv (src/core/rngd-dialect.ts) from -n 0|1, --no-tpm=, -d 0|1, --no-drng=, -t N, --timeout=
    .addOption(new Option(`${RNGD5_OPTIONS.noTpm} <0|1>`).hideHelp().argParser(collect))
    .addOption(new Option(`${RNGD5_OPTIONS.noDrng} <0|1>`).hideHelp().argParser(collect))
    .addOption(new Option(`${RNGD5_OPTIONS.timeout} <seconds>`).hideHelp().argParser(collect));
}

export function register(program: Command, deps: ProgramDeps): void {
  const cmd = program.command('run').description('feed checked entropy into the kernel (the daemon; takes rngd flags)');
  addRunOptions(cmd).action(async (_opts: unknown, command: Command) => {
    process.exitCode = await runCommand(command, deps);
  });
}

/** SIGHUPs closer together than this are one reload. */
export const RELOAD_COALESCE_MS = 1000;

/** Raw options as the user gave them: defaults shown in --help are not "given". */
function rawOptions(command: Command): RawRunOptions {
  const opts = command.opts() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) if (command.getOptionValueSource(k) === 'cli' || command.getOptionValueSource(k) === 'env') out[k] = v;
  return out as RawRunOptions;
}

/**
 * The RunConfig that `vrngd run ARGS` runs with: the same dialect translation,
 * commander definitions and validation as the command line. Throws what the
 * command line would refuse (CommanderError, ConfigError, DialectError).
 */
export function runConfigFor(args: string[]): RunConfig {
  const cmd = addRunOptions(new Command('run'))
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  cmd.parse(translateRngdArgv(args), { from: 'user' });
  return parseRunOptions(rawOptions(cmd));
}

async function runCommand(command: Command, deps: ProgramDeps): Promise<number> {
  let config: RunConfig;
  try {
    config = parseRunOptions(rawOptions(command));
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw usageError(e.message);
    throw e;
  }
  if (command.getOptionValue('checkOptions') === true) return checkOptions(config, deps);
  if (config.list) return listSources({ rngDevice: config.rngDevice, pipePath: config.pipePath, json: false }, deps.io);
  if (config.background && !deps.io.env.VRNGD_DETACHED) return detach(config, deps);
  // clone watch (issue 18, src/clone/setup.ts): its option, parsed here
  let cloneWatchMs: number | null;
  try {
    cloneWatchMs = parseCloneWatch(command.getOptionValue('cloneWatch') as string | undefined);
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw usageError(e.message);
    throw e;
  }
  return runDaemon(config, deps, cloneWatchMs);
}

/** --check-options: the warnings run would log and one line on what it would do (scripts/migrate-rngd.sh asks this). */
function checkOptions(config: RunConfig, deps: ProgramDeps): number {
  for (const w of config.warnings) deps.io.stderr.write(`vrngd: warning: ${w}\n`);
  const does = config.list ? 'lists the sources and exits' : config.test ? 'test mode: reads and tests, feeds nothing' : 'feeds the kernel';
  deps.io.stdout.write(`vrngd run: options ok: ${does}; sources ${config.sources.join(', ')}\n`);
  return EX.OK;
}

/**
 * -b: starts a detached copy of this command and returns once it is feeding
 * (it writes "ready" on fd 3 after the pid file is held and the sources are
 * open). If it fails first, its one-line error and exit status are ours.
 */
async function detach(config: RunConfig, deps: ProgramDeps): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '-b' && a !== '--background');
  const pidFile = config.pidFile as string;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, ...args, '--pid-file', pidFile, ...(config.logFile || config.quiet || config.syslog ? [] : ['--syslog'])], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...deps.io.env, VRNGD_DETACHED: '1', JOURNAL_STREAM: '' },
  });
  let errText = '';
  child.stderr?.on('data', (b: Buffer) => (errText += b.toString()));
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream | null;
  const status = await new Promise<number>((resolve) => {
    readyPipe?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve(EX.OK);
    });
    readyPipe?.on('error', () => undefined);
    child.on('exit', (code) => resolve(code ?? EX.SOFTWARE));
  });
  child.stderr?.destroy();
  (readyPipe as unknown as { destroy?: () => void } | null)?.destroy?.();
  child.unref();
  if (status === EX.OK) {
    // what went wrong while it started (no /dev/log, an unwritable log file) is said here, once
    for (const line of errText.split('\n')) if (/^vrngd: (warning|error|crit|alert|emerg): /.test(line)) deps.io.stderr.write(`${line}\n`);
  }
  if (status !== EX.OK) {
    const line = errText.trim().split('\n').pop();
    throw new CliError(line ? line.replace(/^vrngd: (error: )?/, '') : `the background daemon did not start (status ${status})`, status);
  }
  return EX.OK;
}

/** In the detached child: stderr reaches the parent until "ready", then nowhere (the parent is gone). */
class DetachedConsole extends Writable {
  forward = true;
  constructor() {
    super();
    process.stderr.on('error', () => undefined); // EPIPE once the parent has closed its end
  }
  _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.forward) process.stderr.write(chunk);
    done();
  }
}

function signalReady(): void {
  try {
    fs.writeSync(3, 'ready\n');
    fs.closeSync(3);
  } catch {
    /* started by hand with VRNGD_DETACHED: nobody waits */
  }
}

function kernelView(probe: ProbeResult, targetIsRandomDevice: boolean): KernelView {
  if (!targetIsRandomDevice) {
    // -o at a file or /dev/stdout (rngd's write fallback): nothing to measure; write as blocks come
    return { regime: 'legacy', poolsizeBits: 4096, writeWakeupThresholdBits: 4096, crngReady: null, kernelFeeder: false };
  }
  const k = probe.kernel;
  return {
    regime: k.regime,
    poolsizeBits: k.poolsizeBits ?? (k.regime === 'modern' ? 256 : 4096),
    writeWakeupThresholdBits: k.writeWakeupThresholdBits ?? (k.regime === 'legacy' ? 128 : 896),
    crngReady: k.crngReady,
    kernelFeeder: probe.hwrng.kernelFeeder,
  };
}

const WRITE_WAKEUP_THRESHOLD = '/proc/sys/kernel/random/write_wakeup_threshold';

function rdevOf(p: string): number | null {
  try {
    const st = fs.statSync(p);
    return st.isCharacterDevice() ? st.rdev : null;
  } catch {
    return null;
  }
}

async function runDaemon(config: RunConfig, deps: ProgramDeps, cloneWatchMs: number | null = null): Promise<number> {
  const detached = deps.io.env.VRNGD_DETACHED === '1' ? new DetachedConsole() : null;
  const logger = createLogger({
    level: config.debug ? 'debug' : 'info',
    quiet: config.quiet,
    logFile: config.logFile ?? undefined,
    syslog: config.syslog,
    stream: detached ?? deps.io.stderr,
    journal: Boolean(deps.io.env.JOURNAL_STREAM),
  });
  let releasePid: (() => void) | null = null;
  // Signal handlers go in first, before anything is probed or logged: a SIGTERM
  // during start-up (probing, sources opening, the first read) must stop the
  // daemon and exit 0 within a second, never kill it by the default action.
  let daemon: Daemon | null = null;
  let cloneWatch: CloneWatch | null = null; // clone watch (issue 18)
  let stopRequested = false;
  let stopSignal: (() => void) | null = null;
  const stopped = new Promise<number>((resolve) => (stopSignal = () => resolve(EX.OK)));
  // SIGHUP (systemctl reload, logrotate): at most one reload per RELOAD_COALESCE_MS.
  // The first runs at once; those that arrive meanwhile become one more at the end
  // of the window. 1,500 SIGHUPs 1 ms apart used to mean ~1,400 reopens, as many
  // log lines, and a 4 s stop.
  let reloadTimer: NodeJS.Timeout | null = null;
  let lastReloadAt = -Infinity;
  let coalesced = 0;
  const doReload = (): void => {
    reloadTimer = null;
    if (stopRequested) return;
    if (coalesced > 1) logger.debug(`${coalesced} SIGHUPs, one reload`);
    coalesced = 0;
    lastReloadAt = Date.now();
    logger.reopen();
    daemon?.reload();
  };
  const onHup = (): void => {
    if (stopRequested) return;
    coalesced++;
    if (reloadTimer) return;
    reloadTimer = setTimeout(doReload, Math.max(0, lastReloadAt + RELOAD_COALESCE_MS - Date.now()));
  };
  const onStop = (sig: string) => (): void => {
    logger.notice(`${sig}: stopping`);
    stopRequested = true;
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = null;
    if (daemon) void daemon.stop().then(() => stopSignal?.());
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGTERM', onStop('SIGTERM')],
    ['SIGINT', onStop('SIGINT')],
    ['SIGHUP', onHup],
    ['SIGUSR1', () => daemon?.logStats()],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    releasePid = takeLock(config, logger);
    if (config.stateFile) preflightWrite(config.stateFile, 'state file');
    if (config.metricsFile) preflightWrite(config.metricsFile, 'metrics file');
    const probe = probeKernel({ hwrngDevice: '/dev/hwrng' });
    let device: LinuxRandomDevice | null = null;
    let targetIsRandomDevice = true;
    if (!config.test) {
      try {
        device = new LinuxRandomDevice({ path: config.randomDevice, writable: true });
      } catch (e: unknown) {
        const err = fromNativeError(e);
        throw new CliError(`cannot open ${config.randomDevice}: ${(err as Error).message}`, (err as { code?: string }).code === 'EACCES' ? EX.NOPERM : EX.UNAVAILABLE);
      }
      targetIsRandomDevice = fs.statSync(config.randomDevice).isCharacterDevice();
    }
    const kernel = kernelView(probe, targetIsRandomDevice);
    const hwrngRdev = rdevOf('/dev/hwrng');
    const targetRdev = rdevOf(config.randomDevice);
    const targetIsKernelRandom = targetRdev !== null && targetRdev === rdevOf('/dev/random');
    const policy = daemonCreditPolicy(config);
    const repeats = new RepeatMemory();
    const sources: SourceSetup[] = config.sources.map((name) => {
      const source = createSource({ kind: name, path: name === 'pipe' ? (config.pipePath as string) : config.rngDevice });
      const r = name === 'hwrng' ? rdevOf(config.rngDevice) : null;
      return { source, gate: gateFor(policy, repeats), readsKernelHwrng: targetIsRandomDevice && r !== null && r === hwrngRdev };
    });
    const notifier = createNotifier(deps.io.env);
    const stateFile = config.stateFile;
    if (stateFile) removeStaleTempFiles(stateFile); // left by a SIGKILLed writer
    const metricsFile = config.metricsFile;
    daemon = buildDaemon({
      config,
      device,
      kernel,
      sources,
      targetCredits: targetIsRandomDevice,
      logger,
      notifier,
      writeState: stateFile ? (state) => writeStateIn(stateFile, { ...state, ...(cloneWatch ? { clonesDetected: cloneWatch.clonesDetected } : {}) }) : undefined,
      writeMetrics: metricsFile ? (text) => writeAtomic(metricsFile, text) : undefined,
      // 5.19+ ignores writes to it (and the daemon never fills there); a -o target that is
      // not the kernel's own random device must not change the kernel's wakeups
      wakeupThreshold: kernel.regime !== 'modern' && !config.test && targetIsKernelRandom ? { set: (bits) => fs.writeFileSync(WRITE_WAKEUP_THRESHOLD, `${bits}\n`) } : undefined,
    });
    logger.info(`kernel ${probe.kernel.release}: ${kernel.regime} regime, poolsize ${kernel.poolsizeBits}, entropy_avail ${probe.kernel.entropyAvailBits ?? '?'}, crng ${kernel.crngReady === null ? 'readiness unknown' : kernel.crngReady ? 'ready' : 'not ready'}`);
    if (!targetIsRandomDevice) logger.warning(`${config.randomDevice} is not a random device: checked bytes are written to it, nothing is credited`);
    for (const f of probe.feeders) logger.warning(`${f} is running too: two feeders compete for the same sources`);
    const t0 = Date.now();
    if (stopRequested) return EX.OK; // stopped before anything started
    await daemon.start();
    // clone watch (issue 18, src/clone/setup.ts): re-keys a restored or cloned VM
    const d = daemon;
    cloneWatch = startCloneWatch({ intervalMs: cloneWatchMs, device, rngDevice: config.rngDevice, entropyPerByte: config.entropyPerByte, hasGetrandom: probe.kernel.getrandom, repeats, logger, onEvent: (n) => stateFile && writeStateIn(stateFile, { ...d.state(), clonesDetected: n }) });
    if (detached) {
      signalReady();
      detached.forward = false;
    }
    // An idle daemon has no I/O and no timers, and Node exits when nothing holds the
    // event loop (signal handlers do not). This timer holds it: one wakeup per
    // 24.8 days (setTimeout's maximum), the only timer an idle daemon has.
    const keepAlive = setInterval(() => undefined, 0x7fffffff);
    let code: number;
    try {
      code = await Promise.race([daemon.done(), stopped]);
    } finally {
      clearInterval(keepAlive);
      cloneWatch?.stop(); // clone watch (issue 18)
    }
    if (config.test) {
      const st = daemon.state();
      const bits = st.sources.reduce((a, s) => a + s.blocksPassed * 2500 * 8, 0);
      const seconds = (Date.now() - t0) / 1000;
      deps.io.stdout.write(`Entropy rate: ${((bits / 1e6) / Math.max(seconds, 1e-3)).toPrecision(4)} Mbits/sec averaged over ${st.sources.reduce((a, s) => a + s.blocksPassed, 0)} blocks for ${seconds.toPrecision(4)} seconds\n`);
    }
    const fatal = daemon.fatalError;
    if (fatal) throw fatal;
    logger.info(`stopped; ${daemon.totals.bitsCredited} bits credited (${daemon.totals.bitsAsked} asked) in ${daemon.totals.injections} injections`);
    hardExitGuard(code);
    return code;
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    if (reloadTimer) clearTimeout(reloadTimer);
    releasePid?.();
    await logger.close();
  }
}

/**
 * Where the lock beside the state file cannot be taken (a read-only state
 * directory), the state file stands in for it: a state file naming a live process
 * that runs our executable and our entry script means a second instance, refused
 * with 69 (bugs-issue8.md #2). A state file left by a dead or recycled pid, or one
 * naming a process that merely calls itself vrngd, does not block.
 */
function refuseSecondInstance(stateFile: string): void {
  const st = readStateFile(stateFile);
  if (!st || !Number.isInteger(st.pid) || st.pid <= 0 || st.pid === process.pid || !pidAlive(st.pid)) return;
  if (!sameProgram(st.pid)) return;
  throw new CliError(`another vrngd is already running (pid ${st.pid}, state file ${stateFile})`, EX.UNAVAILABLE);
}

/** Whether pid runs the same executable as we do with our entry script as its first argument. */
function sameProgram(pid: number): boolean {
  const exe = processExe(pid);
  if (exe === null || exe !== processExe(process.pid)) return false;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const script = process.argv[1];
    return script !== undefined && argv.slice(1).some((a) => a === script || path.resolve(a) === path.resolve(script));
  } catch {
    return false;
  }
}

/**
 * In the real binary only: if something still holds the event loop 1.5 s after a
 * stop (it should not: readers are killed, the fill-mode poll is interrupted), exit anyway.
 */
function hardExitGuard(code: number): void {
  if (process.env.VITEST || !/main\.js$/.test(process.argv[1] ?? '')) return;
  setTimeout(() => process.exit(code), 1500).unref();
}

/**
 * The single-instance lock: the -p/-b pid file, or else (in the foreground) a
 * pid file beside the state file (/run/vrngd/state.json → /run/vrngd/state.pid),
 * since two daemons on one state file would overwrite each other's. A live
 * holder refuses the start (69, naming its pid); a stale one is replaced. The
 * implicit lock is best effort: where it cannot be written (read-only or full
 * state directory, which the state file writer reports itself) vrngd runs
 * without it. -t feeds nothing and takes no lock; nor does --state-file off.
 */
function takeLock(config: RunConfig, logger: { debug: (m: string) => void }): (() => void) | null {
  const releases: Array<() => void> = [];
  const releaseAll = (): void => {
    for (const r of releases.reverse()) r();
  };
  try {
    if (config.pidFile) releases.push(acquirePidFile(config.pidFile));
    // the state file's own lock too, so two daemons with different -p cannot share one state file
    if (!config.test && config.stateFile) {
      const lock = implicitPidFile(config.stateFile);
      if (!config.pidFile || path.resolve(lock) !== path.resolve(config.pidFile)) {
        try {
          releases.push(acquirePidFile(lock, process.pid, `state file ${config.stateFile}`));
        } catch (e: unknown) {
          if (e instanceof CliError) throw e;
          logger.debug(`no single-instance lock at ${lock}: ${e instanceof Error ? e.message : String(e)}`);
          refuseSecondInstance(config.stateFile);
        }
      }
    }
  } catch (e: unknown) {
    releaseAll();
    throw e;
  }
  return releases.length > 0 ? releaseAll : null;
}

export { implicitPidFile };

/** Writes the state file, creating its directory first if it is missing. */
export function writeStateIn(file: string, state: DaemonState): void {
  makeDirs(path.dirname(file));
  writeStateFile(file, state);
}

export { makeDirs };

/** The metrics text file: replaced atomically in a checked directory; a failed write leaves no temp file. */
function writeAtomic(file: string, text: string): void {
  writeFileAtomic(file, text, { mode: 0o644, durable: false, what: 'metrics file' });
}
