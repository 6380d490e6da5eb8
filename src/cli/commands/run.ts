// `vrngd run`: the feeding daemon, with rngd's flags (vrngd -f -r /dev/hwrng with
// no command lands here too, see run-cli.ts). Parses and checks the options, then
// hands the RunConfig to the daemon's composition (src/daemon/compose.ts) or, with
// -b, to detach.ts. What they throw becomes an exit status in run-cli.ts
// (exit.ts exitCodeFor).
import { Command, Option } from 'commander';
import { CliError, EX, usageError } from '../exit';
import { ProgramDeps } from '../program';
import { ConfigError, parseRunOptions, RawRunOptions, RunConfig } from '../../core/config';
import { RNGD5_OPTIONS, translateRngdArgv } from '../../core/rngd-dialect';
import { parseCloneWatch } from '../../clone/setup';
import { runDaemon } from '../../daemon/compose';
import { detach } from '../../daemon/detach';
import { listSources } from './sources';
import { restoreOpt } from '../v8-opt';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('-f, --foreground', 'stay in the foreground (the default; rngd compatibility)')
    .option('-b, --background', 'detach, write the pid file and hold the single-instance lock')
    .option('-p, --pid-file <path>', 'pid file (default /run/vrngd.pid with -b)')
    .option('-r, --rng-device <path>', 'hardware RNG device, FIFO or file for the hwrng source', '/dev/hwrng')
    .option('-o, --random-device <path>', 'kernel random device (a non-random-device target gets plain writes)', '/dev/random')
    .option('-W, --fill-watermark <bits>', 'fill entropy_avail up to this many bits (default 3/4 of poolsize)')
    .option('-e, --entropy-count <bits>', 'credit at most this many bits per byte, 0..8', '8')
    .option('-s, --random-step <bytes>', 'bytes per RNDADDENTROPY call, 1..2500', '64')
    .option('-x, --exclude <source>', 'disable a source (hwrng, rdrand, pipe; rngd names/indexes accepted)', collect)
    .option('-n, --include <source>', 'enable a source (rdrand is off by default); -n 0|1 is rngd 5\'s --no-tpm', collect)
    .option('-q, --quiet', 'log nothing')
    .option('-d, --debug', 'log debug messages (-d 0|1 is rngd 5\'s --no-drng)')
    .option('-t, --test', 'read and test the sources, feed nothing to the kernel; print the rate at exit (-t SECONDS is rngd 5\'s --timeout)')
    .option('-v, --verbose', 'rngd 5: report the sources (vrngd always does; never prints the version)')
    .option('-l, --list', 'list the sources and exit (as vrngd sources)')
    .option('-O, --option <src:key:value>', 'rngd per-source option (namedpipe:path:PATH is honoured)', collect)
    .option('-i, --ignorefail', 'rngd: credit failing blocks (ignored with a warning: vrngd never does)')
    .option('-R, --force-reseed <seconds>', 'reseed every N seconds (rngd 6.11+; 0 disables)')
    .option('-u, --use-slow-sources', 'rngd: use slow sources (no effect)')
    .option('-D, --drop-privileges <user:group>', 'rngd: drop privileges (refused; use the systemd unit)')
    .option('--pipe <path>', 'add a pipe source reading this FIFO or file', collect)
    .option('--stall-timeout <duration>', 'a read outstanding longer than this marks the source stalled', '10s')
    .option('--reseed <cron>', "reseed schedule on modern kernels once the crng is ready, or 'off'", '*/5 * * * *')
    .option('--stats <cron>', "one-line statistics summary schedule, or 'off'", '0 * * * *')
    .option('--state-file <path>', "state file read by vrngd status, or 'off'", '/run/vrngd/state.json')
    .option('--metrics-file <path>', 'Prometheus text file (node_exporter textfile collector)')
    .option('--log-file <path>', 'also log to this file (reopened on SIGHUP)')
    .option('--syslog', 'also log to syslog (/dev/log)')
    .option('--compete', "read /dev/hwrng even where the kernel's hwrng thread already feeds from it")
    .option('--clone-watch <interval>', "where a VM generation ID device has no kernel driver: how often to read the ID (restore/clone detection, docs/snapshots.md), or 'off'", '1s')
    .option('--check-options', 'check the other options (both rngd dialects), print their warnings and what run would do, start nothing')
    // rngd 5's forms, written by translateRngdArgv (src/core/rngd-dialect.ts) from -n 0|1, --no-tpm=, -d 0|1, --no-drng=, -t N, --timeout=
    .addOption(new Option(`${RNGD5_OPTIONS.noTpm} <0|1>`).hideHelp().argParser(collect))
    .addOption(new Option(`${RNGD5_OPTIONS.noDrng} <0|1>`).hideHelp().argParser(collect))
    .addOption(new Option(`${RNGD5_OPTIONS.timeout} <seconds>`).hideHelp().argParser(collect));
}

