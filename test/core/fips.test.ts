// The FIPS 140-2 engine (core/fips.ts) and its streaming reader
// (core/fips-stream.ts) against Debian's rngtest as the oracle: identical
// counts on the generated corpus (random, biased, stuck, repeated words, runs of
// every edge length, monobit and poker thresholds, fips.c's block-start quirks),
// in any chunking, plus the API contract other modules code against.
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FipsBlockStats,
  FIPS_BLOCK_BYTES,
  FIPS_CONTINUOUS,
  FIPS_LONGRUN,
  FIPS_MONOBIT,
  FIPS_POKER,
  FIPS_RUNS,
  FIPS_TESTS,
  FipsTester,
  buildInnerRuns,
  buildLeadLength,
  buildTransitions,
  codesInUse,
  decodeTransitions,
  fipsFailureNames,
} from '../../src/core/fips';
import { CODES_IN_USE, INNER_RUNS, LEAD_LENGTH } from '../../src/core/fips-tables';
import { FipsStreamChecker } from '../../src/core/fips-stream';
import { BLOCK, SeededRandom, blockWithOnes, fipsCorpus, plantRun } from '../fixtures/fips/corpus';
import { ensureRngtest, runRngtest } from '../fixtures/fips/oracle';
import { ReferenceFips } from '../fixtures/fips/reference';
import { skipReason } from '../helpers/env';

const oracleMissing = skipReason([[ensureRngtest() === null, 'rngtest (rng-tools5) is not installed and cannot be']]);

/** The engine's counts in rngtest's labels (what rngtest prints only once bootstrapped). */
function engineCounts(data: Uint8Array, opts: { pipe?: boolean; blockCount?: number } = {}, chunk = 65536): Record<string, number> | null {
  const checker = new FipsStreamChecker(opts);
  for (let at = 0; at < data.length && !checker.done; at += chunk) checker.push(data.subarray(at, Math.min(at + chunk, data.length)));
  const c = checker.counts();
  if (!c.bootstrapped) return null;
  const out: Record<string, number> = {
    'bits received from input': c.bytesReceived * 8,
    'FIPS 140-2 successes': c.blocksPassed,
    'FIPS 140-2 failures': c.blocksFailed,
  };
  if (opts.pipe) out['bits sent to output'] = c.blocksPassed * FIPS_BLOCK_BYTES * 8;
  for (const t of FIPS_TESTS) out[t.label] = c.failures[t.name];
  return out;
}

function oracleCounts(data: Buffer, args: string[] = []): { counts: Record<string, number> | null; status: number } {
  const { summary } = runRngtest(data, args);
  return { counts: Object.keys(summary.counts).length ? summary.counts : null, status: summary.status };
}

describe('the literal tables (src/core/fips-tables.ts)', () => {
  it('are exactly what the builders make (regenerate with scripts/dev/gen-fips-tables.js)', () => {
    const built = buildTransitions();
    expect(built.length).toBe(64 * 256);
    expect(Array.from(decodeTransitions())).toEqual(Array.from(built));
    expect([...CODES_IN_USE]).toEqual(codesInUse(built));
    expect(INNER_RUNS.map((r) => [...r])).toEqual(buildInnerRuns().map((r) => Array.from(r)));
    expect([...LEAD_LENGTH]).toEqual(buildLeadLength());
  });
});

