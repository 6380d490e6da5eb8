// The daemon's state file: what `vrngd run` publishes and `vrngd status` reads.
// Written atomically (temp file in the same directory, fsync, rename) so a
// SIGKILL never leaves it torn, and read with a size cap. See rename(2).
import type { DaemonState } from '../core/stats';
import { readRegular, removeDeadTemps, writeFileAtomic } from '../fs/safe-file';

export const DEFAULT_STATE_FILE = '/run/vrngd/state.json';

export type { DaemonState, FipsFailureCounts, SourceStats } from '../core/stats';

/**
 * Writes the state atomically through src/fs/safe-file.ts (checked directory,
 * O_EXCL temp file with an unguessable name, fsync, rename). Throws on failure
 * (the temp file is removed); the daemon decides how loudly to say so.
 */
export function writeStateFile(file: string, state: DaemonState): void {
  writeFileAtomic(file, `${JSON.stringify(state)}\n`, { mode: 0o644, what: 'state file' });
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
