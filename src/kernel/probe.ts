// The kernel probe: reads procfs/sysfs (under injectable roots) and the addon's
// getrandom readiness, and names the regime vrngd must behave for — legacy,
// assisted or modern — from what the kernel exposes, never from `uname -r`
// (RHEL kernels carry heavy backports). Also reports the hwrng device, whether
// the kernel's own hwrng thread feeds the pool, and other entropy daemons.
// See random(4), proc(5), Documentation/admin-guide/hw_random.rst and
// docs/kernel-eras.md.
import * as fs from 'fs';
import * as path from 'path';
import type { Regime } from '../core/policy';
import { loadBinding } from '../native/binding';
import { KernelError } from './errors';
import { isDirectory, isKernelThread, listPids, readComm, readInt, readValue } from './procfs';

export type { Regime };

export interface KernelInfo {
  /** /proc/sys/kernel/osrelease — for display only, never used to decide anything. */
  release: string;
  regime: Regime;
  poolsizeBits: number | null;
  entropyAvailBits: number | null;
  writeWakeupThresholdBits: number | null;
  /** getrandom(GRND_NONBLOCK): true ready, false not yet, null no getrandom (2.6.32, 3.10) or no addon. */
  crngReady: boolean | null;
  /** Whether the getrandom(2) syscall exists (false also when the addon could not be loaded; see notes). */
  getrandom: boolean;
}

export interface HwrngInfo {
  /** The device node exists as a character device (stat, not open: /dev/hwrng is 0600). */
  present: boolean;
  device: string;
  /** rng_current; null when empty, `none` (6.18+) or not readable. */
  current: string | null;
  /** rng_available, without the `none` pseudo-entry of 6.18+. */
  available: string[];
  /** rng_quality (5.18+), else rng_core's current_quality (3.17–5.17, RHEL 7.1+); null where neither exists. */
  quality: number | null;
  /** Whether the kernel itself credits hwrng entropy (decision table below); null where it cannot be told. */
  kernelFeeder: boolean | null;
  /** rng_core's default_quality; null where absent (≤3.16, RHEL 6/7.0). */
  defaultQuality: number | null;
  /** Pid of the kernel's `hwrng` thread; null when none is seen. */
  feederThreadPid: number | null;
}

export interface FeederProcess {
  pid: number;
  name: string;
}

export interface ProbeResult {
  kernel: KernelInfo;
  hwrng: HwrngInfo;
  /** Other running entropy daemons (rngd, haveged, jitterentropy-rngd), unique names, sorted. */
  feeders: string[];
  /** The processes behind `feeders`. */
  feederProcesses: FeederProcess[];
  /** Why a value is null or a decision was made on partial evidence, for humans. */
  notes: string[];
}

export interface ProbeOptions {
  /** default /proc */
  procRoot?: string;
  /** default /sys */
  sysRoot?: string;
  /** default /dev/hwrng */
  hwrngDevice?: string;
  /** default: the addon's crngReady() (null, with a note, when the addon cannot be loaded) */
  crngReady?: () => boolean | null;
  /** Processes never reported as feeders (vrngd itself); default [process.pid]. */
  excludePids?: number[];
}

/**
 * Names of other entropy daemons as they appear in /proc/<pid>/comm. comm is cut
 * to 15 bytes, so jitterentropy-rngd shows as `jitterentropy-r`.
 */
const FEEDER_COMMS: Record<string, string> = {
  rngd: 'rngd',
  haveged: 'haveged',
  'jitterentropy-r': 'jitterentropy-rngd',
  'jitterentropy-rngd': 'jitterentropy-rngd',
};

/** The 5.18+ input pool: a 256-bit BLAKE2s hash (poolsize 256); earlier kernels report 4096. */
const MODERN_POOLSIZE_BITS = 256;

