// Builds the commander program. Pure construction: no parsing, no exit. Each
// command lives in src/cli/commands/<name>.ts and exports register(program, deps).
import { Command } from 'commander';
import { CliIo, defaultIo } from './io';
import { register as registerStatus } from './commands/status';
import { register as registerRun } from './commands/run';
import { register as registerSources } from './commands/sources';
import { register as registerCheck } from './commands/check';
import { register as registerSeed } from './commands/seed';

export interface ProgramDeps {
  io: CliIo;
}

export function buildProgram(deps: ProgramDeps = { io: defaultIo() }): Command {
  const program = new Command('vrngd')
    .description('guest-side entropy agent: feeds checked virtio-rng entropy into the Linux kernel')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.io.stdout.write(s),
      writeErr: (s) => deps.io.stderr.write(s),
      // one line, named like every other vrngd error: "vrngd: unknown option '--x'"
      outputError: (s, write) => write(`vrngd: ${s.replace(/^error: /, '')}`),
    });
  for (const register of COMMANDS) register(program, deps);
  return program;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const VERSION: string = (require('../../package.json') as { version: string }).version;

type Register = (program: Command, deps: ProgramDeps) => void;
// One line per command; each module exports `register`.
const COMMANDS: Register[] = [
  registerStatus,
  registerRun,
  registerSources,
  registerCheck,
  registerSeed,
];
