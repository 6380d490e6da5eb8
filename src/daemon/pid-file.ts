// The pid file and single-instance lock: -p/-b's pid file, and the lock beside the
// state file (daemon/compose.ts takeLock). The lock is flock(2) on the open pid
// file, held by the daemon for its whole life and dropped by the kernel however it
// dies, so a stale file never blocks and two starts can never both win (there is
// no "remove the stale file" step to race on). The file says who holds it:
//
//   1234
//   vrngd start=5678901 exe=/usr/bin/node
//
// line 1 the pid (what rngd, systemd's PIDFile= and RHEL's pidofproc read: they
// skip tokens that are not all digits), line 2 the process's start time in clock
// ticks since boot (/proc/PID/stat field 22) and its executable. A pid counts as
// vrngd only when both still match: a recycled pid, or a process that merely calls
// itself vrngd, does not. See flock(2), proc(5).
import * as fs from 'fs';
import * as path from 'path';
import { DomainError } from '../core/errors';
import { lstatIfExists, makeDirs, openLockFile } from '../fs/safe-file';
import { loadBinding } from '../native/binding';
import { pidAlive, readStateFile } from './state-file';

export interface ProcessIdentity {
  pid: number;
  /** /proc/PID/stat field 22: start time in clock ticks after boot. */
  startTicks: number;
  /** readlink /proc/PID/exe, without a " (deleted)" suffix. */
  exe: string;
}

/** Field 22 of /proc/PID/stat (the command name in field 2 may hold spaces and parentheses). */
export function processStartTicks(pid: number, procRoot = '/proc'): number | null {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]); // fields 3.. start at index 0: field 22 is index 19
    return Number.isInteger(v) && v >= 0 ? v : null;
  } catch {
    return null;
  }
}

export function processExe(pid: number, procRoot = '/proc'): string | null {
  try {
    return fs.readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

export function identityOf(pid: number): ProcessIdentity | null {
  const startTicks = processStartTicks(pid);
  const exe = processExe(pid);
  return startTicks === null || exe === null ? null : { pid, startTicks, exe };
}

/** Whether the recorded process is still the one running under that pid. */
export function stillRunning(rec: ProcessIdentity): boolean {
  const now = identityOf(rec.pid);
  return now !== null && now.startTicks === rec.startTicks && now.exe === rec.exe;
}

export function formatPidFile(id: ProcessIdentity | null, pid: number): string {
  return id ? `${pid}\nvrngd start=${id.startTicks} exe=${id.exe}\n` : `${pid}\n`;
}

/** The identity a pid file records; null when it records none (an old or foreign file). */
export function parsePidFile(text: string): ProcessIdentity | null {
  const m = /^(\d+)\n+vrngd start=(\d+) exe=(\/[^\n]*)\n/.exec(text);
  if (!m) return null;
  return { pid: Number(m[1]), startTicks: Number(m[2]), exe: m[3] as string };
}

/** The lock file beside a state file: same directory and name, extension .pid (/run/vrngd/state.json -> /run/vrngd/state.pid). */
export function implicitPidFile(stateFile: string): string {
  const base = path.basename(stateFile, path.extname(stateFile));
  return path.join(path.dirname(stateFile), `${base || path.basename(stateFile)}.pid`);
}

/** The pid file's recorded vrngd when it is alive and still that process; else null. */
export function recordedVrngd(file: string): ProcessIdentity | null {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > 4096) return null;
    const rec = parsePidFile(fs.readFileSync(file, 'utf8'));
    return rec && stillRunning(rec) ? rec : null;
  } catch {
    return null;
  }
}

function readFd(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  return buf.toString('utf8', 0, n);
}

/** The pids /proc/locks says hold a flock on this inode (for the refusal message only). */
function lockHolders(st: fs.Stats): number[] {
  try {
    const out: number[] = [];
    for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
      const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
      if (m && Number(m[2]) === st.ino) out.push(Number(m[1]));
    }
    return out;
  } catch {
    return [];
  }
}

