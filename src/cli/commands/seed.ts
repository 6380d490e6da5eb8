// `vrngd seed`: one-shot early-boot seeding (initramfs hook, vrngd-seed.service,
// cloud-init). Parses options, wires the real kernel, source, FIPS gate and seed
// file store into the Seeder (src/seed/seeder.ts), prints one line (or --json)
// and maps the outcome to sysexits: 0 seeded, 75 too little before --timeout,
// 69 no device, 77 no privilege (EPERM/EACCES), 64 bad options.
// Started under vrngd-preload.so where the crng may not be ready yet: see
// src/native/preload.c. Nothing here uses this process's own CSPRNG.
import * as fs from 'fs';
import { Command } from 'commander';
import { ProgramDeps } from '../program';
import { CliError, describeError, EX, exitCodeFor, seedExitCode, usageError } from '../exit';
import { formatSeedLine } from '../../core/seed-policy';
import { fromNativeError } from '../../kernel/errors';
import { LinuxRandomDevice } from '../../kernel/random-device';
import { NativeFipsTester } from '../../native/fips-tester';
import { readInt } from '../../kernel/procfs';
import { createSource } from '../../sources/open-source';
import { DEFAULT_HWRNG_PATH } from '../../sources/device-source';
import { saveSeedFile, takeSeedFile } from '../../seed/seed-file-store';
import { SeedKernel, Seeder } from '../../seed/seeder';

export const DEFAULT_SEED_TIMEOUT_S = 10;
export const MAX_SEED_BYTES_OPTION = 16 * 1024 * 1024;

export interface SeedCliOptions {
  rngDevice: string;
  bytes?: string;
  timeout: string;
  seedFile?: string;
  json?: boolean;
}

export interface ParsedSeedOptions {
  device: string;
  maxBytes: number | null;
  timeoutMs: number;
  seedFile: string | null;
  json: boolean;
}

/** Validates the options; throws a usage error (64) on anything wrong. */
export function parseSeedOptions(o: SeedCliOptions): ParsedSeedOptions {
  let maxBytes: number | null = null;
  if (o.bytes !== undefined) {
    if (!/^\d+$/.test(o.bytes)) throw usageError(`seed: --bytes must be a whole number of bytes, got '${o.bytes}'`);
    maxBytes = Number(o.bytes);
    if (maxBytes < 1 || maxBytes > MAX_SEED_BYTES_OPTION) throw usageError(`seed: --bytes must be 1 to ${MAX_SEED_BYTES_OPTION}, got ${o.bytes}`);
  }
  if (!/^\d+(\.\d+)?$/.test(o.timeout)) throw usageError(`seed: --timeout must be a number of seconds, got '${o.timeout}'`);
  const timeoutS = Number(o.timeout);
  if (!(timeoutS > 0 && timeoutS <= 3600)) throw usageError(`seed: --timeout must be more than 0 and at most 3600 seconds, got ${o.timeout}`);
  // under 1 ms would round to a timeout of 0: out of range, not silently rounded
  if (Math.round(timeoutS * 1000) < 1) throw usageError(`seed: --timeout must be at least 0.001 seconds (1 ms), got ${o.timeout}`);
  if (o.rngDevice === '') throw usageError('seed: --rng-device needs a path');
  if (o.seedFile !== undefined && o.seedFile === '') throw usageError('seed: --seed-file needs a path');
  return { device: o.rngDevice, maxBytes, timeoutMs: Math.round(timeoutS * 1000), seedFile: o.seedFile ?? null, json: o.json === true };
}

/** The real kernel: /dev/random through the addon, /dev/urandom by read(2)/write(2). */
export function linuxSeedKernel(): SeedKernel & { close(): void } {
  const random = new LinuxRandomDevice({ path: '/dev/random' });
  let urandomFd = -1;
  const urandom = (): number => {
    if (urandomFd < 0) urandomFd = fs.openSync('/dev/urandom', 'r+');
    return urandomFd;
  };
  const call = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e: unknown) {
      throw fromNativeError(e);
    }
  };
  return {
    random,
    writeUrandom: (data) =>
      call(() => {
        let off = 0;
        while (off < data.length) off += fs.writeSync(urandom(), data, off, data.length - off);
      }),
    readUrandom: (bytes) =>
      call(() => {
        const out = new Uint8Array(bytes);
        let off = 0;
        while (off < bytes) {
          const n = fs.readSync(urandom(), out, off, bytes - off, null);
          if (n <= 0) throw Object.assign(new Error('/dev/urandom: short read'), { code: 'EIO', errno: -5, syscall: 'read' });
          off += n;
        }
        return out;
      }),
    poolsizeBits: () => readInt('/proc/sys/kernel/random/poolsize'),
    close: () => {
      random.close();
      if (urandomFd >= 0) fs.closeSync(urandomFd);
      urandomFd = -1;
    },
  };
}

