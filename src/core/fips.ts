// The FIPS 140-2 (2001-10-10) block tests as rngd and rngtest run them: monobit,
// poker, runs, long run and the continuous run test on 32-bit words, on
// 2,500-byte (20,000-bit) blocks. The verdict is a bitmask value, never an
// exception. Pure: no fs, no timers, no process; allocation-free per block.
//
// Bit-exact with rng-tools' fips.c, including its quirks (see FipsTester).

import { CODES_IN_USE, INNER_RUNS, LEAD_LENGTH, TRANSITIONS_BASE64 } from './fips-tables';

export const FIPS_BLOCK_BYTES = 2500;
export const FIPS_MONOBIT = 0x01;
export const FIPS_POKER = 0x02;
export const FIPS_RUNS = 0x04;
export const FIPS_LONGRUN = 0x08;
export const FIPS_CONTINUOUS = 0x10;

export type FipsTestName = 'monobit' | 'poker' | 'runs' | 'longRun' | 'continuousRun';

/** The five tests in rngtest's order, with their mask bit and rngtest's label. */
export const FIPS_TESTS: ReadonlyArray<{ name: FipsTestName; mask: number; label: string }> = [
  { name: 'monobit', mask: FIPS_MONOBIT, label: 'FIPS 140-2(2001-10-10) Monobit' },
  { name: 'poker', mask: FIPS_POKER, label: 'FIPS 140-2(2001-10-10) Poker' },
  { name: 'runs', mask: FIPS_RUNS, label: 'FIPS 140-2(2001-10-10) Runs' },
  { name: 'longRun', mask: FIPS_LONGRUN, label: 'FIPS 140-2(2001-10-10) Long run' },
  { name: 'continuousRun', mask: FIPS_CONTINUOUS, label: 'FIPS 140-2(2001-10-10) Continuous run' },
];

export function fipsFailureNames(mask: number): FipsTestName[] {
  const names: FipsTestName[] = [];
  for (const t of FIPS_TESTS) if (mask & t.mask) names.push(t.name);
  return names;
}

// Thresholds (FIPS 140-2 errata 2001-10-10, as rngd applies them).
const MONOBIT_FAIL_LOW = 9725; // fail when ones <= 9725
const MONOBIT_FAIL_HIGH = 10275; // fail when ones >= 10275
const POKER_MIN = 1563176; // pass when sum of squared nibble counts is in [min, max]
const POKER_MAX = 1576928;
/** Allowed run counts per length bucket 1..5 and 6+ (inclusive). */
const RUNS_MIN = [2315, 1114, 527, 240, 103, 103];
const RUNS_MAX = [2685, 1386, 723, 384, 209, 209];
/** A run of this many equal bits or more fails the long-run test. */
const LONG_RUN_BITS = 26;

// ---------------------------------------------------------------------------
// Table-driven run tracking.
//
// rngtest walks the bits MSB first and, on every change of bit value, counts the
// run that just ended in runs[min(len,6) - 1 + 6 * newBit] (the bucket is labelled
// by the bit that *starts*, so a run of zeros lands in the "ones" half and vice
// versa); the last run of a block is counted under its own bit instead. At a block
// start the run length is reset but the previous block's last bit is kept, so a
// block whose first bit differs from it counts a phantom run of length 0 in
// runs[-1 + 6 * newBit]: runs[5] when the new bit is 1, and runs[-1] (which is
// poker[15] in fips.c's struct layout) when it is 0. We reproduce all of that,
// because the goal is rngtest's verdicts exactly.
//
// The byte loop sees only the runs that touch a byte boundary, through a
// (state, byte) transition table; state = runBit * 32 + runLength (length
// saturated at 26, which keeps bucket and long-run verdicts exact). Runs that lie
// strictly inside one byte depend on the byte alone and are added per block from a
// byte histogram, as are the poker and monobit counts.

