// Imported first by main.ts, before any other module loads: `vrngd check` tests in
// C on the thread pool (cli/fips-engine.ts), so the main thread only reads and
// copies, and V8's optimising compiler gains it nothing; its compile jobs (of the
// module loader's path functions and of the read loop) alone raised check's peak
// RSS by ~6 MiB on a 1 GB pipe (goal 50 MiB). check turns it back on when it falls
// back to the JS engine (cli/commands/check.ts). Only the real process's argv.
import * as v8 from 'v8';

export const CHECK_NO_OPT = process.argv[2] === 'check' && process.env.VRNGD_FIPS_ENGINE !== 'js';
if (CHECK_NO_OPT) v8.setFlagsFromString('--no-opt');

/** The JS engine needs the optimising compiler: check calls this when the C engine is not used. */
export function restoreOpt(): void {
  if (CHECK_NO_OPT) v8.setFlagsFromString('--opt');
}