export function probeKernel(opts: ProbeOptions = {}): ProbeResult {
  const procRoot = opts.procRoot ?? '/proc';
  const sysRoot = opts.sysRoot ?? '/sys';
  const device = opts.hwrngDevice ?? '/dev/hwrng';
  const excludePids = new Set(opts.excludePids ?? [process.pid]);
  const notes: string[] = [];

  const randomDir = path.join(procRoot, 'sys', 'kernel', 'random');
  const poolsizeFile = path.join(randomDir, 'poolsize');
  const poolsizeBits = readInt(poolsizeFile);
  if (poolsizeBits === null) {
    // Every Linux kernel since 2.4 has this file; without it there is no regime to name.
    const code = fs.existsSync(poolsizeFile) ? 'EINVAL' : 'ENOENT';
    throw new KernelError(code, code === 'ENOENT' ? -2 : -22, undefined, `cannot probe the kernel: ${poolsizeFile} is missing or unreadable`);
  }
  const entropyAvailBits = readInt(path.join(randomDir, 'entropy_avail'));
  const writeWakeupThresholdBits = readInt(path.join(randomDir, 'write_wakeup_threshold'));
  const release = readValue(path.join(procRoot, 'sys', 'kernel', 'osrelease')) ?? 'unknown';

  const crngReady = opts.crngReady ? opts.crngReady() : addonCrngReady(notes);

  // hw_random core, as sysfs shows it
  const classDir = path.join(sysRoot, 'class', 'misc', 'hw_random');
  const paramsDir = path.join(sysRoot, 'module', 'rng_core', 'parameters');
  const currentRaw = readValue(path.join(classDir, 'rng_current'));
  const current = currentRaw === null || currentRaw === '' || currentRaw === 'none' ? null : currentRaw;
  const available = (readValue(path.join(classDir, 'rng_available')) ?? '').split(/\s+/).filter((n) => n !== '' && n !== 'none');
  const rngQuality = readInt(path.join(classDir, 'rng_quality'));
  const currentQuality = readInt(path.join(paramsDir, 'current_quality'));
  const defaultQuality = readInt(path.join(paramsDir, 'default_quality'));
  const quality = rngQuality ?? currentQuality;

  // processes: the kernel's hwrng thread and other feeders
  const pids = listPids(procRoot);
  // kthreadd is pid 2 on every kernel examined (2.6.22+). If it is not visible,
  // /proc hides kernel threads from us (hidepid=, a pid namespace) and the
  // absence of an `hwrng` thread means nothing.
  const kernelThreadsVisible = readComm(procRoot, 2) === 'kthreadd';
  let feederThreadPid: number | null = null;
  const feederProcesses: FeederProcess[] = [];
  for (const pid of pids) {
    const comm = readComm(procRoot, pid);
    if (comm === null) continue;
    if (comm === 'hwrng') {
      if (feederThreadPid === null && isKernelThread(procRoot, pid) !== false) feederThreadPid = pid;
      continue;
    }
    const name = FEEDER_COMMS[comm];
    if (name === undefined || excludePids.has(pid)) continue;
    if (isKernelThread(procRoot, pid) === true) continue;
    feederProcesses.push({ pid, name });
  }
  const feeders = [...new Set(feederProcesses.map((p) => p.name))].sort();

  const kernelFeeder = decideKernelFeeder({
    threadSeen: feederThreadPid !== null,
    kernelThreadsVisible,
    quality,
    current,
    hwrngCoreLoaded: isDirectory(classDir),
    notes,
  });
  const regime = decideRegime(poolsizeBits, kernelFeeder, notes);

  return {
    kernel: {
      release,
      regime,
      poolsizeBits,
      entropyAvailBits,
      writeWakeupThresholdBits,
      crngReady,
      getrandom: crngReady !== null,
    },
    hwrng: {
      present: isCharDevice(device),
      device,
      current,
      available,
      quality,
      kernelFeeder,
      defaultQuality,
      feederThreadPid,
    },
    feeders,
    feederProcesses,
    notes,
  };
}

interface FeederEvidence {
  /** A kernel thread with comm `hwrng` is in /proc. */
  threadSeen: boolean;
  /** kthreadd is visible, so an absent thread is really absent. */
  kernelThreadsVisible: boolean;
  /** rng_quality, else current_quality; null when the kernel has neither file. */
  quality: number | null;
  /** rng_current (null: none selected). */
  current: string | null;
  /** /sys/class/misc/hw_random exists (rng_core loaded). */
  hwrngCoreLoaded: boolean;
  notes: string[];
}

