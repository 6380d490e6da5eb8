// The seed file's format and SeedRNG's rules for it (Jason A. Donenfeld's
// seedrng.c and systemd-random-seed): what a stored seed may be credited, how
// long a fresh one is, and the non-regression hash that ties each new seed to
// the previous one. Pure: bytes in, decisions out; the file system is in
// src/seed/seed-file-store.ts.
//
// Why a header instead of SeedRNG's two file names (seed.credit/seed.no-credit)
// or systemd's user.random-seed-creditable xattr: one PATH is what the CLI and
// the unit name, xattrs need a native call and are missing on some file systems,
// and a header survives copies. The flag means exactly what SeedRNG's file name
// means: the seed was read from the kernel while the kernel said its crng was
// ready (getrandom(GRND_NONBLOCK) succeeded, or on kernels without getrandom,
// /dev/random polled readable). Anything else -- an unknown file, a seed written
// before the crng was ready, a file from another tool -- is mixed without credit,
// because its bytes may be predictable, and mixing unpredictable-or-not data
// never hurts while crediting it could let the kernel declare itself ready on
// guessable input.
import { createHash } from 'crypto';

/** "vrngdsd1": vrngd seed file, version 1. */
export const SEED_MAGIC = Uint8Array.from([0x76, 0x72, 0x6e, 0x67, 0x64, 0x73, 0x64, 0x31]);
export const SEED_HEADER_BYTES = 16;
const FLAG_CREDITABLE = 0x01;
/** SeedRNG's bounds on the seed length. */
export const MIN_SEED_BYTES = 32;
export const MAX_SEED_BYTES = 512;
/** Bytes at the end of a fresh seed replaced by the non-regression hash (SHA-256). */
export const HASH_BYTES = 32;

export interface ParsedSeed {
  /** The seed bytes to mix (the whole file when it is not ours). */
  seed: Uint8Array;
  /** Written by vrngd while the crng was ready: may be credited. */
  creditable: boolean;
  /** The file carried our header. */
  recognised: boolean;
}

/** SeedRNG: poolsize/8 bytes, clamped to [32, 512]. */
export function seedLengthBytes(poolsizeBits: number | null): number {
  const bytes = poolsizeBits && poolsizeBits > 0 ? Math.floor(poolsizeBits / 8) : MIN_SEED_BYTES;
  return Math.min(MAX_SEED_BYTES, Math.max(MIN_SEED_BYTES, bytes));
}

export function formatSeedFile(seed: Uint8Array, creditable: boolean): Uint8Array {
  const out = new Uint8Array(SEED_HEADER_BYTES + seed.length);
  out.set(SEED_MAGIC, 0);
  out[SEED_MAGIC.length] = creditable ? FLAG_CREDITABLE : 0;
  out.set(seed, SEED_HEADER_BYTES);
  return out;
}

/** Reads a stored seed. Our header with a sane length: its own flag; anything else: uncredited. */
export function parseSeedFile(data: Uint8Array): ParsedSeed {
  const hasMagic = data.length >= SEED_HEADER_BYTES && SEED_MAGIC.every((b, i) => data[i] === b);
  if (!hasMagic) return { seed: data.slice(0, MAX_SEED_BYTES * 2), creditable: false, recognised: false };
  const flags = data[SEED_MAGIC.length] ?? 0;
  const reservedClear = data.subarray(SEED_MAGIC.length + 1, SEED_HEADER_BYTES).every((b) => b === 0);
  const seed = data.slice(SEED_HEADER_BYTES);
  const sane = reservedClear && seed.length >= MIN_SEED_BYTES && seed.length <= MAX_SEED_BYTES;
  return { seed: sane ? seed : seed.slice(0, MAX_SEED_BYTES), creditable: sane && (flags & FLAG_CREDITABLE) !== 0, recognised: true };
}

/**
 * Bits to credit for a stored seed: 8 per byte when creditable and crediting is
 * not switched off (SEEDRNG_SKIP_CREDIT / VRNGD_SEED_SKIP_CREDIT = 1|true|yes|y,
 * SeedRNG's switch), else 0.
 */
export function storedSeedCreditBits(parsed: ParsedSeed, skipCredit: boolean): number {
  return parsed.creditable && !skipCredit ? parsed.seed.length * 8 : 0;
}

export function skipCreditFromEnv(env: NodeJS.ProcessEnv): boolean {
  const v = (env.VRNGD_SEED_SKIP_CREDIT ?? env.SEEDRNG_SKIP_CREDIT ?? '').toLowerCase();
  return ['1', 'true', 'yes', 'y'].includes(v);
}

/**
 * The new seed, SeedRNG step 4: its last 32 bytes are replaced by a hash of the
 * clocks, the old seed and the new bytes (and the hwrng bytes this run read), so
 * a new seed never carries less than the old one even when the new bytes are weak.
 */
export function finishFreshSeed(fresh: Uint8Array, oldSeed: Uint8Array | null, hwrngDigestInput: Uint8Array, clocks: { realtimeMs: number; boottimeNs: bigint }): Uint8Array {
  const h = createHash('sha256');
  h.update('vrngd seed v1 old+new prefix');
  h.update(`${clocks.realtimeMs}:${clocks.boottimeNs.toString()}`);
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  h.update(len(oldSeed?.length ?? 0));
  if (oldSeed) h.update(oldSeed);
  h.update(len(fresh.length));
  h.update(fresh);
  h.update(len(hwrngDigestInput.length));
  h.update(hwrngDigestInput);
  const out = Uint8Array.from(fresh);
  const digest = h.digest();
  const at = Math.max(0, out.length - HASH_BYTES);
  out.set(digest.subarray(0, out.length - at), at);
  return out;
}
