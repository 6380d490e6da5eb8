// check's engine composition (src/cli/fips-engine.ts): the C engine's batch
// pipeline gives the JS stream checker's counts, bytes received and passing blocks
// (in order) for any chunking, with and without --pipe and --blockcount, with small
// batches so that buffers rotate and partial blocks carry over; a failing engine
// surfaces as an error, not a hang; and `vrngd check` falls back to the JS engine,
// saying so on stderr, when the addon does not load.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIPS_BLOCK_BYTES } from '../../src/core/fips';
import { FipsStreamChecker } from '../../src/core/fips-stream';
import { FipsBatchPipeline, loadNativeFips, NativeFips } from '../../src/cli/fips-engine';
import { BLOCK, SeededRandom, fipsCorpus } from '../fixtures/fips/corpus';
import { CLI } from '../helpers/env';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-check-engine-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const native = loadNativeFips({});
const engine = native.engine as NativeFips;

/** Splits data into chunks of the given sizes (cycled). */
function chunks(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function viaPipeline(data: Buffer, sizes: number[], opts: { blockCount: number; pipe: boolean }, batchBlocks: number) {
  const passed: Buffer[] = [];
  let resultBlocks = 0;
  const p = new FipsBatchPipeline(
    engine,
    opts,
    async (r) => {
      resultBlocks += r.blocks;
      expect(r.ns).toBeGreaterThan(0);
      await new Promise((resolve) => setImmediate(resolve)); // a slow writer
    },
    (block, offset) => passed.push(Buffer.from(block.subarray(offset, offset + FIPS_BLOCK_BYTES))),
    batchBlocks,
  );
  for (const c of chunks(data, sizes)) {
    // the caller reuses its read buffer once push resolves: scribble over it
    const copy = Buffer.from(c);
    await p.push(copy);
    copy.fill(0xa5);
    if (p.full) break;
  }
  await p.finish();
  expect(resultBlocks).toBe(p.checker.blocksTested);
  return { counts: p.checker.counts(), passed: Buffer.concat(passed), status: p.checker.exitStatus() };
}

function viaJs(data: Buffer, sizes: number[], opts: { blockCount: number; pipe: boolean }) {
  const passed: Buffer[] = [];
  const c = new FipsStreamChecker(opts);
  for (const piece of chunks(data, sizes)) {
    c.push(piece, (block, offset) => passed.push(Buffer.from(block.subarray(offset, offset + FIPS_BLOCK_BYTES))));
    if (c.done) break;
  }
  return { counts: c.counts(), passed: Buffer.concat(passed), status: c.exitStatus() };
}

describe.skipIf(native.engine === null)('the C engine pipeline gives the JS checker\'s results', () => {
  const rng = new SeededRandom(4242);
  const corpus = fipsCorpus().filter((_, i) => i % 5 === 0);
  const big = { name: 'random, 57 blocks, some failing', data: rng.bytes(8 + 57 * BLOCK + 999) };
  big.data.fill(0, 8 + 20 * BLOCK, 8 + 21 * BLOCK);
  big.data.fill(0xff, 8 + 40 * BLOCK + 100, 8 + 40 * BLOCK + 110);
  const cases = [...corpus, big];
  const shapes: Array<[string, number[], { blockCount: number; pipe: boolean }, number]> = [
    ['1 MiB chunks', [1 << 20], { blockCount: 0, pipe: false }, 420],
    ['uneven chunks, batches of 3', [1, 777, 5000, 2499, 2501, 13], { blockCount: 0, pipe: false }, 3],
    ['--pipe, uneven chunks, batches of 2', [3, 4096, 65536], { blockCount: 0, pipe: true }, 2],
    ['--blockcount 7, batches of 3', [1000, 9000], { blockCount: 7, pipe: false }, 3],
    ['--blockcount 1 --pipe', [1 << 16], { blockCount: 1, pipe: true }, 4],
  ];
  for (const [shape, sizes, opts, batchBlocks] of shapes) {
    it.each(cases.map((c) => [c.name, c.data] as const))(`${shape}: %s`, async (_name, data) => {
      const a = await viaPipeline(data, sizes, opts, batchBlocks);
      const b = viaJs(data, sizes, opts);
      expect(a.counts).toEqual(b.counts);
      expect(a.status).toBe(b.status);
      expect(a.passed.equals(b.passed)).toBe(true);
    });
  }

  it('the JS side of the comparison sees failures and passes (control)', () => {
    const r = viaJs(big.data, [1 << 20], { blockCount: 0, pipe: false });
    expect(r.counts.blocksFailed).toBeGreaterThanOrEqual(2);
    expect(r.counts.blocksPassed).toBeGreaterThan(40);
  });

  it('an engine that fails makes push or finish reject (no hang, no counts)', async () => {
    const failing: NativeFips = {
      fipsTestBlocks: () => undefined,
      fipsTestBlocksAsync: () => Promise.reject(new Error('engine broke')),
    };
    const p = new FipsBatchPipeline(failing, { blockCount: 0, pipe: false }, async () => undefined, undefined, 2);
    const run = async (): Promise<void> => {
      for (const c of chunks(big.data, [3000])) await p.push(c);
      await p.finish();
    };
    await expect(run()).rejects.toThrow('engine broke');
  });
});

describe('the JS engine when the addon does not load', () => {
  it('VRNGD_FIPS_ENGINE=js chooses the JS engine without a note', () => {
    expect(loadNativeFips({ VRNGD_FIPS_ENGINE: 'js' })).toEqual({ engine: null, reason: null });
  });

  it('check says so on stderr and prints the same counts', () => {
    const data = new SeededRandom(8).bytes(4 + 30 * BLOCK);
    data.fill(0, 4 + 5 * BLOCK, 4 + 6 * BLOCK);
    const file = path.join(tmp, 'in.bin');
    fs.writeFileSync(file, data);
    const broken = path.join(tmp, 'broken.node');
    fs.writeFileSync(broken, 'not an ELF file\n');
    const counts = (out: string): string[] => out.split('\n').filter((l) => /: \d+$/.test(l) && !l.includes('run time'));
    const withC = spawnSync(process.execPath, [CLI, 'check', file], { encoding: 'utf8' });
    const withJs = spawnSync(process.execPath, [CLI, 'check', file], { encoding: 'utf8', env: { ...process.env, VRNGD_NATIVE_PATH: broken } });
    expect(withC.stderr).toBe('');
    expect(withJs.stderr).toMatch(/^vrngd check: the native addon did not load \(.*\); testing with the JS engine\n$/);
    expect(counts(withC.stdout)).toContain('vrngd check: FIPS 140-2 failures: 1');
    expect(counts(withJs.stdout)).toEqual(counts(withC.stdout));
    expect(withJs.status).toBe(1);
    expect(withC.status).toBe(1);
  });
});
