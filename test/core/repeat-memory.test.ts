// RepeatMemory: replays at any distance up to HISTORY_BLOCKS and at any byte
// offset are refused; fresh random data is not.
import { randomBytes } from 'crypto';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, BlockGate } from '../../src/core/gate';
import { HISTORY_BLOCKS, RepeatMemory } from '../../src/core/repeat-memory';

/** Cuts a stream into blocks (no bootstrap: the memory sees blocks only). */
function blocksOf(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + BLOCK_BYTES <= stream.length; at += BLOCK_BYTES) out.push(stream.subarray(at, at + BLOCK_BYTES));
  return out;
}

describe('RepeatMemory', () => {
  it('fresh random data: no block of 20,000 is taken for a repeat', () => {
    const m = new RepeatMemory();
    const data = randomBytes(20000 * BLOCK_BYTES);
    let repeats = 0;
    for (const b of blocksOf(data)) if (m.seen(b)) repeats++;
    expect(repeats).toBe(0);
  });

  it('a replay from 10,000 blocks back, at an offset that is no multiple of the block size, is refused block by block', () => {
    const m = new RepeatMemory();
    const old = randomBytes(200 * BLOCK_BYTES);
    for (const b of blocksOf(old)) expect(m.seen(b)).toBe(false);
    for (const b of blocksOf(randomBytes(10000 * BLOCK_BYTES))) expect(m.seen(b)).toBe(false);
    // the old data again, shifted by 777 bytes: every block of it lies inside data seen long ago
    const replay = blocksOf(old.subarray(777));
    let refused = 0;
    for (const b of replay) if (m.seen(b)) refused++;
    expect(refused).toBe(replay.length);
  });

  it('covers at least HISTORY_BLOCKS blocks across a generation change', () => {
    const m = new RepeatMemory();
    const first = randomBytes(BLOCK_BYTES);
    expect(m.seen(first)).toBe(false);
    // HISTORY_BLOCKS - 1 more fresh blocks: the first is now the oldest the memory must keep
    const chunk = 4096;
    for (let left = HISTORY_BLOCKS - 1; left > 0; left -= chunk) {
      const n = Math.min(chunk, left);
      for (const b of blocksOf(randomBytes(n * BLOCK_BYTES))) m.seen(b);
    }
    expect(m.seen(Buffer.from(first))).toBe(true);
  }, 60_000);

  it('shared by two gates: a block from one source is refused from the other', () => {
    const repeats = new RepeatMemory();
    const a = new BlockGate({ repeats });
    const b = new BlockGate({ repeats });
    const blocks = randomBytes(3 * BLOCK_BYTES);
    a.push(Buffer.concat([randomBytes(4), blocks]));
    const v = b.push(Buffer.concat([randomBytes(4), blocks]));
    expect(v.map((x) => x.repeated)).toEqual([true, true, true]);
    expect(b.counts.blocksPassed).toBe(0);
  });
});

describe('BlockGate on looping sources: bits that could be credited <= distinct passing blocks', () => {
  // what the issue measured: a FIFO fed `while :; do cat loop.bin; done`
  it.each([
    ['a loop of 2 blocks', 2 * BLOCK_BYTES],
    ['a loop of 50 blocks', 50 * BLOCK_BYTES],
    ['a loop of 3 blocks and 777 bytes', 3 * BLOCK_BYTES + 777],
  ])('%s, 40 rounds: only the first round passes', (_name, loopBytes) => {
    const loop = randomBytes(loopBytes);
    const gate = new BlockGate({ baselineBlock: true });
    const stream = Buffer.concat(Array.from({ length: 40 }, () => loop));
    const passed: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 65536) for (const v of gate.push(stream.subarray(at, at + 65536))) if (v.passed) passed.push(Buffer.from(v.block));
    const distinct = new Set(passed.map((b) => b.toString('hex')));
    expect(distinct.size).toBe(passed.length);
    // at most the blocks that fit in one round (the first is the baseline), nothing from the replays
    expect(passed.length).toBeLessThanOrEqual(Math.ceil(loopBytes / BLOCK_BYTES));
    expect(gate.counts.blocksRepeated).toBeGreaterThan(30 * Math.floor(loopBytes / BLOCK_BYTES) - 2);
  });
});
