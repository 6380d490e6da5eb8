#!/usr/bin/env node
// The vrngd executable: a thin entry that runs the CLI and sets the exit status.
import { runCli } from './run-cli';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`vrngd: internal error: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