const RUN_STATE_BITS = 5; // runLength 0..26 fits in 5 bits
const STATES = 2 << RUN_STATE_BITS; // 64
// STATE_MASK = STATES - 1 = 63 (a literal in step)
const PHANTOM_POKER15 = 12; // runs[-1] in fips.c aliases poker[15]
const SINK = 13; // "no event"
/**
 * Each (state, byte) step ends at most two runs: the run carried in (event A:
 * a counter index, the phantom, or none) and the byte's leading segment when it
 * starts a new run and ends inside the byte (event B: a counter index or none).
 * The pair and the long-run verdict form one event code, counted per block in a
 * small histogram, so the byte loop does a single increment per step.
 */
const B_VALUES = 13; // counters 0..11, or none
const EVENT_CODES = 14 * B_VALUES * 2;
const EVENT_SHIFT = 6;
const eventCode = (a: number, b: number, longRun: boolean): number => (a * B_VALUES + (b === SINK ? 12 : b)) * 2 + (longRun ? 1 : 0);

/** Segments of equal bits in a byte, MSB first: [bit, length] pairs. */
function byteSegments(b: number): Array<[number, number]> {
  const segs: Array<[number, number]> = [];
  for (let j = 7; j >= 0; j--) {
    const bit = (b >> j) & 1;
    const last = segs[segs.length - 1];
    if (last && last[0] === bit) last[1] = last[1]! + 1;
    else segs.push([bit, 1]);
  }
  return segs;
}

/** Counter index for a run that ended on a bit change, of the given bit and length (0 = block-start phantom). */
function endedRunIndex(bit: number, length: number): number {
  const idx = Math.min(length, 6) - 1 + 6 * (1 - bit);
  return idx < 0 ? PHANTOM_POKER15 : idx;
}

const stateOf = (bit: number, length: number): number => (bit << RUN_STATE_BITS) | Math.min(length, LONG_RUN_BITS);

/** Exported for the test that the literal tables (fips-tables.ts) are what this builds. */
export function buildTransitions(): Uint16Array {
  // Runs at start-up, mostly before the JIT kicks in: per byte, the few values
  // that do not depend on the carried run, then plain integer code per length.
  const table = new Uint16Array(STATES * 256);
  const noEvent = eventCode(SINK, SINK, false);
  for (let b = 0; b < 256; b++) {
    const segs = byteSegments(b);
    const [leadBit, leadLength] = segs[0] as [number, number];
    const [tailBit, tailLength] = segs[segs.length - 1] as [number, number];
    const uniform = segs.length === 1;
    const afterByte = uniform ? stateOf(leadBit, 8) : stateOf(tailBit, tailLength);
    const leadEnds = uniform ? SINK : endedRunIndex(leadBit, leadLength);
    for (let bit = 0; bit < 2; bit++) {
      const base = bit << (RUN_STATE_BITS + 8);
      for (let length = 0; length <= LONG_RUN_BITS; length++) {
        let entry: number;
        if (leadBit !== bit) {
          // the carried run ended before this byte; the lead segment ends inside it unless uniform
          const ended = Math.min(length, 6) - 1 + 6 * (1 - bit); // -1: fips.c's block-start phantom
          entry = afterByte | (eventCode(ended < 0 ? PHANTOM_POKER15 : ended, leadEnds, length >= LONG_RUN_BITS) << EVENT_SHIFT);
        } else if (uniform) {
          // the carried run goes on through the whole byte
          entry = (bit << RUN_STATE_BITS) | Math.min(length + 8, LONG_RUN_BITS) | (noEvent << EVENT_SHIFT);
        } else {
          // the carried run ends after the lead segment
          const total = length + leadLength;
          entry = afterByte | (eventCode(Math.min(total, 6) - 1 + 6 * (1 - bit), SINK, total >= LONG_RUN_BITS) << EVENT_SHIFT);
        }
        table[base | (length << 8) | b] = entry;
      }
    }
  }
  return table;
}

/**
 * Runs strictly inside each byte (never touching its first or last bit), packed
 * as 16-bit fields, three counters per number: INNER[k][b] holds counters 3k..3k+2.
 * Each field is at most 3 per byte and at most 20,000 per block, so sums of
 * count * packed value stay exact integers below 2^48.
 */
