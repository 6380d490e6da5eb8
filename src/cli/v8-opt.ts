// TurboFan (V8's optimising compiler) off and on again, for cli/startup-flags.ts.
// No side effect on import: check and run import restoreOpt() from here, and the
// in-process tests load them without changing their own V8's flags.
import * as v8 from 'v8';

let off = false;

/** TurboFan off (start-up: the real process only, from cli/startup-flags.ts). */
export function turnOptOff(): void {
  v8.setFlagsFromString('--no-opt');
  off = true;
}

/** TurboFan back on (once; a no-op when start-up did not turn it off). */
export function restoreOpt(): void {
  if (!off) return;
  off = false;
  v8.setFlagsFromString('--opt');
}
