// Every file vrngd writes as root (state, metrics, pid and lock files, --log-file,
// the seed file) goes through here, so that another local user cannot turn a
// write into an overwrite of some other file. The rules, after systemd's
// random-seed and SeedRNG:
//  - the directory and every directory above it must be owned by root (or by us)
//    and not writable by others, except a sticky one (/tmp); in a sticky directory
//    an existing file must be our own regular file, never a link someone planted;
//  - the directory is opened once and everything below happens through that fd
//    (/proc/self/fd/N/NAME: a lookup relative to the open directory, so a directory
//    renamed or swapped after the check is not followed);
//  - the final component is opened with O_NOFOLLOW, temp files with O_EXCL under
//    names taken from /dev/urandom by read(2) (never this process's CSPRNG: the
//    seeder may run under a weakly seeded OpenSSL, see src/seed/seeder.ts), then
//    renamed into place. libuv opens every fd with O_CLOEXEC.
// Refusals are one line: 77 for a directory others can write, 73 for a file that
// is not ours. See open(2) O_NOFOLLOW/O_EXCL, rename(2), path_resolution(7).
import * as fs from 'fs';
import * as path from 'path';
import { DomainError } from '../core/errors';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_DIRECTORY } = fs.constants;

const euid = (): number => (typeof process.geteuid === 'function' ? process.geteuid() : 0);
const egid = (): number => (typeof process.getegid === 'function' ? process.getegid() : 0);

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** Why a directory is not safe for us to write in, or null when it is. */
/** lstat(2), or null when nothing is there (fs's throwIfNoEntry came in Node 14.17; el6 runs Node 10). */
export function lstatIfExists(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e: unknown) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
}

export function untrustedReason(st: fs.Stats): string | null {
  if (st.uid !== 0 && st.uid !== euid()) return `owned by uid ${st.uid}`;
  const sticky = (st.mode & 0o1000) !== 0;
  if (sticky) return null;
  if (st.mode & 0o002) return `writable by every user (mode ${octal(st.mode)})`;
  if (st.mode & 0o020 && st.gid !== 0 && st.gid !== egid()) return `writable by group ${st.gid} (mode ${octal(st.mode)})`;
  return null;
}

/** A directory checked and held open; names below it are resolved through its fd. */
export class TrustedDir {
  private constructor(
    readonly dir: string,
    readonly fd: number,
    readonly sticky: boolean,
    private readonly viaProc: boolean,
  ) {}

  /**
   * Checks `dir` and every directory above it, then opens it. `what` names the
   * file for the refusal ("state file /x/y").
   */
  static open(dir: string, what: string): TrustedDir {
    // a link on the way (/var/run -> /run) is fine when root or we made it; one that
    // another user planted (/tmp/x -> /etc) would choose where root writes
    const given = path.resolve(dir).split('/').filter(Boolean);
    for (let i = 1; i <= given.length; i++) {
      const p = `/${given.slice(0, i).join('/')}`;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink() && st.uid !== 0 && st.uid !== euid()) throw new DomainError(`${what}: ${p} is a symbolic link owned by uid ${st.uid}; refusing`, 'noperm');
    }
    const real = fs.realpathSync(dir);
    const parts = real.split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) cur = path.join(cur, parts[i - 1] as string);
      const st = fs.lstatSync(cur);
      if (!st.isDirectory()) throw new DomainError(`${what}: ${cur} changed while it was checked; refusing`, 'noperm');
      const why = untrustedReason(st);
      if (why) throw new DomainError(`${what}: directory ${cur} is ${why}; refusing to write there as uid ${euid()}`, 'noperm');
    }
    const fd = fs.openSync(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      const last = fs.lstatSync(real);
      if (st.ino !== last.ino || st.dev !== last.dev || untrustedReason(st)) throw new DomainError(`${what}: directory ${real} changed while it was checked; refusing`, 'noperm');
      const viaProc = fs.existsSync(`/proc/self/fd/${fd}/.`);
      return new TrustedDir(real, fd, (st.mode & 0o1000) !== 0, viaProc);
    } catch (e: unknown) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The path of `name` relative to the open directory. */
  entry(name: string): string {
    if (name.includes('/') || name === '' || name === '.' || name === '..') throw new Error(`not a plain file name: ${name}`);
    return this.viaProc ? `/proc/self/fd/${this.fd}/${name}` : path.join(this.dir, name);
  }

  /**
   * Refuses an existing `name` that is not ours to replace: in a sticky directory
   * anything but our own regular file; anywhere, something that is not a regular file
   * (a link, a FIFO, a device) when `regularOnly`.
   */
  checkExisting(name: string, what: string, regularOnly = true): fs.Stats | null {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(this.entry(name));
    } catch (e: unknown) {
      if ((e as { code?: string }).code === 'ENOENT') return null;
      throw e;
    }
    if (this.sticky && (st.uid !== euid() || !st.isFile())) {
      throw new DomainError(`${what}: ${st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a file' : 'something'} owned by uid ${st.uid} is in the way in the sticky directory ${this.dir}; refusing`, 'cantcreat');
    }
    if (regularOnly && !st.isFile()) throw new DomainError(`${what}: not a regular file (${st.isSymbolicLink() ? 'a symbolic link' : 'a special file'}); refusing`, 'cantcreat');
    // a hard link planted to some other file (fs.protected_hardlinks=0) would be written through
    if (st.isFile() && st.nlink > 1) throw new DomainError(`${what}: has ${st.nlink} hard links; refusing`, 'cantcreat');
    return st;
  }

  fsync(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed already */
    }
  }
}