describe('FipsTester API', () => {
  it('exposes the block size, the mask bits and their names in rngtest order', () => {
    expect(FIPS_BLOCK_BYTES).toBe(2500);
    expect([FIPS_MONOBIT, FIPS_POKER, FIPS_RUNS, FIPS_LONGRUN, FIPS_CONTINUOUS]).toEqual([1, 2, 4, 8, 16]);
    expect(fipsFailureNames(0)).toEqual([]);
    expect(fipsFailureNames(0x1f)).toEqual(['monobit', 'poker', 'runs', 'longRun', 'continuousRun']);
    expect(fipsFailureNames(FIPS_RUNS | FIPS_CONTINUOUS)).toEqual(['runs', 'continuousRun']);
  });

  it('returns a value for hopeless data, never throws; throws RangeError only for a short buffer', () => {
    const t = new FipsTester(0);
    expect(t.testBlock(new Uint8Array(BLOCK))).toBe(FIPS_MONOBIT | FIPS_POKER | FIPS_RUNS | FIPS_LONGRUN | FIPS_CONTINUOUS);
    expect(() => t.testBlock(new Uint8Array(BLOCK - 1))).toThrow(RangeError);
    expect(() => t.testBlock(new Uint8Array(BLOCK), 1)).toThrow(RangeError);
    expect(() => t.testBlock(new Uint8Array(BLOCK + 1), -1)).toThrow(RangeError);
  });

  it('tests the block at the offset, and passes good random data', () => {
    const rng = new SeededRandom(1);
    const good = blockWithOnes(rng, 10000);
    const a = new FipsTester(0x01020304);
    const padded = Buffer.concat([Buffer.alloc(7, 0xff), good]);
    const b = new FipsTester(0x01020304);
    expect(b.testBlock(padded, 7)).toBe(a.testBlock(good));
  });

  it('seeds the continuous test with the bootstrap word and carries it across blocks', () => {
    const rng = new SeededRandom(2);
    const block = rng.bytes(BLOCK);
    const first = block.readInt32LE(0);
    const last = block.readUInt32LE(BLOCK - 4);
    const base = new FipsTester(first + 1).testBlock(block) & ~FIPS_CONTINUOUS;
    expect(new FipsTester(first).testBlock(block)).toBe(base | FIPS_CONTINUOUS);
    expect(new FipsTester(first >>> 0).testBlock(block)).toBe(base | FIPS_CONTINUOUS); // signedness does not matter
    const next = rng.bytes(BLOCK);
    next.writeUInt32LE(last, 0);
    const t = new FipsTester(first + 1);
    t.testBlock(block);
    expect(t.testBlock(next) & FIPS_CONTINUOUS).toBe(FIPS_CONTINUOUS);
  });

  it('flags a long run of 26 but not of 25', () => {
    for (const [len, expected] of [
      [25, 0],
      [26, FIPS_LONGRUN],
    ] as const) {
      const b = new SeededRandom(3).bytes(BLOCK);
      plantRun(b, 8 * 700 + 1, len, 1);
      expect(new FipsTester(0).testBlock(b) & FIPS_LONGRUN).toBe(expected);
    }
  });
});

/** Runs a stream (bootstrap word first) through the engine and the naive reference; returns the first difference. */
function compareWithReference(data: Uint8Array): string | null {
  if (data.length < 4) return null;
  const boot = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24);
  const engine = new FipsTester(boot);
  const reference = new ReferenceFips(boot);
  const stats: FipsBlockStats = { ones: 0, pokerSum: 0, runs: [] };
  for (let at = 4, n = 0; at + BLOCK <= data.length; at += BLOCK, n++) {
    const mask = engine.testBlock(data, at, stats);
    const want = reference.test(data, at);
    if (mask !== want.mask || JSON.stringify(stats) !== JSON.stringify(want.stats)) {
      return `block ${n}: engine ${mask} ${JSON.stringify(stats)} reference ${want.mask} ${JSON.stringify(want.stats)}`;
    }
  }
  return null;
}

