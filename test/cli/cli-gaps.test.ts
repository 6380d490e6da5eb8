// Issue 14, "command-line gaps": each one a one-line error with exit 64 through the
// real program (runCli), never a stack trace, a rounded-to-zero value, a silently
// dropped word or a silently dropped --pipe. `run` lines carry -l/--check-options
// so that a regression lists or checks instead of starting the daemon.
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { EX } from '../../src/cli/exit';

afterAll(() => {
  process.exitCode = undefined;
});

describe('command-line gaps (issue 14)', () => {
  it.each([
    [['run', '--check-options', '--pipe', ''], /^vrngd: --pipe: empty path$/],
    [['run', '-l', '--pipe', ''], /^vrngd: --pipe: empty path$/],
    [['run', '--check-options', '-O', 'namedpipe:path:'], /empty path/],
    [['run', '--check-options', '--stall-timeout', '0.4ms'], /^vrngd: --stall-timeout: 0.4ms is out of range \(1ms\.\.1h\)$/],
    [['run', '--check-options', '--pipe', '/run/a', '--pipe', '/run/b'], /^vrngd: --pipe \/run\/b conflicts with --pipe \/run\/a: vrngd reads one pipe source$/],
    [['run', '--check-options', '-O', 'namedpipe:path:/run/x', '--pipe', '/run/y'], /conflicts with --pipe \/run\/y/],
    [['-f', '--check-options', '-O', 'namedpipe:path:/run/x', '-O', 'namedpipe:path:/run/y'], /conflicts/],
    [['run', '--check-options', 'extra'], /^vrngd: too many arguments for 'run'/],
    [['-f', '--check-options', '-d', '1', 'extra'], /^vrngd: too many arguments for 'run'/],
    [['sources', '--pipe', ''], /^vrngd: sources: --pipe: empty path$/],
    [['sources', '--pipe', '/run/a', '--pipe', '/run/b'], /^vrngd: sources: --pipe \/run\/b conflicts with --pipe \/run\/a/],
    [['status', 'extra'], /^vrngd: too many arguments for 'status'/],
    [['sources', 'extra'], /^vrngd: too many arguments for 'sources'/],
    [['check', '/dev/null', 'extra'], /^vrngd: too many arguments for 'check'/],
  ])('%j: exit 64, one line', async (args, line) => {
    const r = await cli(args);
    expect(r.code, r.err).toBe(EX.USAGE);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err.trim()).toMatch(line);
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
    expect(r.out).toBe('');
  });
});
