// Shared pieces for the reliability tests: data generators for bad sources, a
// simulated kernel that remembers every byte it was given, and the real daemon
// (buildDaemon, real FIPS gates) wired to them — the same wiring as
// test/daemon/harness.ts, with the recording kernel and an optional state writer.
import { randomBytes } from 'crypto';
import { parseRunOptions, RawRunOptions, RunConfig } from '../../src/core/config';
import { BlockGate } from '../../src/core/gate';
import { buildDaemon, Daemon } from '../../src/daemon/daemon';
import type { DaemonState } from '../../src/daemon/state-file';
import { FakeSource, Generator, repeating } from '../fakes/fake-source';
import { MemoryLogger, RecordingNotifier } from '../fakes/fake-logger';
import { Era, SimKernel } from '../sim/sim-kernel';
import { ReferenceFips } from './fips-reference';

/** A SimKernel that keeps every byte passed to RNDADDENTROPY, in order. */
export class RecordingKernel extends SimKernel {
  readonly chunks: Buffer[] = [];
  record = true;
  override addEntropy(data: Uint8Array, entropyBits: number): void {
    super.addEntropy(data, entropyBits);
    if (this.record) this.chunks.push(Buffer.from(data));
  }
  injected(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export const allZeros: Generator = (n) => new Uint8Array(n);
export const allOnes: Generator = (n) => new Uint8Array(n).fill(0xff);

/** One random 32-bit word over and over. */
export function repeatingWord(): Generator {
  const w = randomBytes(4);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = w[i % 4] as number;
    return out;
  };
}

/** One random 2,500-byte block replayed over and over (stream-aligned or not, it repeats). */
export const repeatedBlock = repeating;

/** Each bit is 1 with probability p (0.52: 52 % ones). */
export function biasedBits(p: number): Generator {
  const threshold = Math.round(p * 65536);
  return (n) => {
    const out = new Uint8Array(n);
    const r = randomBytes(n * 16);
    for (let i = 0; i < n * 8; i++) if (r.readUInt16LE(i * 2) < threshold) out[i >> 3] = (out[i >> 3] as number) | (1 << (i & 7));
    return out;
  };
}

/** A 32-bit little-endian counter from a random start (a device returning its sequence number). */
export function counter(): Generator {
  let c = randomBytes(4).readUInt32LE(0);
  let buf = Buffer.alloc(0);
  return (n) => {
    while (buf.length < n) {
      const w = Buffer.alloc(4);
      w.writeUInt32LE(c >>> 0, 0);
      c = (c + 1) >>> 0;
      buf = Buffer.concat([buf, w]);
    }
    const out = new Uint8Array(buf.subarray(0, n));
    buf = buf.subarray(n);
    return out;
  };
}

/** Starts fair and drifts: the probability of a 1 rises by `perByte` per byte served (slowly failing hardware). */
export function drifting(perByte: number): Generator {
  let served = 0;
  return (n) => {
    const p = Math.min(0.99, 0.5 + served * perByte);
    served += n;
    return biasedBits(p)(n);
  };
}

/** Good random bytes for `goodBytes`, then the bad generator; `good` collects what was good. */
export function passesThenFails(goodBytes: number, bad: Generator): { gen: Generator; good: () => Buffer } {
  const good: Buffer[] = [];
  let served = 0;
  return {
    gen: (n) => {
      const g = Math.max(0, Math.min(n, goodBytes - served));
      const head = randomBytes(g);
      good.push(head);
      served += n;
      return new Uint8Array(Buffer.concat([head, Buffer.from(bad(n - g))]));
    },
    good: () => Buffer.concat(good),
  };
}

export interface SimDaemon {
  daemon: Daemon;
  sim: RecordingKernel;
  logger: MemoryLogger;
  notifier: RecordingNotifier;
  config: RunConfig;
  states: DaemonState[];
}

export function simDaemon(opts: {
  era: Era;
  sources: FakeSource[];
  entropyBits?: number;
  crngReady?: boolean;
  kernelFeeder?: boolean | null;
  raw?: RawRunOptions;
  writeState?: (st: DaemonState) => void;
  /** A RecordingKernel subclass to use (same era). */
  sim?: RecordingKernel;
}): SimDaemon {
  const sim = opts.sim ?? new RecordingKernel({ era: opts.era, entropyBits: opts.entropyBits, crngReady: opts.crngReady });
  const config = { ...parseRunOptions(opts.raw ?? {}), stateFile: null };
  const logger = new MemoryLogger();
  const notifier = new RecordingNotifier(null);
  const states: DaemonState[] = [];
  const daemon = buildDaemon({
    config,
    device: sim,
    kernel: sim.kernelView(opts.kernelFeeder),
    sources: opts.sources.map((s) => ({ source: s, gate: new BlockGate({ baselineBlock: true }), readsKernelHwrng: false })),
    logger,
    notifier,
    health: { disableAfterFailures: 4, retryInitialMs: 1000, retryMaxMs: 300000 },
    writeState: opts.writeState ?? ((st) => void states.push(st)),
  });
  return { daemon, sim, logger, notifier, config, states };
}

/** Lines the daemon wrote above debug level (what reaches the journal by default). */
export const visibleLines = (logger: MemoryLogger): string[] => logger.lines.filter((l) => l.level !== 'debug').map((l) => `${l.level}: ${l.message}`);

/**
 * Random data screened so that every block the gate will see passes FIPS: a
 * healthy source with no false alarms (good random data fails about 1 block in
 * 1,300 by chance, which is a state change of its own). Follows the gate's
 * framing: the first read after an open carries the 4-byte bootstrap word, then
 * whole 2,500-byte blocks (the runner always asks for gate.needBytes()).
 */
export function screenedRandom(): Generator {
  let ref: ReferenceFips | null = null;
  return (n) => {
    const parts: Buffer[] = [];
    let left = n;
    if (!ref && left >= 4) {
      const boot = randomBytes(4);
      ref = new ReferenceFips(((boot[0]! << 24) | (boot[1]! << 16) | (boot[2]! << 8) | boot[3]!) >>> 0);
      parts.push(boot);
      left -= 4;
    }
    while (ref && left >= 2500) {
      for (;;) {
        const candidate = randomBytes(2500);
        const trial = Object.assign(Object.create(ReferenceFips.prototype) as ReferenceFips, ref);
        if (trial.test(candidate) === 0) {
          ref = trial;
          parts.push(candidate);
          break;
        }
      }
      left -= 2500;
    }
    if (left > 0) parts.push(randomBytes(left));
    return new Uint8Array(Buffer.concat(parts));
  };
}
