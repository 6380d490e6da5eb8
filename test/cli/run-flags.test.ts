// `vrngd run` flag handling in-process: every bad value is one line and exit 64.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'stream';
import { runCli } from '../../src/cli/run-cli';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  const code = await runCli(args, { io: { stdout, stderr, stdin: new PassThrough(), env: {} } });
  return { code, out, err };
}

describe('vrngd run: bad flag values exit 64 with one line', () => {
  it.each([
    [['run', '-s', '0']],
    [['run', '-e', '12']],
    [['run', '-W', 'lots']],
    [['run', '--stall-timeout', 'x']],
    [['run', '--reseed', 'every minute']],
    // (-i and -n jitter are no longer refused: ignored with a warning, test/cli/rngd-dialects.test.ts)
    [['run', '-n', 'nosuch']],
    [['run', '-t', '5', '-R', '30']],
    [['run', '--no-tpm=2']],
    [['run', '--no-such-flag']],
    [['-f', '-s', '-3']],
    [['-f', '-D', 'rngd:rngd']],
  ])('%j', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(64);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^vrngd: /);
  });
});
