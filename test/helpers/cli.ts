// `vrngd ARGS` in-process through runCli, with captured stdout/stderr and an empty
// stdin (a command reading stdin sees end of file at once). process.exitCode is
// reset before and after, so one test's exit status never leaks into the next.
import { PassThrough } from 'stream';
import { runCli } from '../../src/cli/run-cli';

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  process.exitCode = undefined;
  const code = await runCli(args, { io: { stdout, stderr, stdin, env: {} } });
  process.exitCode = undefined;
  return { code, out, err };
}
