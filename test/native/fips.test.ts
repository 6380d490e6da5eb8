// The C FIPS engine (src/native/fips.c) against the JS engine (core/fips.ts, the
// reference, itself checked against rngtest in test/core/fips.test.ts): identical
// failure masks AND identical measurements (ones, poker sum, the twelve run
// counts) on every block of the agreement corpus (crafted edges: each test failing
// alone, thresholds on both sides, fips.c's phantom run, runs across block
// boundaries), on runs planted around the middle of a block (where fips.c's two
// chains are stitched), on seeded random blocks; in one call, in calls cut at
// arbitrary blocks (the state a batch starts from, as check computes it), and as
// async work. Plus the argument checks: a clear TypeError or RangeError, no crash.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/native/binding';
import { NativeFipsTester } from '../../src/native/fips-tester';
import { FipsStreamChecker } from '../../src/core/fips-stream';
import { FIPS_BLOCK_BYTES, FIPS_TESTS, FipsBlockStats, FipsTester } from '../../src/core/fips';
import { BLOCK, SeededRandom, fipsCorpus, plantRun } from '../fixtures/fips/corpus';
import { ROOT } from '../helpers/env';

const binding = loadBinding();
const STATS = 14;

/** A stream (bootstrap word, then blocks) through the JS engine: masks and stats per whole block. */
function jsEngine(stream: Buffer): { masks: number[]; stats: number[][] } {
  const masks: number[] = [];
  const stats: number[][] = [];
  if (stream.length < 4) return { masks, stats };
  const t = new FipsTester(stream.readInt32LE(0));
  const s: FipsBlockStats = { ones: 0, pokerSum: 0, runs: [] };
  for (let at = 4; at + FIPS_BLOCK_BYTES <= stream.length; at += FIPS_BLOCK_BYTES) {
    masks.push(t.testBlock(stream, at, s));
    stats.push([s.ones, s.pokerSum, ...s.runs]);
  }
  return { masks, stats };
}

/** The same through the C engine, in calls of the given sizes (blocks), each starting from the previous block's last word and bit. */
function cEngine(stream: Buffer, cuts: number[] = []): { masks: number[]; stats: number[][] } {
  const n = stream.length < 4 ? 0 : Math.floor((stream.length - 4) / FIPS_BLOCK_BYTES);
  const masks = new Uint8Array(n);
  const stats = new Int32Array(n * STATS);
  let last32 = n ? stream.readUInt32LE(0) : 0;
  let lastBit = 0;
  let k = 0;
  let c = 0;
  while (k < n) {
    const size = Math.min(cuts.length ? (cuts[c++ % cuts.length] as number) : n, n - k);
    const data = stream.subarray(4 + k * FIPS_BLOCK_BYTES, 4 + (k + size) * FIPS_BLOCK_BYTES);
    binding.fipsTestBlocks(data, size, last32, lastBit, masks.subarray(k), stats.subarray(k * STATS));
    last32 = data.readUInt32LE(data.length - 4);
    lastBit = (data[data.length - 1] as number) & 1;
    k += size;
  }
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(stats.subarray(i * STATS, (i + 1) * STATS)));
  return { masks: Array.from(masks), stats: rows };
}

