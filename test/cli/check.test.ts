// `vrngd check` through runCli in-process, against rngtest (rng-tools5) as the
// oracle: the same count lines, the same "drained" line and line order, the same
// exit status, and with --pipe the same passed bytes, byte for byte; plus files,
// '-', --blockcount, --json, sysexits for bad options and unreadable files, and
// one run of the built binary (node dist/cli/main.js check).
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { EX } from '../../src/cli/exit';
import { formatSpeed } from '../../src/cli/commands/check';
import type { CheckReport } from '../../src/cli/commands/check';
import { BLOCK, SeededRandom, fipsCorpus } from '../fixtures/fips/corpus';
import { ensureRngtest, parseSummary, runCheck, runRngtest } from '../fixtures/fips/oracle';
import { CLI, isRoot, skipReason } from '../helpers/env';

const PREFIX = 'vrngd check: ';
const oracleMissing = skipReason([[ensureRngtest() === null, 'rngtest (rng-tools5) is not installed and cannot be']]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-check-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rng = new SeededRandom(77);
const random = (blocks: number, extra = 0): Buffer => rng.bytes(4 + blocks * BLOCK + extra);

describe.skipIf(oracleMissing !== null)('vrngd check agrees with rngtest', () => {
  const corpus = fipsCorpus().filter((_, i) => i % 2 === 0);

  it.each(corpus.map((c) => [c.name, c.data] as const))('%s', async (_name, data) => {
    const oracle = runRngtest(data).summary;
    const ours = await runCheck([], data);
    const summary = parseSummary(ours.stdout.toString(), PREFIX, ours.code);
    expect(summary).toEqual(oracle);
    expect(ours.stderr).toBe('');
  });

  it.each([
    ['random with a partial block', random(40, 1111)],
    ['a failing block among passing ones', Buffer.concat([random(3), Buffer.alloc(BLOCK), rng.bytes(2 * BLOCK)])],
    ['6 bytes (only the discarded word and half the bootstrap)', rng.bytes(6)],
    ['8 bytes', rng.bytes(8)],
    ['8 bytes + one block', rng.bytes(8 + BLOCK)],
  ])('--pipe, %s: same summary, same passed bytes', async (_name, data) => {
    const oracle = runRngtest(data, ['-p']);
    const ours = await runCheck(['--pipe'], data);
    expect(parseSummary(ours.stderr, PREFIX, ours.code)).toEqual(oracle.summary);
    expect(ours.stdout.equals(oracle.stdout)).toBe(true);
    expect(ours.stdout.length).toBe(oracle.stdout.length);
  });

  it.each([
    [0, random(5, 10)],
    [1, random(5, 10)],
    [3, random(3)],
    [3, random(2, 2000)],
    [7, random(3)],
  ])('--blockcount %i: same counts, drained line and status', async (count, data) => {
    const oracle = runRngtest(data, ['-c', String(count)]).summary;
    const ours = await runCheck(['--blockcount', String(count)], data);
    expect(parseSummary(ours.stdout.toString(), PREFIX, ours.code)).toEqual(oracle);
    const short = await runCheck(['-c', String(count), '-p'], data);
    const oraclePipe = runRngtest(data, ['-c', String(count), '-p']);
    expect(parseSummary(short.stderr, PREFIX, short.code)).toEqual(oraclePipe.summary);
    expect(short.stdout.equals(oraclePipe.stdout)).toBe(true);
  });

  it('a file of 1,000 blocks (regular files go in batches of 420): failing blocks on the batch edges counted as rngtest counts them', async () => {
    const blocks: Buffer[] = [rng.bytes(4)];
    const bad = new Set([0, 419, 420, 421, 839, 840, 999]);
    for (let i = 0; i < 1000; i++) blocks.push(bad.has(i) ? Buffer.alloc(BLOCK, i % 2 ? 0xff : 0) : rng.bytes(BLOCK));
    blocks.push(rng.bytes(777)); // a trailing partial block
    const data = Buffer.concat(blocks);
    const file = path.join(tmp, 'batches.bin');
    fs.writeFileSync(file, data);
    const oracle = runRngtest(data).summary;
    const fromFile = await runCheck([file], null);
    const summary = parseSummary(fromFile.stdout.toString(), PREFIX, fromFile.code);
    expect(summary).toEqual(oracle);
    const failures = Number(/FIPS 140-2 failures: (\d+)$/m.exec(fromFile.stdout.toString())?.[1]);
    expect(failures).toBeGreaterThanOrEqual(bad.size); // the planted ones, and any random block rngtest fails too
    const piped = await runCheck(['--pipe', file], null);
    const oraclePipe = runRngtest(data, ['-p']);
    expect(parseSummary(piped.stderr, PREFIX, piped.code)).toEqual(oraclePipe.summary);
    expect(piped.stdout.equals(oraclePipe.stdout)).toBe(true);
  });

  it("reads a file, and '-' means stdin", async () => {
    const data = Buffer.concat([random(10), Buffer.alloc(BLOCK, 0xff), rng.bytes(3 * BLOCK + 5)]);
    const file = path.join(tmp, 'input.bin');
    fs.writeFileSync(file, data);
    const oracle = runRngtest(data).summary;
    const fromFile = await runCheck([file], null);
    expect(parseSummary(fromFile.stdout.toString(), PREFIX, fromFile.code)).toEqual(oracle);
    const dash = await runCheck(['-'], data);
    expect(parseSummary(dash.stdout.toString(), PREFIX, dash.code)).toEqual(oracle);
  });
});

describe('vrngd check output and errors', () => {
  it('prints the summary in rngtest order and exits 0 when every block passed', async () => {
    const data = new SeededRandom(6).bytes(4 + 3 * BLOCK); // three passing blocks (see test/core/fips.test.ts)
    const r = await runCheck([], data);
    expect(r.code).toBe(EX.OK);
    const labels = r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.slice(PREFIX.length).replace(/: .*/, ''));
    expect(labels).toEqual([
      'starting FIPS tests...',
      'entropy source drained',
      'bits received from input',
      'FIPS 140-2 successes',
      'FIPS 140-2 failures',
      'FIPS 140-2(2001-10-10) Monobit',
      'FIPS 140-2(2001-10-10) Poker',
      'FIPS 140-2(2001-10-10) Runs',
      'FIPS 140-2(2001-10-10) Long run',
      'FIPS 140-2(2001-10-10) Continuous run',
      'input channel speed',
      'FIPS tests speed',
      'Program run time',
    ]);
    expect(r.stdout.toString()).toContain(`${PREFIX}bits received from input: ${(4 + 3 * BLOCK) * 8}\n`);
  });

  it('--json prints one object with the same figures', async () => {
    const data = Buffer.concat([new SeededRandom(6).bytes(4 + 3 * BLOCK), Buffer.alloc(BLOCK), Buffer.alloc(100)]);
    const r = await runCheck(['--json'], data);
    expect(r.code).toBe(1);
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] as string) as CheckReport;
    expect(report).toMatchObject({
      bitsReceived: data.length * 8,
      bitsSent: null,
      bootstrapped: true,
      blocksPassed: 3,
      blocksFailed: 1,
      failures: { monobit: 1, poker: 1, runs: 1, longRun: 1, continuousRun: 1 },
      exitStatus: 1,
    });
    expect(report.speedsBitsPerS.fips.avg).toBeGreaterThan(0);
    expect(report.speedsBitsPerS.output).toBeNull();
    const piped = await runCheck(['--json', '--pipe'], Buffer.concat([Buffer.alloc(4), data])); // --pipe discards 32 bits first
    const pipeReport = JSON.parse(piped.stderr) as CheckReport;
    expect(pipeReport.bitsSent).toBe(3 * BLOCK * 8);
    expect(piped.stdout.length).toBe(3 * BLOCK);
  });

  it('says so when the input ends before the bootstrap word, and exits 1', async () => {
    const r = await runCheck([], Buffer.from([1, 2, 3]));
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toBe(
      `${PREFIX}starting FIPS tests...\n${PREFIX}entropy source drained\n${PREFIX}input ended before the 32-bit bootstrap (24 bits received); no block tested\n`,
    );
    const json = await runCheck(['--json'], Buffer.alloc(0));
    expect(JSON.parse(json.stdout.toString())).toMatchObject({ bootstrapped: false, bitsReceived: 0, exitStatus: 1 });
  });

  it.each([['--blockcount', '-1'], ['--blockcount', 'abc'], ['--blockcount', '1.5'], ['-c', ''], ['--bogus']])('bad options %s %s: 64, one line', async (...args) => {
    const r = await runCheck(args, Buffer.alloc(0));
    expect(r.code).toBe(EX.USAGE);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vrngd: /);
    expect(r.stdout.length).toBe(0);
  });

  it('unreadable file: 66, one line', async () => {
    for (const file of [path.join(tmp, 'absent'), tmp]) {
      const r = await runCheck([file], null);
      expect(r.code, file).toBe(EX.NOINPUT);
      expect(r.stderr).toMatch(new RegExp(`^vrngd: check: cannot (open|read) ${file.replace(/[/.]/g, '\\$&')}: .+\n$`));
      if (file !== tmp) expect(r.stdout.length, 'nothing on stdout when the file cannot be opened').toBe(0);
    }
    if (!isRoot) {
      const locked = path.join(tmp, 'locked');
      fs.writeFileSync(locked, 'x', { mode: 0o000 });
      expect((await runCheck([locked], null)).code).toBe(EX.NOINPUT);
    }
  });

  it('formats speeds as rngtest does (scaled by 1024 while all three are >= 1024)', () => {
    expect(formatSpeed('x', { min: 0, avg: 0, max: 0 })).toBe('x: (min=0.000; avg=0.000; max=0.000)bits/s');
    expect(formatSpeed('x', { min: 1023, avg: 5000, max: 9000 })).toBe('x: (min=1023.000; avg=5000.000; max=9000.000)bits/s');
    expect(formatSpeed('x', { min: 2 * 1024 ** 2, avg: 1.5 * 1024 ** 3, max: 3 * 1024 ** 3 })).toBe('x: (min=2.000; avg=1536.000; max=3072.000)Mibits/s');
  });
});

