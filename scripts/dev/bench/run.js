#!/usr/bin/env node
// The benchmark runner (`npm run bench`): runs every suite in scripts/dev/bench/suites/
// (each a CommonJS module exporting { name, run(ctx) } that resolves to rows),
// prints one markdown table and writes the rows with the machine description to
// scripts/dev/bench/results/<suite-set>-<timestamp>.json and scripts/dev/bench/results/latest.json.
// Later issues add rows by adding a suite file; nothing here needs to change.
// A row that carries a goal (issue 16) has `goal` (what is asked, in words) and
// `met` (true/false, or null when it could not be measured); the table prints
// both, and a miss says by how much in its notes. A miss does not fail the run:
// only an error or a row with ok: false does (counts that disagree).
//
//   npm run bench [-- --only fips-check] [--size-mb 100] [--runs 3]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SUITES_DIR = path.join(__dirname, 'suites');
const RESULTS_DIR = path.join(__dirname, 'results');

function parseArgs(argv) {
  const opts = { only: null, sizeMb: 100, runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') opts.only = value().split(',');
    else if (a === '--size-mb') opts.sizeMb = Number(value());
    else if (a === '--runs') opts.runs = Number(value());
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: npm run bench [-- --only suite[,suite]] [--size-mb N] [--runs N]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isFinite(opts.sizeMb) || opts.sizeMb <= 0) throw new Error('--size-mb must be a positive number');
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  return opts;
}

/** The machine the figures belong to. */
function machine() {
  let cpuModel = 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  return {
    nproc: nproc.status === 0 ? Number(nproc.stdout.trim()) : os.cpus().length,
    cpuModel,
    kernel: os.release(),
    node: process.version,
    loadAverage1m: os.loadavg()[0],
    totalMemMb: Math.round(os.totalmem() / 2 ** 20),
  };
}

/** Installs a Debian package when a binary is missing (root only); returns the binary path or null. */
function ensureBinary(binary, pkg) {
  const which = () => {
    const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  let found = which();
  if (found) return found;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return null;
  process.stderr.write(`bench: ${binary} missing; apt-get install -y ${pkg}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', '-q', pkg], { stdio: 'inherit', env });
  found = which();
  return found;
}

/**
 * Every Node runtime vrngd ships: the system's (this process), and the pinned
 * 16.20.2 and 10.24.1 of the packages when fetched into .cache/ (scripts/setup-node16.sh,
 * setup-node10.sh). Node 10 runs the bundle only (dist/ is ES2021).
 */
function runtimes() {
  const list = [{ name: `node ${process.version}`, node: process.execPath, dist: true }];
  for (const [dir, dist] of [
    ['node16', true],
    ['node10', false],
  ]) {
    const node = path.join(ROOT, '.cache', dir, 'package', 'bin', 'node');
    if (!fs.existsSync(node)) continue;
    const v = spawnSync(node, ['--version'], { encoding: 'utf8' });
    if (v.status === 0) list.push({ name: `node ${v.stdout.trim()}`, node, dist });
  }
  return list;
}

/** Builds dist/ when the CLI is missing or older than the sources. */
function ensureBuilt() {
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  const newest = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
      const p = path.join(dir, e.name);
      return Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  if (!fs.existsSync(cli) || fs.statSync(cli).mtimeMs < newest(path.join(ROOT, 'src'))) {
    process.stderr.write('bench: building dist/ (npm run build)\n');
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) process.stderr.write('bench: build reported errors; using the emitted dist/ anyway\n');
  }
  return cli;
}

function fmt(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
}

function markdownTable(rows) {
  const head = ['suite', 'case', 'vrngd', 'baseline', 'unit', 'ratio', 'goal', 'met', 'notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  const met = (r) => (r.goal === undefined ? '' : r.met === true ? 'met' : r.met === false ? '**missed**' : 'not measured');
  for (const r of rows) {
    lines.push(`| ${[r.suite, r.case, fmt(r.value), fmt(r.baseline), r.unit, r.ratio == null ? '–' : `${r.ratio.toFixed(2)}×`, r.goal || '', met(r), r.notes || ''].join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const suites = fs
    .readdirSync(SUITES_DIR)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => require(path.join(SUITES_DIR, f)))
    .filter((s) => !opts.only || opts.only.includes(s.name));
  if (suites.length === 0) throw new Error(`no suite matches ${opts.only}`);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-bench-'));
  const ctx = { root: ROOT, tmpDir, sizeMb: opts.sizeMb, runs: opts.runs, cli: ensureBuilt(), ensureBinary, runtimes: runtimes(), log: (s) => process.stderr.write(`bench: ${s}\n`) };
  const rows = [];
  let failed = false;
  try {
    for (const suite of suites) {
      ctx.log(`suite ${suite.name}`);
      try {
        rows.push(...(await suite.run(ctx)).map((r) => ({ suite: suite.name, ...r })));
      } catch (e) {
        failed = true;
        rows.push({ suite: suite.name, case: 'error', value: null, baseline: null, unit: '', ratio: null, notes: String(e && e.message ? e.message : e) });
      }
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  const m = machine();
  const result = { date: new Date().toISOString(), machine: m, options: opts, rows };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-');
  const name = `${suites.map((s) => s.name).join('+')}-${stamp}.json`;
  fs.writeFileSync(path.join(RESULTS_DIR, name), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`Machine: ${m.nproc} × ${m.cpuModel}, Linux ${m.kernel}, Node ${m.node}, load ${m.loadAverage1m.toFixed(2)}\n\n`);
  const goals = rows.filter((r) => r.goal !== undefined);
  process.stdout.write(`${markdownTable(rows)}\n\ngoals: ${goals.filter((r) => r.met === true).length} met, ${goals.filter((r) => r.met === false).length} missed, ${goals.filter((r) => r.met !== true && r.met !== false).length} not measured\nresults: scripts/dev/bench/results/${name}\n`);
  if (failed || rows.some((r) => r.ok === false)) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