export function register(program: Command, deps: ProgramDeps): void {
  const cmd = program.command('run').description('feed checked entropy into the kernel (the daemon; takes rngd flags)');
  addRunOptions(cmd).action(async (_opts: unknown, command: Command) => {
    process.exitCode = await runCommand(command, deps);
  });
}

/** Raw options as the user gave them: defaults shown in --help are not "given". */
function rawOptions(command: Command): RawRunOptions {
  const opts = command.opts() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) if (command.getOptionValueSource(k) === 'cli' || command.getOptionValueSource(k) === 'env') out[k] = v;
  return out as RawRunOptions;
}

/**
 * The RunConfig that `vrngd run ARGS` runs with: the same dialect translation,
 * commander definitions and validation as the command line. Throws what the
 * command line would refuse (CommanderError, ConfigError, DialectError).
 */
export function runConfigFor(args: string[]): RunConfig {
  const cmd = addRunOptions(new Command('run'))
    .exitOverride()
    .allowExcessArguments(false)
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  cmd.parse(translateRngdArgv(args), { from: 'user' });
  return parseRunOptions(rawOptions(cmd));
}

async function runCommand(command: Command, deps: ProgramDeps): Promise<number> {
  let config: RunConfig;
  let cloneWatchMs: number | null;
  try {
    config = parseRunOptions(rawOptions(command));
    cloneWatchMs = parseCloneWatch(command.getOptionValue('cloneWatch') as string | undefined);
  } catch (e: unknown) {
    if (e instanceof ConfigError) throw usageError(e.message);
    throw e;
  }
  if (command.getOptionValue('checkOptions') === true) return checkOptions(config, deps);
  if (config.list) return listSources({ rngDevice: config.rngDevice, pipePath: config.pipePath, json: false }, deps.io);
  if (config.background && !deps.io.env.VRNGD_DETACHED) {
    const r = await detach(config, deps.io.env);
    // the child's own status is ours (a killed child, -1, is 70)
    if (!r.ok) throw new CliError(r.message, r.status > 0 ? r.status : EX.SOFTWARE);
    for (const line of r.warnings) deps.io.stderr.write(`${line}\n`);
    return EX.OK;
  }
  // TurboFan was off while starting (cli/startup-flags.ts): on for the feed loop
  await runDaemon(config, deps.io, cloneWatchMs, restoreOpt);
  return EX.OK;
}

/** --check-options: the warnings run would log and one line on what it would do (scripts/migrate-rngd.sh asks this). */
function checkOptions(config: RunConfig, deps: ProgramDeps): number {
  for (const w of config.warnings) deps.io.stderr.write(`vrngd: warning: ${w}\n`);
  const does = config.list ? 'lists the sources and exits' : config.test ? 'test mode: reads and tests, feeds nothing' : 'feeds the kernel';
  deps.io.stdout.write(`vrngd run: options ok: ${does}; sources ${config.sources.join(', ')}\n`);
  return EX.OK;
}
