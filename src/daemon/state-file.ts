// The daemon's state file: what `vrngd run` publishes and `vrngd status` reads.
// Written atomically (temp file in the same directory, fsync, rename) so a
// SIGKILL never leaves it torn, and read with a size cap. See rename(2).
import { readRegular, removeDeadTemps, writeFileAtomic } from '../fs/safe-file';

export const DEFAULT_STATE_FILE = '/run/vrngd/state.json';

export type SourceStateName = 'ok' | 'stalled' | 'failing' | 'disabled' | 'absent';

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
  state: SourceStateName;
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

/**
 * Writes the state atomically through src/fs/safe-file.ts (checked directory,
 * O_EXCL temp file with an unguessable name, fsync, rename). Throws on failure
 * (the temp file is removed); the daemon decides how loudly to say so.
 */
export function writeStateFile(file: string, state: DaemonState): void {
  writeFileAtomic(file, `${JSON.stringify(state)}\n`, { mode: 0o644, durable: true, what: 'state file' });
}

/**
 * Removes temp files that dead writers (SIGKILL between open and rename) left
 * beside the state file. Best effort: called once at daemon start.
 */
export function removeStaleTempFiles(file: string): void {
  removeDeadTemps(file, pidAlive);
}

/** A state file is a few kB; anything past this is not one (--state-file /dev/zero, a huge forgery). */
export const MAX_STATE_FILE_BYTES = 256 * 1024;

/**
 * Reads the state file; null when absent, not a regular file, too large or not
 * JSON (never throws for those, never blocks: a FIFO is opened O_NONBLOCK and refused).
 */
export function readStateFile(file: string): DaemonState | null {
  let text: string;
  try {
    const buf = readRegular(file, MAX_STATE_FILE_BYTES);
    if (buf === null) return null;
    text = buf.toString('utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as DaemonState) : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (EPERM still means it exists). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return (e as { code?: string }).code === 'EPERM';
  }
}