export function buildInnerRuns(): Float64Array[] {
  const packed = [0, 1, 2, 3].map(() => new Float64Array(256));
  for (let b = 0; b < 256; b++) {
    const segs = byteSegments(b);
    for (let s = 1; s < segs.length - 1; s++) {
      const [bit, length] = segs[s] as [number, number];
      const idx = endedRunIndex(bit, length); // ended by a change, as every inner run is
      const field = packed[Math.floor(idx / 3)] as Float64Array;
      field[b] = field[b]! + 2 ** (16 * (idx % 3));
    }
  }
  return packed;
}

/**
 * The lookup tables, built on first use (a FipsTester's construction), not at module
 * load: `vrngd seed` and `run` load this module without testing a block at start-up,
 * and building them costs 16-28 ms of a slow VM's start-up. The hot functions take
 * them as arguments and use numeric literals rather than module constants: in the
 * esbuild bundle a lazily imported module's top-level `const`s become `var`s that
 * V8 must reload and check on every use (measured 1.12x slower than dist/).
 */
interface FipsTables {
  transitions: Uint16Array;
  eventA: Uint8Array;
  eventB: Uint8Array;
  eventLong: Uint8Array;
  /** The event codes the table can produce (about a third of them): the only ones the per-block decode visits. */
  codesInUse: Uint16Array;
  inner0: Float64Array;
  inner1: Float64Array;
  inner2: Float64Array;
  inner3: Float64Array;
  /** Length of each byte's leading segment of equal bits. */
  leadLength: Uint8Array;
}

let tables: FipsTables | null = null;

/** TRANSITIONS_BASE64: the Uint16Array's bytes, little-endian. */
export function decodeTransitions(): Uint16Array {
  // no JS loop over the 16,384 entries (it would be optimised, see fipsTables): a
  // copy of the bytes viewed as 16-bit words, on a little-endian host; else built
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) return buildTransitions();
  const bytes = Buffer.from(TRANSITIONS_BASE64, 'base64');
  return new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** Length of each byte's leading segment of equal bits (LEAD_LENGTH in fips-tables.ts is this, as a literal). */
export function buildLeadLength(): number[] {
  return Array.from({ length: 256 }, (_, b) => (byteSegments(b)[0] as [number, number])[1]);
}

/** The event codes buildTransitions' table uses (CODES_IN_USE in fips-tables.ts is this, as a literal). */
export function codesInUse(transitions: Uint16Array): number[] {
  const seen = new Uint8Array(EVENT_CODES);
  for (let i = 0; i < transitions.length; i++) seen[transitions[i]! >> EVENT_SHIFT] = 1;
  const codes: number[] = [];
  seen.forEach((v, code) => v && codes.push(code));
  return codes;
}

function fipsTables(): FipsTables {
  if (tables !== null) return tables;
  // the (state, byte) table as a literal (fips-tables.ts): building it here made V8
  // optimise the builder's loops, and that compile alone raised peak RSS by ~6 MiB
  const transitions = decodeTransitions();
  /* Decoding of event codes: which counters they increment and whether they fail the long-run test. */
  const eventA = new Uint8Array(EVENT_CODES);
  const eventB = new Uint8Array(EVENT_CODES);
  const eventLong = new Uint8Array(EVENT_CODES);
  for (let code = 0; code < EVENT_CODES; code++) {
    const pair = code >> 1;
    const b = pair % B_VALUES;
    eventA[code] = Math.floor(pair / B_VALUES);
    eventB[code] = b === 12 ? SINK : b;
    eventLong[code] = code & 1;
  }
  const codes = CODES_IN_USE;
  const [inner0, inner1, inner2, inner3] = INNER_RUNS.map((row) => Float64Array.from(row)) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const leadLength = Uint8Array.from(LEAD_LENGTH);
  tables = { transitions, eventA, eventB, eventLong, codesInUse: Uint16Array.from(codes), inner0, inner1, inner2, inner3, leadLength };
  return tables;
}
const NIBBLE_ONES = new Uint8Array(16).map((_, n) => (n & 1) + ((n >> 1) & 1) + ((n >> 2) & 1) + ((n >> 3) & 1));

/** What a block measured, for diagnostics and tests (filled by testBlock when asked). */
export interface FipsBlockStats {
  /** One bits in the block (monobit). */
  ones: number;
  /** Sum of the squared counts of the 16 nibble values, as fips.c computes it (poker). */
  pokerSum: number;
  /** fips.c's runs[0..11]: lengths 1..5 and 6+ in two halves, labelled as fips.c labels them. */
  runs: number[];
}

