// The feeding daemon: the composition of sources (SourceRunner + BlockGate), the
// feeding policy (core/policy.ts), the kernel (RandomDevice port), schedules,
// statistics, the state file and sd_notify. Signals and process exit belong to
// the caller (cli/commands/run.ts), which calls stop(), reload() and logStats().
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
import { CliError, EX } from '../cli/exit';
import type { RunConfig } from '../core/config';
import { daemonCreditPolicy } from '../core/credit-policy';
import { FeedMode, KernelView, Plan, planFeeding, describeSchedule, standbyReason } from '../core/policy';
import type { BlockGate } from '../core/gate';
import { DEFAULT_HEALTH, HealthOptions } from '../core/source-health';
import type { EntropySource } from '../sources/entropy-source';
import { prometheusText, StatsTotals, sumFipsFailures, summaryLine } from '../core/stats';
import { errorCode, isPermission } from '../kernel/errors';
import { emptyInjectTotals, Injector } from '../kernel/injector';
import type { RandomDevice } from '../kernel/random-device';
import type { Logger } from '../log/logger';
import type { Notifier } from './sd-notify';
import { Scheduler } from './scheduler';
import { SourceRunner } from './source-runner';
import type { DaemonState } from './state-file';

const POLLOUT = 4;
/** The addon's longest poll(2) timeout (binding.constants.MAX_POLL_MS). */
const MAX_POLL_MS = 60000;

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
}

class Stopped extends Error {}

