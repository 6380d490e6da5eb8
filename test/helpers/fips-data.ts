// Input for tests that need blocks which pass FIPS 140-2: random bytes fail one
// of the tests about once in 1,250 blocks (rngtest's own rate), so a test that
// feeds 32 fresh random blocks and expects 0 failures fails ~2.5 % of runs.
// These bytes are SHA-256 in counter mode from a fixed label: the same every
// run, and test/helpers/fips-data.test.ts checks that every block passes.
import * as crypto from 'crypto';

/** `bytes` deterministic pseudo-random bytes (SHA-256 of "vrngd-test-" + label + counter). */
export function fixedRandom(bytes: number, label = 'passing'): Buffer {
  const out = Buffer.alloc(bytes);
  for (let off = 0, i = 0; off < bytes; i++) off += crypto.createHash('sha256').update(`vrngd-test-${label}-${i}`).digest().copy(out, off);
  return out;
}
