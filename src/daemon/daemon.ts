// The feed loop: takes passing blocks from the sources (SourceRunner + BlockGate),
// feeds them through the Injector (credit policy) to the kernel (RandomDevice
// port) in the mode the feeding policy chose (core/policy.ts), and reports state
// changes to the log, sd_notify and the Publisher (publisher.ts: state file,
// metrics, stats timer). Signals belong to the composition (compose.ts), which
// calls stop(), reload() and logStats(); exit statuses belong to the CLI.
//
// Wakeups, by design (no polling loops): a read outstanding on a source (and its
// stall timer), poll(2) on /dev/random in the fill mode, one timer per scheduled
// reseed or stats event, the systemd watchdog when WatchdogSec= is set, and a
// one-shot timer that coalesces state-file writes after activity. An idle daemon
// (kernel feeds itself, no schedule in force) has none of these.
//
// poll(2) runs on libuv's threadpool, and a thread blocked there keeps the process
// from exiting until it returns; so the fill mode sleeps in one long poll (up to the
// safety re-check, at most the addon's MAX_POLL_MS = 60 s) and stop() ends it at once
// through RandomDevice.interruptPoll() (the addon's wake pipe): no wakeups while the
// pool is full, and shutdown stays immediate.
import type { RunConfig } from '../core/config';
import { daemonCreditPolicy } from '../core/credit-policy';
import { DomainError } from '../core/errors';
import { FeedMode, KernelView, Plan, planFeeding, describeSchedule, standbyReason } from '../core/policy';
import type { BlockGate } from '../core/gate';
import { DEFAULT_HEALTH, HealthOptions } from '../core/source-health';
import type { EntropySource } from '../sources/entropy-source';
import { DaemonState, sumFipsFailures, summaryLine } from '../core/stats';
import { errorCode, isPermission } from '../kernel/errors';
import { emptyInjectTotals, Injector, InjectTotals } from '../kernel/injector';
import { pollConstants, PollConstants, RandomDevice } from '../kernel/random-device';
import type { Logger } from '../log/logger';
import { Publisher } from './publisher';
import type { Notifier } from './sd-notify';
import { Scheduler } from './scheduler';
import { SourceRunner } from './source-runner';
import { WakeupThreshold } from './wakeup-threshold';

/** The injector's counters (bitsCredited is what the kernel's count rose by, bitsAsked what was asked) and the reseeds. */
export interface StatsTotals extends InjectTotals {
  reseeds: number;
}

export interface DaemonDeps {
  config: RunConfig;
  /** null in test mode (-t): nothing reaches a kernel. */
  device: RandomDevice | null;
  kernel: KernelView;
  runners: SourceRunner[];
  /** Runners that read the device the kernel's hwrng thread feeds from. */
  readsKernelHwrng: (runner: SourceRunner) => boolean;
  logger: Logger;
  notifier: Notifier;
  /** Writes the state file atomically (throws on failure). */
  writeState?: (state: DaemonState) => void;
  writeMetrics?: (text: string) => void;
  /** false when -o is not a random device (rngd's write fallback): bytes are written, nothing is credited. */
  targetCredits?: boolean;
  /**
   * Safety re-check of entropy_avail in fill mode, in case a POLLOUT wakeup was
   * missed: the timeout of the one poll(2) the fill mode sleeps in (≤ MAX_POLL_MS).
   */
  safetyCheckMs?: number;
  /**
   * Sets /proc/sys/kernel/random/write_wakeup_threshold. Given only where the
   * kernel honours it and a feeder may set it (run.ts: legacy and assisted
   * kernels, a real random device); the fill mode raises it to the watermark.
   */
  wakeupThreshold?: { set(bits: number): void };
  /** Coalescing delay for state-file writes. */
  publishDelayMs?: number;
  pid?: number;
  /** POLLOUT and MAX_POLL_MS; default the addon's (binding.constants). */
  poll?: PollConstants;
}

class Stopped extends Error {}

