// A BlockTester (core/fips-stream.ts) on the C FIPS engine (src/native/fips.c), for
// a composition that injects it (the BlockGate's createTester option): the same
// verdicts as core/fips.ts's FipsTester, one synchronous N-API call per block.
// The continuous-test word and the last bit are carried here, from the bytes of
// the block just tested, exactly as the engine carries them within one call.
import { FIPS_BLOCK_BYTES } from '../core/fips';
import type { BlockTester } from '../core/fips-stream';
import { loadBinding, RndBinding } from './binding';

export class NativeFipsTester implements BlockTester {
  private last32: number;
  private lastBit = 0;
  private readonly mask = new Uint8Array(1);
  private readonly binding: Pick<RndBinding, 'fipsTestBlocks'>;

  /** bootstrap: the stream's first 32-bit word (little-endian), as for FipsTester. */
  constructor(bootstrap: number, binding: Pick<RndBinding, 'fipsTestBlocks'> = loadBinding()) {
    this.last32 = bootstrap >>> 0;
    this.binding = binding;
  }

  testBlock(block: Uint8Array, offset = 0): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + FIPS_BLOCK_BYTES > block.length) {
      throw new RangeError(`NativeFipsTester.testBlock: need ${FIPS_BLOCK_BYTES} bytes at offset ${offset}, have ${block.length - offset}`);
    }
    const end = offset + FIPS_BLOCK_BYTES;
    this.binding.fipsTestBlocks(block.subarray(offset, end), 1, this.last32, this.lastBit, this.mask);
    this.last32 = (block[end - 4]! | (block[end - 3]! << 8) | (block[end - 2]! << 16) | (block[end - 1]! << 24)) >>> 0;
    this.lastBit = block[end - 1]! & 1;
    return this.mask[0]!;
  }
}
