// Runs the program on an argv and turns every outcome into an exit status:
// commander's usage errors become 64 with one line, expected failures their own
// sysexits code with one line, and only a real bug prints a stack trace.
import { CommanderError } from 'commander';
import { buildProgram, ProgramDeps } from './program';
import { CliError, describeError, EX, exitCodeFor } from './exit';
import { defaultIo } from './io';
import { DialectError, translateRngdArgv } from '../core/rngd-dialect';

/**
 * rngd compatibility: `vrngd -f -r /dev/hwrng` (options, no command) means `vrngd run`,
 * and run's words are read in both rngd dialects (src/core/rngd-dialect.ts).
 */
export function normalizeArgv(args: string[]): string[] {
  const first = args[0];
  if (first === undefined) return args;
  if (first === 'run') return ['run', ...translateRngdArgv(args.slice(1))];
  if (!first.startsWith('-')) return args;
  if (['-h', '--help', '-V', '--version'].includes(first)) return args;
  return ['run', ...translateRngdArgv(args)];
}

export async function runCli(args: string[], deps: ProgramDeps = { io: defaultIo() }): Promise<number> {
  let argv: string[];
  try {
    argv = normalizeArgv(args);
  } catch (e: unknown) {
    if (!(e instanceof DialectError)) throw e;
    deps.io.stderr.write(`vrngd: ${e.message}\n`);
    return EX.USAGE;
  }
  const program = await buildProgram(deps, argv[0]);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EX.OK;
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EX.OK;
      // commander already printed "error: ..." on one line
      return EX.USAGE;
    }
    const code = exitCodeFor(e);
    if (e instanceof CliError || code !== EX.SOFTWARE) {
      deps.io.stderr.write(`vrngd: ${describeError(e)}\n`);
      return code;
    }
    deps.io.stderr.write(`vrngd: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return EX.SOFTWARE;
  }
}