/** Streams with runs planted around byte 1248 (the C engine's stitch) and at the block's edges. */
function stitchCases(): Array<{ name: string; data: Buffer }> {
  const rng = new SeededRandom(1248);
  const out: Array<{ name: string; data: Buffer }> = [];
  for (const v of [0, 1]) {
    for (const len of [1, 2, 3, 5, 6, 7, 8, 9, 15, 16, 17, 24, 25, 26, 27, 33, 40]) {
      const blocks = rng.bytes(6 * BLOCK);
      plantRun(blocks, 8 * 1248 - Math.floor(len / 2), len, v); // across the middle
      plantRun(blocks, BLOCK * 8 + 8 * 1248, len, v); // starting at the middle
      plantRun(blocks, 2 * BLOCK * 8 + 8 * 1248 - len, len, v); // ending at the middle
      plantRun(blocks, 3 * BLOCK * 8 + 8 * 1248 - len - 1, len + 2, v); // from just before to just after
      plantRun(blocks, 4 * BLOCK * 8 + 8 * 2496 - 3, Math.min(len, 43), v); // into the last word
      plantRun(blocks, 5 * BLOCK * 8, len, v); // at the block start
      out.push({ name: `run of ${len} ${v}s at the middle`, data: Buffer.concat([rng.bytes(4), blocks]) });
    }
  }
  // a middle that is uniform for more than 26 bits on the second half's side
  for (const fill of [0x00, 0xff]) {
    const b = rng.bytes(2 * BLOCK);
    b.fill(fill, 1248, 1260);
    b.fill(fill, BLOCK + 1240, BLOCK + 1248);
    out.push({ name: `uniform bytes 0x${fill.toString(16)} at the middle`, data: Buffer.concat([rng.bytes(4), b]) });
  }
  out.push({ name: 'random, 400 blocks', data: rng.bytes(4 + 400 * BLOCK) });
  return out;
}

const corpus = [...fipsCorpus(), ...stitchCases()];