describe('the built binary', () => {
  it('node dist/cli/main.js check: file and stdin, exit status and summary', () => {
    const data = new SeededRandom(6).bytes(4 + 3 * BLOCK);
    const file = path.join(tmp, 'bin.bin');
    fs.writeFileSync(file, data);
    const a = spawnSync(process.execPath, [CLI, 'check', file], { encoding: 'utf8' });
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(a.stdout).toContain(`${PREFIX}FIPS 140-2 successes: 3\n`);
    const b = spawnSync(process.execPath, [CLI, 'check', '--pipe', '-c', '2'], { input: Buffer.concat([Buffer.alloc(4), data]) });
    expect(b.status).toBe(0);
    expect(b.stdout.length).toBe(2 * BLOCK);
    expect(b.stderr.toString()).toContain(`${PREFIX}bits sent to output: ${2 * BLOCK * 8}\n`);
    const c = spawnSync(process.execPath, [CLI, 'check', path.join(tmp, 'nope')], { encoding: 'utf8' });
    expect(c.status).toBe(EX.NOINPUT);
  });

  it('SIGINT stops a check on an endless pipe and prints the summary, as rngtest does', async () => {
    const data = Buffer.concat([Buffer.alloc(4), new SeededRandom(6).bytes(4 + 3 * BLOCK)]); // --pipe discards 32 bits first
    const child = spawn(process.execPath, [CLI, 'check', '--pipe']);
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes >= 3 * BLOCK) child.kill('SIGINT'); // all three blocks passed through; stdin stays open
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write(data);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(outBytes).toBe(3 * BLOCK);
    expect(err).toContain(`${PREFIX}FIPS 140-2 successes: 3\n`);
    expect(err).toContain(`${PREFIX}bits received from input: ${data.length * 8}\n`);
    expect(err).not.toContain('drained');
  });

  it('streams in constant memory (peak RSS on 200 MB of /dev/zero-like input stays bounded)', () => {
    // 200 MB through a pipe; a preload prints the peak RSS (VmHWM) at exit
    const preload = path.join(tmp, 'hwm.js');
    fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write('HWM ' + /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));\n");
    const r = spawnSync('sh', ['-c', `head -c 200000000 /dev/zero | "${process.execPath}" -r "${preload}" "${CLI}" check 2>&1`], { encoding: 'utf8', timeout: 120000 });
    const hwm = /HWM (\d+)/.exec(r.stdout);
    expect(r.stdout).toContain(`${PREFIX}FIPS 140-2 failures: 79999\n`);
    expect(hwm, r.stdout).not.toBeNull();
    // kB: a copy of the input would be 195,000 kB; the stream reader's 64 KiB Buffer
    // per read held it at ~87 MiB, the pipe reader (one reused buffer) at ~56 MiB
    expect(Number(hwm?.[1])).toBeLessThan(64 * 1024);
  });

  it('a pipe read in uneven pieces gives the same counts as the file (the pipe reader reuses one buffer)', () => {
    const data = new SeededRandom(16).bytes(4 + 400 * BLOCK + 1234);
    const file = path.join(tmp, 'pieces.bin');
    fs.writeFileSync(file, data);
    const counts = (out: string): string => out.split('\n').filter((l) => /: \d+$/.test(l) && !l.includes('run time')).join('\n');
    const a = spawnSync(process.execPath, [CLI, 'check', file], { encoding: 'utf8' });
    // dd writes 777-byte pieces: chunk edges fall everywhere inside blocks
    const b = spawnSync('sh', ['-c', `dd if="${file}" bs=777 status=none | "${process.execPath}" "${CLI}" check`], { encoding: 'utf8' });
    expect(counts(a.stdout)).toContain('FIPS 140-2 successes:');
    expect(counts(b.stdout)).toBe(counts(a.stdout));
    expect(b.status).toBe(a.status);
  });
});
