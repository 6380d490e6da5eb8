// Runs the program on an argv and turns every outcome into an exit status:
// commander's usage errors become 64 with one line, expected failures their own
// sysexits code with one line, and only a real bug prints a stack trace.
import { CommanderError } from 'commander';
import { buildProgram, ProgramDeps } from './program';
import { CliError, describeError, EX, exitCodeFor } from './exit';
import { defaultIo } from './io';
import { DialectError, translateRngdArgv } from '../core/rngd-dialect';
import { ArgsSyntaxError, expandArgsOption } from './args-string';
import { errLines, stderrIsJournal } from './journal-priority';

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
  // A closed or full stdout (`vrngd check f.bin | head -c0`, `status --json >/dev/full`)
  // is one line and 74 in every command, never an unhandled 'error' event.
  const out = deps.io.stdout;
  let outError: unknown = null;
  const onOutError = (e: unknown): void => {
    outError = outError ?? e;
  };
  out.on('error', onOutError);
  try {
    let code = await runProgram(args, deps);
    // write errors on stdout are emitted on a later tick
    await new Promise((resolve) => setImmediate(resolve));
    if (outError !== null && code !== EX.IOERR) {
      deps.io.stderr.write(`vrngd: cannot write to standard output: ${describeError(outError)}\n`);
      code = EX.IOERR;
    }
    return code;
  } finally {
    out.removeListener('error', onOutError);
    // a late error (after we return) must not become an uncaught exception either
    out.on('error', () => undefined);
  }
}

async function runProgram(args: string[], deps: ProgramDeps): Promise<number> {
  // fatal lines go to the journal at err priority (<3>) when stderr is the journal
  const journal = deps.io.stderr === process.stderr && stderrIsJournal(deps.io.env);
  const fatal = (line: string): void => void deps.io.stderr.write(errLines(`${line}\n`, journal));
  let argv: string[];
  try {
    argv = normalizeArgv(expandArgsOption(args));
  } catch (e: unknown) {
    if (!(e instanceof DialectError) && !(e instanceof ArgsSyntaxError)) throw e;
    fatal(`vrngd: ${e.message}`);
    return EX.USAGE;
  }
  const program = await buildProgram(deps, argv[0]);
  // commander's own usage errors ("error: unknown option ...") at err priority too
  // (subcommands may share their parent's output configuration object: wrap each once)
  const wrapped = new Set<object>();
  for (const c of journal ? [program, ...program.commands] : []) {
    const o = c.configureOutput();
    if (wrapped.has(o)) continue;
    const outputError = o.outputError ?? ((str: string, write: (s: string) => void) => write(str));
    c.configureOutput({ outputError: (str, write) => outputError(str, (line) => write(errLines(line, true))) });
    wrapped.add(c.configureOutput());
  }
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
      fatal(`vrngd: ${describeError(e)}`);
      return code;
    }
    fatal(`vrngd: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return EX.SOFTWARE;
  }
}
