// Bench suite: `vrngd check` against Debian's rngtest (rng-tools5) on the same
// input (default 100 MB from /dev/urandom), in the same run, interleaved. Wall
// time of the whole process (Node start-up included) gives the throughput; the
// counts of both must be identical or the row says so and the bench fails.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const COUNT_LABELS = [
  'bits received from input',
  'FIPS 140-2 successes',
  'FIPS 140-2 failures',
  'FIPS 140-2(2001-10-10) Monobit',
  'FIPS 140-2(2001-10-10) Poker',
  'FIPS 140-2(2001-10-10) Runs',
  'FIPS 140-2(2001-10-10) Long run',
  'FIPS 140-2(2001-10-10) Continuous run',
];
const UNIT = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

function parse(text, prefix) {
  const counts = {};
  let fipsAvgBitsPerS = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const body = line.slice(prefix.length);
    const m = /^(.*): (\d+)$/.exec(body);
    if (m && COUNT_LABELS.includes(m[1])) counts[m[1]] = Number(m[2]);
    const s = /^FIPS tests speed: \(min=[\d.]+; avg=([\d.]+); max=[\d.]+\)(?:([KMGT])i)?bits\/s$/.exec(body);
    if (s) fipsAvgBitsPerS = Number(s[1]) * UNIT[s[2] || ''];
  }
  return { counts, fipsAvgBitsPerS };
}

function timed(cmd, args, opts) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 26, ...opts });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  return { seconds, status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

module.exports = {
  name: 'fips-check',
  async run(ctx) {
    const rngtest = ctx.ensureBinary('rngtest', 'rng-tools5');
    if (!rngtest) throw new Error('rngtest missing and rng-tools5 could not be installed (not root?)');
    const bytes = Math.round(ctx.sizeMb * 1e6);
    const input = path.join(ctx.tmpDir, 'fips-input.bin');
    ctx.log(`fips-check: ${bytes} bytes from /dev/urandom`);
    const gen = spawnSync('sh', ['-c', `head -c ${bytes} /dev/urandom > "${input}"`]);
    if (gen.status !== 0 || fs.statSync(input).size !== bytes) throw new Error('could not write the input file');
    const hwmPreload = path.join(ctx.tmpDir, 'hwm.js');
    fs.writeFileSync(
      hwmPreload,
      "process.on('exit', () => process.stderr.write('vrngd-bench-hwm-kb ' + /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));\n",
    );

    const withStdin = (fn) => {
      const fd = fs.openSync(input, 'r');
      try {
        return fn(fd);
      } finally {
        fs.closeSync(fd);
      }
    };
    const samples = { rngtest: [], file: [], stdin: [] };
    let reference = null;
    let mismatch = null;
    let hwmKb = 0;
    const record = (kind, r, prefix, text) => {
      const p = parse(text, prefix);
      samples[kind].push({ seconds: r.seconds, fipsAvgBitsPerS: p.fipsAvgBitsPerS, status: r.status });
      const key = JSON.stringify(p.counts) + ` status=${r.status}`;
      if (reference === null) reference = key;
      else if (key !== reference && !mismatch) mismatch = `${kind}: ${key} != ${reference}`;
      const h = /vrngd-bench-hwm-kb (\d+)/.exec(text);
      if (h) hwmKb = Math.max(hwmKb, Number(h[1]));
    };
    for (let i = 0; i < ctx.runs; i++) {
      ctx.log(`fips-check: run ${i + 1}/${ctx.runs}`);
      const a = withStdin((fd) => timed(rngtest, [], { stdio: [fd, 'pipe', 'pipe'] }));
      record('rngtest', a, 'rngtest: ', a.stderr);
      const b = timed(process.execPath, ['-r', hwmPreload, ctx.cli, 'check', input], {});
      record('file', b, 'vrngd check: ', b.stdout + b.stderr);
      const c = withStdin((fd) => timed(process.execPath, [ctx.cli, 'check'], { stdio: [fd, 'pipe', 'pipe'] }));
      record('stdin', c, 'vrngd check: ', c.stdout);
    }
    const bits = bytes * 8;
    const mibps = (s) => bits / s / 2 ** 20;
    const best = (kind) => Math.max(...samples[kind].map((s) => mibps(s.seconds)));
    const med = (kind) => mibps(median(samples[kind].map((s) => s.seconds)));
    const engine = (kind) => Math.max(...samples[kind].map((s) => (s.fipsAvgBitsPerS || 0) / 2 ** 20));
    const base = best('rngtest');
    const sizeLabel = `${ctx.sizeMb} MB`;
    const rows = [
      {
        case: `check FILE vs rngtest < FILE, ${sizeLabel}, whole process`,
        value: best('file'),
        baseline: base,
        unit: 'Mibit/s',
        ratio: best('file') / base,
        notes: `best of ${ctx.runs}; medians ${med('file').toFixed(0)} vs ${med('rngtest').toFixed(0)}`,
      },
      {
        case: `check < FILE (stdin) vs rngtest < FILE, ${sizeLabel}, whole process`,
        value: best('stdin'),
        baseline: base,
        unit: 'Mibit/s',
        ratio: best('stdin') / base,
        notes: `best of ${ctx.runs}; medians ${med('stdin').toFixed(0)} vs ${med('rngtest').toFixed(0)}`,
      },
      {
        case: 'FIPS tests speed, avg as each program reports it',
        value: engine('file'),
        baseline: engine('rngtest'),
        unit: 'Mibit/s',
        ratio: engine('file') / engine('rngtest'),
        notes: 'per-chunk (vrngd) vs per-block (rngtest) timing',
      },
      { case: `peak RSS of check FILE, ${sizeLabel}`, value: hwmKb / 1024, baseline: null, unit: 'MiB', ratio: null, notes: 'VmHWM at exit' },
      {
        case: 'counts and exit status identical',
        value: mismatch ? 'no' : 'yes',
        baseline: null,
        unit: '',
        ratio: null,
        ok: !mismatch,
        notes: mismatch || `${3 * ctx.runs} runs compared`,
      },
    ];
    return rows;
  },
};
