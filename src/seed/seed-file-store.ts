// The seed file on disk, with SeedRNG's ordering (docs/seeding.md): a stored
// seed is removed, and the removal made durable by fsync(2) of its directory,
// *before* its bytes reach the kernel -- so a crash or a cloned disk image can
// never feed the same seed twice with credit. If the removal cannot be made
// durable the seed is not used at all. A fresh seed is written to an O_EXCL temp
// file beside PATH (its name from /dev/urandom by read(2), see src/fs/safe-file.ts:
// never this process's CSPRNG), fsynced, renamed over PATH, and the directory
// fsynced again. A seed in a directory another user can write is neither read nor
// written: its bytes would be credited. See unlink(2), rename(2), fsync(2).
import * as path from 'path';
import * as fs from 'fs';
import { DomainError } from '../core/errors';
import { fromNativeError } from '../kernel/errors';
import { makeDirs, readRegular, TrustedDir, writeFileAtomic } from '../fs/safe-file';

export interface TakenSeed {
  data: Uint8Array;
}

/** A seed file is at most 512 bytes (seedrng's limit); past 64 kB it is not one. */
const MAX_SEED_FILE_BYTES = 65536;

const rethrow = (e: unknown): never => {
  throw e instanceof DomainError ? e : fromNativeError(e);
};

/**
 * Reads and removes the stored seed. null when there is none.
 * @throws KernelError when it exists but cannot be read or its removal cannot be synced (do not seed from it);
 *   DomainError (noperm/cantcreat) when its directory or the file itself is not safe to trust.
 */
export function takeSeedFile(file: string): TakenSeed | null {
  let dir: TrustedDir;
  try {
    dir = TrustedDir.open(path.dirname(path.resolve(file)), `seed file ${file}`);
  } catch (e: unknown) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    return rethrow(e);
  }
  try {
    const base = path.basename(file);
    let data: Buffer | null;
    try {
      dir.checkExisting(base, `seed file ${file}`);
      data = readRegular(dir.entry(base), MAX_SEED_FILE_BYTES);
    } catch (e: unknown) {
      if ((e as { code?: string }).code === 'EINVAL') rethrow(Object.assign(new Error(`${file}: not a regular file`), { code: 'EINVAL', errno: -22, syscall: 'open' }));
      return rethrow(e);
    }
    if (data === null) return null;
    try {
      fs.unlinkSync(dir.entry(base));
      dir.fsync();
    } catch (e: unknown) {
      return rethrow(e);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } finally {
    dir.close();
  }
}

/** Writes the new seed durably (mode 0600, directory 0700 when created). */
export function saveSeedFile(file: string, contents: Uint8Array): void {
  try {
    makeDirs(path.dirname(path.resolve(file)), 0o700);
    writeFileAtomic(file, contents, { mode: 0o600, what: 'seed file' });
  } catch (e: unknown) {
    rethrow(e);
  }
}