export class Daemon {
  plan: Plan;
  /** null in test mode (-t): nothing reaches a kernel. */
  private readonly injector: Injector | null;
  private readonly startedAt = new Date().toISOString();
  private stopped = false;
  private fatal: DomainError | null = null;
  private blockWaiter: (() => void) | null = null;
  private stopWaiters: Array<() => void> = [];
  private leftover: { data: Uint8Array; quality: number } | null = null;
  private reseeds = 0;
  private readonly wakeup: WakeupThreshold;
  private reseedScheduler: Scheduler | null = null;
  private watchdogTimer: ReturnType<typeof setInterval> | null = null;
  private readonly publisher: Publisher;
  private allLostSaid = false;
  private loopDone: Promise<DomainError | null> | null = null;
  private rr = 0;
  private reseedsDone = 0;
  private readonly standbyNotes = new Map<SourceRunner, string>();

  constructor(private readonly deps: DaemonDeps) {
    this.injector = deps.device
      ? new Injector(deps.device, daemonCreditPolicy(deps.config), {
          target: deps.config.randomDevice,
          notRandom: deps.targetCredits === false,
          warn: (line) => deps.logger.warning(`${line} (said once)`),
          debug: (line) => deps.logger.debug(line),
          // batch RNDADDENTROPY where credit is linear (5.18+); legacy: measured (injector.ts)
          linearCredit: deps.kernel.regime === 'modern' ? true : deps.kernel.regime === 'assisted' ? false : null,
        })
      : null;
    this.wakeup = new WakeupThreshold(deps.wakeupThreshold, deps.kernel.writeWakeupThresholdBits, deps.logger);
    this.publisher = new Publisher({
      logger: deps.logger,
      snapshot: () => this.state(),
      writeState: deps.writeState,
      writeMetrics: deps.writeMetrics,
      publishDelayMs: deps.publishDelayMs,
      stats: deps.config.stats,
      statsExplicit: deps.config.statsExplicit,
    });
    // before start(): nothing is read yet (the plan start() decides replaces it)
    this.plan = { mode: deps.config.test ? 'test' : 'idle', fillWatermarkBits: 0, reseed: null, summary: 'starting: the sources are opening', readAhead: false };
  }

  /** What was asked, credited (the kernel's count) and reseeded so far. */
  get totals(): StatsTotals {
    return { ...(this.injector?.totals ?? emptyInjectTotals()), reseeds: this.reseeds };
  }

  get mode(): FeedMode {
    return this.plan.mode;
  }

  /** Opens sources and decides the plan. Throws DomainError 'unavailable' when no source is usable. */
  async start(): Promise<void> {
    const { config, kernel, logger } = this.deps;
    for (const w of config.warnings) logger.warning(w);
    for (const r of this.deps.runners) {
      const note = config.test ? null : standbyReason(kernel, this.deps.readsKernelHwrng(r), config.compete);
      if (note) {
        r.standby = true;
        this.standbyNotes.set(r, note);
      }
    }
    const active = this.deps.runners.filter((r) => r.active);
    const failures: string[] = [];
    for (const r of active) {
      const err = await r.start();
      if (err) {
        const code = errorCode(err) ?? 'error';
        failures.push(`${r.source.name} (${r.source.path}): ${err.message.startsWith(code) ? err.message : `${code}: ${err.message}`}`);
      }
    }
    for (const r of this.deps.runners.filter((x) => x.standby)) {
      // report availability without reading: open and close at once
      try {
        await r.source.open();
        r.source.close();
        r.health.opened();
      } catch {
        /* stays absent */
      }
    }
    // A SIGTERM that arrived while the sources opened has stopped us already:
    // arm nothing (no watchdog, no schedule, no loop) and let done() say 0.
    if (this.stopped) return;
    if (active.length > 0 && failures.length === active.length) {
      for (const r of this.deps.runners) r.stop();
      throw new DomainError(`no usable entropy source (tried ${failures.join('; ')})`, 'unavailable');
    }
    const standbyNote = [...this.standbyNotes.entries()].map(([r, n]) => `${r.source.name}: ${n}`)[0] ?? null;
    this.replan(kernel, standbyNote);
    // said once: in the idle summary, or (when other sources feed) on its own line
    if (this.plan.mode !== 'idle') for (const [r, note] of this.standbyNotes) logger.notice(`${r.source.name} (${r.source.path}): standby: ${note}`);
    logger.notice(this.plan.summary);
    if (this.plan.mode === 'fill') this.wakeup.raise(Math.min(this.plan.fillWatermarkBits, kernel.poolsizeBits));
    if (this.deps.notifier.watchdogIntervalMs) {
      this.watchdogTimer = setInterval(() => this.deps.notifier.watchdog(), Math.max(1, Math.floor(this.deps.notifier.watchdogIntervalMs / 2)));
    }
    this.deps.notifier.ready(this.statusText());
    this.publisher.now();
    this.loopDone = this.loop();
  }

