// SeedRNG rules for the stored seed: format round trip, what may be credited,
// seed length bounds and the non-regression hash.
import { describe, expect, it } from 'vitest';
import {
  finishFreshSeed,
  formatSeedFile,
  HASH_BYTES,
  parseSeedFile,
  SEED_HEADER_BYTES,
  seedLengthBytes,
  skipCreditFromEnv,
  storedSeedCreditBits,
} from '../../src/core/seed-file';

const bytes = (n: number, f: (i: number) => number = (i) => (i * 37 + 11) & 0xff): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('seed file format', () => {
  it('round-trips seed bytes and the creditable flag', () => {
    const seed = bytes(64);
    for (const creditable of [true, false]) {
      const parsed = parseSeedFile(formatSeedFile(seed, creditable));
      expect(parsed.recognised).toBe(true);
      expect(parsed.creditable).toBe(creditable);
      expect(Array.from(parsed.seed)).toEqual(Array.from(seed));
    }
  });

  it('never credits a file it does not recognise (a foreign or systemd seed)', () => {
    const foreign = bytes(512);
    const parsed = parseSeedFile(foreign);
    expect(parsed.recognised).toBe(false);
    expect(parsed.creditable).toBe(false);
    expect(parsed.seed.length).toBe(512);
    expect(storedSeedCreditBits(parsed, false)).toBe(0);
  });

  it('does not credit a flagged seed that is too short, too long or has reserved bits set', () => {
    expect(parseSeedFile(formatSeedFile(bytes(31), true)).creditable).toBe(false);
    expect(parseSeedFile(formatSeedFile(bytes(513), true)).creditable).toBe(false);
    const odd = formatSeedFile(bytes(64), true);
    odd[SEED_HEADER_BYTES - 1] = 1;
    expect(parseSeedFile(odd).creditable).toBe(false);
  });

  it('credits 8 bits per byte of a creditable seed unless crediting is switched off', () => {
    const parsed = parseSeedFile(formatSeedFile(bytes(256), true));
    expect(storedSeedCreditBits(parsed, false)).toBe(2048);
    expect(storedSeedCreditBits(parsed, true)).toBe(0);
    expect(skipCreditFromEnv({ SEEDRNG_SKIP_CREDIT: 'yes' })).toBe(true);
    expect(skipCreditFromEnv({ VRNGD_SEED_SKIP_CREDIT: '1' })).toBe(true);
    expect(skipCreditFromEnv({ VRNGD_SEED_SKIP_CREDIT: 'no' })).toBe(false);
    expect(skipCreditFromEnv({})).toBe(false);
  });

  it('sizes a seed as poolsize/8 within [32, 512]', () => {
    expect(seedLengthBytes(4096)).toBe(512);
    expect(seedLengthBytes(256)).toBe(32);
    expect(seedLengthBytes(8192)).toBe(512);
    expect(seedLengthBytes(null)).toBe(32);
  });

  it('replaces the last 32 bytes with a hash that depends on the old seed, so a seed never regresses', () => {
    const fresh = new Uint8Array(64); // even all-zero new bytes
    const clocks = { realtimeMs: 1, boottimeNs: 2n };
    const a = finishFreshSeed(fresh, bytes(64), new Uint8Array(0), clocks);
    const b = finishFreshSeed(fresh, bytes(64, (i) => i), new Uint8Array(0), clocks);
    expect(Array.from(a.subarray(0, 64 - HASH_BYTES))).toEqual(Array.from(fresh.subarray(0, 64 - HASH_BYTES)));
    expect(Buffer.from(a.subarray(64 - HASH_BYTES)).equals(Buffer.from(b.subarray(64 - HASH_BYTES)))).toBe(false);
    expect(a.subarray(64 - HASH_BYTES).some((x) => x !== 0)).toBe(true);
  });
});