/**
 * One FIPS 140-2 test context per stream (rngd keeps one per source). Carries the
 * continuous-test word and the last bit between blocks, as fips.c does.
 */
export class FipsTester {
  private last32: number;
  /** rngtest's last_bit: the value of the stream's last tested bit (0 before any). */
  private lastBit = 0;
  private readonly byteCounts = new Int32Array(256);
  private readonly eventCounts = new Int32Array(EVENT_REGIONS * EVENT_REGION);
  private readonly scan = new Int32Array(SCAN_SLOTS);
  private readonly runs = new Int32Array(14);
  private readonly poker = new Int32Array(16);
  private readonly t = fipsTables();

  /** bootstrap: the first 32-bit word of the stream, as rngtest/rngd use it to seed the continuous test */
  constructor(bootstrap: number) {
    this.last32 = bootstrap | 0;
  }

  /**
   * Tests block[offset, offset+2500); returns the failure bitmask (0 = pass). Carries the continuous-test state across blocks. Allocation-free
   * (unless stats is given: then it is filled with what the block measured).
   */
  testBlock(block: Uint8Array, offset = 0, stats?: FipsBlockStats): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + FIPS_BLOCK_BYTES > block.length) {
      throw new RangeError(`FipsTester.testBlock: need ${FIPS_BLOCK_BYTES} bytes at offset ${offset}, have ${block.length - offset}`);
    }
    const scan = this.scan;
    scan[SCAN_STATE] = this.lastBit << RUN_STATE_BITS; // run length 0: block start
    scan[SCAN_LAST32] = this.last32;
    scanBlock(block, offset, scan, this.byteCounts, this.eventCounts, this.t.transitions, this.t.leadLength);
    this.last32 = scan[SCAN_LAST32]!;
    const state = scan[SCAN_STATE]!;

    const runs = this.runs;
    let longRun = decodeEvents(this.eventCounts, runs, this.t);
    const fixSub = scan[SCAN_FIX_SUB]!;
    const fixAdd = scan[SCAN_FIX_ADD]!;
    runs[fixSub] = runs[fixSub]! - 1;
    runs[fixAdd] = runs[fixAdd]! + 1;
    if (scan[SCAN_FIX_LONG]) longRun = true;

    // The last run of the block, counted under its own bit (fips.c's quirk).
    const runBit = state >> RUN_STATE_BITS;
    const runLength = state & 31;
    const lastRun = Math.min(runLength, 6) - 1 + 6 * runBit;
    runs[lastRun] = runs[lastRun]! + 1;
    if (runLength >= LONG_RUN_BITS) longRun = true;
    this.lastBit = runBit;

    // Byte histogram -> poker nibble counts and the runs inside bytes.
    const poker = this.poker;
    decodeByteCounts(this.byteCounts, poker, runs, this.t);

    let ones = 0;
    let pokerSum = 0;
    for (let n = 0; n < 16; n++) {
      const f = poker[n]!;
      ones += f * NIBBLE_ONES[n]!;
      // runs[-1] in fips.c is poker[15]: it counts in the poker sum, not in the ones
      const g = n === 15 ? f + runs[PHANTOM_POKER15]! : f;
      pokerSum += g * g;
    }

    if (stats) {
      stats.ones = ones;
      stats.pokerSum = pokerSum;
      stats.runs = Array.from(runs.subarray(0, 12));
    }

    let result = 0;
    if (scan[SCAN_REPEATED]) result |= FIPS_CONTINUOUS;
    if (longRun) result |= FIPS_LONGRUN;
    if (ones >= MONOBIT_FAIL_HIGH || ones <= MONOBIT_FAIL_LOW) result |= FIPS_MONOBIT;
    if (pokerSum > POKER_MAX || pokerSum < POKER_MIN) result |= FIPS_POKER;
    for (let k = 0; k < 12; k++) {
      const r = runs[k]!;
      const bucket = k % 6;
      if (r < RUNS_MIN[bucket]! || r > RUNS_MAX[bucket]!) result |= FIPS_RUNS;
    }
    runs.fill(0);
    return result;
  }
}

