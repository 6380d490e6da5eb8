// Bench suite: startup to ready. vrngd: exec → READY=1 on a NOTIFY_SOCKET datagram
// socket (a python3 receiver starts the daemon and takes both timestamps on
// CLOCK_MONOTONIC), and exec → first RNDADDENTROPY (strace -ttt, --compete so it
// reads /dev/hwrng beside the kernel's thread). rngd 5 has no sd_notify: exec →
// first RNDADDENTROPY under the same strace, in a namespace with /proc/sys read-only.
// Both read /dev/hwrng only (rngd --no-drng=1 --no-tpm=1; rdrand is off in vrngd).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const P = require('../lib/daemon-probe');

// With KILL_AT_READY=1 in its environment, the receiver SIGKILLs the daemon at READY=1
// and prints its CPU time up to then (wait4's rusage, user + sys of the daemon process:
// less sensitive to other load than the wall time; the kill itself adds < 1 ms).
const NOTIFY_PY = `
import os, socket, subprocess, sys, time, signal
path, timeout, errfile, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
kill_at_ready = os.environ.pop('KILL_AT_READY', '') == '1'
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.05)
env = dict(os.environ, NOTIFY_SOCKET=path)
err = open(errfile, 'wb')
t0 = time.monotonic()
p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
ready = None
try:
    while ready is None and p.poll() is None and time.monotonic() - t0 < timeout:
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        if b'READY=1' in msg.split(b'\\n'):
            ready = time.monotonic() - t0
            if kill_at_ready:
                p.send_signal(signal.SIGKILL)
                _, _, ru = os.wait4(p.pid, 0)
                p.returncode = -9
                print('cpu_ms %.3f' % ((ru.ru_utime + ru.ru_stime) * 1000))
finally:
    rc = p.poll()
    if rc is None:
        p.terminate()
        p.wait()
if ready is not None:
    print('ready_ms %.3f' % (ready * 1000))
else:
    print('ready_ms none exit=%s' % rc)
`;

// CPU time (user + sys, wait4's rusage) of one command run to its end: the anchor for
// the CPU-to-READY rows is bare `node -e 0` on the same runtime.
const CPU_PY = `
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
print('cpu_ms %.3f status %d' % ((ru.ru_utime + ru.ru_stime) * 1000, status))
`;

/**
 * Runs argv under strace until the first RNDADDENTROPY; ms from the execve of
 * `binary` to it. Stops the traced program itself (SIGTERM to its pid, SIGKILL to
 * every traced pid after 5 s): SIGTERM to strace would only detach and leave it running.
 */
