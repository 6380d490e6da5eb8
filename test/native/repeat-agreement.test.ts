// The native repeat memory (src/native/repeat.c) against the reference
// (src/core/repeat-memory.ts): fed the same blocks, they must give the same
// verdict for every block. Both are fed side by side, so any difference in the
// rolling hash, the exact check, the anchor choice, the slot/tag mixes or the
// table swap shows as a different verdict somewhere below.
import { randomBytes } from 'crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from '../../src/core/gate';
import { HISTORY_BLOCKS, RepeatMemory } from '../../src/core/repeat-memory';
import { loadBinding } from '../../src/native/binding';
import { NativeRepeatMemory } from '../../src/native/repeat-memory';

class Pair {
  readonly js = new RepeatMemory(BLOCK_BYTES);
  readonly c = new NativeRepeatMemory(BLOCK_BYTES);
  blocks = 0;
  repeats = 0;
  /** Both verdicts; fails at the first block they disagree on. */
  seen(block: Uint8Array, offset = 0): boolean {
    const a = this.js.seen(block, offset);
    const b = this.c.seen(block, offset);
    if (a !== b) throw new Error(`block ${this.blocks}: js ${a}, native ${b}`);
    this.blocks++;
    if (a) this.repeats++;
    return a;
  }
  /** n fresh random blocks, in chunks (no 175 MB buffer); returns the first chunk for replays. */
  fresh(n: number): Buffer {
    let first: Buffer | null = null;
    for (let done = 0; done < n; ) {
      const k = Math.min(1000, n - done);
      const chunk = randomBytes(k * BLOCK_BYTES);
      first ??= chunk;
      for (let i = 0; i < k; i++) this.seen(chunk, i * BLOCK_BYTES);
      done += k;
    }
    return first as Buffer;
  }
}

const block = (stream: Uint8Array, at: number): Uint8Array => stream.subarray(at, at + BLOCK_BYTES);

describe('native repeat memory agrees with the reference', () => {
  it('random data: 20,000 blocks, no repeat in either', () => {
    const p = new Pair();
    p.fresh(20000);
    expect(p.repeats).toBe(0);
  });

  it('exact and shifted replays of the last two blocks, and blocks repeating inside themselves', () => {
    const p = new Pair();
    const s = randomBytes(10 * BLOCK_BYTES);
    for (let i = 0; i < 5; i++) p.seen(s, i * BLOCK_BYTES);
    expect(p.seen(s, 4 * BLOCK_BYTES)).toBe(true); // the last block again
    for (const shift of [1, 15, 16, 17, 777, 2483]) expect(p.seen(s, 3 * BLOCK_BYTES + shift)).toBe(true);
    const loop = new Uint8Array(BLOCK_BYTES);
    for (let i = 0; i < BLOCK_BYTES; i++) loop[i] = s[i % 100] as number; // a 100-byte loop
    expect(p.seen(loop)).toBe(true);
    expect(p.seen(new Uint8Array(BLOCK_BYTES))).toBe(true); // stuck at zero
    expect(p.seen(randomBytes(BLOCK_BYTES))).toBe(false);
  });

  it('one 16-byte window copied from far back: caught only when it is an anchor, the same blocks in both', () => {
    // a sharp test of the hashes: about 1 in 128 of these blocks is refused, and which
    // ones depends on the rolling hash, the anchor test and the slot/tag mixes alike
    const p = new Pair();
    const old = p.fresh(1000);
    p.fresh(100);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 6000; i++) {
      const b = randomBytes(BLOCK_BYTES);
      const from = (i * 389) % (old.length - 16);
      old.copy(b, (i * 131) % (BLOCK_BYTES - 16), from, from + 16);
      verdicts.push(p.seen(b));
    }
    const refused = verdicts.filter(Boolean).length;
    expect(refused).toBeGreaterThan(10); // 6000/128 ≈ 47 expected
    expect(refused).toBeLessThan(150);
    // (the two verdicts of every block were compared in Pair.seen)
  });

  it('replays after 70,000 blocks and across the table swap: refused by both', { timeout: 240_000 }, () => {
    const p = new Pair();
    const first = p.fresh(1000); // blocks 0..999 (table 0)
    p.fresh(HISTORY_BLOCKS - 1000 - 10); // up to just before the swap
    const edge = randomBytes(20 * BLOCK_BYTES); // 10 before the swap, 10 after
    for (let i = 0; i < 20; i++) p.seen(edge, i * BLOCK_BYTES);
    p.fresh(70000 - HISTORY_BLOCKS - 10);
    const before = p.repeats;
    expect(before).toBe(0);
    // 70,000 blocks later: the first blocks, exact and shifted
    for (let i = 0; i < 50; i++) expect(p.seen(first, i * BLOCK_BYTES)).toBe(true);
    for (let i = 0; i < 50; i++) expect(p.seen(block(first, i * BLOCK_BYTES + 1234))).toBe(true);
    // the blocks on both sides of the swap
    for (let i = 0; i < 19; i++) expect(p.seen(edge, i * BLOCK_BYTES + 500)).toBe(true);
    expect(p.seen(randomBytes(BLOCK_BYTES))).toBe(false);
  });

  it('bad arguments: one clear error, never a crash', () => {
    const b = loadBinding();
    const m = b.repeatCreate(BLOCK_BYTES);
    expect(() => b.repeatSeen(m, new Uint8Array(100), 0)).toThrow(/one block/);
    expect(() => b.repeatSeen(m, new Uint8Array(BLOCK_BYTES), 1)).toThrow(RangeError);
    expect(() => b.repeatSeen({} as never, new Uint8Array(BLOCK_BYTES), 0)).toThrow(TypeError);
    expect(() => b.repeatSeen(m, [1, 2] as never, 0)).toThrow(TypeError);
    expect(() => b.repeatCreate(3)).toThrow(TypeError);
  });
});
