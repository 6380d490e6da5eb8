// Both rngd dialects on one command line (issue 19): every rngd 5 and rngd 6 flag
// alone, the lines from the issue, and lines mixing both, read through the same
// translation, commander definitions and validation as `vrngd run` (runConfigFor),
// through runCli --check-options (exit status, one-line errors), and the issue's
// lines through the real binary feeding a plain file (-o FILE: no root, no kernel).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { runConfigFor } from '../../src/cli/commands/run';
import { EX } from '../../src/cli/exit';
import { ConfigError, RunConfig } from '../../src/core/config';
import { DialectError, translateRngdArgv } from '../../src/core/rngd-dialect';
import { CLI } from '../helpers/env';

afterAll(() => {
  process.exitCode = undefined;
});

/** A config that starts a feeding daemon: not test mode, not list-and-exit, something to read. */
function feeds(c: RunConfig): void {
  expect(c.test).toBe(false);
  expect(c.list).toBe(false);
  expect(c.sources.length).toBeGreaterThan(0);
}

describe('translateRngdArgv', () => {
  it.each([
    [['-n', '1'], ['--rngd5-no-tpm=1']],
    [['-n', '0'], ['--rngd5-no-tpm=0']],
    [['-n1'], ['--rngd5-no-tpm=1']],
    [['--no-tpm=1'], ['--rngd5-no-tpm=1']],
    [['--no-tpm', '0'], ['--rngd5-no-tpm=0']],
    [['-d', '1'], ['--rngd5-no-drng=1']],
    [['-d0'], ['--rngd5-no-drng=0']],
    [['--no-drng=0'], ['--rngd5-no-drng=0']],
    [['-t', '5'], ['--rngd5-timeout=5']],
    [['-t60'], ['--rngd5-timeout=60']],
    [['--timeout=60'], ['--rngd5-timeout=60']],
    [['--timeout', '7'], ['--rngd5-timeout=7']],
    [['--pidfile=/x.pid'], ['--pid-file=/x.pid']],
    [['--pidfile', '/x.pid'], ['--pid-file', '/x.pid']],
    [['-?'], ['--help']],
    [['--usage'], ['--help']],
  ])('rngd 5 %j → %j', (input, output) => {
    expect(translateRngdArgv(input)).toEqual(output);
  });

  it.each([
    [['-n', 'rdrand']],
    [['-n', '2']],
    [['-d']],
    [['-d', '-f']],
    [['-t']],
    [['-t', '-f']],
    [['-t', 'x']],
    // the value of an option is never read as a flag: -r -t is a path named -t, -x 1 an index
    [['-r', '-t', '5']],
    [['-x', '1']],
    [['-p', '-n', '1']],
    [['--', '-n', '1']],
  ])('rngd 6 or a value: %j unchanged', (input) => {
    expect(translateRngdArgv(input)).toEqual(input);
  });

  it.each([[['--no-tpm=2']], [['--no-tpm']], [['--no-drng', 'yes']], [['--timeout=x']], [['--timeout']], [['--timeout=-1']]])('refuses %j (rngd 5 itself would)', (input) => {
    expect(() => translateRngdArgv(input)).toThrow(DialectError);
  });
});

