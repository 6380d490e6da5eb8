// A deliberately simple FIPS 140-2 reference for the tests: bit by bit, the way
// rng-tools' fips.c (fips_test_store / fips_run_rng_test) is written, with no
// tables and no tricks, including fips.c's quirks that src/core/fips.ts
// reproduces: the run bucket is chosen by the bit that *starts* after a change
// (6 * current_bit), the last run of a block by its own bit, rlength starts at -1
// so a block whose first bit differs from the previous block's last bit counts a
// phantom run in runs[-1] — which in fips.c's struct is poker[15], counted in the
// poker sum — and the continuous test compares native (little-endian) 32-bit words.
// Slow on purpose; used as the oracle in fuzzing and to re-check credited data.

export const REF_MONOBIT = 0x01;
export const REF_POKER = 0x02;
export const REF_RUNS = 0x04;
export const REF_LONGRUN = 0x08;
export const REF_CONTINUOUS = 0x10;

export class ReferenceFips {
  private lastBit = 0;
  private last32: number;

  constructor(bootstrap: number, lastBit = 0) {
    this.last32 = bootstrap >>> 0;
    this.lastBit = lastBit;
  }

  test(block: Uint8Array): number {
    if (block.length !== 2500) throw new Error('2500-byte blocks only');
    // fips.c: poker[16] directly followed by runs[12] in the struct
    const mem = new Array<number>(16 + 12).fill(0);
    const POKER = 0;
    const RUNS = 16;
    let ones = 0;
    let rlength = -1;
    let currentBit = 0;
    let longrun = false;
    let result = 0;
    for (let i = 0; i < 2500; i += 4) {
      const word = (block[i]! | (block[i + 1]! << 8) | (block[i + 2]! << 16) | (block[i + 3]! << 24)) >>> 0;
      if (word === this.last32) result |= REF_CONTINUOUS;
      this.last32 = word;
    }
    for (let i = 0; i < 2500; i++) {
      const b = block[i]!;
      mem[POKER + (b >> 4)] = mem[POKER + (b >> 4)]! + 1;
      mem[POKER + (b & 15)] = mem[POKER + (b & 15)]! + 1;
      for (let j = 7; j >= 0; j--) {
        currentBit = (b >> j) & 1;
        ones += currentBit;
        if (currentBit !== this.lastBit) {
          const idx = rlength < 5 ? rlength + 6 * currentBit : 5 + 6 * currentBit;
          mem[RUNS + idx] = mem[RUNS + idx]! + 1; // idx -1 lands on poker[15], as in C
          if (rlength >= 25) longrun = true;
          rlength = 0;
          this.lastBit = currentBit;
        } else {
          rlength++;
        }
      }
    }
    // the last (possibly incomplete) run
    if (rlength < 5) mem[RUNS + rlength + 6 * currentBit] = mem[RUNS + rlength + 6 * currentBit]! + 1;
    else {
      mem[RUNS + 5 + 6 * currentBit] = mem[RUNS + 5 + 6 * currentBit]! + 1;
      if (rlength >= 25) longrun = true;
    }
    if (longrun) result |= REF_LONGRUN;
    if (ones >= 10275 || ones <= 9725) result |= REF_MONOBIT;
    let poker = 0;
    for (let n = 0; n < 16; n++) poker += mem[POKER + n]! * mem[POKER + n]!;
    if (poker < 1563176 || poker > 1576928) result |= REF_POKER;
    const min = [2315, 1114, 527, 240, 103, 103];
    const max = [2685, 1386, 723, 384, 209, 209];
    for (let k = 0; k < 12; k++) {
      const r = mem[RUNS + k]!;
      if (r < min[k % 6]! || r > max[k % 6]!) result |= REF_RUNS;
    }
    return result;
  }
}

/**
 * True when the block passes monobit, poker, runs and long run on its own. The
 * previous block's last bit moves one run count (the phantom), so either context
 * counts as a pass; the continuous test needs the stream and is left out.
 */
export function passesOnItsOwn(block: Uint8Array): boolean {
  return [0, 1].some((lastBit) => (new ReferenceFips(0, lastBit).test(block) & ~REF_CONTINUOUS) === 0);
}
