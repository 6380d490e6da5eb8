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

const NOTIFY_PY = `
import os, socket, subprocess, sys, time
path, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(timeout)
env = dict(os.environ, NOTIFY_SOCKET=path)
t0 = time.monotonic()
p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready = None
try:
    while ready is None:
        msg = s.recv(4096)
        if b'READY=1' in msg.split(b'\\n'):
            ready = time.monotonic() - t0
finally:
    p.terminate()
    p.wait()
print('ready_ms %.3f' % (ready * 1000) if ready is not None else 'ready_ms none')
`;

/** Runs cmd under strace until its first RNDADDENTROPY; ms from the execve of `binary` to it. */
async function firstInjectionMs(ctx, tag, binary, argv) {
  const out = path.join(ctx.tmpDir, `startup-${tag}.strace`);
  fs.rmSync(out, { force: true });
  const child = spawn('strace', ['-f', '-ttt', '-e', 'trace=execve,ioctl', '-o', out, ...argv], { stdio: 'ignore' });
  const find = () => {
    let text = '';
    try {
      text = fs.readFileSync(out, 'utf8');
    } catch {
      return null;
    }
    const lines = text.split('\n');
    const exec = lines.find((l) => l.includes('execve(') && l.includes(`"${binary}"`) && / = 0$/.test(l));
    const inj = lines.find((l) => l.includes('RNDADDENTROPY') && / = 0$/.test(l));
    if (!exec || !inj) return null;
    const ts = (l) => Number(/^\d+\s+(\d+\.\d+)/.exec(l)[1]);
    return (ts(inj) - ts(exec)) * 1000;
  };
  try {
    return await P.waitFor(find, `${tag}'s first RNDADDENTROPY`, 20000, 20);
  } finally {
    await P.stop(child);
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
    for (let i = 0; i < ctx.runs; i++) {
      ctx.log(`startup: run ${i + 1}/${ctx.runs}`);
      const sock = path.join(ctx.tmpDir, `notify-${i}.sock`);
      const r = spawnSync(python3, [py, sock, '20', process.execPath, ctx.cli, 'run', '-f', '--state-file', stateFile], { encoding: 'utf8', timeout: 30000 });
      const m = /ready_ms ([\d.]+)/.exec(r.stdout || '');
      if (!m) throw new Error(`no READY=1 from vrngd run: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}`);
      s.ready.push(Number(m[1]));
      fs.rmSync(sock, { force: true });
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
        notes: `median of ${ctx.runs}; spread ${P.spread(s.ready, 0)} vs ${P.spread(s.rInject, 0)} ms; READY=1 via a NOTIFY_SOCKET datagram (python3 receiver, no strace); rngd 5 has no sd_notify, its figure is under strace -f`,
      },
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