// The per-block work is split into small functions so that V8 optimises the
// byte loop on its own (one big function was measurably slower and less stable).
const SCAN_STATE = 0;
const SCAN_LAST32 = 1;
const SCAN_REPEATED = 2;
const SCAN_FIX_SUB = 3;
const SCAN_FIX_ADD = 4;
const SCAN_FIX_LONG = 5;
const SCAN_SLOTS = 6;
/** The block is scanned as two halves at once (words 0..311 and 312..624): HALF_BYTES = 312 * 4 = 1248 in scanBlock. */

/**
 * Event counts live in EVENT_REGIONS copies (one per chain and byte parity) that
 * are summed per block: the same few codes come up again and again, and
 * incrementing one counter back to back stalls on the store just made.
 */
const EVENT_REGION = 512;
const EVENT_REGIONS = 4;

/** One byte through the byte histogram and the run state machine; returns the next state. */
function step(table: Uint16Array, state: number, b: number, counts: Int32Array, events: Int32Array, region: number): number {
  counts[b] = counts[b]! + 1;
  const e = table[(state << 8) | b]!;
  const k = (e >> 6) | region; // EVENT_SHIFT
  events[k] = events[k]! + 1;
  return e & 63; // STATE_MASK
}

/**
 * The byte loop. The continuous test compares 32-bit little-endian words; the
 * run state machine and the byte histogram take the bytes in stream order, each
 * MSB first. The two halves of the block run as two independent state machines
 * in one loop (the table lookups form a dependency chain; two chains keep the
 * CPU busier), and the run that crosses the middle is stitched afterwards: the
 * second half starts as if a run of its first bit had just begun, so its first
 * run is counted without the first half's open run. scan carries state and
 * last32 in; state, last32, the repeated-word flag and the stitch fix-up out.
 */
function scanBlock(block: Uint8Array, offset: number, scan: Int32Array, counts: Int32Array, events: Int32Array, t: Uint16Array, leadLength: Uint8Array): void {
  // literals, not the module's constants (see fipsTables): 1248 = HALF_BYTES,
  // 2500 = FIPS_BLOCK_BYTES, 5 = RUN_STATE_BITS, 512 = 512, scan slots 0..5
  const mid = offset + 1248;
  const end = offset + 2500;
  const c2 = block[mid]! >> 7;
  let s1 = scan[0]!;
  let s2 = c2 << 5;
  let last1 = scan[1]!;
  let last2 = block[mid - 4]! | (block[mid - 3]! << 8) | (block[mid - 2]! << 16) | (block[mid - 1]! << 24);
  let repeated = 0;
  for (let i = offset, j = mid; i < mid; i += 4, j += 4) {
    const a0 = block[i]!;
    const a1 = block[i + 1]!;
    const a2 = block[i + 2]!;
    const a3 = block[i + 3]!;
    const b0 = block[j]!;
    const b1 = block[j + 1]!;
    const b2 = block[j + 2]!;
    const b3 = block[j + 3]!;
    const wa = a0 | (a1 << 8) | (a2 << 16) | (a3 << 24);
    const wb = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    repeated |= (wa === last1 ? 1 : 0) | (wb === last2 ? 1 : 0);
    last1 = wa;
    last2 = wb;
    s1 = step(t, s1, a0, counts, events, 0);
    s2 = step(t, s2, b0, counts, events, 1024);
    s1 = step(t, s1, a1, counts, events, 512);
    s2 = step(t, s2, b1, counts, events, 1536);
    s1 = step(t, s1, a2, counts, events, 0);
    s2 = step(t, s2, b2, counts, events, 1024);
    s1 = step(t, s1, a3, counts, events, 512);
    s2 = step(t, s2, b3, counts, events, 1536);
  }
  for (let j = mid + 1248; j < end; j += 4) {
    const b0 = block[j]!;
    const b1 = block[j + 1]!;
    const b2 = block[j + 2]!;
    const b3 = block[j + 3]!;
    const wb = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    repeated |= wb === last2 ? 1 : 0;
    last2 = wb;
    s2 = step(t, s2, b0, counts, events, 1024);
    s2 = step(t, s2, b1, counts, events, 1536);
    s2 = step(t, s2, b2, counts, events, 1024);
    s2 = step(t, s2, b3, counts, events, 1536);
  }

  // Stitch: the first half's open run (c1, r1) meets the second half's first run.
  const c1 = s1 >> RUN_STATE_BITS;
  const r1 = s1 & 31;
  let fixSub = SINK;
  let fixAdd = SINK;
  let fixLong = 0;
  if (c1 !== c2) {
    // a change at the middle: the open run ended there
    fixAdd = endedRunIndex(c1, r1);
    fixLong = r1 >= LONG_RUN_BITS ? 1 : 0;
  } else {
    // same bit: one run across the middle. The second half counted its first run
    // (length f2) alone; when f2 >= 26 that count and the merged one agree (6+,
    // long), otherwise replace it with the merged length r1 + f2.
    const uniform = c2 ? 0xff : 0;
    let f2 = 0;
    let k = mid;
    while (f2 < LONG_RUN_BITS && block[k] === uniform) {
      f2 += 8;
      k++;
    }
    if (f2 < LONG_RUN_BITS) {
      const b = block[k]!;
      if (b >> 7 === c2) f2 += leadLength[b]!;
      fixSub = endedRunIndex(c2, f2);
      fixAdd = endedRunIndex(c2, r1 + f2);
      fixLong = r1 + f2 >= LONG_RUN_BITS ? 1 : 0;
    }
  }
  scan[SCAN_STATE] = s2;
  scan[SCAN_LAST32] = last2;
  scan[SCAN_REPEATED] = repeated;
  scan[SCAN_FIX_SUB] = fixSub;
  scan[SCAN_FIX_ADD] = fixAdd;
  scan[SCAN_FIX_LONG] = fixLong;
}