describe('every rngd 5 flag alone starts a feeding daemon, with one warning where the meaning differs', () => {
  // [argv, warnings expected (regexes, in order), extra check]
  const RNGD5: Array<[string[], RegExp[], ((c: RunConfig) => void)?]> = [
    [['-b'], [], (c) => expect(c.background).toBe(true)],
    [['--background'], [], (c) => expect(c.background).toBe(true)],
    [['-f'], []],
    [['--foreground'], []],
    [['-d', '1'], [], (c) => expect(c.sources).not.toContain('rdrand')],
    [['--no-drng=1'], [], (c) => expect(c.sources).not.toContain('rdrand')],
    [['-d', '0'], [/-d 0 .*RDRAND only with -n rdrand; ignored/]],
    [['--no-drng=0'], [/-d 0/]],
    [['-n', '1'], []],
    [['--no-tpm=1'], []],
    [['-n', '0'], [/-n 0 .*no TPM source; ignored/]],
    [['--no-tpm=0'], [/no TPM source/]],
    [['-o', '/dev/random'], [], (c) => expect(c.randomDevice).toBe('/dev/random')],
    [['--random-device=/dev/random'], []],
    [['-p', '/run/rngd.pid'], [], (c) => expect(c.pidFile).toBe('/run/rngd.pid')],
    [['--pid-file=/run/rngd.pid'], [], (c) => expect(c.pidFile).toBe('/run/rngd.pid')],
    [['--pidfile=/run/rngd.pid'], [], (c) => expect(c.pidFile).toBe('/run/rngd.pid')],
    [['-q'], [], (c) => expect(c.quiet).toBe(true)],
    [['--quiet'], []],
    [['-r', '/dev/hwrng'], [], (c) => expect(c.rngDevice).toBe('/dev/hwrng')],
    [['--rng-device=/dev/hwrng'], []],
    [['-s', '64'], [], (c) => expect(c.stepBytes).toBe(64)],
    [['--random-step=32'], [], (c) => expect(c.stepBytes).toBe(32)],
    [['-v'], [], (c) => expect(c.debug).toBe(false)],
    [['--verbose'], []],
    [['-W', '2048'], [], (c) => expect(c.fillWatermarkBits).toBe(2048)],
    [['--fill-watermark=4096'], [], (c) => expect(c.fillWatermarkBits).toBe(4096)],
    // Red Hat's patches in the nhorman import of rng-tools 5
    [['-i'], [/-i\/--ignorefail ignored: vrngd never credits a block that failed FIPS/]],
    [['--ignorefail'], [/ignorefail ignored/]],
    [['-e', '8'], [], (c) => expect(c.entropyPerByte).toBe(8)],
    [['--entropy-count=4'], [], (c) => expect(c.entropyPerByte).toBe(4)],
    // RHEL 6's -t/--timeout (rng-tools 2): the write interval while the pool is full
    [['-t', '5'], [/-t 5: rngd 5's timeout; vrngd refills on the kernel's wakeups.* every 5 s/], (c) => expect(c.reseed).toEqual({ kind: 'interval', everyMs: 5000 })],
    [['--timeout=60'], [/-t 60/], (c) => expect(c.reseed).toEqual({ kind: 'interval', everyMs: 60000 })],
    [['--timeout', '60'], [/-t 60/]],
    [['-t60'], [/-t 60/]],
    [['-t', '0'], [/-t 0: .*keeps its reseed schedule/], (c) => expect(c.reseed).toEqual({ kind: 'cron', expression: '*/5 * * * *' })],
  ];
  it.each(RNGD5)('%j', (args, warnings, check) => {
    const c = runConfigFor(args);
    feeds(c);
    expect(c.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(c.warnings[i]).toMatch(w));
    check?.(c);
  });
});

