// The pid file and single-instance lock: -p/-b's pid file, or in the foreground one
// beside the state file (cli/commands/run.ts takeLock). Created
// atomically with link(2) from a temp file, so two starts cannot both win; a pid
// file whose process is gone (or is not vrngd) is stale and replaced. Node has no
// flock(2), so the lock is the pid file itself plus a liveness check.
import * as fs from 'fs';
import * as path from 'path';
import { CliError, EX } from '../cli/exit';
import { pidAlive } from './state-file';

function holder(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !pidAlive(pid)) return null;
    // a recycled pid that is not vrngd does not hold the lock
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/vrngd|main\.js/.test(cmdline)) return null;
    } catch {
      /* no procfs: trust the pid */
    }
    return pid;
  } catch {
    return null;
  }
}

/**
 * Writes our pid to `file`, refusing when a live vrngd holds it. Returns the release
 * function. `names` is what the refusal names besides the pid (default: the pid file).
 */
export function acquirePidFile(file: string, pid: number = process.pid, names = `pid file ${file}`): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
  try {
    fs.writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(tmp, file);
        return () => {
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(pid)) fs.rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        };
      } catch (e: unknown) {
        if ((e as { code?: string }).code !== 'EEXIST') throw e;
        const other = holder(file);
        if (other !== null) throw new CliError(`another vrngd is already running (pid ${other}, ${names})`, EX.UNAVAILABLE);
        fs.rmSync(file, { force: true }); // stale
      }
    }
    throw new CliError(`cannot take the pid file ${file}: it keeps coming back`, EX.TEMPFAIL);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