export class Daemon {
  plan: Plan;
  /** null in test mode (-t): nothing reaches a kernel. */
  private readonly injector: Injector | null;
  private readonly startedAt = new Date().toISOString();
  private stopped = false;
  private fatal: CliError | null = null;
  private blockWaiter: (() => void) | null = null;
  private stopWaiters: Array<() => void> = [];
  private leftover: { data: Uint8Array; quality: number } | null = null;
  private reseeds = 0;
  /** write_wakeup_threshold as the fill mode raised it, and the value it found (restored at stop). */
  private raisedWakeup: { bits: number; was: number } | null = null;
  private reseedScheduler: Scheduler | null = null;
  private statsScheduler: Scheduler | null = null;
  private watchdogTimer: ReturnType<typeof setInterval> | null = null;
  private publishTimer: ReturnType<typeof setTimeout> | null = null;
  private stateWriteFailed = false;
  private metricsWriteFailed = false;
  private allLostSaid = false;
  private lastStatsLine = '';
  private loopDone: Promise<number> | null = null;
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
    this.plan = planFeeding({ kernel: deps.kernel, activeSources: 0, standbyNote: null, test: deps.config.test, fillWatermarkBits: deps.config.fillWatermarkBits, reseed: null });
  }

  /** What was asked, credited (the kernel's count) and reseeded so far. */
  get totals(): StatsTotals {
    return { ...(this.injector?.totals ?? emptyInjectTotals()), reseeds: this.reseeds };
  }

  get mode(): FeedMode {
    return this.plan.mode;
  }

  /** Opens sources and decides the plan. Throws CliError 69 when no source is usable. */
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
      throw new CliError(`no usable entropy source (tried ${failures.join('; ')})`, EX.UNAVAILABLE);
    }
    const standbyNote = [...this.standbyNotes.entries()].map(([r, n]) => `${r.source.name}: ${n}`)[0] ?? null;
    this.plan = planFeeding({ kernel, activeSources: active.length, standbyNote, test: config.test, fillWatermarkBits: config.fillWatermarkBits, reseed: config.reseed });
    // said once: in the idle summary, or (when other sources feed) on its own line
    if (this.plan.mode !== 'idle') for (const [r, note] of this.standbyNotes) logger.notice(`${r.source.name} (${r.source.path}): standby: ${note}`);
    for (const r of active) r.prefetch = this.plan.mode === 'fill' || this.plan.mode === 'seed' || this.plan.mode === 'test';
    logger.notice(this.plan.summary);
    if (this.plan.mode === 'fill') this.raiseWakeupThreshold();
    if (this.deps.notifier.watchdogIntervalMs) {
      this.watchdogTimer = setInterval(() => this.deps.notifier.watchdog(), Math.max(1, Math.floor(this.deps.notifier.watchdogIntervalMs / 2)));
    }
    this.deps.notifier.ready(this.statusText());
    this.armStats();
    this.publishNow();
    this.loopDone = this.loop();
  }

  /** Resolves with the exit status when the daemon has stopped (0, or 77 on EPERM...). */
  async done(): Promise<number> {
    return this.loopDone ?? EX.OK;
  }

  /** Stops at once: no wait for any outstanding read (reader children are killed). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.deps.notifier.stopping();
    for (const r of this.deps.runners) r.stop();
    this.reseedScheduler?.cancel();
    this.statsScheduler?.cancel();
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.watchdogTimer = null;
    this.publishTimer = null;
    this.deps.device?.interruptPoll?.(); // a fill-mode poll(2) ends now, not at its timeout
    this.restoreWakeupThreshold();
    this.blockWaiter?.();
    for (const w of this.stopWaiters.splice(0)) w();
    this.publishNow();
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
    this.publishSoon();
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

  private async loop(): Promise<number> {
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
        if (e instanceof CliError) this.fatal = e;
        else throw e;
        await this.stop();
      }
    }
    return this.fatal ? this.fatal.exitCode : EX.OK;
  }

  get fatalError(): CliError | null {
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
          this.publishSoon();
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
      if (isPermission(e)) throw new CliError(`RNDADDENTROPY on ${this.deps.config.randomDevice}: permission denied: needs CAP_SYS_ADMIN (run as root or grant the capability)`, EX.NOPERM);
      const message = e instanceof Error ? e.message : String(e);
      throw new CliError(`RNDADDENTROPY on ${this.deps.config.randomDevice} failed: ${errorCode(e) ?? ''} ${message}`.trim(), EX.OSERR);
    }
    if (result.consumed < block.data.length) this.leftover = { data: block.data.subarray(result.consumed), quality: block.quality };
    this.publishSoon();
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
      this.replan({ ...this.deps.kernel, crngReady: true });
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

  private replan(kernel: KernelView): void {
    const active = this.deps.runners.filter((r) => r.active).length;
    const before = this.plan.mode;
    this.plan = planFeeding({ kernel, activeSources: active, standbyNote: null, test: this.deps.config.test, fillWatermarkBits: this.deps.config.fillWatermarkBits, reseed: this.deps.config.reseed });
    for (const r of this.deps.runners) r.prefetch = this.plan.mode === 'fill' || this.plan.mode === 'seed';
    if (before !== this.plan.mode) {
      this.deps.logger.notice(this.plan.summary);
      this.deps.notifier.status(this.statusText());
      this.armStats();
    }
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
    this.publishNow(); // the pool is full: a natural point to publish, before sleeping
    await this.waitForWant();
  }

  /**
   * Sleeps in one poll(POLLOUT) until the kernel wants entropy; on timeout (the
   * safety re-check) reads entropy_avail in case a wakeup was missed. stop() ends
   * the poll through interruptPoll().
   */
  private async waitForWant(): Promise<void> {
    const device = this.deps.device as RandomDevice;
    const timeoutMs = Math.min(MAX_POLL_MS, Math.max(1, this.deps.safetyCheckMs ?? MAX_POLL_MS));
    while (!this.stopped) {
      const revents = await device.poll(POLLOUT, timeoutMs);
      if (this.stopped) return;
      if (revents & POLLOUT) return;
      const e = this.entropyBits();
      if (e === null || e < this.wakeBelowBits()) return;
    }
  }

  private wakeBelowBits(): number {
    return this.raisedWakeup?.bits ?? this.deps.kernel.writeWakeupThresholdBits;
  }

  /**
   * The kernel wakes a feeder (POLLOUT) only below write_wakeup_threshold: 128 bits
   * on 2.6.32 and 3.10, which a reader of /dev/random empties in milliseconds, so a
   * feeder that waits for it lets the pool touch 0 (seen on a booted 3.10 with a
   * 1 KiB/s reader: 93 % of seconds above 128). rngd raises it to its fill
   * watermark (-W) and so does vrngd, for as long as it runs: then every drop
   * below the watermark wakes it. Said once; a refusal is said once and the
   * daemon feeds on the kernel's own threshold.
   */
  private raiseWakeupThreshold(): void {
    const was = this.deps.kernel.writeWakeupThresholdBits;
    const target = Math.min(this.plan.fillWatermarkBits, this.deps.kernel.poolsizeBits);
    if (!this.deps.wakeupThreshold || this.raisedWakeup || target <= was) return;
    try {
      this.deps.wakeupThreshold.set(target);
      this.raisedWakeup = { bits: target, was };
      this.deps.logger.notice(`write_wakeup_threshold ${was} → ${target} bits: the kernel wakes vrngd whenever the pool drops below the fill watermark (as rngd does; ${was} again at stop)`);
    } catch (e: unknown) {
      this.deps.logger.warning(`cannot raise write_wakeup_threshold to ${target}: ${errorCode(e) ?? String(e)}; refilling below ${was} only`);
    }
  }

  private restoreWakeupThreshold(): void {
    const r = this.raisedWakeup;
    if (!r || !this.deps.wakeupThreshold) return;
    this.raisedWakeup = null;
    try {
      this.deps.wakeupThreshold.set(r.was);
    } catch (e: unknown) {
      this.deps.logger.warning(`cannot restore write_wakeup_threshold to ${r.was}: ${errorCode(e) ?? String(e)}`);
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
    this.publishNow();
    if (!(this.injector as Injector).credits) return; // said once: the target is no random device
    this.deps.logger.info(`reseed: mixed ${block.data.length} B${reseeded ? ' and the kernel reseeded its crng' : '; this kernel has no RNDRESEEDCRNG (the crng takes the bytes at its next reseed)'}`);
  }

  /**
   * --stats: the hourly (default) summary runs only while the daemon feeds (a
   * schedule, fill or seed mode), or when --stats was given explicitly: an idle
   * daemon has nothing new to report and no reason to wake up. The line is logged
   * at info only when something changed since the last one (rngd users complain
   * about hourly noise), at debug otherwise.
   */
  private armStats(): void {
    const s = this.deps.config.stats;
    const wanted = s !== null && (this.deps.config.statsExplicit || this.plan.mode !== 'idle');
    if (!wanted || this.statsScheduler || this.stopped) return;
    const scheduler = new Scheduler(s);
    this.statsScheduler = scheduler;
    const tick = async (): Promise<void> => {
      while (!this.stopped && (await scheduler.next())) {
        const st = this.state();
        const line = summaryLine({ ...st, entropyAfterBits: null, entropyBeforeBits: null });
        if (line !== this.lastStatsLine) this.deps.logger.info(summaryLine(st));
        else this.deps.logger.debug(summaryLine(st));
        this.lastStatsLine = line;
      }
    };
    void tick();
  }

  private publishSoon(): void {
    if (this.publishTimer || this.stopped) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      this.publishNow();
    }, this.deps.publishDelayMs ?? 1000);
  }

  private publishNow(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    const state = this.state();
    try {
      this.deps.writeState?.(state);
      if (this.stateWriteFailed) this.deps.logger.notice('state file written again');
      this.stateWriteFailed = false;
    } catch (e: unknown) {
      if (!this.stateWriteFailed) this.deps.logger.warning(`cannot write the state file: ${e instanceof Error ? e.message : String(e)}; feeding goes on (said once)`);
      this.stateWriteFailed = true;
    }
    try {
      this.deps.writeMetrics?.(prometheusText(state));
      this.metricsWriteFailed = false;
    } catch (e: unknown) {
      if (!this.metricsWriteFailed) this.deps.logger.warning(`cannot write the metrics file: ${e instanceof Error ? e.message : String(e)} (said once)`);
      this.metricsWriteFailed = true;
    }
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
