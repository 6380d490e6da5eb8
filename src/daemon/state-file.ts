// The daemon's state file: what `vrngd run` publishes and `vrngd status` reads.
// Written atomically (temp file in the same directory, fsync, rename) so a
// SIGKILL never leaves it torn. See rename(2).
import * as fs from 'fs';
import * as path from 'path';

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
}

/** Writes the state atomically. Throws on failure (the temp file is removed); the daemon decides how loudly to say so. */
export function writeStateFile(file: string, state: DaemonState): void {
  const tmp = tempName(file, process.pid);
  try {
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeSync(fd, `${JSON.stringify(state)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e: unknown) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

const tempName = (file: string, pid: number): string => path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);

/**
 * Removes temp files that dead writers (SIGKILL between open and rename) left
 * beside the state file. Best effort: called once at daemon start.
 */
export function removeStaleTempFiles(file: string): void {
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(prefix) && /^(\d+)\.tmp$/.exec(name.slice(prefix.length));
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(path.dirname(file), name), { force: true });
  }
}

/** Reads the state file; null when absent or unreadable as JSON (never throws for those). */
export function readStateFile(file: string): DaemonState | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as DaemonState) : null;
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
