// The daemon's composition root: from a validated RunConfig, builds the real
// parts — the kernel probe, /dev/random (LinuxRandomDevice), the sources with
// their FIPS gates and one repeat memory, the logger, sd_notify, the state and
// metrics files, the single-instance lock — hands them to the feed loop
// (daemon.ts), turns signals into stop/reload/stats, and waits for the end.
// Failures are DomainErrors; the CLI turns them into exit statuses (cli/exit.ts exitCodeFor).
// See signal(7), random(4).
import * as fs from 'fs';
import * as path from 'path';
import { Writable } from 'stream';
import type { RunConfig } from '../core/config';
import { daemonCreditPolicy, gateFor } from '../core/credit-policy';
import { DomainError } from '../core/errors';
import type { DaemonState } from '../core/stats';
import { makeDirs, preflightWrite, writeFileAtomic } from '../fs/safe-file';
import { fromNativeError, isPermission } from '../kernel/errors';
import { kernelViewOf, sameCharDevice } from '../kernel/kernel-view';
import { probeKernel } from '../kernel/probe';
import { LinuxRandomDevice } from '../kernel/random-device';
import { createLogger, Logger } from '../log/logger';
import { NativeFipsTester } from '../native/fips-tester';
import { NativeRepeatMemory } from '../native/repeat-memory';
import { createSource } from '../sources/open-source';
import type { CloneWatch } from '../clone/clone-watch';
import { startCloneWatch } from '../clone/setup';
import { buildDaemon, Daemon, SourceSetup } from './daemon';
import { acquirePidFile, implicitPidFile, refuseSecondInstance } from './pid-file';
import { createNotifier } from './sd-notify';
import { removeStaleTempFiles, writeStateFile } from './state-file';

/** SIGHUPs closer together than this are one reload. */
export const RELOAD_COALESCE_MS = 1000;

const WRITE_WAKEUP_THRESHOLD = '/proc/sys/kernel/random/write_wakeup_threshold';

export interface DaemonIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
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

/** Tells a waiting `vrngd run -b` parent (fd 3, see detach.ts) that the daemon feeds. */
function signalReady(): void {
  try {
    fs.writeSync(3, 'ready\n');
    fs.closeSync(3);
  } catch {
    /* started by hand with VRNGD_DETACHED: nobody waits */
  }
}

/** Writes the state file, creating its directory first if it is missing. */
export function writeStateIn(file: string, state: DaemonState): void {
  makeDirs(path.dirname(file));
  writeStateFile(file, state);
}

/** The metrics text file: replaced atomically in a checked directory; a failed write leaves no temp file. */
function writeMetricsFile(file: string, text: string): void {
  writeFileAtomic(file, text, { mode: 0o644, what: 'metrics file' });
}

/** Opens the -o target; EACCES or EPERM is 'noperm' (exit 77, as for every command), anything else 'unavailable'. */
function openTarget(config: RunConfig): LinuxRandomDevice {
  try {
    return new LinuxRandomDevice({ path: config.randomDevice, writable: true });
  } catch (e: unknown) {
    const err = fromNativeError(e);
    throw new DomainError(`cannot open ${config.randomDevice}: ${(err as Error).message}`, isPermission(err) ? 'noperm' : 'unavailable');
  }
}

/**
 * Signal handling for one daemon run. The handlers go in first, before anything
 * is probed or logged: a SIGTERM during start-up (probing, sources opening, the
 * first read) must stop the daemon and exit 0 within a second, never kill it by
 * the default action.
 *
 * SIGHUP (systemctl reload, logrotate): at most one reload per RELOAD_COALESCE_MS.
 * The first runs at once; those that arrive meanwhile become one more at the end
 * of the window. 1,500 SIGHUPs 1 ms apart used to mean ~1,400 reopens, as many
 * log lines, and a 4 s stop.
 */
class Signals {
  daemon: Daemon | null = null;
  stopRequested = false;
  /** Resolves when a stop signal has stopped the daemon. */
  readonly stopped: Promise<void>;
  private stopSignal: (() => void) | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private lastReloadAt = -Infinity;
  private coalesced = 0;
  private readonly handlers: Array<[NodeJS.Signals, () => void]>;

