// Bench suite: seed latency. Wall time of `vrngd seed --bytes 64` (reads /dev/hwrng,
// one FIPS block plus the 4-byte continuous-test baseline, injects, reseeds) against
// a bare `node -e 0`, interleaved on the same machine; "added" is the median of the
// per-round differences. The raw device read of the same 2,504 bytes
// (`head -c 2504 /dev/hwrng`) is timed in the same rounds, because at virtio-rng's
// rate it is most of what is added and no program can make it shorter.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const P = require('../lib/daemon-probe');

const GOAL_ADDED_MS = 30;

function wallMs(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

module.exports = {
  name: 'seed-latency',
  async run(ctx) {
    const hwrng = '/dev/hwrng';
    try {
      fs.accessSync(hwrng, fs.constants.R_OK);
    } catch {
      throw new Error(`${hwrng} is not readable here (no virtio-rng, or not root): no seed figures`);
    }
    const rounds = Math.max(ctx.runs, Number(process.env.BENCH_SEED_RUNS || 7));
    const bundleDir = path.join(ctx.tmpDir, 'seed-bundle');
    const built = spawnSync(process.execPath, [path.join(ctx.root, 'scripts', 'dev', 'bundle.js'), bundleDir], { encoding: 'utf8' });
    const bundle = built.status === 0 ? path.join(bundleDir, 'vrngd.js') : null;
    if (!bundle) ctx.log(`seed-latency: no bundle (${(built.stderr || '').trim().split('\n').pop()}); skipping its row`);
    const s = { node: [], seed: [], bundle: [], device: [], inner: [] };
    const seedOnce = (entry, into, node = process.execPath) => {
      const r = wallMs(node, [entry, 'seed', '-r', hwrng, '--bytes', '64', '--json']);
      if (r.status !== 0) throw new Error(`vrngd seed exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
      into.push(r.ms);
      try {
        s.inner.push(JSON.parse(r.stdout.trim().split('\n').pop()).elapsedMs);
      } catch {
        /* no JSON: the wall time still counts */
      }
    };
    for (let i = 0; i < rounds; i++) {
      ctx.log(`seed-latency: round ${i + 1}/${rounds}`);
      s.node.push(wallMs(process.execPath, ['-e', '0']).ms);
      seedOnce(ctx.cli, s.seed);
      const d = wallMs('sh', ['-c', `head -c 2504 ${hwrng} | wc -c`]);
      if (d.status !== 0 || Number(d.stdout.trim()) !== 2504) throw new Error(`could not read 2504 bytes from ${hwrng}`);
      s.device.push(d.ms);
      if (bundle) seedOnce(bundle, s.bundle);
    }
    const added = (xs) => P.median(xs.map((x, i) => x - s.node[i]));
    const addedSeed = added(s.seed);
    const dev = P.median(s.device);
    const rows = [
      {
        case: '`vrngd seed --bytes 64` (dist/cli) vs `node -e 0`, wall time',
        value: P.median(s.seed),
        baseline: P.median(s.node),
        unit: 'ms',
        ratio: P.median(s.seed) / P.median(s.node),
        notes: `median of ${rounds} interleaved rounds; spread ${P.spread(s.seed, 0)} vs ${P.spread(s.node, 0)} ms; added ${addedSeed.toFixed(0)} ms, of which the device read of 2,504 B (median ${dev.toFixed(0)}, spread ${P.spread(s.device, 0)} ms); vrngd's own elapsedMs median ${P.median(s.inner).toFixed(0)}${bundle ? `; the bundle added ${added(s.bundle).toFixed(0)} ms` : ''}`,
      },
    ];
    // goal 4: seed's own cost = wall - `node -e 0` - one block read from the same device,
    // per round (all three in the same round), on every runtime vrngd ships
    for (const rt of ctx.runtimes) {
      const entry = rt.dist ? ctx.cli : bundle;
      if (!entry) continue;
      const own = [];
      for (let i = 0; i < rounds; i++) {
        const n = wallMs(rt.node, ['-e', '0']).ms;
        const before = s.inner.length;
        const into = [];
        seedOnce(entry, into, rt.node);
        s.inner.length = before;
        const d = wallMs('sh', ['-c', `head -c 2504 ${hwrng} | wc -c`]);
        own.push(into[0] - n - d.ms);
      }
      const o = P.median(own);
      rows.push({
        case: `goal 4: seed's own cost on ${rt.name} (${rt.dist ? 'dist/' : 'the bundle'}): wall − \`node -e 0\` − \`head -c 2504 /dev/hwrng\`, same round`,
        value: o,
        baseline: null,
        unit: 'ms',
        ratio: null,
        goal: `≤ ${GOAL_ADDED_MS} ms`,
        met: o <= GOAL_ADDED_MS,
        notes: `median of ${rounds} rounds; spread ${P.spread(own, 0)} ms${o <= GOAL_ADDED_MS ? '' : `; missed by ${(o - GOAL_ADDED_MS).toFixed(0)} ms`}`,
      });
    }
    return rows;
  },
};