  /** Resolves when the daemon has stopped: null after stop(), or the failure that stopped it (EPERM on RNDADDENTROPY...). */
  async done(): Promise<DomainError | null> {
    return this.loopDone ?? null;
  }

  /** Stops at once: no wait for any outstanding read (reader children are killed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.deps.notifier.stopping();
    for (const r of this.deps.runners) r.stop();
    this.reseedScheduler?.cancel();
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = null;
    this.deps.device?.interruptPoll?.(); // a fill-mode poll(2) ends now, not at its timeout
    this.wakeup.restore();
    this.blockWaiter?.();
    for (const w of this.stopWaiters.splice(0)) w();
    this.publisher.stop();
  }

  /** SIGHUP: reopen every source (the caller reopens the log file). */
  reload(): void {
    this.deps.logger.notice('reopening sources (SIGHUP)');
    for (const r of this.deps.runners) if (!r.standby) r.reopen();
  }

  /** SIGUSR1: the statistics, one line. */
  logStats(): void {
    this.deps.logger.notice(summaryLine(this.state()));
  }

  state(): DaemonState {
    const sources = this.deps.runners.map((r) => r.stats());
    const totals = this.totals;
    return {
      pid: this.deps.pid ?? process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      regime: this.deps.kernel.regime,
      mode: this.statusText(),
      feedMode: this.plan.mode,
      reseedSchedule: this.plan.reseed ? describeSchedule(this.plan.reseed) : null,
      bitsCredited: totals.bitsCredited,
      bitsAsked: totals.bitsAsked,
      bytesInjected: totals.bytesInjected,
      injections: totals.injections,
      entropyBeforeBits: totals.entropyBeforeBits,
      entropyAfterBits: totals.entropyAfterBits,
      reseeds: totals.reseeds,
      sources,
      fipsFailures: sumFipsFailures(this.deps.runners.map((r) => ({ fipsFailures: r.gate.counts.fipsFailures }))),
    };
  }

  /** Source state changes, logged once each (the runner never reports repetitions). */
  onSourceChange(r: SourceRunner, from: string, to: string, reason: string): void {
    const line = `${r.source.name} (${r.source.path}): ${from} → ${to}: ${reason}`;
    if (to === 'ok') this.deps.logger.notice(line);
    else if (to === 'failing') this.deps.logger.warning(line);
    else this.deps.logger.error(line);
    const active = this.deps.runners.filter((x) => !x.standby);
    const anyOk = active.some((x) => x.state === 'ok' || x.state === 'failing');
    if (active.length > 0 && !anyOk && !this.allLostSaid && !this.stopped) {
      this.allLostSaid = true;
      this.deps.logger.error('every entropy source is unavailable; retrying with backoff (nothing is credited meanwhile)');
    } else if (anyOk && this.allLostSaid) {
      this.allLostSaid = false;
      this.deps.logger.notice('an entropy source is available again');
    }
    this.deps.notifier.status(this.statusText());
    this.publisher.soon();
  }

  onBlock(): void {
    const w = this.blockWaiter;
    this.blockWaiter = null;
    w?.();
  }

  private statusText(): string {
    const sources = this.deps.runners.map((r) => `${r.source.name} ${r.standby ? 'standby' : r.state}`).join(', ');
    const t = this.injector?.totals;
    return `${this.plan.summary}; sources: ${sources || 'none'}; ${t?.bitsCredited ?? 0} bits credited (asked ${t?.bitsAsked ?? 0})`;
  }

