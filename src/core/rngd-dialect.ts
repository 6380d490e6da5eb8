// rngd 5 and rngd 6 on one command line, told apart by their own syntax, before
// commander sees the words. rngd 5 (RHEL 6 / RHEL 7.0, Debian rng-tools5) spells
// some flags differently from rngd 6, and the same letters mean other things:
//
//   -n 0|1, --no-tpm=0|1     rngd 5: (do not) use a TPM      rngd 6: -n SOURCE = include
//   -d 0|1, --no-drng=0|1    rngd 5: (do not) use RDRAND     rngd 6: -d = debug (no value)
//   -t NUMBER, --timeout=N   RHEL 6 (rng-tools 2 patch): write interval while the pool is full
//                                                            rngd 6: -t = test mode (no value)
//   --pidfile FILE           older spelling of --pid-file
//   -?, --usage              rngd's help
//
// A value of 0 or 1 after -n/-d, or a whole number after -t, is rngd 5's: rngd 6's
// -d and -t take no value, and vrngd run takes no positional argument, so the
// reading is never ambiguous. The rngd 5 forms become hidden options of `run`
// (RNGD5_OPTIONS) that parseRunOptions (config.ts) maps to what vrngd does, with
// one warning where the meaning differs. -v/--verbose is an ordinary option of run
// (rngd 5's verbose; never rngd 6's print-the-version-and-exit).

/** Hidden `vrngd run` options carrying the rngd 5 forms (defined in commands/run.ts). */
export const RNGD5_OPTIONS = {
  noTpm: '--rngd5-no-tpm',
  noDrng: '--rngd5-no-drng',
  timeout: '--rngd5-timeout',
} as const;

export class DialectError extends Error {}

/** Options of `vrngd run` that take a value: the word after them is never a flag. */
const VALUE_SHORT = new Set(['-p', '-r', '-o', '-W', '-e', '-s', '-x', '-n', '-O', '-R', '-D']);
const VALUE_LONG = new Set([
  '--pid-file',
  '--rng-device',
  '--random-device',
  '--fill-watermark',
  '--entropy-count',
  '--random-step',
  '--exclude',
  '--include',
  '--option',
  '--force-reseed',
  '--drop-privileges',
  '--pipe',
  '--stall-timeout',
  '--reseed',
  '--stats',
  '--state-file',
  '--metrics-file',
  '--log-file',
  RNGD5_OPTIONS.noTpm,
  RNGD5_OPTIONS.noDrng,
  RNGD5_OPTIONS.timeout,
]);

const ZERO_ONE = /^[01]$/;
const WHOLE = /^\d+$/;

function zeroOne(flag: string, value: string | undefined): string {
  if (value === undefined || !ZERO_ONE.test(value)) {
    throw new DialectError(`${flag}: rngd 5's option takes 1 or 0, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  }
  return value;
}

/**
 * Rewrites the words after `run` (or an rngd-style line with no command): rngd 5
 * forms become RNGD5_OPTIONS, --pidfile becomes --pid-file, -?/--usage become
 * --help; everything else is passed through unchanged. Throws DialectError on an
 * rngd 5 option with a value rngd 5 itself would refuse (--no-tpm=2, --timeout=x).
 */
export function translateRngdArgv(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = args[i + 1];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    // -n 0|1, -d 0|1, and the attached -n1 / -d0 forms
    if ((a === '-n' || a === '-d') && next !== undefined && ZERO_ONE.test(next)) {
      out.push(`${a === '-n' ? RNGD5_OPTIONS.noTpm : RNGD5_OPTIONS.noDrng}=${next}`);
      i++;
      continue;
    }
    const attached = /^-([nd])([01])$/.exec(a);
    if (attached) {
      out.push(`${attached[1] === 'n' ? RNGD5_OPTIONS.noTpm : RNGD5_OPTIONS.noDrng}=${attached[2]}`);
      continue;
    }
    // --no-tpm=0|1, --no-tpm 0|1, --no-drng=…
    const long = /^--(no-tpm|no-drng)(?:=(.*))?$/.exec(a);
    if (long) {
      const target = long[1] === 'no-tpm' ? RNGD5_OPTIONS.noTpm : RNGD5_OPTIONS.noDrng;
      if (long[2] !== undefined) out.push(`${target}=${zeroOne(`--${long[1]}`, long[2])}`);
      else {
        out.push(`${target}=${zeroOne(`--${long[1]}`, next)}`);
        i++;
      }
      continue;
    }
    // -t NUMBER (RHEL 6's timeout), -tNUMBER; -t alone stays rngd 6's test mode
    if (a === '-t' && next !== undefined && WHOLE.test(next)) {
      out.push(`${RNGD5_OPTIONS.timeout}=${next}`);
      i++;
      continue;
    }
    const tAttached = /^-t(\d+)$/.exec(a);
    if (tAttached) {
      out.push(`${RNGD5_OPTIONS.timeout}=${tAttached[1]}`);
      continue;
    }
    const timeout = /^--timeout(?:=(.*))?$/.exec(a);
    if (timeout) {
      const v = timeout[1] ?? next;
      if (v === undefined || !WHOLE.test(v)) throw new DialectError(`-t/--timeout: rngd 5's timeout takes a whole number of seconds, got ${v === undefined ? 'nothing' : `'${v}'`}`);
      out.push(`${RNGD5_OPTIONS.timeout}=${v}`);
      if (timeout[1] === undefined) i++;
      continue;
    }
    const pidfile = /^--pidfile(=.*)?$/.exec(a);
    if (pidfile) {
      out.push(`--pid-file${pidfile[1] ?? ''}`);
      continue;
    }
    if (a === '-?' || a === '--usage') {
      out.push('--help');
      continue;
    }
    out.push(a);
    // the value of an option that takes one is a value, never a flag (-r -t is a path)
    if ((VALUE_SHORT.has(a) || VALUE_LONG.has(a)) && next !== undefined) {
      out.push(next);
      i++;
    }
  }
  return out;
}