describe('exact counts against a naive bit-by-bit model', () => {
  it('agrees on every block of the corpus (ones, poker sum, all 12 run counts, mask)', () => {
    for (const c of fipsCorpus()) expect(compareWithReference(c.data), c.name).toBeNull();
  });

  it('agrees on random blocks with runs planted across the middle and the edges of blocks (property)', () => {
    const where = fc.oneof(
      fc.integer({ min: 8 * 1248 - 40, max: 8 * 1248 + 8 }), // the middle of block 0, where the two halves meet
      fc.integer({ min: 8 * BLOCK - 40, max: 8 * BLOCK + 8 }), // across the block boundary
      fc.integer({ min: 8 * (BLOCK + 1248) - 40, max: 8 * (BLOCK + 1248) + 8 }),
      fc.integer({ min: 0, max: 8 * 2 * BLOCK - 1 }),
    );
    const plant = fc.record({ at: where, length: fc.integer({ min: 1, max: 40 }), bit: fc.integer({ min: 0, max: 1 }) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(plant, { minLength: 1, maxLength: 6 }), (seed, plants) => {
        const data = new SeededRandom(seed).bytes(4 + 2 * BLOCK);
        const blocks = data.subarray(4);
        for (const p of plants) plantRun(blocks, p.at, Math.min(p.length, 8 * 2 * BLOCK - p.at), p.bit);
        expect(compareWithReference(data)).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('agrees when a whole half or more is one run (uniform bytes at the middle)', () => {
    const rng = new SeededRandom(9);
    for (const [from, to] of [
      [1240, 1256],
      [1248, 1252],
      [1244, 1248],
      [1000, BLOCK],
      [0, 1248],
      [1248, BLOCK],
      [1245, 1249],
    ] as const) {
      for (const fill of [0, 0xff]) {
        const data = rng.bytes(4 + 2 * BLOCK);
        data.fill(fill, 4 + from, 4 + to);
        expect(compareWithReference(data), `${from}..${to} = ${fill}`).toBeNull();
      }
    }
  });
});

describe('FipsStreamChecker', () => {
  it('gives the same counts and the same passing bytes whatever the chunking', () => {
    const rng = new SeededRandom(4);
    const data = Buffer.concat([rng.bytes(4 + 10 * BLOCK), rng.biased(3 * BLOCK, 0.53), rng.bytes(777)]);
    const run = (sizes: number[]): { counts: unknown; passed: string } => {
      const c = new FipsStreamChecker({ pipe: true });
      const passed: string[] = [];
      let at = 0;
      let i = 0;
      while (at < data.length) {
        const n = sizes[i++ % sizes.length] as number;
        c.push(data.subarray(at, at + n), (b, o) => passed.push(Buffer.from(b.subarray(o, o + BLOCK)).toString('hex')));
        at += n;
      }
      return { counts: c.counts(), passed: passed.join('') };
    };
    const whole = run([data.length]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 * BLOCK }), { minLength: 1, maxLength: 8 }), (sizes) => {
        expect(run(sizes)).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });

  it('stops at the block count and reports what rngtest would have read', () => {
    const data = new SeededRandom(5).bytes(4 + 5 * BLOCK + 100);
    const c = new FipsStreamChecker({ blockCount: 2 });
    expect(c.push(data)).toBe(4 + 2 * BLOCK);
    expect(c.done).toBe(true);
    expect(c.counts().bytesReceived).toBe(4 + 2 * BLOCK);
    expect(c.blocksTested).toBe(2);
    expect(() => new FipsStreamChecker({ blockCount: -1 })).toThrow(RangeError);
  });

  it('exits 1 when no block was tested or one failed, 0 otherwise', () => {
    const rng = new SeededRandom(6);
    const none = new FipsStreamChecker();
    none.push(rng.bytes(4 + BLOCK - 1));
    expect(none.exitStatus()).toBe(1);
    const good = new FipsStreamChecker();
    good.push(rng.bytes(4 + 3 * BLOCK)); // this seed's three blocks pass (rngtest agrees, below)
    expect(good.counts()).toMatchObject({ blocksPassed: 3, blocksFailed: 0 });
    expect(good.exitStatus()).toBe(0);
    const bad = new FipsStreamChecker();
    bad.push(Buffer.concat([rng.bytes(4), Buffer.alloc(BLOCK)]));
    expect(bad.exitStatus()).toBe(1);
  });
});

describe.skipIf(oracleMissing !== null)('agreement with rngtest (rng-tools5)', () => {
  const corpus = fipsCorpus();
  beforeAll(() => {
    expect(corpus.length).toBeGreaterThan(90);
  });

  it.each(corpus.map((c) => [c.name, c.data] as const))('%s: same counts', (_name, data) => {
    const oracle = oracleCounts(data);
    expect(engineCounts(data)).toEqual(oracle.counts);
    expect(engineCounts(data, {}, 997)).toEqual(oracle.counts);
  });

  it.each(corpus.filter((_, i) => i % 3 === 0).map((c) => [c.name, c.data] as const))('%s: same counts with --pipe', (_name, data) => {
    expect(engineCounts(data, { pipe: true })).toEqual(oracleCounts(data, ['-p']).counts);
  });

  it('the naive model (used above for exact counts) gives rngtest verdict counts on the corpus', () => {
    for (const c of corpus) {
      const oracle = oracleCounts(c.data).counts;
      if (oracle === null) continue;
      const reference = new ReferenceFips(c.data.readInt32LE(0));
      const failures = [0, 0, 0, 0, 0];
      let passed = 0;
      let failed = 0;
      for (let at = 4; at + BLOCK <= c.data.length; at += BLOCK) {
        const { mask } = reference.test(c.data, at);
        if (mask === 0) passed++;
        else failed++;
        FIPS_TESTS.forEach((t, i) => (failures[i] = (failures[i] as number) + (mask & t.mask ? 1 : 0)));
      }
      expect([passed, failed, ...failures], c.name).toEqual([
        oracle['FIPS 140-2 successes'],
        oracle['FIPS 140-2 failures'],
        ...FIPS_TESTS.map((t) => oracle[t.label]),
      ]);
    }
  });

  it('exercises every test and both block-start quirks (the corpus is not vacuous)', () => {
    const totals: Record<string, number> = {};
    for (const c of corpus) {
      const counts = engineCounts(c.data) ?? {};
      for (const [k, v] of Object.entries(counts)) totals[k] = (totals[k] ?? 0) + v;
    }
    for (const t of FIPS_TESTS) expect(totals[t.label], t.label).toBeGreaterThan(0);
    expect(totals['FIPS 140-2 successes']).toBeGreaterThan(100);
  });

  it('agrees on random compositions of the generators (property, bounded)', () => {
    const gen = fc.record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      parts: fc.array(fc.constantFrom('random', 'biased', 'zeros', 'ones', 'run', 'word'), { minLength: 1, maxLength: 6 }),
      tail: fc.integer({ min: 0, max: 3000 }),
      blockCount: fc.constantFrom(0, 0, 1, 3),
    });
    fc.assert(
      fc.property(gen, ({ seed, parts, tail, blockCount }) => {
        const rng = new SeededRandom(seed);
        const pieces: Buffer[] = [rng.bytes(4)];
        for (const p of parts) {
          if (p === 'random') pieces.push(rng.bytes(BLOCK));
          else if (p === 'biased') pieces.push(rng.biased(BLOCK, 0.47 + rng.below(7) / 100));
          else if (p === 'zeros') pieces.push(Buffer.alloc(rng.below(BLOCK) + 1));
          else if (p === 'ones') pieces.push(Buffer.alloc(rng.below(BLOCK) + 1, 0xff));
          else if (p === 'run') {
            const b = rng.bytes(BLOCK);
            plantRun(b, rng.below(8 * BLOCK - 40), 20 + rng.below(12), rng.below(2));
            pieces.push(b);
          } else {
            const w = rng.bytes(4);
            pieces.push(Buffer.concat(new Array(1 + rng.below(700)).fill(w)));
          }
        }
        pieces.push(rng.bytes(tail));
        const data = Buffer.concat(pieces);
        const args = blockCount ? ['-c', String(blockCount)] : [];
        const oracle = oracleCounts(data, args);
        const checker = new FipsStreamChecker({ blockCount });
        checker.push(data);
        expect(engineCounts(data, { blockCount })).toEqual(oracle.counts);
        expect(checker.exitStatus()).toBe(oracle.status);
      }),
      { numRuns: 40 },
    );
  });
});
