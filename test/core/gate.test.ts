import { describe, expect, it } from 'vitest';
import { randomBytes } from 'crypto';
import { BLOCK_BYTES, BlockGate, BlockTester } from '../../src/core/gate';
import { FIPS_CONTINUOUS, FIPS_MONOBIT } from '../../src/core/fips';

// A tester that fails blocks whose first byte is 0 (monobit + continuous run) and records its bootstrap.
function gateWith(bootstraps: number[] = []): BlockGate {
  return new BlockGate({
    createTester: (bootstrap): BlockTester => {
      bootstraps.push(bootstrap);
      return { testBlock: (b, off) => (b[off] === 0 ? FIPS_MONOBIT | FIPS_CONTINUOUS : 0) };
    },
  });
}

const good = (): Uint8Array => {
  const b = randomBytes(BLOCK_BYTES);
  b[0] = 1;
  return b;
};

describe('BlockGate', () => {
  it('uses the first 4 bytes as the tester bootstrap, little-endian as rngtest reads it, and never puts them in a block', () => {
    const boots: number[] = [];
    const gate = gateWith(boots);
    expect(gate.needBytes()).toBe(BLOCK_BYTES + 4);
    const block = good();
    const verdicts = gate.push(Buffer.concat([Buffer.from([0xde, 0xad, 0xbe, 0xef]), block]));
    expect(boots).toEqual([0xefbeadde]);
    expect(verdicts).toHaveLength(1);
    expect(Buffer.from(verdicts[0]!.block).equals(Buffer.from(block))).toBe(true);
    expect(verdicts[0]!.passed).toBe(true);
  });

  it('assembles blocks from arbitrary chunk sizes', () => {
    const gate = gateWith();
    const stream = Buffer.concat([Buffer.alloc(4, 9), good(), good(), good()]);
    const verdicts = [];
    for (let i = 0; i < stream.length; i += 333) verdicts.push(...gate.push(stream.subarray(i, i + 333)));
    expect(verdicts).toHaveLength(3);
    expect(verdicts.every((v) => v.passed)).toBe(true);
    expect(Buffer.concat(verdicts.map((v) => v.block)).equals(stream.subarray(4))).toBe(true);
    expect(gate.needBytes()).toBe(BLOCK_BYTES);
  });

  it('counts failed blocks per test', () => {
    const gate = gateWith();
    gate.push(Buffer.alloc(4, 1));
    const bad = good();
    bad[0] = 0;
    const v = gate.push(Buffer.concat([bad, good()]));
    expect(v.map((x) => x.passed)).toEqual([false, true]);
    expect(v[0]!.failures).toEqual(['monobit', 'continuousRun']);
    expect(gate.counts).toMatchObject({ blocksPassed: 1, blocksFailed: 1, fipsFailures: { monobit: 1, continuousRun: 1, poker: 0 } });
  });

  it('rejects a block that repeats the previous one, and a block with a short period', () => {
    const gate = gateWith();
    gate.push(Buffer.alloc(4, 1));
    const b = good();
    const pattern = randomBytes(1000);
    pattern[0] = 1;
    const periodic = Buffer.concat([pattern, pattern, pattern]).subarray(0, BLOCK_BYTES);
    const v = gate.push(Buffer.concat([b, b, good(), periodic]));
    expect(v.map((x) => x.passed)).toEqual([true, false, true, false]);
    expect(v[1]!.repeated).toBe(true);
    expect(gate.counts.blocksRepeated).toBe(2);
  });

  it('reset() starts a new stream with a new bootstrap', () => {
    const boots: number[] = [];
    const gate = gateWith(boots);
    gate.push(Buffer.concat([Buffer.from([1, 0, 0, 0]), good().subarray(0, 100)]));
    gate.reset();
    expect(gate.needBytes()).toBe(BLOCK_BYTES + 4);
    gate.push(Buffer.from([2, 0, 0, 0]));
    expect(boots).toEqual([1, 2]);
  });

  it('the hashed repeat check finds every repeat within the last two blocks, and flags nothing that no earlier window repeats (randomized, against Set-based references)', () => {
    // the short-range rule, exactly: a window seen in this block or the previous one
    let previousWindows: Set<string> | null = null;
    // every window ever seen: the long-range memory may flag only what this flags
    const everSeen = new Set<string>();
    const reference = (block: Uint8Array): { adjacent: boolean; ever: boolean } => {
      const text = Buffer.from(block.buffer, block.byteOffset, block.length).toString('latin1');
      const windows = new Set<string>();
      let adjacent = false;
      let ever = false;
      for (let i = 0; i + 16 <= text.length; i++) {
        const w = text.substr(i, 16);
        if (windows.has(w) || previousWindows?.has(w)) adjacent = true;
        if (windows.has(w) || everSeen.has(w)) ever = true;
        windows.add(w);
      }
      for (const w of windows) everSeen.add(w);
      previousWindows = windows;
      return { adjacent, ever };
    };
    const gate = gateWith();
    gate.push(Buffer.alloc(4, 7));
    const blocks: Buffer[] = [];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let repeats = 0;
    for (let n = 0; n < 600; n++) {
      const b = Buffer.from(good());
      const prev = blocks[blocks.length - 1];
      const older = blocks[blocks.length - 2];
      const kind = rnd(9);
      const len = 14 + rnd(5); // 14..18 bytes: just under, at and over the window
      const at = 1 + rnd(BLOCK_BYTES - 20);
      if (kind === 0 && prev) prev.copy(b, at, rnd(BLOCK_BYTES - len), undefined); // a run from the previous block
      if (kind === 1 && prev) {
        const from = rnd(BLOCK_BYTES - len);
        prev.copy(b, at, from, from + len); // a 14..18-byte copy from the previous block
      }
      if (kind === 2) b.copy(b, at, 1 + rnd(at), 1 + rnd(at) + len); // a copy from earlier in the block
      if (kind === 3 && older) {
        const from = rnd(BLOCK_BYTES - len);
        older.copy(b, at, from, from + len); // from two blocks back: not a repeat by the rule
      }
      if (kind === 4 && prev) {
        prev.copy(b, 1, BLOCK_BYTES - 8); // the previous block's tail at the start: spans the boundary
        b[0] = 1;
      }
      if (kind === 5) b.fill(0x55, at, at + len); // a constant run
      const v = gate.push(b);
      const expected = reference(b);
      if (expected.adjacent) expect(v[0]!.repeated).toBe(true);
      if (!expected.ever) expect(v[0]!.repeated).toBe(false);
      if (expected.adjacent) repeats++;
      blocks.push(b);
      if (n % 97 === 96) gate.reset(), gate.push(Buffer.alloc(4, 7)); // memory survives a reset
    }
    expect(repeats).toBeGreaterThan(100);
    expect(repeats).toBeLessThan(500);
  });
});

describe('gateFor (core/credit-policy.ts): the FIPS engine it is given', () => {
  it('tests every block with the injected tester (the daemon and the seed pass the addon\'s), and defaults to core/fips.ts\'s', async () => {
    const { gateFor } = await import('../../src/core/credit-policy');
    const { NativeFipsTester } = await import('../../src/native/fips-tester');
    const stream = randomBytes(4 + 3 * BLOCK_BYTES);
    const seen: number[] = [];
    const failing = gateFor({ baselineBlock: false }, null as never, (bootstrap) => {
      seen.push(bootstrap);
      return { testBlock: () => FIPS_MONOBIT };
    });
    expect(failing.push(stream).map((v) => v.passed)).toEqual([false, false, false]);
    expect(seen).toEqual([stream.readUInt32LE(0)]);
    // the addon's engine and the default one agree on the same stream (random data: all pass)
    const native = gateFor({ baselineBlock: false }, undefined, (b) => new NativeFipsTester(b)).push(stream);
    const js = gateFor({ baselineBlock: false }).push(stream);
    expect(native.map((v) => v.passed)).toEqual(js.map((v) => v.passed));
    expect(native.map((v) => v.passed)).toEqual([true, true, true]);
  });
});
