#!/usr/bin/env node
// The vrngd executable: a thin entry that runs the CLI and sets the exit status.
// Only here, in the real binary: if something still holds the event loop 1.5 s
// after a command returned (it should not: a stopped daemon kills its readers and
// interrupts its fill-mode poll), exit anyway with the status already decided.
import './startup-flags'; // first: before any other module loads (TurboFan off while starting)
import { EX } from './exit';
import { runCli } from './run-cli';

const HARD_EXIT_AFTER_MS = 1500;

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), HARD_EXIT_AFTER_MS).unref();
  },
  (e: unknown) => {
    process.stderr.write(`vrngd: internal error: ${String(e)}\n`);
    process.exitCode = EX.SOFTWARE;
  },
);