describe('the C FIPS engine agrees with the JS engine', () => {
  it.each(corpus.map((c) => [c.name, c.data] as const))('%s', (_name, data) => {
    const js = jsEngine(data);
    const c = cEngine(data);
    expect(c.masks).toEqual(js.masks);
    expect(c.stats).toEqual(js.stats);
    // cut into batches at arbitrary blocks: the same results
    expect(cEngine(data, [1, 3, 2, 7])).toEqual(c);
  });

  it('the corpus makes each test fail alone, in both engines (a control that the comparison sees every verdict)', () => {
    const alone = new Set<number>();
    let passed = 0;
    for (const { data } of corpus) {
      const c = cEngine(data).masks;
      expect(c).toEqual(jsEngine(data).masks);
      for (const m of c) {
        if (m === 0) passed++;
        else if ((m & (m - 1)) === 0) alone.add(m);
      }
    }
    expect(passed).toBeGreaterThan(100);
    expect([...alone].sort((a, b) => a - b)).toEqual(FIPS_TESTS.map((t) => t.mask));
  });

  it('a changed bit changes the result: C and JS disagree with a tampered copy (control)', () => {
    const data = new SeededRandom(5).bytes(4 + 3 * BLOCK);
    const js = jsEngine(data);
    const tampered = Buffer.from(data);
    tampered[4 + BLOCK + 100] = (tampered[4 + BLOCK + 100] as number) ^ 0x10;
    expect(cEngine(tampered).stats).not.toEqual(js.stats);
    expect(cEngine(data).stats).toEqual(js.stats);
  });

  it('async work gives the masks of the synchronous call and the time it took', async () => {
    const rng = new SeededRandom(99);
    const data = rng.bytes(4 + 300 * BLOCK);
    data.fill(0, 4 + 10 * BLOCK, 4 + 11 * BLOCK);
    const sync = cEngine(data).masks;
    const masks = new Uint8Array(300);
    const ns = await binding.fipsTestBlocksAsync(data.subarray(4), 300, data.readUInt32LE(0), 0, masks);
    expect(Array.from(masks)).toEqual(sync);
    expect(masks[10]).not.toBe(0);
    expect(ns).toBeGreaterThan(0);
    // two at once on the pool, each from its own start state
    const a = new Uint8Array(150);
    const b = new Uint8Array(150);
    const half = data.subarray(4 + 150 * BLOCK);
    const prev = data.subarray(4 + 149 * BLOCK, 4 + 150 * BLOCK);
    await Promise.all([
      binding.fipsTestBlocksAsync(data.subarray(4), 150, data.readUInt32LE(0), 0, a),
      binding.fipsTestBlocksAsync(half, 150, prev.readUInt32LE(BLOCK - 4), (prev[BLOCK - 1] as number) & 1, b),
    ]);
    expect([...a, ...b]).toEqual(sync);
  });

  it('NativeFipsTester (one block per call) gives FipsTester\'s masks, also through the stream checker', () => {
    for (const { data } of corpus.filter((_, i) => i % 3 === 0)) {
      const js = jsEngine(data).masks;
      if (data.length < 4) continue;
      const t = new NativeFipsTester(data.readInt32LE(0));
      const got: number[] = [];
      for (let at = 4; at + FIPS_BLOCK_BYTES <= data.length; at += FIPS_BLOCK_BYTES) got.push(t.testBlock(data, at));
      expect(got).toEqual(js);
      const a = new FipsStreamChecker({ createTester: (b) => new NativeFipsTester(b) });
      const b = new FipsStreamChecker();
      a.push(data);
      b.push(data);
      expect(a.counts()).toEqual(b.counts());
    }
    expect(() => new NativeFipsTester(0).testBlock(Buffer.alloc(BLOCK), 1)).toThrow(RangeError);
  });

  it('a load in a Worker while the pool tests (the tables are built once per process) gives the same masks', async () => {
    const data = new SeededRandom(31).bytes(4 + 2000 * BLOCK);
    data.fill(0, 4 + 7 * BLOCK, 4 + 8 * BLOCK);
    const sync = cEngine(data).masks;
    const masks = new Uint8Array(2000);
    const running = binding.fipsTestBlocksAsync(data.subarray(4), 2000, data.readUInt32LE(0), 0, masks);
    const worker = new Worker(
      `const { parentPort, workerData } = require('worker_threads');
       const b = require(workerData.addon);
       const d = Buffer.from(workerData.data);
       const m = new Uint8Array(workerData.n);
       b.fipsTestBlocks(d.subarray(4), workerData.n, d.readUInt32LE(0), 0, m);
       parentPort.postMessage(Array.from(m));`,
      { eval: true, workerData: { addon: path.join(ROOT, 'build', 'Release', 'vrngd.node'), data: data.subarray(0, 4 + 100 * BLOCK), n: 100 } },
    );
    const fromWorker = await new Promise<number[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    await running;
    expect(fromWorker).toEqual(sync.slice(0, 100));
    expect(Array.from(masks)).toEqual(sync);
    expect(sync[7]).not.toBe(0);
  });

  it('bad arguments throw one clear error, never crash', async () => {
    const data = Buffer.alloc(2 * BLOCK);
    const masks = new Uint8Array(2);
    const bad: Array<[unknown[], RegExp]> = [
      [[], /Usage: fipsTestBlocks/],
      [[data, 2, 0, 0], /Usage: fipsTestBlocks/],
      [['x', 1, 0, 0, masks], /Uint8Array/],
      [[data, 1, 0, 0, new Uint16Array(2)], /Uint8Array/],
      [[data, -1, 0, 0, masks], /Usage/],
      [[data, 1.5, 0, 0, masks], /Usage/],
      [[data, 1, 2 ** 32, 0, masks], /Usage/],
      [[data, 1, 0, 2, masks], /Usage/],
      [[data, 3, 0, 0, new Uint8Array(3)], /2500 bytes/],
      [[data, 2, 0, 0, new Uint8Array(1)], /2500 bytes/],
      [[data, 2, 0, 0, masks, new Int32Array(27)], /14 entries/],
      [[data, 2, 0, 0, masks, new Float64Array(28)], /Int32Array/],
    ];
    const call = binding.fipsTestBlocks as unknown as (...a: unknown[]) => void;
    const callAsync = binding.fipsTestBlocksAsync as unknown as (...a: unknown[]) => Promise<number>;
    for (const [args, message] of bad) {
      expect(() => call(...args), JSON.stringify(args.map((a) => typeof a))).toThrow(message);
      if (args.length < 6) expect(() => callAsync(...args)).toThrow(message);
    }
    // the largest values that are allowed
    call(data, 2, 2 ** 32 - 1, 1, masks, new Int32Array(28));
    await callAsync(data, 0, 0, 0, new Uint8Array(0));
  });
});