describe('every rngd 6 flag alone', () => {
  const FEEDS: Array<[string[], number, ((c: RunConfig) => void)?]> = [
    [['-b'], 0],
    [['-f'], 0],
    [['-d'], 0, (c) => expect(c.debug).toBe(true)],
    [['--debug'], 0, (c) => expect(c.debug).toBe(true)],
    [['-i'], 1],
    [['-x', 'rdrand'], 0],
    [['-x', 'jitter'], 1],
    [['-x', '6'], 2], // index (deprecated, as in rngd) of a source vrngd does not have
    [['-n', 'rdrand'], 0, (c) => expect(c.sources).toEqual(['hwrng', 'rdrand'])],
    [['-n', '2'], 1, (c) => expect(c.sources).toEqual(['hwrng', 'rdrand'])],
    [['-n', 'jitter'], 1, (c) => expect(c.sources).toEqual(['hwrng'])],
    [['-n', 'tpm'], 1],
    [['-n', 'nist'], 1],
    [['-n', 'pkcs11'], 1],
    [['-n', 'rtlsdr'], 1],
    [['-n', 'qrypt'], 1],
    [['-n', 'darn'], 1],
    [['-n', 'rndr'], 1],
    [['-O', 'jitter:thread_count:2'], 1],
    [['-O', 'namedpipe:path:/run/feed'], 0, (c) => expect(c.sources).toEqual(['hwrng', 'pipe'])],
    [['-o', '/dev/random'], 0],
    [['-r', '/dev/hwrng'], 0],
    [['-p', '/run/rngd.pid'], 0],
    [['-s', '2500'], 0],
    [['-W', '0'], 0],
    [['-e', '0'], 0],
    [['-R', '30'], 0, (c) => expect(c.reseed).toEqual({ kind: 'interval', everyMs: 30000 })],
    [['-R', '0'], 0, (c) => expect(c.reseed).toBeNull()],
    [['-u'], 1],
    [['-q'], 0],
    // rngd 6's -v printed the version and exited; vrngd reads it as rngd 5's verbose and feeds
    [['-v'], 0],
  ];
  it.each(FEEDS)('%j starts a feeding daemon (%i warnings)', (args, warnings, check) => {
    const c = runConfigFor(args);
    feeds(c);
    expect(c.warnings, c.warnings.join('\n')).toHaveLength(warnings);
    check?.(c);
  });

  it('-t alone is rngd 6 test mode (feeds nothing, said in the plan line), -l lists and exits', () => {
    expect(runConfigFor(['-t']).test).toBe(true);
    expect(runConfigFor(['--test']).test).toBe(true);
    expect(runConfigFor(['-l']).list).toBe(true);
  });

  it.each([
    [['-D', 'rngd:rngd'], /more privilege than asked/],
    [['-n', 'nosuch'], /unknown entropy source/],
    [['-O', 'garbage'], /source:key:value/],
  ])('%j is refused with its reason', (args, reason) => {
    expect(() => runConfigFor(args)).toThrow(ConfigError);
    expect(() => runConfigFor(args)).toThrow(reason);
  });
});

describe("the issue's lines and lines mixing both dialects", () => {
  it.each([
    [['-f', '--no-tpm=1'], 0],
    [['-f', '-n', '1'], 0],
    [['-f', '--no-drng=1'], 0],
    [['-f', '-d', '1'], 0],
    [['-f', '-t', '5'], 1],
    [['-f', '--timeout=60'], 1],
    [['-f', '-v'], 0],
    [['-f', '-i'], 1],
    // RHEL 7.0 drop-in style, both dialects
    [['-f', '-r', '/dev/hwrng', '-n', '1', '-d', '1', '-i', '-v', '-W', '3072', '-x', 'jitter', '-s', '64', '-e', '8'], 2],
    [['--no-tpm=1', '--no-drng=1', '-d', '-n', 'rdrand', '-x', 'tpm', '-O', 'jitter:use_aes:1', '-t', '30'], 3],
    [['-d', '1', '-d', '-n', '1', '-n', 'rdrand'], 0],
    [['-b', '-p', '/var/run/rngd.pid', '--timeout', '60', '-q', '--verbose'], 1],
  ])('%j feeds (%i warnings)', (args, warnings) => {
    const c = runConfigFor(args);
    feeds(c);
    expect(c.warnings, c.warnings.join('\n')).toHaveLength(warnings);
  });

  it('-d alone is debug, -d 1 excludes RDRAND, in the same line', () => {
    const c = runConfigFor(['-d', '-n', 'rdrand', '-d', '1']);
    expect(c.debug).toBe(true);
    expect(c.sources).toEqual(['hwrng']);
  });

  it.each([
    [['-t', '5', '-R', '30'], /-t\/--timeout \(rngd 5\) and -R\/--reseed both set/],
    [['--timeout=5', '--reseed', 'off'], /both set/],
    [['-t', '99999999'], /-t\/--timeout: 99999999 is out of range/],
    [['-x', 'hwrng', '-n', 'rdrand', '-d', '1'], /every entropy source is excluded/],
  ])('%j is refused with its reason', (args, reason) => {
    expect(() => runConfigFor(args)).toThrow(reason);
  });
});

