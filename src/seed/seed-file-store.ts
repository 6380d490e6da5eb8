// The seed file on disk, with SeedRNG's ordering (kernel-entropy.md §7): a stored
// seed is removed, and the removal made durable by fsync(2) of its directory,
// *before* its bytes reach the kernel -- so a crash or a cloned disk image can
// never feed the same seed twice with credit. If the removal cannot be made
// durable the seed is not used at all. A fresh seed is written to PATH.new
// (a fixed name: the seeder makes no random names), fsynced, renamed over PATH,
// and the directory fsynced again. See unlink(2), rename(2), fsync(2).
import * as fs from 'fs';
import * as path from 'path';
import { fromNativeError } from '../kernel/errors';

export interface TakenSeed {
  data: Uint8Array;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads and removes the stored seed. null when there is none.
 * @throws KernelError when it exists but cannot be read or its removal cannot be synced (do not seed from it).
 */
export function takeSeedFile(file: string): TakenSeed | null {
  let data: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw Object.assign(new Error(`${file}: not a regular file`), { code: 'EINVAL', errno: -22, syscall: 'open' });
    data = fs.readFileSync(file);
  } catch (e: unknown) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw fromNativeError(e);
  }
  try {
    fs.unlinkSync(file);
    fsyncDir(path.dirname(file));
  } catch (e: unknown) {
    throw fromNativeError(e);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Writes the new seed durably (mode 0600, directory 0700 when created). */
export function saveSeedFile(file: string, contents: Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = `${file}.new`;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      let off = 0;
      while (off < contents.length) off += fs.writeSync(fd, contents, off, contents.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    fsyncDir(dir);
  } catch (e: unknown) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* nothing to clean up */
    }
    throw fromNativeError(e);
  }
}
