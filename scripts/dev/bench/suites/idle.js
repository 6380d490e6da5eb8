// Bench suite: idle cost. `vrngd run -f` (this machine's defaults), Debian's
// `rngd -f` (rng-tools5 defaults, in a private mount namespace with /proc/sys
// read-only) and a bare idle Node process run side by side; after a settle time
// ctx.runs consecutive windows of BENCH_IDLE_SECONDS (default 60) each measure CPU
// time, voluntary context switches (all threads and children) and resident memory.
// A fourth process, vrngd as vrngd.service starts it (its VRNGD_NODE_FLAGS, read from the unit),
// gives the idle RSS row of the deployed daemon beside the plain one.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const P = require('../lib/daemon-probe');

const SETTLE_MS = 5000;
const GOAL_RSS_OVER_NODE_MB = 10;

function sample(pid) {
  const st = P.procStatus(pid);
  return { cpuSeconds: P.treeCpuSeconds(pid), switches: P.treeCtxtSwitches(pid), rssMb: st.vmRssKb / 1024 };
}

module.exports = {
  name: 'idle',
  async run(ctx) {
    const rngd = ctx.ensureBinary('rngd', 'rng-tools5');
    if (!rngd) throw new Error('rngd missing and rng-tools5 could not be installed (not root?)');
    const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS || 60);
    if (!(idleSeconds > 0)) throw new Error('BENCH_IDLE_SECONDS must be a positive number');
    const wrapper = P.writeNamespaceWrapper(ctx.tmpDir);
    const thresholdBefore = P.readWakeupThreshold();
    const logs = { vrngd: '', rngd: '', unit: '' };
    // the node flags vrngd.service gives the daemon (VRNGD_NODE_FLAGS=...), read from the unit itself
    const unitText = fs.readFileSync(path.join(ctx.root, 'systemd', 'vrngd.service'), 'utf8');
    const unitFlagsMatch = /^Environment="VRNGD_NODE_FLAGS=([^"]*)"/m.exec(unitText);
    const unitFlags = unitFlagsMatch ? unitFlagsMatch[1].trim().split(/\s+/).filter(Boolean) : [];
    const procs = {
      vrngd: spawn(process.execPath, [ctx.cli, 'run', '-f', '--state-file', path.join(ctx.tmpDir, 'idle-state.json')], { stdio: ['ignore', 'ignore', 'pipe'] }),
      rngd: P.spawnReadOnlySys(wrapper, null, rngd, ['-f', '-p', path.join(ctx.tmpDir, 'idle-rngd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] }),
      node: spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' }),
      unit: spawn(process.execPath, [...unitFlags, ctx.cli, 'run', '-f', '--state-file', path.join(ctx.tmpDir, 'idle-unit-state.json')], { stdio: ['ignore', 'ignore', 'pipe'] }),
    };
    for (const k of ['vrngd', 'rngd', 'unit']) procs[k].stderr.on('data', (b) => (logs[k] = (logs[k] + b).slice(-4000)));
    const windows = { vrngd: [], rngd: [], node: [], unit: [] };
    try {
      await P.sleep(SETTLE_MS);
      for (let i = 0; i < ctx.runs; i++) {
        ctx.log(`idle: window ${i + 1}/${ctx.runs} (${idleSeconds} s)`);
        const a = {};
        for (const [k, p] of Object.entries(procs)) {
          if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${k} exited: ${(logs[k] || '').trim().split('\n').pop()}`);
          a[k] = sample(p.pid);
        }
        await P.sleep(idleSeconds * 1000);
        for (const [k, p] of Object.entries(procs)) {
          if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${k} exited: ${(logs[k] || '').trim().split('\n').pop()}`);
          const b = sample(p.pid);
          windows[k].push({ cpuMs: (b.cpuSeconds - a[k].cpuSeconds) * 1000, switches: b.switches - a[k].switches, rssMb: b.rssMb });
        }
      }
    } finally {
      await Promise.all(Object.values(procs).map((p) => P.stop(p)));
    }
    if (P.readWakeupThreshold() !== thresholdBefore) throw new Error('write_wakeup_threshold changed during the run');
    const med = (k, f) => P.median(windows[k].map((w) => w[f]));
    const spr = (k, f, d = 0) => P.spread(windows[k].map((w) => w[f]), d);
    const mode = /(?:modern kernel|assisted kernel|legacy kernel|idle,)[^\n]*/.exec(logs.vrngd);
    const vS = med('vrngd', 'switches');
    const rS = med('rngd', 'switches');
    const rssOver = med('vrngd', 'rssMb') - med('node', 'rssMb');
    const per = `per ${idleSeconds} s window, median of ${ctx.runs} consecutive windows after ${SETTLE_MS / 1000} s settle, all three running at once`;
    return [
      {
        case: `idle CPU time over ${idleSeconds} s, vrngd run -f vs rngd -f`,
        value: med('vrngd', 'cpuMs'),
        baseline: med('rngd', 'cpuMs'),
        unit: 'ms',
        ratio: null,
        notes: `${per}; spread vrngd ${spr('vrngd', 'cpuMs')}, rngd 5 ${spr('rngd', 'cpuMs')}, bare node ${med('node', 'cpuMs').toFixed(0)} (${spr('node', 'cpuMs')}) ms; vrngd mode: ${mode ? mode[0].trim() : 'see its log'}`,
      },
      {
        case: `idle wakeups (voluntary_ctxt_switches, all threads) over ${idleSeconds} s, vrngd vs rngd`,
        value: vS,
        baseline: rS,
        unit: 'switches',
        ratio: rS > 0 ? vS / rS : null,
        notes: `goal ≤ rngd: ${vS <= rS ? 'met' : `missed by ${(vS - rS).toFixed(0)}`}; spread vrngd ${spr('vrngd', 'switches')}, rngd 5 ${spr('rngd', 'switches')}, bare node ${med('node', 'switches').toFixed(0)} (${spr('node', 'switches')})`,
      },
      {
        case: 'idle resident memory (VmRSS), vrngd vs bare node',
        value: med('vrngd', 'rssMb'),
        baseline: med('node', 'rssMb'),
        unit: 'MiB',
        ratio: med('vrngd', 'rssMb') / med('node', 'rssMb'),
        goal: `≤ bare node + ${GOAL_RSS_OVER_NODE_MB} MiB (goal 3)`,
        met: rssOver <= GOAL_RSS_OVER_NODE_MB,
        notes: `goal within ${GOAL_RSS_OVER_NODE_MB} MB of bare node: ${rssOver <= GOAL_RSS_OVER_NODE_MB ? 'met' : 'missed'} (+${rssOver.toFixed(1)} MiB); rngd 5 ${med('rngd', 'rssMb').toFixed(1)} MiB`,
      },
      {
        case: `idle resident memory (VmRSS), vrngd run -f as vrngd.service starts it (node ${unitFlags.join(' ') || 'without flags'}) vs bare node (no flags)`,
        value: med('unit', 'rssMb'),
        baseline: med('node', 'rssMb'),
        unit: 'MiB',
        ratio: med('unit', 'rssMb') / med('node', 'rssMb'),
        goal: `≤ bare node + ${GOAL_RSS_OVER_NODE_MB} MiB (goal 3)`,
        met: med('unit', 'rssMb') - med('node', 'rssMb') <= GOAL_RSS_OVER_NODE_MB,
        notes: `${med('unit', 'rssMb') - med('node', 'rssMb') <= GOAL_RSS_OVER_NODE_MB ? 'met' : 'missed'} (+${(med('unit', 'rssMb') - med('node', 'rssMb')).toFixed(1)} MiB); flags from systemd/vrngd.service's VRNGD_NODE_FLAGS; idle CPU ${med('unit', 'cpuMs').toFixed(0)} ms (${spr('unit', 'cpuMs')}), wakeups ${med('unit', 'switches').toFixed(0)} (${spr('unit', 'switches')}) per window`,
      },
    ];
  },
};