let urandomFd = -1;
/** 16 hex digits from /dev/urandom by read(2). */
export function unguessableSuffix(): string {
  if (urandomFd < 0) urandomFd = fs.openSync('/dev/urandom', O_RDONLY);
  const b = Buffer.alloc(8);
  let off = 0;
  while (off < b.length) {
    const n = fs.readSync(urandomFd, b, off, b.length - off, null);
    if (n <= 0) throw Object.assign(new Error('/dev/urandom: short read'), { code: 'EIO' });
    off += n;
  }
  return b.toString('hex');
}

/** The temp file prefix for `base`: `.BASE.PID.` (the pid lets a later start remove a dead writer's temp). */
export const tempPrefix = (base: string, pid = process.pid): string => `.${base}.${pid}.`;

export interface WriteOptions {
  mode: number;
  /** Names the file in refusals ("state file"). */
  what: string;
  /** Create the directory (one level, this mode) when it is missing. */
  mkdirMode?: number;
}

function withDir<T>(file: string, o: { what: string; mkdirMode?: number }, fn: (d: TrustedDir, base: string) => T): T {
  const dirName = path.dirname(path.resolve(file));
  if (o.mkdirMode !== undefined) makeDirs(dirName, o.mkdirMode);
  const d = TrustedDir.open(dirName, `${o.what} ${file}`);
  try {
    return fn(d, path.basename(file));
  } finally {
    d.close();
  }
}

/** mkdir -p (each new level with `mode`), naming the real cause: recursive mkdirSync says ENOENT on EROFS. */
export function makeDirs(dir: string, mode = 0o755): void {
  try {
    if (fs.statSync(dir).isDirectory()) return;
  } catch {
    /* missing: create it */
  }
  try {
    fs.mkdirSync(dir, { mode });
  } catch (e: unknown) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    makeDirs(parent, mode);
    fs.mkdirSync(dir, { mode });
  }
}