const sleepMs = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Takes the lock on `file` and writes our pid and identity into it, refusing (kind unavailable: exit 69)
 * when a live vrngd holds it. Returns the release function (removes the file if it
 * is still ours, then closes it, which drops the lock). `names` is what the refusal
 * names besides the pid (default: the pid file).
 */
export function acquirePidFile(file: string, pid: number = process.pid, names = `pid file ${file}`): () => void {
  makeDirs(path.dirname(path.resolve(file)), 0o755);
  const binding = loadBinding();
  const deadline = Date.now() + 2000;
  for (;;) {
    // created 0600 and opened to others (0644) only once locked and written, so a
    // user cannot open a fresh pid file and hold its lock against us
    const { fd, dir, base } = openLockFile(file, { mode: 0o600, what: names.startsWith('pid file') ? 'pid file' : `lock of the ${names}:` });
    let keep = false;
    try {
      if (binding.tryLockFd(fd)) {
        const mine = fs.fstatSync(fd);
        const now = lstatIfExists(dir.entry(base));
        // released and removed by its last holder between our open and our lock: take the new one
        if (!now || now.ino !== mine.ino || now.dev !== mine.dev) continue;
        fs.ftruncateSync(fd, 0);
        const text = formatPidFile(identityOf(pid), pid);
        fs.writeSync(fd, text, 0);
        fs.fchmodSync(fd, 0o644);
        keep = true;
        const d = dir;
        return () => {
          try {
            const cur = lstatIfExists(d.entry(base));
            if (cur && cur.ino === mine.ino && cur.dev === mine.dev) fs.unlinkSync(d.entry(base));
          } catch {
            /* gone already */
          }
          fs.closeSync(fd);
          d.close();
        };
      }
      const rec = parsePidFile(readFd(fd));
      if (rec && rec.pid !== process.pid && stillRunning(rec)) {
        throw new DomainError(`another vrngd is already running (pid ${rec.pid}, ${names})`, 'unavailable');
      }
      // the holder writes its identity right after it locks: give it a moment
      if (Date.now() > deadline) {
        const holders = lockHolders(fs.fstatSync(fd)).filter((p) => p !== process.pid);
        const who = holders.length > 0 ? `pid ${holders.join(', ')}` : 'another process';
        throw new DomainError(`${names} is locked by ${who}, which is not the vrngd it names; refusing to start a second instance`, 'unavailable');
      }
      sleepMs(20);
    } finally {
      if (!keep) {
        fs.closeSync(fd);
        dir.close();
      }
    }
  }
}

/** Whether pid runs the same executable as we do with our entry script among its arguments. */
export function runsSameProgram(pid: number, procRoot = '/proc'): boolean {
  const exe = processExe(pid, procRoot);
  if (exe === null || exe !== processExe(process.pid, procRoot)) return false;
  try {
    const argv = fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0');
    const script = process.argv[1];
    return script !== undefined && argv.slice(1).some((a) => a === script || path.resolve(a) === path.resolve(script));
  } catch {
    return false;
  }
}

/**
 * Where the lock beside the state file cannot be taken (a read-only state
 * directory), the state file stands in for it: a state file naming a live process
 * that runs our executable and our entry script means a second instance, refused
 * ('unavailable'). A state file left by a dead or recycled pid, or one naming a
 * process that merely calls itself vrngd, does not block.
 */
export function refuseSecondInstance(stateFile: string): void {
  const st = readStateFile(stateFile);
  if (!st || !Number.isInteger(st.pid) || st.pid <= 0 || st.pid === process.pid || !pidAlive(st.pid)) return;
  if (!runsSameProgram(st.pid)) return;
  throw new DomainError(`another vrngd is already running (pid ${st.pid}, state file ${stateFile})`, 'unavailable');
}
