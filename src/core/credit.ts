// Crediting rules: how many bits of entropy a run of bytes may be credited with.
// Pure. Used by the daemon's feed loop and by `vrngd seed`.
//
// Why these rules:
// - Nothing is credited unless it came out of BlockGate as part of a passing
//   2,500-byte block (core/gate.ts): FIPS 140-2 does not prove entropy, but it
//   rejects the dead, stuck and biased sources that must never be credited.
// - A byte carries at most 8 bits, and a source's quality (bits per byte, 0..8)
//   is the most it may claim; -e/--entropy-count lowers every source to at most
//   that many bits per byte (rngd's meaning of -e). Fractions round down.
// - The kernel may credit less than it is given (asymptotic crediting on el6,
//   el7.1+ and 3.13–5.17; nothing at all after crng init on 5.19+), so the daemon
//   reads RNDGETENTCNT back instead of assuming: this module only says what may be
//   *claimed*, never what the kernel did.

export const MAX_BITS_PER_BYTE = 8;

export function isValidQuality(quality: number): boolean {
  return Number.isFinite(quality) && quality >= 0 && quality <= MAX_BITS_PER_BYTE;
}

/** Bits that `bytes` bytes of a source of this quality may be credited with (floor). */
export function creditBits(bytes: number, quality: number): number {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`creditBits: bytes must be a non-negative integer, got ${bytes}`);
  if (!isValidQuality(quality)) throw new RangeError(`creditBits: quality must be 0..8 bits per byte, got ${quality}`);
  return Math.floor(bytes * quality);
}

/** A source's quality capped by -e/--entropy-count (bits per byte, 0..8). */
export function effectiveQuality(sourceQuality: number, entropyCountPerByte: number = MAX_BITS_PER_BYTE): number {
  return Math.max(0, Math.min(sourceQuality, entropyCountPerByte, MAX_BITS_PER_BYTE));
}
