// Builds the real Daemon against a SimKernel and FakeSources with the real FIPS gate.
import { parseRunOptions, RawRunOptions, RunConfig } from '../../src/core/config';
import { BlockGate } from '../../src/core/gate';
import { buildDaemon, Daemon } from '../../src/daemon/daemon';
import type { DaemonState } from '../../src/daemon/state-file';
import { FakeSource } from '../fakes/fake-source';
import { MemoryLogger, RecordingNotifier } from '../fakes/fake-logger';
import { Era, SimKernel } from '../sim/sim-kernel';

export interface Harness {
  daemon: Daemon;
  sim: SimKernel;
  logger: MemoryLogger;
  notifier: RecordingNotifier;
  config: RunConfig;
  states: DaemonState[];
}

export function harness(opts: {
  era: Era;
  sources: FakeSource[];
  entropyBits?: number;
  writeWakeupThresholdBits?: number;
  crngReady?: boolean;
  kernelFeeder?: boolean | null;
  raw?: RawRunOptions;
  config?: Partial<RunConfig>;
  /** Sources named 'hwrng' read the kernel-fed device. */
  hwrngIsKernelDevice?: boolean;
  watchdogMs?: number | null;
  failStateWrites?: boolean;
  /** Let the daemon set the sim's write_wakeup_threshold, as run.ts does on legacy kernels. */
  raiseWakeup?: boolean;
}): Harness {
  const sim = new SimKernel({ era: opts.era, entropyBits: opts.entropyBits, writeWakeupThresholdBits: opts.writeWakeupThresholdBits, crngReady: opts.crngReady });
  const config = { ...parseRunOptions(opts.raw ?? {}), stateFile: null, ...opts.config };
  const logger = new MemoryLogger();
  const notifier = new RecordingNotifier(opts.watchdogMs ?? null);
  const states: DaemonState[] = [];
  const daemon = buildDaemon({
    config,
    device: config.test ? null : sim,
    kernel: sim.kernelView(opts.kernelFeeder),
    sources: opts.sources.map((s) => ({ source: s, gate: new BlockGate({ baselineBlock: true }), readsKernelHwrng: (opts.hwrngIsKernelDevice ?? true) && s.name === 'hwrng' })),
    logger,
    notifier,
    health: { disableAfterFailures: 4, retryInitialMs: 1000, retryMaxMs: 8000 },
    wakeupThreshold: opts.raiseWakeup ? { set: (bits) => void (sim.writeWakeupThresholdBits = bits) } : undefined,
    writeState: (st) => {
      if (opts.failStateWrites) throw new Error('EROFS: read-only file system');
      states.push(st);
    },
  });
  return { daemon, sim, logger, notifier, config, states };
}
