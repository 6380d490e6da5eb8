import { describe, expect, it } from 'vitest';
import { ArgsSyntaxError, expandArgsOption, splitArgs } from '../../src/cli/args-string';
import { errLines, stderrIsJournal } from '../../src/cli/journal-priority';

describe('--args STRING (VRNGD_ARGS from the service configuration)', () => {
  it('splits on blanks and keeps quoted text whole, with no globbing or expansion', () => {
    expect(splitArgs("--reseed '*/5 * * * *'")).toEqual(['--reseed', '*/5 * * * *']);
    expect(splitArgs('  -r /dev/hwrng\t-W 3072 ')).toEqual(['-r', '/dev/hwrng', '-W', '3072']);
    expect(splitArgs('--log-file "/var/log/my vrngd.log" a\\ b')).toEqual(['--log-file', '/var/log/my vrngd.log', 'a b']);
    expect(splitArgs('"$HOME" \'$(id)\' `id` ; | & *')).toEqual(['$HOME', '$(id)', '`id`', ';', '|', '&', '*']);
    expect(splitArgs('"a \\"q\\" \\\\ \\x"')).toEqual(['a "q" \\ \\x']);
    expect(splitArgs("''")).toEqual(['']);
    expect(splitArgs('')).toEqual([]);
  });

  it('refuses an open quote or a trailing backslash with one line', () => {
    expect(() => splitArgs("--reseed '*/5")).toThrow(ArgsSyntaxError);
    expect(() => splitArgs('"x')).toThrow(/unterminated "/);
    expect(() => splitArgs('x\\')).toThrow(/trailing/);
  });

  it('expands --args and --args= in place, and leaves words after -- alone', () => {
    expect(expandArgsOption(['run', '--foreground', '--args', "-n 1 --reseed '0 * * * *'", '-v'])).toEqual(['run', '--foreground', '-n', '1', '--reseed', '0 * * * *', '-v']);
    expect(expandArgsOption(['-b', '-p', '/run/p', '--args=', 'x'])).toEqual(['-b', '-p', '/run/p', 'x']);
    expect(expandArgsOption(['check', '--', '--args', 'a b'])).toEqual(['check', '--', '--args', 'a b']);
    expect(() => expandArgsOption(['run', '--args'])).toThrow(/needs a string/);
  });
});

describe('fatal lines at the journal err priority', () => {
  it('marks each line <3> only when JOURNAL_STREAM names stderr itself', () => {
    const st = () => ({ dev: 64769, ino: 4242 });
    expect(stderrIsJournal({ JOURNAL_STREAM: '64769:4242' }, st)).toBe(true);
    expect(stderrIsJournal({ JOURNAL_STREAM: '64769:4243' }, st)).toBe(false);
    expect(stderrIsJournal({}, st)).toBe(false);
    expect(stderrIsJournal({ JOURNAL_STREAM: 'junk' }, st)).toBe(false);
    expect(errLines('vrngd: no device\n', true)).toBe('<3>vrngd: no device\n');
    expect(errLines('a\nb\n', true)).toBe('<3>a\n<3>b\n');
    expect(errLines('vrngd: no device\n', false)).toBe('vrngd: no device\n');
  });
});
