// RepeatMemory: has this data been seen before? FIPS 140-2 passes a replayed
// random block, a source stuck in a loop of good-looking data, and a file read
// twice, so nothing may be credited on FIPS alone. Pure: no I/O, no timers.
//
// Two checks, both on 16-byte windows (any 16 consecutive bytes; random data
// repeats 16 bytes by chance with probability about 1e-29 per pair of windows):
//
// 1. Exact, short range. Every window of a block against every other window of
//    the same block and of the block before it, confirmed byte by byte. Catches
//    short loops and shifted replays of the last 5,000 bytes.
//
// 2. Long range, in fixed memory. A window is an *anchor* when a hash of its 16
//    bytes falls in 1/128 of the hash space: about 19 anchors per 2,500-byte
//    block, chosen by content alone, so the same data has the same anchors at
//    any offset. Each anchor is remembered as a 32-bit tag at a slot chosen by
//    another 21 bits of its hash, in open-addressed tables of 2^21 slots (8 MiB
//    each). A block any of whose anchors was seen before is a repeat. Two tables
//    take turns: when the current one has held HISTORY_BLOCKS blocks it becomes
//    the previous one and the old previous one is emptied, so the memory always
//    covers at least the last HISTORY_BLOCKS (65,536) blocks, 164 MB of data,
//    and at most twice that.
//    - A replayed block escapes only if none of its 2,485 windows is an anchor:
//      (127/128)^2485 ≈ 4e-9 (and the exact check still sees the last 5,000 B).
//    - A fresh block is taken for a repeat when an anchor's tag meets an equal
//      tag in a probe sequence: ~19 anchors × 2 tables × ≤ 3.9 probes (linear
//      probing at load ≤ 0.62) × 2^-32 ≈ 3.5e-8, one good block in ~29 million
//      discarded (never credited wrongly: the error is only ever a loss).
//    The tables are allocated on first use (an idle daemon and `vrngd check`
//    never pay for them); their pages fill as data flows.
//
// A source under an attacker's control can always produce fresh-looking data
// (a stream cipher's output passes every test); this memory is about faults,
// replays and loops, and says nothing about such a source.

// src/native/repeat.c is this algorithm in C, bit for bit (the daemon's feed path
// uses it, injected by daemon/compose.ts); this class is the reference, and
// test/native/repeat-agreement.test.ts requires the same verdicts from both.

/** What the gate asks of a repeat memory (this class, or the native one). */
export interface RepeatCheck {
  /** Whether any 16 bytes of block[offset, offset + blockBytes) were seen before; remembers them either way. */
  seen(block: Uint8Array, offset?: number): boolean;
}

export const REPEAT_WINDOW_BYTES = 16;
/** Blocks the long-range memory always covers. */
export const HISTORY_BLOCKS = 65536;
/** A window is an anchor when the top ANCHOR_BITS of its mixed hash are 0: density 2^-7. */
const ANCHOR_BITS = 7;
const LONG_TABLE_BITS = 21;
/** The exact table: a power of two, over 3× the 2 × 2,485 windows it holds. */
const SHORT_TABLE_BITS = 14;
/** The rolling hash's base (odd), and base^15 mod 2^32 to drop the outgoing byte. */
const HASH_BASE = 0x01000193;
let basePow = 1;
for (let k = 1; k < REPEAT_WINDOW_BYTES; k++) basePow = Math.imul(basePow, HASH_BASE);
const HASH_BASE_POW = basePow;

export class RepeatMemory implements RepeatCheck {
  private readonly blockBytes: number;
  private readonly windows: number;
  /** The previous block's bytes at [0, B), the block being judged at [B, 2B). */
  private readonly history: Uint8Array;
  private previous = new WindowTable();
  private current = new WindowTable();
  private hasPrevious = false;
  private longCurrent: Uint32Array | null = null;
  private longPrevious: Uint32Array | null = null;
  private longBlocks = 0;
  /** Anchor tags of the block being judged, inserted once the block is judged. */
  private readonly anchorSlots: Int32Array;
  private readonly anchorTags: Uint32Array;
  private anchors = 0;

  constructor(blockBytes = 2500) {
    this.blockBytes = blockBytes;
    this.windows = blockBytes - REPEAT_WINDOW_BYTES + 1;
    this.history = new Uint8Array(2 * blockBytes);
    this.anchorSlots = new Int32Array(this.windows);
    this.anchorTags = new Uint32Array(this.windows);
  }

  /** Whether any 16 bytes of `block` were seen before (in it or earlier); remembers it either way. */
  seen(block: Uint8Array, offset = 0): boolean {
    const B = this.blockBytes;
    const h = this.history;
    h.set(block.subarray(offset, offset + B), B);
    const cur = this.current;
    const prev = this.previous;
    cur.clear();
    this.anchors = 0;
    let repeated = false;
    let x = 0;
    for (let k = 0; k < REPEAT_WINDOW_BYTES - 1; k++) x = (Math.imul(x, HASH_BASE) + (h[B + k] as number)) | 0;
    for (let i = 0; i < this.windows; i++) {
      const start = B + i;
      if (i > 0) x = (x - Math.imul(h[start - 1] as number, HASH_BASE_POW)) | 0;
      x = (Math.imul(x, HASH_BASE) + (h[start + REPEAT_WINDOW_BYTES - 1] as number)) | 0;
      // previous-block windows sit at [0, B-15) of history, this block's at [B, 2B-15)
      if (!repeated && this.hasPrevious && prev.has(x, h, start, 0)) repeated = true;
      if (cur.addOrFind(x, h, start, B, repeated)) repeated = true;
      if (Math.imul(x, 0x85ebca6b) >>> (32 - ANCHOR_BITS) === 0) this.noteAnchor(h, start);
    }
    if (this.rememberAnchors()) repeated = true;
    // the current block becomes the previous one
    h.copyWithin(0, B);
    this.previous = cur;
    this.current = prev;
    this.hasPrevious = true;
    return repeated;
  }

