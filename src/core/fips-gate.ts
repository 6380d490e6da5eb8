// createFipsGate(): a BlockGate (core/gate.ts) whose tester is the FIPS 140-2
// engine of core/fips.ts, one FipsTester per stream as rngd does.
import { BlockGate, FipsTestName } from './gate';
import { FipsTester, fipsFailureNames } from './fips';

export function createFipsGate(opts: { rejectRepeats?: boolean; baselineBlock?: boolean } = {}): BlockGate {
  return new BlockGate({
    createTester: (bootstrap) => new FipsTester(bootstrap),
    failureNames: (mask) => fipsFailureNames(mask) as FipsTestName[],
    rejectRepeats: opts.rejectRepeats,
    baselineBlock: opts.baselineBlock,
  });
}
