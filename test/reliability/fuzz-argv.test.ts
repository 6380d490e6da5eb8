// Fuzzing the command line: runCli (the real program, commander and every
// command's option parsing) fed random and mutated argv. Whatever comes in, the
// answer is an exit status from the sysexits table and, on failure, one line on
// stderr — never a stack trace, never "internal error" (70), never a hang.
//
// Safety: `run` would start the daemon for real (root on this host), so every
// `run` argv (and rngd-style argv with no command) carries -l/--list: the full
// option validation runs first (parseRunOptions before the list short-cut), and a
// valid command line only lists the sources. `seed` is left out for the same
// reason (it feeds the kernel); its flags are tested in test/cli/seed.test.ts.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { EX } from '../../src/cli/exit';

const ALLOWED = new Set<number>([EX.OK, EX.FAIL, EX.USAGE, EX.NOINPUT, EX.UNAVAILABLE, EX.OSERR, EX.IOERR, EX.TEMPFAIL, EX.NOPERM]);

afterAll(() => {
  process.exitCode = undefined;
});

const RUN_FLAGS = ['-v', '--verbose', '--no-tpm', '--no-drng', '--timeout', '--pidfile', '--usage', '-f', '-b', '-p', '-r', '-o', '-W', '-e', '-s', '-x', '-n', '-q', '-d', '-t', '-O', '-i', '-R', '-u', '-D', '--pipe', '--stall-timeout', '--reseed', '--stats', '--state-file', '--metrics-file', '--log-file', '--syslog', '--compete', '--fill-watermark', '--entropy-count', '--random-step', '--exclude', '--include', '--force-reseed'];
const STATUS_FLAGS = ['--json', '--state-file', '-r', '--rng-device', '--proc-root', '--sys-root'];
const SOURCES_FLAGS = ['-r', '--rng-device', '--pipe', '--json'];

/** Values that break parsers: wrong types, signs, ranges, encodings, names. */
const nasty = fc.oneof(
  fc.constantFrom('', ' ', '-1', '-0', '0', '1', '8', '9', '64', '2500', '2501', '4096', '99999999999999999999', '1e3', '0x10', 'NaN', 'Infinity', '3.5', '10s', '500ms', '2m', '-5s', '1h', '0ms', 'off', 'none', '*/5 * * * *', '* * *', '61 * * * *', 'hwrng', 'rdrand', 'pipe', 'tpm', 'jitter', 'namedpipe', '0', '10', 'namedpipe:path:/nonexistent', 'hwrng:foo:bar', ':::', 'root:root', '/nonexistent/x', '/dev/null', '/', '--', '-', '--json', 'é', '\u0000', '%s%n', '${HOME}', "'", '"'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -100000, max: 100000 }).map(String),
  fc.double({ noNaN: false }).map(String),
);

function argvFor(command: string | null, flags: string[]): fc.Arbitrary<string[]> {
  const token = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...flags) }, { weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map((s) => `--${s}`) });
  return fc.array(token, { maxLength: 8 }).map((tokens) => {
    const isRun = command === 'run' || command === null;
    const argv = [...(command ? [command] : []), ...tokens];
    // never start the daemon: list instead (the options are validated first)
    if (isRun) argv.splice(command ? 1 : 0, 0, command ? '--list' : '-l');
    return argv;
  });
}

const argv = fc.oneof(
  argvFor('run', RUN_FLAGS),
  argvFor(null, RUN_FLAGS),
  argvFor('status', STATUS_FLAGS),
  argvFor('sources', SOURCES_FLAGS),
  fc.array(nasty, { maxLength: 4 }).map((a) => (a[0]?.startsWith('-') ? ['-l', ...a] : a)), // an unknown command, or rngd flags
);

const seen = new Map<number, number>();

describe('runCli with random and mutated argv', () => {
  afterAll(() => {
    process.stderr.write(`argv fuzz exit statuses: ${[...seen.entries()].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}×${n}`).join(' ')}\n`);
  });

  it('always a sysexits status; on failure one line, never a stack trace', async () => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const r = await cli(args);
        seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
        expect(ALLOWED.has(r.code), `exit ${r.code} for ${JSON.stringify(args)}: ${r.err}`).toBe(true);
        expect(r.err).not.toMatch(/internal error|\n\s+at .+:\d+:\d+|TypeError|ReferenceError|RangeError/);
        if (r.code === EX.USAGE) {
          expect(r.err.trim().split('\n'), `${JSON.stringify(args)}: ${r.err}`).toHaveLength(1);
          expect(r.err).toMatch(/^vrngd: /);
        }
      }),
      { numRuns: 400 },
    );
    // the fuzz reaches both sides: accepted and refused command lines
    expect(seen.get(EX.USAGE) ?? 0).toBeGreaterThan(50);
    expect([...seen.keys()].some((c) => c !== EX.USAGE)).toBe(true);
  });

  // every run flag that takes a value, with a wrong type, a negative, out of range
  const BAD_VALUES: Array<[string, string[]]> = [
    ['-W', ['lots', '-1', '1e3', '99999999']],
    ['-e', ['x', '-1', '9', '3.5']],
    ['-s', ['x', '-3', '0', '2501']],
    ['-R', ['x', '-1', '86401', '1.5']],
    ['--stall-timeout', ['x', '-5s', '0', '2h']],
    ['--reseed', ['every minute', '61 * * * *', '-1']],
    ['--stats', ['hourly', '* * *']],
    ['-x', ['nosuch', '99', '-1']],
    ['-n', ['nosuch', '99']],
    ['--pipe', ['']],
    ['--no-tpm', ['2', 'yes']],
    ['--no-drng', ['-1', 'x']],
    ['--timeout', ['soon', '-1', '99999999']],
    ['-O', ['nonsense', '::']],
    ['-D', ['rngd:rngd']],
  ];
  for (const [flag, values] of BAD_VALUES) {
    it.each(values)(`run ${flag} %j: exit 64, one line`, async (value) => {
      const r = await cli(['run', '--list', flag, value]);
      expect(r.code, r.err).toBe(EX.USAGE);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^vrngd: /);
      expect(r.out).toBe('');
    });
  }

  it.each([[['run', '--list', '-s']], [['run', '--list', '--stall-timeout']], [['run', '--nosuch']], [['nosuch-command']], [['-f', '--list', '-e']]])('%j: missing value or unknown: exit 64, one line', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(EX.USAGE);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