export async function seedCommand(o: SeedCliOptions, deps: ProgramDeps): Promise<void> {
  const opts = parseSeedOptions(o);
  const { io } = deps;
  const kernel = linuxSeedKernel();
  try {
    // Privilege first, before the stored seed is removed: one zero byte mixed
    // with no credit changes nothing but fails with EPERM without CAP_SYS_ADMIN.
    kernel.random.addEntropy(Uint8Array.of(0), 0);
    const seeder = new Seeder(
      {
        kernel,
        source: createSource({ kind: 'hwrng', path: opts.device }),
        createTester: (bootstrap) => new NativeFipsTester(bootstrap),
        store: { take: takeSeedFile, save: saveSeedFile },
        now: () => Number(process.hrtime.bigint() / 1000000n),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        clocks: () => ({ realtimeMs: Date.now(), boottimeNs: process.hrtime.bigint() }),
        env: io.env,
      },
      { timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes, seedFile: opts.seedFile },
    );
    const { seedFileError, ...report } = await seeder.run();
    // A seed file vrngd must not trust (another user's directory, a planted link) was
    // neither read nor written; the device seeding still ran, and the refusal is the exit status.
    const fileExit = seedFileError ? exitCodeFor(seedFileError) : EX.OK;
    const refused = fileExit === EX.NOPERM || fileExit === EX.CANTCREAT ? seedFileError : null;
    const seedExit = seedExitCode(report.outcome);
    const exitCode = seedExit === EX.OK && refused ? fileExit : seedExit;
    io.stdout.write(opts.json ? `${JSON.stringify({ ...report, exitCode })}\n` : `${formatSeedLine(report)}\n`);
    if (seedFileError && !(refused && seedExit === EX.OK)) io.stderr.write(`vrngd: ${describeError(seedFileError, `seed file ${opts.seedFile ?? ''}`)}\n`);
    if (refused && seedExit === EX.OK) throw new CliError(`${describeError(refused, `seed file ${opts.seedFile ?? ''}`)} (the kernel was seeded from ${opts.device})`, fileExit);
    if (report.outcome === 'timeout') {
      throw new CliError(`seed: ${opts.device} gave too little before the ${opts.timeoutMs} ms timeout (${report.bytesRead} bytes, ${report.blocksPassed} blocks passed)`, EX.TEMPFAIL);
    }
    if (report.outcome === 'exhausted') {
      throw new CliError(`seed: ${opts.device} ended before the kernel was seeded (${report.bytesRead} bytes, ${report.blocksPassed} blocks passed; a file is read once)`, EX.TEMPFAIL);
    }
    if (report.outcome === 'no-device') throw new CliError(`seed: no device at ${opts.device} within ${opts.timeoutMs} ms`, EX.UNAVAILABLE);
  } finally {
    kernel.close();
  }
}

export function register(program: Command, deps: ProgramDeps): void {
  program
    .command('seed')
    .description('seed the kernel once from the hardware RNG (early boot: initramfs, vrngd-seed.service, cloud-init)')
    .option('-r, --rng-device <path>', 'entropy source device, FIFO or file', DEFAULT_HWRNG_PATH)
    .option('--bytes <n>', 'stop after this many bytes (rounded up to whole 2,500-byte FIPS blocks) even if the kernel is not seeded yet')
    .option('--timeout <seconds>', 'give up (exit 75, or 69 without a device) after this long', String(DEFAULT_SEED_TIMEOUT_S))
    .option('--seed-file <path>', 'load (credited only if written while the crng was ready) and rewrite this seed file')
    .option('--json', 'print the result as one JSON object')
    .action(async (o: SeedCliOptions) => seedCommand(o, deps));
}