/**
 * Does the kernel itself credit entropy read from the hwrng? (§4.4)
 *
 * | quality files | current rng | quality | hwrng thread               | kernelFeeder | why |
 * |---------------|-------------|---------|----------------------------|--------------|-----|
 * | absent        | any         | —       | not seen                   | false        | ≤3.16, RHEL 6, RHEL 7.0: no filler thread exists in these kernels |
 * | absent        | any         | —       | seen                       | null         | some backport runs a thread but does not say what it credits |
 * | present       | none        | any     | any                        | false        | nothing to read from; the thread stops (or never starts) without a current rng |
 * | present       | set         | 0       | any                        | false        | not crediting: the thread is absent (3.17–6.0) or mixes without credit (6.1+, or current_quality written 0 on 3.17–5.17) |
 * | present       | set         | > 0     | seen                       | true         | the thread runs and credits (RHEL 7.1+, 3.17+, 6.x) |
 * | present       | set         | > 0     | not seen, threads visible  | false        | the kernel says it would, but no thread runs, so nothing is fed |
 * | present       | set         | > 0     | not seen, threads hidden   | null         | hidepid= or a pid namespace hides kernel threads: cannot be told |
 *
 * A missing rng_core (no /sys/class/misc/hw_random) reads as "files absent, no
 * thread": false — without the hw_random core there is nothing the kernel could feed from.
 */
export function decideKernelFeeder(e: FeederEvidence): boolean | null {
  if (e.quality === null) {
    if (!e.threadSeen) {
      if (!e.hwrngCoreLoaded) e.notes.push('no hw_random core in sysfs: the kernel has no hwrng to feed from');
      return false;
    }
    e.notes.push('an hwrng kernel thread runs but the kernel exposes no quality: cannot tell whether it credits');
    return null;
  }
  if (e.current === null) return false;
  if (e.quality === 0) {
    if (e.threadSeen) e.notes.push('the kernel hwrng thread runs with quality 0: it mixes without crediting');
    return false;
  }
  if (e.threadSeen) return true;
  if (e.kernelThreadsVisible) {
    e.notes.push(`hwrng quality is ${e.quality} but no hwrng kernel thread runs: the kernel is not feeding`);
    return false;
  }
  e.notes.push('kernel threads are not visible in /proc (hidepid or a pid namespace): cannot tell whether the kernel hwrng thread runs');
  return null;
}

/**
 * | poolsize | kernelFeeder | regime   |
 * |----------|--------------|----------|
 * | 256      | any          | modern   | 5.18+ (and 2022 stable backports): entropy_avail frozen at 256 once ready
 * | other    | true         | assisted | 4096-bit pool topped up to write_wakeup_threshold by the kernel's thread
 * | other    | false        | legacy   | 4096-bit pool, nothing but a user-space feeder moves hwrng bytes into it
 * | other    | null         | legacy   | unknown: vrngd feeds — over-feeding costs device reads, starving costs boots
 */
export function decideRegime(poolsizeBits: number, kernelFeeder: boolean | null, notes: string[] = []): Regime {
  if (poolsizeBits === MODERN_POOLSIZE_BITS) return 'modern';
  if (kernelFeeder === true) return 'assisted';
  if (kernelFeeder === null) notes.push('whether the kernel feeds from hwrng is unknown: regime legacy (vrngd feeds)');
  return 'legacy';
}

function addonCrngReady(notes: string[]): boolean | null {
  let crngReady: () => boolean | null;
  try {
    const binding = loadBinding();
    crngReady = () => binding.crngReady();
  } catch (e: unknown) {
    notes.push(`crng readiness unknown: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
  return crngReady();
}

function isCharDevice(file: string): boolean {
  try {
    return fs.statSync(file).isCharacterDevice();
  } catch {
    return false;
  }
}
