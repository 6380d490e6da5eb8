// Bench helpers shared by the daemon suites (pipeline, seed-latency, idle,
// startup): reading a process's CPU time, context switches and RSS from /proc,
// running rngd in a private mount namespace where /proc/sys is read-only (so
// nothing it does can write /proc/sys/kernel/random/* on the host), medians
// and spreads. CommonJS, no dependencies; Linux only.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number((r.stdout || '').trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Fields of /proc/PID/stat after the comm, 1-based as in proc(5) (so field 3 is state). */
function statFields(pid) {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (n) => Number(rest[n - 3]);
}

/** Live descendants of pid (children of children …), from /proc/PID/task/TID/children. */
function descendants(pid) {
  const out = [];
  const walk = (p) => {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean)) {
        out.push(Number(k));
        walk(Number(k));
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * CPU seconds (user + system) of pid, its reaped children (cutime + cstime) and its
 * live descendants — the whole cost of a daemon that runs helpers such as dd(1).
 */
function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const f = statFields(p);
      ticks += f(14) + f(15) + f(16) + f(17);
    } catch {
      /* exited between the listing and the read */
    }
  }
  return ticks / CLK_TCK;
}

/** Selected /proc/PID/status fields as numbers (kB for memory fields). */
function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => {
    const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { voluntaryCtxtSwitches: get('voluntary_ctxt_switches'), nonvoluntaryCtxtSwitches: get('nonvoluntary_ctxt_switches'), vmRssKb: get('VmRSS'), vmHwmKb: get('VmHWM'), threads: get('Threads') };
}

/**
 * voluntary_ctxt_switches of every thread of pid and of its live descendants
 * (/proc/PID/status alone counts the main thread only; Node has several threads).
 */
function treeCtxtSwitches(pid) {
  let n = 0;
  for (const p of [pid, ...descendants(pid)]) {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const m = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${p}/task/${t}/status`, 'utf8'));
        if (m) n += Number(m[1]);
      } catch {
        /* thread gone */
      }
    }
  }
  return n;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn every intervalMs until it returns a truthy value or timeoutMs passes (then throws with what). */
async function waitFor(fn, what, timeoutMs = 10000, intervalMs = 20) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const spread = (xs, digits = 2) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x));
  return s.length === 0 ? '–' : `${Math.min(...s).toFixed(digits)}–${Math.max(...s).toFixed(digits)}`;
};

/**
 * Writes the namespace wrapper: bind /proc/sys read-only (and optionally a fake
 * /proc/sys/kernel/random view, read-only too), prove a write is refused, exec.
 * Use as: unshare -m --propagation private sh WRAPPER FAKE_DIR|- cmd args…
 * (unshare without --fork execs, so the spawned pid is the command's pid).
 */
function writeNamespaceWrapper(dir) {
  const file = path.join(dir, 'ro-proc-sys.sh');
  fs.writeFileSync(
    file,
    [
      '#!/bin/sh',
      '# private mount namespace: /proc/sys read-only, optional fake kernel/random view',
      'set -e',
      'mount --bind /proc/sys /proc/sys',
      'mount -o remount,bind,ro /proc/sys',
      'if [ "$1" != "-" ]; then mount --bind "$1" /proc/sys/kernel/random; mount -o remount,bind,ro /proc/sys/kernel/random; fi',
      'shift',
      'if (echo 256 2>/dev/null >/proc/sys/kernel/random/write_wakeup_threshold) 2>/dev/null; then echo "ro-proc-sys: /proc/sys is writable, refusing" >&2; exit 70; fi',
      'exec "$@"',
      '',
    ].join('\n'),
  );
  return file;
}

/** Spawns cmd inside the read-only-/proc/sys namespace; the child's pid is cmd's pid. */
function spawnReadOnlySys(wrapper, fakeRandomDir, cmd, args, opts = {}) {
  return spawn('unshare', ['-m', '--propagation', 'private', 'sh', wrapper, fakeRandomDir || '-', cmd, ...args], opts);
}

/** Sends SIGTERM and waits for exit (SIGKILL after graceMs). */
async function stop(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

function readWakeupThreshold() {
  return fs.readFileSync('/proc/sys/kernel/random/write_wakeup_threshold', 'utf8').trim();
}

module.exports = { CLK_TCK, statFields, descendants, treeCpuSeconds, procStatus, treeCtxtSwitches, sleep, waitFor, median, spread, writeNamespaceWrapper, spawnReadOnlySys, stop, readWakeupThreshold };