describe('through runCli --check-options: exit status and one line', () => {
  it.each([
    [['-f', '-n', '1', '-d', '1', '-t', '5', '-v', '-i', '--check-options'], EX.OK, /options ok: feeds the kernel; sources hwrng/],
    [['run', '--no-tpm=1', '--no-drng=0', '--check-options'], EX.OK, /feeds the kernel/],
    [['-t', '--check-options'], EX.OK, /test mode/],
    [['-f', '--no-tpm=yes', '--check-options'], EX.USAGE, /^vrngd: --no-tpm: rngd 5's option takes 1 or 0, got 'yes'\n$/],
    [['run', '--timeout=soon', '--check-options'], EX.USAGE, /^vrngd: -t\/--timeout: .*'soon'\n$/],
    [['-f', '-d', '2', '--check-options'], EX.USAGE, /^vrngd: too many arguments/],
    [['-f', '-D', 'a:b', '--check-options'], EX.USAGE, /^vrngd: -D\/--drop-privileges is refused/],
  ])('%j → %i', async (args, code, text) => {
    const r = await cli(args);
    expect(r.code, r.err).toBe(code);
    expect(code === EX.OK ? r.out : r.err).toMatch(text);
    if (code !== EX.OK) expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('prints each warning once, on stderr', async () => {
    const r = await cli(['-f', '-n', '0', '-i', '-t', '5', '--check-options']);
    expect(r.code).toBe(EX.OK);
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^vrngd: warning: -i/), expect.stringMatching(/^vrngd: warning: -n 0/), expect.stringMatching(/^vrngd: warning: -t 5/)]);
  });

  it('-v never prints the version; -V and --version still do', async () => {
    const v = await cli(['-v', '--check-options']);
    expect(v.out).not.toMatch(/^\d+\.\d+\.\d+/);
    expect(v.out).toMatch(/options ok/);
    expect((await cli(['-V'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('-? and --usage print the help (exit 0), as in rngd', async () => {
    for (const a of [['-?'], ['run', '--usage']]) {
      const r = await cli(a);
      expect(r.code).toBe(EX.OK);
      expect(r.out).toMatch(/Usage: vrngd run/);
    }
  });
});

// The real binary: each of the lines starts a daemon that feeds (checked
// blocks reach the -o file) and stops with 0 on SIGTERM. About 1 s per line.
describe("the issue's lines through the real binary", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-dialect-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function feedsFile(name: string, line: string[]): Promise<string> {
    const out = path.join(tmp, `${name}.out`);
    fs.writeFileSync(out, '');
    const child: ChildProcess = spawn(process.execPath, [CLI, ...line, '-r', '/dev/urandom', '-o', out, '--state-file', path.join(tmp, `${name}.json`)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' },
    });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const t0 = Date.now();
    while (fs.statSync(out).size < 10 * 2500) {
      if (child.exitCode !== null) throw new Error(`${line.join(' ')}: exited ${child.exitCode}: ${err}`);
      if (Date.now() - t0 > 15000) throw new Error(`${line.join(' ')}: fed nothing in 15 s: ${err}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    child.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    expect(err).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
    return err;
  }

  it.each([
    ['no-tpm', ['--no-tpm=1']],
    ['n1', ['-n', '1']],
    ['no-drng', ['--no-drng=1']],
    ['d1', ['-d', '1']],
    ['t5', ['-t', '5']],
    ['timeout', ['--timeout=60']],
    ['v', ['-v']],
    ['i', ['-i']],
    ['mixed', ['-f', '-n', '1', '-d', '1', '-i', '-v', '-x', 'jitter', '-W', '3072']],
  ])('%s: %j feeds', async (name, line) => {
    const err = await feedsFile(name, line);
    // a warning only where the meaning differs, once
    if (line.includes('-i')) expect(err.match(/ignorefail ignored/g)).toHaveLength(1);
    if (name === 't5') expect(err).toMatch(/-t 5: rngd 5's timeout/);
    // (the only warning: -o FILE is not a random device, which these tests choose)
    const dialectWarnings = err.split('\n').filter((l) => /warning|ignored/i.test(l) && !/is not a random device/.test(l));
    if (['no-tpm', 'n1', 'no-drng', 'd1', 'v'].includes(name)) expect(dialectWarnings).toEqual([]);
  });
});