  constructor(private readonly logger: Logger) {
    this.stopped = new Promise<void>((resolve) => (this.stopSignal = resolve));
    this.handlers = [
      ['SIGTERM', this.onStop('SIGTERM')],
      ['SIGINT', this.onStop('SIGINT')],
      ['SIGHUP', () => this.onHup()],
      ['SIGUSR1', () => this.daemon?.logStats()],
    ];
    for (const [sig, h] of this.handlers) process.on(sig, h);
  }

  private doReload(): void {
    this.reloadTimer = null;
    if (this.stopRequested) return;
    if (this.coalesced > 1) this.logger.debug(`${this.coalesced} SIGHUPs, one reload`);
    this.coalesced = 0;
    this.lastReloadAt = Date.now();
    this.logger.reopen();
    this.daemon?.reload();
  }

  private onHup(): void {
    if (this.stopRequested) return;
    this.coalesced++;
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => this.doReload(), Math.max(0, this.lastReloadAt + RELOAD_COALESCE_MS - Date.now()));
  }

  private onStop(sig: string): () => void {
    return () => {
      this.logger.notice(`${sig}: stopping`);
      this.stopRequested = true;
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = null;
      if (this.daemon) void this.daemon.stop().then(() => this.stopSignal?.());
    };
  }

  remove(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
  }
}

/**
 * Runs the daemon until a stop signal or a fatal failure. Resolves when it was
 * stopped; rejects with the DomainError that stopped it (or that kept it from
 * starting). In test mode (-t) the entropy rate is printed on `io.stdout`.
 * `cloneWatchMs`: --clone-watch's interval, or null for off (src/clone/).
 * `onStarted`: called once, when the daemon is up (READY=1 sent, the logger attached).
 */
