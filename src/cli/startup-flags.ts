// Imported first by main.ts, before any other module loads: V8's optimising
// compiler (TurboFan) is off while vrngd starts. Start-up is module loading, and
// the loader's path functions get hot enough to be compiled, which gains a
// one-shot command nothing and costs resident memory:
// - `vrngd check` tests in C on the thread pool (cli/fips-engine.ts), so its main
//   thread only reads and copies; the compile jobs alone raised its peak RSS by
//   ~6 MiB on a 1 GB pipe (goal 50 MiB). It stays off for the whole run.
// - `vrngd run` turns it back on once the daemon is up (runDaemon's onStarted), so a
//   feeding daemon's own hot functions are optimised as before; an idle daemon
//   is spared the ~4.5 MiB of start-up code it would have compiled (docs/benchmarks.md).
// - seed, status and sources end soon after start-up: off throughout.
// The JS FIPS engine needs TurboFan: check turns it back on when the addon's engine
// is not used (cli/commands/check.ts). Only the real process: this module is
// main.ts's alone (restoreOpt() is in cli/v8-opt.ts, which sets nothing on import).
import { turnOptOff } from './v8-opt';

// VRNGD_FIPS_ENGINE=js check: the JS engine from the start, with TurboFan
if (!(process.env.VRNGD_FIPS_ENGINE === 'js' && process.argv[2] === 'check')) turnOptOff();