/** Creates an O_EXCL temp file in `d` and returns its name and fd. */
function createTemp(d: TrustedDir, base: string, mode: number): { name: string; fd: number } {
  for (let attempt = 0; ; attempt++) {
    const name = `${tempPrefix(base)}${unguessableSuffix()}.tmp`;
    try {
      return { name, fd: fs.openSync(d.entry(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode) };
    } catch (e: unknown) {
      if ((e as { code?: string }).code !== 'EEXIST' || attempt >= 8) throw e;
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
}

/**
 * The one atomic writer (state file, metrics file, seed file): an O_EXCL temp
 * file in the same (checked) directory, written, fsynced, renamed over `file`,
 * and the directory fsynced, so a crash or power cut leaves the old file or the
 * new one, never a torn or empty one. The temp file is removed on any
 * failure (a full disk leaves nothing behind).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, o: WriteOptions): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  withDir(file, o, (d, base) => {
    d.checkExisting(base, `${o.what} ${file}`);
    const tmp = createTemp(d, base, o.mode);
    try {
      try {
        writeAll(tmp.fd, bytes);
        fs.fsyncSync(tmp.fd);
      } finally {
        fs.closeSync(tmp.fd);
      }
      fs.renameSync(d.entry(tmp.name), d.entry(base));
    } catch (e: unknown) {
      fs.rmSync(d.entry(tmp.name), { force: true });
      throw e;
    }
    d.fsync();
  });
}

/**
 * Checks at start-up that `file` could be written safely, so an unsafe path is
 * refused with one line and an exit status rather than logged at every write. A
 * directory that does not exist yet is not refused here (the writer creates it
 * under a parent it checks then).
 */
export function preflightWrite(file: string, what: string): void {
  const dirName = path.dirname(path.resolve(file));
  if (!fs.existsSync(dirName)) return;
  withDir(file, { what }, (d, base) => void d.checkExisting(base, `${what} ${file}`));
}

/** Removes temp files of `base` that writers which no longer run left behind (SIGKILL between open and rename). */
export function removeDeadTemps(file: string, alive: (pid: number) => boolean): void {
  const base = path.basename(file);
  const prefix = `.${base}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;
  }
  const mine = names.filter((n) => n.startsWith(prefix) && /^\d+\.([0-9a-f]{16}\.)?tmp$/.test(n.slice(prefix.length)));
  if (mine.length === 0) return;
  try {
    withDir(file, { what: 'temp file of' }, (d) => {
      for (const name of mine) {
        const pid = Number(name.slice(prefix.length).split('.')[0]);
        if (alive(pid)) continue;
        const st = lstatIfExists(d.entry(name));
        if (st && (!d.sticky || st.uid === euid())) fs.rmSync(d.entry(name), { force: true });
      }
    });
  } catch {
    /* best effort: the writer refuses an unsafe directory itself */
  }
}

/**
 * Opens `file` for appending (a log file): created with `mode` if missing, never
 * through a link, refused if it is not a regular file (or, in a sticky directory,
 * not ours). The caller owns the fd.
 */
export function openAppend(file: string, o: { mode: number; what: string }): number {
  return withDir(file, o, (d, base) => {
    d.checkExisting(base, `${o.what} ${file}`);
    const fd = fs.openSync(d.entry(base), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, o.mode);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.nlink > 1 || (d.sticky && st.uid !== euid())) throw new DomainError(`${o.what} ${file}: not our regular file; refusing`, 'cantcreat');
      return fd;
    } catch (e: unknown) {
      fs.closeSync(fd);
      throw e;
    }
  });
}

/** Opens `file` read-write, creating it with `mode` (0600 first: see pid-file.ts) if missing, never through a link. */
export function openLockFile(file: string, o: { mode: number; what: string }): { fd: number; created: boolean; dir: TrustedDir; base: string } {
  const dirName = path.dirname(path.resolve(file));
  const d = TrustedDir.open(dirName, `${o.what} ${file}`);
  const base = path.basename(file);
  try {
    d.checkExisting(base, `${o.what} ${file}`);
    let created = false;
    let fd: number;
    try {
      fd = fs.openSync(d.entry(base), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, o.mode);
      created = true;
    } catch (e: unknown) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      fd = fs.openSync(d.entry(base), O_RDWR | O_NOFOLLOW);
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.nlink > 1 || (d.sticky && st.uid !== euid())) {
      fs.closeSync(fd);
      throw new DomainError(`${o.what} ${file}: not our regular file; refusing`, 'cantcreat');
    }
    return { fd, created, dir: d, base };
  } catch (e: unknown) {
    d.close();
    throw e;
  }
}

/**
 * Reads a file that must be a regular file of at most `maxBytes` (a state or seed
 * file), without following a final link. null when it does not exist.
 */
export function readRegular(file: string, maxBytes: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e: unknown) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw Object.assign(new Error(`${file}: is a symbolic link`), { code: 'ELOOP' });
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${file}: not a regular file`), { code: 'EINVAL' });
    if (st.size > maxBytes) throw Object.assign(new Error(`${file}: larger than ${maxBytes} bytes`), { code: 'EFBIG' });
    const buf = Buffer.alloc(maxBytes + 1);
    let off = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, off, buf.length - off, null);
      if (n <= 0) break;
      off += n;
      if (off > maxBytes) throw Object.assign(new Error(`${file}: larger than ${maxBytes} bytes`), { code: 'EFBIG' });
    }
    return buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

export { O_RDONLY, O_NOFOLLOW };