export async function runDaemon(config: RunConfig, io: DaemonIo, cloneWatchMs: number | null = null, onStarted?: () => void): Promise<void> {
  const detached = io.env.VRNGD_DETACHED === '1' ? new DetachedConsole() : null;
  const logger = createLogger({
    level: config.debug ? 'debug' : 'info',
    quiet: config.quiet,
    logFile: config.logFile ?? undefined,
    syslog: config.syslog,
    stream: detached ?? io.stderr,
    journal: Boolean(io.env.JOURNAL_STREAM),
    // READY=1 does not wait for winston's loading: lines are held until attach() below
    deferred: true,
  });
  const signals = new Signals(logger);
  let releasePid: (() => void) | null = null;
  let cloneWatch: CloneWatch | null = null;
  try {
    releasePid = takeLock(config, logger);
    if (config.stateFile) preflightWrite(config.stateFile, 'state file');
    if (config.metricsFile) preflightWrite(config.metricsFile, 'metrics file');
    const probe = probeKernel({ hwrngDevice: '/dev/hwrng' });
    const device = config.test ? null : openTarget(config);
    const targetIsRandomDevice = device === null || fs.statSync(config.randomDevice).isCharacterDevice();
    const kernel = kernelViewOf(probe, targetIsRandomDevice);
    const policy = daemonCreditPolicy(config);
    // the repeat memory in C (src/native/repeat.c; the JS one is its reference): issue 16
    const repeats = new NativeRepeatMemory();
    const sources: SourceSetup[] = config.sources.map((name) => ({
      source: createSource({ kind: name, path: name === 'pipe' ? (config.pipePath as string) : config.rngDevice }),
      gate: gateFor(policy, repeats, (bootstrap) => new NativeFipsTester(bootstrap)),
      readsKernelHwrng: targetIsRandomDevice && name === 'hwrng' && sameCharDevice(config.rngDevice, '/dev/hwrng'),
    }));
    const stateFile = config.stateFile;
    if (stateFile) removeStaleTempFiles(stateFile); // left by a SIGKILLed writer
    const metricsFile = config.metricsFile;
    const daemon = buildDaemon({
      config,
      device,
      kernel,
      sources,
      targetCredits: targetIsRandomDevice,
      logger,
      notifier: createNotifier(io.env),
      writeState: stateFile ? (state) => writeStateIn(stateFile, withClones(state, cloneWatch?.clonesDetected)) : undefined,
      writeMetrics: metricsFile ? (text) => writeMetricsFile(metricsFile, text) : undefined,
      // 5.19+ ignores writes to it (and the daemon never fills there); a -o target that is
      // not the kernel's own random device must not change the kernel's wakeups
      wakeupThreshold:
        kernel.regime !== 'modern' && !config.test && sameCharDevice(config.randomDevice, '/dev/random')
          ? { set: (bits) => fs.writeFileSync(WRITE_WAKEUP_THRESHOLD, `${bits}\n`) }
          : undefined,
    });
    signals.daemon = daemon;
    logger.info(`kernel ${probe.kernel.release}: ${kernel.regime} regime, poolsize ${kernel.poolsizeBits}, entropy_avail ${probe.kernel.entropyAvailBits ?? '?'}, crng ${kernel.crngReady === null ? 'readiness unknown' : kernel.crngReady ? 'ready' : 'not ready'}`);
    if (!targetIsRandomDevice) logger.warning(`${config.randomDevice} is not a random device: checked bytes are written to it, nothing is credited`);
    for (const f of probe.feeders) logger.warning(`${f} is running too: two feeders compete for the same sources`);
    const t0 = Date.now();
    if (signals.stopRequested) return; // stopped before anything started
    await daemon.start();
    logger.attach(); // READY=1 is out (daemon.start): now load winston and write the held lines
    // restored or cloned VMs on kernels that do not handle vmgenid themselves (docs/snapshots.md)
    cloneWatch = startCloneWatch({
      intervalMs: cloneWatchMs,
      device,
      rngDevice: config.rngDevice,
      entropyPerByte: config.entropyPerByte,
      hasGetrandom: probe.kernel.getrandom,
      repeats,
      logger,
      onEvent: (n) => stateFile && writeStateIn(stateFile, withClones(daemon.state(), n)),
    });
    if (detached) {
      signalReady();
      detached.forward = false;
    }
    onStarted?.();
    // An idle daemon has no I/O and no timers, and Node exits when nothing holds the
    // event loop (signal handlers do not). This timer holds it: one wakeup per
    // 24.8 days (setTimeout's maximum), the only timer an idle daemon has.
    const keepAlive = setInterval(() => undefined, 0x7fffffff);
    try {
      await Promise.race([daemon.done(), signals.stopped]);
    } finally {
      clearInterval(keepAlive);
    }
    if (config.test) {
      const st = daemon.state();
      const bits = st.sources.reduce((a, s) => a + s.blocksPassed * 2500 * 8, 0);
      const seconds = (Date.now() - t0) / 1000;
      io.stdout.write(`Entropy rate: ${((bits / 1e6) / Math.max(seconds, 1e-3)).toPrecision(4)} Mbits/sec averaged over ${st.sources.reduce((a, s) => a + s.blocksPassed, 0)} blocks for ${seconds.toPrecision(4)} seconds\n`);
    }
    const fatal = daemon.fatalError;
    if (fatal) throw fatal;
    logger.info(`stopped; ${daemon.totals.bitsCredited} bits credited (${daemon.totals.bitsAsked} asked) in ${daemon.totals.injections} injections`);
  } finally {
    cloneWatch?.stop();
    signals.remove();
    releasePid?.();
    await logger.close();
  }
}

/**
 * The single-instance lock: the -p/-b pid file, or else (in the foreground) a
 * pid file beside the state file (/run/vrngd/state.json → /run/vrngd/state.pid),
 * since two daemons on one state file would overwrite each other's. A live
 * holder refuses the start ('unavailable', naming its pid); a stale one is
 * replaced. The implicit lock is best effort: where it cannot be written
 * (read-only or full state directory, which the state file writer reports
 * itself) vrngd runs without it, and the state file stands in for it
 * (pid-file.ts refuseSecondInstance). -t feeds nothing and takes no lock; nor
 * does --state-file off.
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
          if (e instanceof DomainError) throw e;
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

/** The daemon's state with the clone watcher's count, when one runs. */
function withClones(state: DaemonState, clonesDetected: number | undefined): DaemonState {
  return clonesDetected === undefined ? state : { ...state, clonesDetected };
}