  private async loop(): Promise<DomainError | null> {
    try {
      while (!this.stopped) {
        switch (this.plan.mode) {
          case 'idle':
            await this.untilStopped();
            break;
          case 'test':
            await this.takeBlock();
            break;
          case 'seed':
            await this.seedStep();
            break;
          case 'fill':
            await this.fillCycle();
            break;
          case 'reseed':
            await this.reseedCycle();
            break;
        }
      }
    } catch (e: unknown) {
      if (!(e instanceof Stopped)) {
        if (e instanceof DomainError) this.fatal = e;
        else throw e;
        await this.stop();
      }
    }
    return this.fatal;
  }

  get fatalError(): DomainError | null {
    return this.fatal;
  }

  private untilStopped(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.stopWaiters.push(resolve));
  }

  /** The next passing block from any active source, round-robin among those that have one. */
  private async takeBlock(): Promise<{ data: Uint8Array; quality: number }> {
    if (this.leftover) {
      const l = this.leftover;
      this.leftover = null;
      return l;
    }
    for (;;) {
      if (this.stopped) throw new Stopped();
      const runners = this.deps.runners.filter((r) => r.active);
      for (let i = 0; i < runners.length; i++) {
        const r = runners[(this.rr + i) % runners.length] as SourceRunner;
        const block = r.take();
        if (block) {
          this.rr = (this.rr + i + 1) % Math.max(1, runners.length);
          this.publisher.soon();
          return { data: block, quality: r.source.quality };
        }
      }
      await new Promise<void>((resolve) => {
        this.blockWaiter = resolve;
        for (const r of runners) r.want();
      });
    }
  }

  private entropyBits(): number | null {
    return this.injector ? this.injector.entropyBits() : null;
  }

  /**
   * Mixes a block through the injector (-s steps, the kernel's count read back
   * after each). Stops early, keeping the rest for later, once `untilBits` is
   * reached. Returns the kernel's count afterwards.
   */
  private inject(block: { data: Uint8Array; quality: number }, untilBits: number | null): number | null {
    const injector = this.injector as Injector;
    let result: { consumed: number; entropyBits: number | null };
    try {
      result = injector.inject(block.data, block.quality, untilBits);
    } catch (e: unknown) {
      if (isPermission(e)) throw new DomainError(`RNDADDENTROPY on ${this.deps.config.randomDevice}: permission denied: needs CAP_SYS_ADMIN (run as root or grant the capability)`, 'noperm');
      const message = e instanceof Error ? e.message : String(e);
      throw new DomainError(`RNDADDENTROPY on ${this.deps.config.randomDevice} failed: ${errorCode(e) ?? ''} ${message}`.trim(), 'oserr');
    }
    if (result.consumed < block.data.length) this.leftover = { data: block.data.subarray(result.consumed), quality: block.quality };
    this.publisher.soon();
    return result.entropyBits;
  }

  /** modern, crng not ready: feed a block, check readiness, reseed and switch when ready. */
  private async seedStep(): Promise<void> {
    const block = await this.takeBlock();
    this.inject(block, null);
    const device = this.deps.device as RandomDevice;
    if (device.crngReady() === true) {
      this.deps.logger.notice('crng is ready');
      this.reseedCrng();
      this.reseedsDone = 1; // the reseed mode's first mix was this one
      this.replan({ ...this.deps.kernel, crngReady: true }, null);
    }
  }

  /** RNDRESEEDCRNG; true when the kernel reseeded. */
  private reseedCrng(): boolean {
    try {
      if (!(this.injector as Injector).reseed()) return false;
      this.reseeds++;
      return true;
    } catch (e: unknown) {
      // ENODATA: not ready yet; anything else is reported at debug and ignored
      this.deps.logger.debug(`RNDRESEEDCRNG: ${errorCode(e) ?? String(e)}`);
      return false;
    }
  }

  /**
   * The one place the plan is decided: at start (with the standby note for the
   * idle summary; start() says it) and when the kernel changes (the crng became
   * ready; said here when the mode changes). Sources read ahead as the plan says.
   */
  private replan(kernel: KernelView, standbyNote: string | null): void {
    const { config } = this.deps;
    const starting = this.loopDone === null;
    const before = this.plan.mode;
    const active = this.deps.runners.filter((r) => r.active);
    this.plan = planFeeding({ kernel, activeSources: active.length, standbyNote, test: config.test, fillWatermarkBits: config.fillWatermarkBits, reseed: config.reseed });
    for (const r of active) r.prefetch = this.plan.readAhead;
    if (!starting && before !== this.plan.mode) {
      this.deps.logger.notice(this.plan.summary);
      this.deps.notifier.status(this.statusText());
    }
    this.publisher.armStats(this.plan.mode !== 'idle');
  }

  /** fill (legacy/assisted): top up to the watermark, then sleep until the kernel wants entropy. */
  private async fillCycle(): Promise<void> {
    const target = this.plan.fillWatermarkBits;
    let entropy = this.entropyBits();
    while (!this.stopped && (entropy === null || entropy < target)) {
      const block = await this.takeBlock();
      entropy = this.inject(block, target);
      if (entropy === null) break; // plain-file target: one block per wakeup
    }
    if (this.stopped) return;
    this.publisher.now(); // the pool is full: a natural point to publish, before sleeping
    await this.waitForWant();
  }

  /**
   * Sleeps in one poll(POLLOUT) until the kernel wants entropy; on timeout (the
   * safety re-check) reads entropy_avail in case a wakeup was missed. stop() ends
   * the poll through interruptPoll().
   */
  private async waitForWant(): Promise<void> {
    const device = this.deps.device as RandomDevice;
    const { POLLOUT, MAX_POLL_MS } = this.deps.poll ?? pollConstants();
    const timeoutMs = Math.min(MAX_POLL_MS, Math.max(1, this.deps.safetyCheckMs ?? MAX_POLL_MS));
    while (!this.stopped) {
      const revents = await device.poll(POLLOUT, timeoutMs);
      if (this.stopped) return;
      if (revents & POLLOUT) return;
      const e = this.entropyBits();
      if (e === null || e < this.wakeup.wakeBelowBits) return;
    }
  }

  /** reseed (modern, crng ready): at each scheduled time, mix one fresh block and RNDRESEEDCRNG. */
  private async reseedCycle(): Promise<void> {
    const schedule = this.plan.reseed;
    if (!schedule) return this.untilStopped();
    this.reseedScheduler ??= new Scheduler(schedule);
    // the first reseed happens at start (fresh bytes once, as rngd does), then on schedule
    if (this.reseedsDone > 0) {
      const fired = await this.reseedScheduler.next();
      if (!fired || this.stopped) return;
    }
    this.reseedsDone++;
    this.leftover = null; // only fresh bytes at a reseed
    const block = await this.takeBlock();
    this.inject(block, null);
    const reseeded = this.reseedCrng();
    this.publisher.now();
    if (!(this.injector as Injector).credits) return; // said once: the target is no random device
    this.deps.logger.info(`reseed: mixed ${block.data.length} B${reseeded ? ' and the kernel reseeded its crng' : '; this kernel has no RNDRESEEDCRNG (the crng takes the bytes at its next reseed)'}`);
  }
}

export interface SourceSetup {
  source: EntropySource;
  gate: BlockGate;
  /** True when this source reads the device the kernel's hwrng thread feeds from. */
  readsKernelHwrng: boolean;
}

/** Wires runners to a daemon (the runners report to it, it drives them). */
export function buildDaemon(deps: Omit<DaemonDeps, 'runners' | 'readsKernelHwrng'> & { sources: SourceSetup[]; health?: HealthOptions }): Daemon {
  let daemon: Daemon | null = null;
  const kernelFed = new Set<SourceRunner>();
  const runners = deps.sources.map((s) => {
    const r = new SourceRunner(s.source, s.gate, {
      stallTimeoutMs: deps.config.stallTimeoutMs,
      health: deps.health ?? DEFAULT_HEALTH,
      onChange: (runner, t, reason) => daemon?.onSourceChange(runner, t.from, t.to, reason),
      onBlock: () => daemon?.onBlock(),
      debug: (m) => deps.logger.debug(m),
    });
    if (s.readsKernelHwrng) kernelFed.add(r);
    return r;
  });
  daemon = new Daemon({ ...deps, runners, readsKernelHwrng: (r) => kernelFed.has(r) });
  return daemon;
}