/** Adds the runs ended at byte boundaries to runs[] and clears the event counts; true when one was long. */
function decodeEvents(events: Int32Array, runs: Int32Array, t: FipsTables): boolean {
  let longRuns = 0;
  const codes = t.codesInUse;
  const eventA = t.eventA;
  const eventB = t.eventB;
  const eventLong = t.eventLong;
  for (let c = 0; c < codes.length; c++) {
    const code = codes[c]!;
    const n = events[code]! + events[code + 512]! + events[code + 1024]! + events[code + 1536]!; // EVENT_REGIONS copies
    const a = eventA[code]!;
    const b = eventB[code]!;
    runs[a] = runs[a]! + n;
    runs[b] = runs[b]! + n;
    longRuns += n * eventLong[code]!;
  }
  events.fill(0);
  return longRuns > 0;
}

/** Poker nibble counts and the runs strictly inside bytes, from the byte histogram (then cleared). */
function decodeByteCounts(counts: Int32Array, poker: Int32Array, runs: Int32Array, t: FipsTables): void {
  poker.fill(0);
  const inner0s = t.inner0;
  const inner1s = t.inner1;
  const inner2s = t.inner2;
  const inner3s = t.inner3;
  let inner0 = 0;
  let inner1 = 0;
  let inner2 = 0;
  let inner3 = 0;
  for (let high = 0; high < 16; high++) {
    let row = 0; // bytes with this high nibble (a local: no back-to-back stores to one counter)
    for (let low = 0; low < 16; low++) {
      const b = (high << 4) | low;
      const n = counts[b]!;
      row += n;
      poker[low] = poker[low]! + n;
      inner0 += n * inner0s[b]!;
      inner1 += n * inner1s[b]!;
      inner2 += n * inner2s[b]!;
      inner3 += n * inner3s[b]!;
    }
    poker[high] = poker[high]! + row;
  }
  counts.fill(0);
  addPacked(runs, 0, inner0);
  addPacked(runs, 3, inner1);
  addPacked(runs, 6, inner2);
  addPacked(runs, 9, inner3);
}

function addPacked(runs: Int32Array, first: number, packed: number): void {
  runs[first] = runs[first]! + packed % 65536;
  runs[first + 1] = runs[first + 1]! + Math.floor(packed / 65536) % 65536;
  runs[first + 2] = runs[first + 2]! + Math.floor(packed / 4294967296);
}
