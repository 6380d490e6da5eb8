// The daemon's and the seeder's gate, `vrngd check` and rngtest judge the same
// corpus block by block, and must agree on every FIPS verdict. rngtest prints
// only totals, so the per-block verdict of block k is read off the difference
// between its counts over the first k blocks and over the first k-1 (the
// continuous-run state carries across blocks, so each prefix is a whole stream).
// The corpus has the cases where byte order and block boundaries matter: a first
// word that repeats the bootstrap word, a word repeated across a block boundary,
// and a block replayed later (FIPS passes it, the gate's repeat check does not).
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, BlockGate, GateVerdict } from '../../src/core/gate';
import { daemonCreditPolicy, gateFor } from '../../src/core/credit-policy';
import { SeededRandom } from '../fixtures/fips/corpus';
import { ensureRngtest, parseSummary, runCheck, runRngtest } from '../fixtures/fips/oracle';
import { skipReason } from '../helpers/env';

const oracleMissing = skipReason([[ensureRngtest() === null, 'rngtest (rng-tools5) is not installed and cannot be']]);

const LABELS: Record<string, string> = {
  monobit: 'FIPS 140-2(2001-10-10) Monobit',
  poker: 'FIPS 140-2(2001-10-10) Poker',
  runs: 'FIPS 140-2(2001-10-10) Runs',
  longRun: 'FIPS 140-2(2001-10-10) Long run',
  continuousRun: 'FIPS 140-2(2001-10-10) Continuous run',
};

/** The stream: 4 bootstrap bytes, then blocks built to hit the byte-order and boundary cases. */
function corpus(): { stream: Buffer; blocks: number; replayed: number[] } {
  const rng = new SeededRandom(2026);
  const bootstrap = Buffer.from([0x11, 0x22, 0x33, 0xc4]);
  const blocks: Buffer[] = [];
  const add = (b: Buffer): number => blocks.push(b) - 1;
  // 0: its first word is the bootstrap word: rngtest fails it (continuous run)
  const b0 = rng.bytes(BLOCK_BYTES);
  bootstrap.copy(b0, 0);
  add(b0);
  for (let i = 0; i < 4; i++) add(rng.bytes(BLOCK_BYTES));
  // a word repeated across a block boundary: the next block fails the continuous run
  const b5 = rng.bytes(BLOCK_BYTES);
  add(b5);
  const b6 = rng.bytes(BLOCK_BYTES);
  b5.copy(b6, 0, BLOCK_BYTES - 4);
  add(b6);
  // a word repeated inside a block, at an odd word pair
  const b7 = rng.bytes(BLOCK_BYTES);
  b7.copy(b7, 1004, 1000, 1004);
  add(b7);
  // plainly bad blocks: zeros, a biased block, a long run
  add(Buffer.alloc(BLOCK_BYTES));
  add(Buffer.from(rng.bytes(BLOCK_BYTES).map((x) => x | 0x11)));
  const run = rng.bytes(BLOCK_BYTES);
  run.fill(0xff, 600, 605);
  add(run);
  for (let i = 0; i < 6; i++) add(rng.bytes(BLOCK_BYTES));
  // replays: block 2 again, and blocks 11..12 again (FIPS passes them)
  const replayed = [add(Buffer.from(blocks[2]!)), add(Buffer.from(blocks[11]!)), add(Buffer.from(blocks[12]!))];
  for (let i = 0; i < 4; i++) add(rng.bytes(BLOCK_BYTES));
  // a block whose first word equals the bootstrap again (only the stream's first word seeds the test, so this one passes)
  const late = rng.bytes(BLOCK_BYTES);
  bootstrap.copy(late, 0);
  add(late);
  return { stream: Buffer.concat([bootstrap, ...blocks]), blocks: blocks.length, replayed };
}

type Failures = string[];

function perBlockFromTotals(totals: Array<Record<string, number>>): Failures[] {
  const out: Failures[] = [];
  for (let k = 1; k < totals.length; k++) {
    const now = totals[k]!;
    const before = totals[k - 1]!;
    out.push(Object.entries(LABELS).filter(([, label]) => (now[label] ?? 0) > (before[label] ?? 0)).map(([name]) => name));
  }
  return out;
}

describe.skipIf(oracleMissing !== null)('gate = check = rngtest, block by block', () => {
  const { stream, blocks, replayed } = corpus();
  const prefix = (k: number): Buffer => stream.subarray(0, 4 + k * BLOCK_BYTES);
  const zero = Object.fromEntries(Object.values(LABELS).map((l) => [l, 0]));

  it('every FIPS verdict agrees; the replays pass FIPS and only the gate refuses them', async () => {
    const rngtestTotals = [zero];
    const checkTotals = [zero];
    for (let k = 1; k <= blocks; k++) {
      rngtestTotals.push(runRngtest(prefix(k)).summary.counts);
      const ours = await runCheck([], prefix(k));
      checkTotals.push(parseSummary(ours.stdout.toString(), 'vrngd check: ', ours.code).counts);
    }
    const byRngtest = perBlockFromTotals(rngtestTotals);
    const byCheck = perBlockFromTotals(checkTotals);

    // the seeder's gate (no baseline) and the daemon's (first block a baseline), fed in uneven pieces
    const judge = (gate: BlockGate): GateVerdict[] => {
      const out: GateVerdict[] = [];
      for (let at = 0, piece = 1; at < stream.length; at += piece, piece = (piece * 13 + 7) % 3001) out.push(...gate.push(stream.subarray(at, at + piece)));
      return out;
    };
    const seedGate = judge(new BlockGate());
    const daemonGate = judge(gateFor(daemonCreditPolicy({ entropyPerByte: 8, stepBytes: 64 })));
    expect(seedGate).toHaveLength(blocks);
    expect(daemonGate).toHaveLength(blocks);

    for (let k = 0; k < blocks; k++) {
      expect(byCheck[k], `check, block ${k}`).toEqual(byRngtest[k]);
      expect(seedGate[k]!.failures, `seed gate, block ${k}`).toEqual(byRngtest[k]);
      const fipsPass = byRngtest[k]!.length === 0;
      expect(seedGate[k]!.passed, `seed gate, block ${k}`).toBe(fipsPass && !replayed.includes(k));
      if (k > 0) {
        expect(daemonGate[k]!.failures, `daemon gate, block ${k}`).toEqual(byRngtest[k]);
        expect(daemonGate[k]!.passed, `daemon gate, block ${k}`).toBe(fipsPass && !replayed.includes(k));
      }
    }
    // the cases the corpus was built for really happened
    expect(byRngtest[0]).toEqual(['continuousRun']);
    expect(byRngtest[6]).toEqual(['continuousRun']);
    expect(byRngtest[7]).toEqual(['continuousRun']);
    for (const k of replayed) {
      expect(byRngtest[k]).toEqual([]);
      expect(seedGate[k]!.repeated).toBe(true);
    }
    expect(byRngtest[blocks - 1]).toEqual([]);
    expect(daemonGate[0]!.passed).toBe(false); // block 0 fails FIPS: not a baseline, a failure
  }, 60_000);
});