async function firstInjectionMs(ctx, tag, binary, argv) {
  const out = path.join(ctx.tmpDir, `startup-${tag}.strace`);
  fs.rmSync(out, { force: true });
  const child = spawn('strace', ['-f', '-ttt', '-e', 'trace=execve,ioctl', '-o', out, ...argv], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const lines = () => {
    try {
      return fs.readFileSync(out, 'utf8').split('\n');
    } catch {
      return [];
    }
  };
  const execLine = (ls) => ls.find((l) => l.includes('execve(') && l.includes(`"${binary}"`) && / = 0$/.test(l));
  const find = () => {
    const ls = lines();
    const exec = execLine(ls);
    const inj = ls.find((l) => l.includes('RNDADDENTROPY') && / = 0$/.test(l));
    if (!exec || !inj) return null;
    const ts = (l) => Number(/^\d+\s+(\d+\.\d+)/.exec(l)[1]);
    return (ts(inj) - ts(exec)) * 1000;
  };
  try {
    return await P.waitFor(find, `${tag}'s first RNDADDENTROPY`, 20000, 20);
  } finally {
    const ls = lines();
    const exec = execLine(ls);
    const pids = [...new Set(ls.map((l) => Number(/^(\d+)\s/.exec(l)?.[1])).filter((n) => n > 0))];
    const signal = (pid, sig) => {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    };
    if (exec) signal(Number(/^(\d+)/.exec(exec)[1]), 'SIGTERM');
    else pids.forEach((pid) => signal(pid, 'SIGTERM'));
    const t = setTimeout(() => {
      pids.forEach((pid) => signal(pid, 'SIGKILL'));
      child.kill('SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(t);
  }
}

module.exports = {
  name: 'startup',
  async run(ctx) {
    const rngd = ctx.ensureBinary('rngd', 'rng-tools5');
    if (!rngd) throw new Error('rngd missing and rng-tools5 could not be installed (not root?)');
    if (!ctx.ensureBinary('strace', 'strace')) throw new Error('strace missing');
    if (!ctx.ensureBinary('python3', 'python3')) throw new Error('python3 missing (the NOTIFY_SOCKET receiver)');
    const python3 = spawnSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
    const wrapper = P.writeNamespaceWrapper(ctx.tmpDir);
    const thresholdBefore = P.readWakeupThreshold();
    const py = path.join(ctx.tmpDir, 'notify-receiver.py');
    fs.writeFileSync(py, NOTIFY_PY);
    const stateFile = path.join(ctx.tmpDir, 'startup-state.json');
    const s = { ready: [], vInject: [], rInject: [] };
    // exec -> READY=1 on the other runtimes vrngd ships (Node 16: dist/, Node 10: the bundle)
    const others = ctx.runtimes.slice(1);
    let bundle = null;
    if (others.some((r) => !r.dist)) {
      const dir = path.join(ctx.tmpDir, 'startup-bundle');
      const b = spawnSync(process.execPath, [path.join(ctx.root, 'scripts', 'dev', 'bundle.js'), dir], { encoding: 'utf8' });
      bundle = b.status === 0 ? path.join(dir, 'vrngd.js') : null;
    }
    const readyOn = {};
    const cpuOn = {};
    const cpuPy = path.join(ctx.tmpDir, 'cpu-of.py');
    fs.writeFileSync(cpuPy, CPU_PY);
    for (let i = 0; i < ctx.runs; i++) {
      ctx.log(`startup: run ${i + 1}/${ctx.runs}`);
      const sock = path.join(ctx.tmpDir, `notify-${i}.sock`);
      const errFile = path.join(ctx.tmpDir, `startup-vrngd-${i}.err`);
      const r = spawnSync(python3, [py, sock, '20', errFile, process.execPath, ctx.cli, 'run', '-f', '--state-file', stateFile], { encoding: 'utf8', timeout: 30000 });
      const m = /ready_ms ([\d.]+)/.exec(r.stdout || '');
      if (!m) {
        let err = '';
        try {
          err = fs.readFileSync(errFile, 'utf8').trim().split('\n').pop();
        } catch {
          /* none */
        }
        throw new Error(`no READY=1 from vrngd run (${(r.stdout || r.stderr || '').trim().split('\n').pop()}): ${err}`);
      }
      s.ready.push(Number(m[1]));
      fs.rmSync(sock, { force: true });
      for (const rt of others) {
        const entry = rt.dist ? ctx.cli : bundle;
        if (!entry) continue;
        const sk = path.join(ctx.tmpDir, `notify-${i}-${rt.name.replace(/\W/g, '')}.sock`);
        const rr = spawnSync(python3, [py, sk, '20', errFile, rt.node, entry, 'run', '-f', '--state-file', stateFile], { encoding: 'utf8', timeout: 30000 });
        const mm = /ready_ms ([\d.]+)/.exec(rr.stdout || '');
        (readyOn[rt.name] = readyOn[rt.name] || []).push(mm ? Number(mm[1]) : NaN);
        fs.rmSync(sk, { force: true });
      }
      // CPU to READY=1 (the daemon SIGKILLed there) and bare node's CPU, on every runtime
      for (const rt of ctx.runtimes) {
        const entry = rt.dist ? ctx.cli : bundle;
        if (!entry) continue;
        const sk = path.join(ctx.tmpDir, `notify-cpu-${i}-${rt.name.replace(/\W/g, '')}.sock`);
        const rr = spawnSync(python3, [py, sk, '20', errFile, rt.node, entry, 'run', '-f', '--state-file', stateFile], { encoding: 'utf8', timeout: 30000, env: { ...process.env, KILL_AT_READY: '1' } });
        fs.rmSync(sk, { force: true });
        const c = /cpu_ms ([\d.]+)/.exec(rr.stdout || '');
        const b = /cpu_ms ([\d.]+) status 0/.exec(spawnSync(python3, [cpuPy, rt.node, '-e', '0'], { encoding: 'utf8' }).stdout || '');
        const into = (cpuOn[rt.name] = cpuOn[rt.name] || { ready: [], node: [], dist: rt.dist });
        into.ready.push(c ? Number(c[1]) : NaN);
        into.node.push(b ? Number(b[1]) : NaN);
      }
      s.vInject.push(await firstInjectionMs(ctx, `vrngd-${i}`, process.execPath, [process.execPath, ctx.cli, 'run', '-f', '-q', '--compete', '--state-file', stateFile]));
      s.rInject.push(
        await firstInjectionMs(ctx, `rngd-${i}`, rngd, ['unshare', '-m', '--propagation', 'private', 'sh', wrapper, '-', rngd, '-f', '--no-drng=1', '--no-tpm=1', '-r', '/dev/hwrng', '-p', path.join(ctx.tmpDir, 'startup-rngd.pid')]),
      );
    }
    if (P.readWakeupThreshold() !== thresholdBefore) throw new Error('write_wakeup_threshold changed during the run');
    const med = (k) => P.median(s[k]);
    return [
      {
        case: 'startup: exec → READY=1 (vrngd run -f) vs exec → first RNDADDENTROPY (rngd 5)',
        value: med('ready'),
        baseline: med('rInject'),
        unit: 'ms',
        ratio: med('ready') / med('rInject'),
        goal: "≤ rngd 5's (goal 4)",
        met: med('ready') <= med('rInject'),
        notes: `${process.version}; ${med('ready') <= med('rInject') ? '' : `missed by ${(med('ready') - med('rInject')).toFixed(0)} ms; `}median of ${ctx.runs}; spread ${P.spread(s.ready, 0)} vs ${P.spread(s.rInject, 0)} ms; READY=1 via a NOTIFY_SOCKET datagram (python3 receiver, no strace); rngd 5 has no sd_notify, its figure is under strace -f`,
      },
      ...Object.entries(readyOn).map(([name, xs]) => {
        const v = xs.some((x) => Number.isNaN(x)) ? null : P.median(xs);
        const rt = ctx.runtimes.find((r) => r.name === name);
        return {
          case: `startup: exec → READY=1 (vrngd run -f) on ${name} (${rt && rt.dist ? 'dist/' : 'the bundle'}) vs exec → first RNDADDENTROPY (rngd 5)`,
          value: v,
          baseline: med('rInject'),
          unit: 'ms',
          ratio: v === null ? null : v / med('rInject'),
          goal: "≤ rngd 5's (goal 4)",
          met: v === null ? null : v <= med('rInject'),
          notes: v === null ? 'no READY=1 on this runtime' : `${v <= med('rInject') ? '' : `missed by ${(v - med('rInject')).toFixed(0)} ms; `}median of ${xs.length}; spread ${P.spread(xs, 0)} ms`,
        };
      }),
      ...Object.entries(cpuOn).map(([name, o]) => {
        const bad = o.ready.some((x) => Number.isNaN(x)) || o.node.some((x) => Number.isNaN(x));
        const v = bad ? null : P.median(o.ready);
        const n = bad ? null : P.median(o.node);
        return {
          case: `startup: CPU time exec → READY=1 (vrngd run -f, user + sys) on ${name} (${o.dist ? 'dist/' : 'the bundle'}) vs bare \`node -e 0\` to its exit`,
          value: v,
          baseline: n,
          unit: 'CPU ms',
          ratio: v === null || !n ? null : v / n,
          notes: bad ? 'not measured (no READY=1 or no rusage)' : `median of ${o.ready.length}; spread ${P.spread(o.ready, 0)} vs ${P.spread(o.node, 0)} ms; vrngd's own start-up CPU ${(v - n).toFixed(0)} ms; the daemon is SIGKILLed at READY=1, CPU from wait4's rusage (less sensitive to other load than the wall rows)`,
        };
      }),
      {
        case: 'startup: exec → first RNDADDENTROPY, vrngd run -f --compete vs rngd 5, both from /dev/hwrng',
        value: med('vInject'),
        baseline: med('rInject'),
        unit: 'ms',
        ratio: med('vInject') / med('rInject'),
        notes: `both under strace -f -ttt -e trace=execve,ioctl; spread ${P.spread(s.vInject, 0)} vs ${P.spread(s.rInject, 0)} ms; vrngd first keeps one 2,500-B block as its repetition baseline (read, not credited)`,
      },
    ];
  },
};
