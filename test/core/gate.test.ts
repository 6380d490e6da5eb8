import { describe, expect, it } from 'vitest';
import { randomBytes } from 'crypto';
import { BLOCK_BYTES, BlockGate, BlockTester, FipsTestName } from '../../src/core/gate';

// A tester that fails blocks whose first byte is 0 (mask 1 = monobit) and records its bootstrap.
function gateWith(bootstraps: number[] = []): BlockGate {
  return new BlockGate({
    createTester: (bootstrap): BlockTester => {
      bootstraps.push(bootstrap);
      return { testBlock: (b) => (b[0] === 0 ? 1 | 0x10 : 0) };
    },
    failureNames: (mask) => (['monobit', 'poker', 'runs', 'longRun', 'continuousRun'] as FipsTestName[]).filter((_, i) => mask & (1 << i)),
  });
}

const good = (): Uint8Array => {
  const b = randomBytes(BLOCK_BYTES);
  b[0] = 1;
  return b;
};

describe('BlockGate', () => {
  it('uses the first 4 bytes as the tester bootstrap and never puts them in a block', () => {
    const boots: number[] = [];
    const gate = gateWith(boots);
    expect(gate.needBytes()).toBe(BLOCK_BYTES + 4);
    const block = good();
    const verdicts = gate.push(Buffer.concat([Buffer.from([0xde, 0xad, 0xbe, 0xef]), block]));
    expect(boots).toEqual([0xdeadbeef]);
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
    gate.push(Buffer.concat([Buffer.from([0, 0, 0, 1]), good().subarray(0, 100)]));
    gate.reset();
    expect(gate.needBytes()).toBe(BLOCK_BYTES + 4);
    gate.push(Buffer.from([0, 0, 0, 2]));
    expect(boots).toEqual([1, 2]);
  });
});
