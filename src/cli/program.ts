// Builds the commander program. Pure construction: no parsing, no exit. Each
// command lives in src/cli/commands/<name>.ts and exports register(program, deps).
// Command modules are loaded on demand: `vrngd check` or `vrngd seed` must not pay
// for loading the daemon (winston, node-cron: measured ~0.4 s of a loaded VM's
// start-up), so only the command named on the command line is loaded; help,
// errors and anything else load them all.
import { Command } from 'commander';
import { CliIo, defaultIo } from './io';

export interface ProgramDeps {
  io: CliIo;
}

type Register = (program: Command, deps: ProgramDeps) => void;

// One entry per command, in help order; each module exports `register`.
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  run: () => import('./commands/run'),
  seed: () => import('./commands/seed'),
  status: () => import('./commands/status'),
  check: () => import('./commands/check'),
  sources: () => import('./commands/sources'),
};

/** `only`: the command name from the command line, to load just that command. */
export async function buildProgram(deps: ProgramDeps = { io: defaultIo() }, only?: string): Promise<Command> {
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
  const names = only === '-V' || only === '--version' ? [] : only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((name) => (COMMANDS[name] as () => Promise<{ register: Register }>)()));
  for (const { register } of modules) register(program, deps);
  // a word no command takes is an error (64), never silently dropped: `seed extra-arg`
  // must not run a real seed, and rngd 5's `-d 1` must not become debug plus nothing
  for (const c of program.commands) c.allowExcessArguments(false);
  return program;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const VERSION: string = (require('../../package.json') as { version: string }).version;