  /** A strong hash of the anchor window (two 32-bit mixes of its four words): slot and tag. */
  private noteAnchor(h: Uint8Array, at: number): void {
    let a = 0x9747b28c;
    let b = 0x2545f491;
    for (let k = 0; k < REPEAT_WINDOW_BYTES; k += 4) {
      const w = (h[at + k] as number) | ((h[at + k + 1] as number) << 8) | ((h[at + k + 2] as number) << 16) | ((h[at + k + 3] as number) << 24);
      a = Math.imul(a ^ w, 0xcc9e2d51);
      a = (a << 15) | (a >>> 17);
      b = Math.imul(b ^ w, 0x1b873593);
      b = (b << 13) | (b >>> 19);
    }
    a = fmix(a);
    b = fmix(b);
    this.anchorSlots[this.anchors] = a >>> (32 - LONG_TABLE_BITS);
    this.anchorTags[this.anchors] = b === 0 ? 1 : b >>> 0;
    this.anchors++;
  }

  /** Looks the block's anchors up in both tables, then adds the new ones; true when one was known. */
  private rememberAnchors(): boolean {
    if (this.anchors === 0) return false;
    if (this.longCurrent === null) {
      this.longCurrent = new Uint32Array(1 << LONG_TABLE_BITS);
      this.longPrevious = new Uint32Array(1 << LONG_TABLE_BITS);
    }
    const cur = this.longCurrent;
    const prev = this.longPrevious as Uint32Array;
    let known = false;
    for (let i = 0; i < this.anchors; i++) {
      const slot = this.anchorSlots[i] as number;
      const tag = this.anchorTags[i] as number;
      if (longFind(prev, slot, tag) >= 0) known = true;
      const s = longFind(cur, slot, tag);
      if (s >= 0) known = true;
      else cur[-s - 1] = tag;
    }
    if (++this.longBlocks >= HISTORY_BLOCKS) {
      this.longBlocks = 0;
      prev.fill(0);
      this.longPrevious = cur;
      this.longCurrent = prev;
    }
    return known;
  }
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(v: number): number {
  v ^= v >>> 16;
  v = Math.imul(v, 0x85ebca6b);
  v ^= v >>> 13;
  v = Math.imul(v, 0xc2b2ae35);
  return v ^ (v >>> 16);
}

/** Linear probing from `slot`: the slot holding `tag` (≥ 0), or -(first empty slot) - 1. */
function longFind(table: Uint32Array, slot: number, tag: number): number {
  const mask = table.length - 1;
  for (let s = slot; ; s = (s + 1) & mask) {
    const t = table[s] as number;
    if (t === tag) return s;
    if (t === 0) return -s - 1;
  }
}

/**
 * Open-addressed (linear probing) set of the 16-byte windows of one block, keyed
 * by their rolling hash; entries point into the memory's history buffer, so a
 * hash hit is confirmed byte by byte. Emptied in O(1) by a new stamp.
 */
class WindowTable {
  /**
   * Per slot s: [3s] stamp, [3s+1] hash, [3s+2] window start in its block (0..B-16),
   * side by side so that a probe touches one cache line, not three arrays (issue 16:
   * this check was half of the pipeline's CPU).
   */
  private readonly slots = new Int32Array(3 << SHORT_TABLE_BITS);
  private stamp = 0;

  clear(): void {
    if (this.stamp === 0x7fffffff) {
      this.slots.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
  }

  /** Whether a window equal to h[at, at+16) is in the table; its entries are read at base + start. */
  has(hash: number, h: Uint8Array, at: number, base: number): boolean {
    const mask = (1 << SHORT_TABLE_BITS) - 1;
    const slots = this.slots;
    const stamp = this.stamp;
    for (let s = Math.imul(hash, 0x9e3779b1) >>> (32 - SHORT_TABLE_BITS); slots[3 * s] === stamp; s = (s + 1) & mask) {
      if (slots[3 * s + 1] === hash && sameWindow(h, base + (slots[3 * s + 2] as number), at)) return true;
    }
    return false;
  }

  /**
   * Adds the window at h[at, at+16) (a start in the second half of h, which begins
   * at `base`) unless an equal one is there already; returns true when it was (a
   * repeat). With `known` (a repeat already found) it only adds, without comparing.
   */
  addOrFind(hash: number, h: Uint8Array, at: number, base: number, known: boolean): boolean {
    const mask = (1 << SHORT_TABLE_BITS) - 1;
    const slots = this.slots;
    const stamp = this.stamp;
    let s = Math.imul(hash, 0x9e3779b1) >>> (32 - SHORT_TABLE_BITS);
    for (; slots[3 * s] === stamp; s = (s + 1) & mask) {
      if (!known && slots[3 * s + 1] === hash && sameWindow(h, base + (slots[3 * s + 2] as number), at)) return true;
    }
    slots[3 * s] = stamp;
    slots[3 * s + 1] = hash;
    slots[3 * s + 2] = at - base;
    return false;
  }
}

function sameWindow(h: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; k < REPEAT_WINDOW_BYTES; k++) if (h[a + k] !== h[b + k]) return false;
  return true;
}
