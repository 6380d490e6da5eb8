// Every unit in systemd/ against the real systemd tools: `systemd-analyze security`
// must rate it 2.0 or lower (rngd.service rates 9.6), `systemd-analyze verify` must
// be silent on the layout install.sh writes into a temporary root, the seccomp
// filter must allow every system call the real node + addon + dd reader makes
// (traced with strace), and node must run jitless under MemoryDenyWriteExecute
// (the kernel's PR_SET_MDWE, the same W^X rule).
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EX } from '../../src/cli/exit';
import { isRoot, ROOT, skipReason, which } from '../helpers/env';
import { installIntoTempRoot, parseExposure, run, tempDir, unitFiles, unitValues } from './install-root';

const MAX_EXPOSURE = 2.0;
const analyze = which('systemd-analyze');
const noAnalyze = skipReason([[analyze !== null, 'systemd-analyze not installed (apt-get install systemd)']]);
const FIXTURES = path.join(__dirname, 'fixtures');

function exposureOf(unitPath: string): number | null {
  const r = run('systemd-analyze', ['security', '--offline=true', unitPath], { cwd: path.dirname(unitPath) });
  return parseExposure(r.stdout + r.stderr);
}

describe('the unit files', () => {
  const main = fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8');

  it('vrngd.service is a notify service configured from /etc/sysconfig/vrngd', () => {
    expect(unitValues(main, 'Type')).toEqual(['notify']);
    expect(unitValues(main, 'EnvironmentFile')).toEqual(['-/etc/sysconfig/vrngd']);
    expect(unitValues(main, 'ExecStart')).toHaveLength(1);
    // one word: vrngd splits VRNGD_ARGS itself (--args), the same way as the SysV script
    expect(unitValues(main, 'ExecStart')[0]).toBe('/usr/sbin/vrngd run --foreground --args "${VRNGD_ARGS}"');
    // exactly the permanent failures vrngd returns (a list with a code it never returns is dead)
    expect(unitValues(main, 'RestartPreventExitStatus')).toEqual([[EX.USAGE, EX.NOINPUT, EX.UNAVAILABLE, EX.NOPERM].join(' ')]);
    expect(unitValues(main, 'Conflicts')).toContain('rngd.service');
    expect(unitValues(main, 'Restart')).toEqual(['on-failure']);
    expect(unitValues(main, 'ConditionVirtualization')).toEqual(['!container']);
    expect(unitValues(main, 'WatchdogSec')).toHaveLength(1);
    expect(unitValues(main, 'RuntimeDirectory')).toEqual(['vrngd']); // /run/vrngd/state.json
  });

  it('vrngd.service keeps only CAP_SYS_ADMIN and exactly the three devices', () => {
    expect(unitValues(main, 'CapabilityBoundingSet')).toEqual(['CAP_SYS_ADMIN']);
    expect(unitValues(main, 'DevicePolicy')).toEqual(['closed']);
    expect(unitValues(main, 'DeviceAllow').sort()).toEqual(['/dev/hwrng r', '/dev/random rw', '/dev/urandom rw']);
    expect(unitValues(main, 'ProtectSystem')).toEqual(['strict']);
    expect(unitValues(main, 'PrivateNetwork')).toEqual(['yes']);
    expect(unitValues(main, 'RestrictAddressFamilies')).toEqual(['AF_UNIX']);
  });

  it('MemoryDenyWriteExecute=yes goes with jitless node in every unit that sets it', () => {
    for (const unit of unitFiles()) {
      const text = fs.readFileSync(unit, 'utf8');
      if (!unitValues(text, 'MemoryDenyWriteExecute').includes('yes')) continue;
      const env = unitValues(text, 'Environment').join(' ');
      expect(env, path.basename(unit)).toMatch(/VRNGD_NODE_FLAGS=[^"]*--jitless/);
    }
  });
});

describe.skipIf(noAnalyze !== null)('systemd-analyze security', () => {
  it.each(unitFiles().map((f) => [path.basename(f), f]))('%s is rated 2.0 or lower', (_name, unit) => {
    const exposure = exposureOf(unit);
    process.stderr.write(`exposure ${path.basename(unit)}: ${exposure}\n`);
    expect(exposure).not.toBeNull();
    expect(exposure as number).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it("rates rngd's own unit (RHEL 9 text) far worse, so the comparison is real", () => {
    const dir = tempDir('vrngd-rngd-');
    const unit = path.join(dir, 'rngd.service');
    fs.copyFileSync(path.join(FIXTURES, 'rngd-rhel9.service'), unit);
    const rngd = exposureOf(unit);
    const vrngd = exposureOf(path.join(ROOT, 'systemd', 'vrngd.service'));
    process.stderr.write(`exposure rngd.service (RHEL 9): ${rngd}; vrngd.service: ${vrngd}\n`);
    expect(rngd).toBeGreaterThan(9);
    expect(vrngd as number).toBeLessThan((rngd as number) - 7);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** The executable paths a unit's Exec*= lines name (prefixes -+!@: stripped). */
function execPaths(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^Exec(Condition|Start|StartPre|StartPost|Reload|Stop|StopPost)=/.test(l))
    .map((l) => l.slice(l.indexOf('=') + 1).replace(/^[-+!@:]+/, '').split(/\s+/)[0] ?? '')
    .filter((p) => p.startsWith('/'));
}

describe.skipIf(noAnalyze !== null)('systemd-analyze verify on the installed layout', () => {
  let root = '';
  beforeAll(() => {
    root = installIntoTempRoot();
    // merged /usr like Debian 12 and RHEL 7+, the host's own units (targets, slices)
    // and the host's real binaries for Exec*= paths that are not vrngd's
    fs.mkdirSync(path.join(root, 'usr', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'usr', 'sbin'), { recursive: true });
    fs.symlinkSync('usr/bin', path.join(root, 'bin'));
    fs.symlinkSync('usr/sbin', path.join(root, 'sbin'));
    fs.mkdirSync(path.join(root, 'lib', 'systemd'), { recursive: true });
    execFileSync('cp', ['-a', '/lib/systemd/system', path.join(root, 'lib', 'systemd', 'system')]);
    for (const unit of unitFiles()) {
      for (const exe of execPaths(fs.readFileSync(unit, 'utf8'))) {
        const inRoot = path.join(root, exe);
        if (fs.existsSync(inRoot)) continue;
        expect(fs.existsSync(exe), `${exe} (named by ${path.basename(unit)}) exists on this host`).toBe(true);
        fs.copyFileSync(fs.realpathSync(exe), inRoot);
        fs.chmodSync(inRoot, 0o755);
      }
    }
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('install.sh put every unit in systemd/ into the root', () => {
    for (const unit of unitFiles()) {
      expect(fs.readFileSync(path.join(root, 'usr/lib/systemd/system', path.basename(unit)), 'utf8')).toBe(fs.readFileSync(unit, 'utf8'));
    }
  });

  it('is silent for every unit', () => {
    const names = unitFiles().map((f) => path.basename(f));
    const r = run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...names]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('does complain about a broken unit in the same root (the check can fail)', () => {
    const good = fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8');
    const broken = good.replace('ExecStart=/usr/sbin/vrngd', 'ExecStart=/usr/sbin/vrngd-missing').replace('Type=notify', 'Typ=notify');
    fs.writeFileSync(path.join(root, 'usr/lib/systemd/system/vrngd-broken.service'), broken);
    const r = run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, 'vrngd-broken.service']);
    expect(r.stdout + r.stderr).toMatch(/vrngd-missing/);
    expect(r.stdout + r.stderr).toMatch(/Unknown key.*'Typ'/);
    expect(r.status).not.toBe(0);
    fs.rmSync(path.join(root, 'usr/lib/systemd/system/vrngd-broken.service'));
  });
});

/** Every syscall in a systemd-analyze syscall-filter group, nested groups expanded. */
function expandGroup(group: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(group)) return out;
  seen.add(group);
  const r = run('systemd-analyze', ['syscall-filter', group]);
  for (const line of r.stdout.split('\n').slice(1)) {
    const name = line.trim();
    if (!name || name.startsWith('#')) continue;
    if (name.startsWith('@')) for (const s of expandGroup(name, seen)) out.add(s);
    else out.add(name);
  }
  return out;
}

/** The set a unit's SystemCallFilter= lines allow (one allow list, then ~ deny lists). */
function allowedSyscalls(text: string): Set<string> {
  const allowed = new Set<string>();
  for (const value of unitValues(text, 'SystemCallFilter')) {
    const deny = value.startsWith('~');
    for (const item of value.replace(/^~/, '').split(/\s+/).filter(Boolean)) {
      const names = item.startsWith('@') ? expandGroup(item) : new Set([item]);
      for (const n of names) {
        if (deny) allowed.delete(n);
        else allowed.add(n);
      }
    }
  }
  return allowed;
}

// What the daemon does, with the compiled modules (dist/): load the addon, ioctl and
// poll /dev/random on the thread pool, read through a `dd` child (the hwrng reader's
// design), log through winston, notify (to a missing socket: error path).
const WORKLOAD = `
const app = process.argv[2];
const fs = require('fs');
const { execFileSync } = require('child_process');
const b = require(app + '/native/binding.js').loadBinding();
const { createNotifier } = require(app + '/daemon/sd-notify.js');
const { createLogger } = require(app + '/log/logger.js');
const fd = fs.openSync('/dev/random', 'r+');
const bits = b.getEntropyCount(fd);
const bytes = execFileSync('dd', ['if=/dev/urandom', 'bs=64', 'count=1', 'status=none']);
let cap = 'ok';
try { b.addEntropy(fd, bytes, 0); } catch (e) { cap = e.code || String(e.message); } // mixed, 0 bits credited
const log = createLogger({ level: 'info', stream: process.stdout });
createNotifier({ NOTIFY_SOCKET: '/nonexistent/notify' }, undefined, () => {}).ready('x');
b.pollFd(fd, b.constants.POLLIN, 10).then((revents) => {
  log.info('workload ok ' + bytes.length + ' ' + (bits >= 0) + ' ' + (revents >= 0) + ' cap=' + cap);
  return log.close();
});
`;

// V8 (Node 20) probes memory protection keys with pkey_alloc and goes on without
// them when the call fails; @system-service does not include it.
const OPTIONAL_SYSCALLS = ['pkey_alloc'];

const strace = which('strace');
const python = which('python3');


describe.skipIf(noAnalyze !== null)('the seccomp filter against what node, the addon and dd really call', () => {
  const noStrace = skipReason([[strace !== null, 'strace not installed (scripts/dev/setup-deps.sh installs it)']]);
  let root = '';
  let script = '';
  beforeAll(() => {
    root = installIntoTempRoot();
    script = path.join(root, 'workload.js');
    fs.writeFileSync(script, WORKLOAD);
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(noStrace !== null).each(unitFiles().map((f) => [path.basename(f), f]))('%s allows every traced system call', (_name, unit) => {
    const allowed = allowedSyscalls(fs.readFileSync(unit, 'utf8'));
    expect(allowed.has('execve')).toBe(true);
    const out = path.join(root, 'strace.out');
    const app = path.join(ROOT, 'dist');
    const r = run('strace', ['-f', '-qq', '-o', out, process.execPath, '--jitless', '--no-expose-wasm', script, app]);
    expect(r.stdout).toMatch(/workload ok 64 true true/);
    const called = new Set<string>();
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const m = /^\d+\s+([a-z0-9_]+)\(/.exec(line);
      if (m?.[1]) called.add(m[1]);
    }
    expect(called.has('ioctl')).toBe(true);
    expect([...called].some((s) => s === 'execve')).toBe(true);
    // Refused calls fail with EPERM (SystemCallErrorNumber=); only those known to be
    // optional probes may appear, and the sandbox test below runs node with them refused.
    const refused = [...called].filter((s) => !allowed.has(s)).sort();
    expect(refused.filter((s) => !OPTIONAL_SYSCALLS.includes(s))).toEqual([]);
  });
});

// PR_SET_MDWE (Linux 6.3+): refuse writable+executable and exec-gaining mappings,
// the rule MemoryDenyWriteExecute=yes enforces with seccomp.
const MDWE = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(99)
os.execv(sys.argv[1], sys.argv[1:])
`;

/** VRNGD_NODE_FLAGS from a unit's Environment= lines. */
function nodeFlagsOf(text: string): string {
  for (const value of unitValues(text, 'Environment')) {
    const m = /^"?VRNGD_NODE_FLAGS=([^"]*)"?$/.exec(value);
    if (m) return m[1] ?? '';
  }
  return '';
}

describe('MemoryDenyWriteExecute with jitless node', () => {
  const mdweWorks = python !== null && run(python, ['-c', MDWE, '/bin/true']).status === 0;
  const noMdwe = skipReason([
    [python !== null, 'python3 not installed'],
    [mdweWorks, 'kernel has no PR_SET_MDWE (Linux < 6.3)'],
  ]);
  let root = '';
  beforeAll(() => {
    root = installIntoTempRoot();
    fs.writeFileSync(path.join(root, 'workload.js'), WORKLOAD);
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(noMdwe !== null)('the installed vrngd runs with the unit flags under W^X', () => {
    const flags = nodeFlagsOf(fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8'));
    expect(flags).toContain('--jitless');
    const env = { ...process.env, VRNGD_NODE_FLAGS: flags, VRNGD_NODE: process.execPath };
    const r = run(python as string, ['-c', MDWE, path.join(root, 'usr/sbin/vrngd'), '--help'], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Usage: vrngd/);
    expect(r.status).toBe(0);
  });

  const node16 = path.join(ROOT, '.cache', 'node16', 'package', 'bin', 'node');
  it.skipIf(noMdwe !== null || skipReason([[fs.existsSync(node16), 'Node 16 not fetched (scripts/dev/setup-node16.sh)']]) !== null)(
    'the installed vrngd runs on Node 16.20 with the unit flags under W^X',
    () => {
      const flags = nodeFlagsOf(fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8'));
      const env = { ...process.env, VRNGD_NODE_FLAGS: flags, VRNGD_NODE: node16 };
      const r = run(python as string, ['-c', MDWE, path.join(root, 'usr/sbin/vrngd'), 'status', '--json'], { env });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toHaveProperty('kernel');
      expect(r.status).toBe(0);
    },
  );

  it.skipIf(noMdwe !== null)('the addon, poll thread and dd reader work under W^X', () => {
    const app = path.join(ROOT, 'dist');
    const r = run(python as string, ['-c', MDWE, process.execPath, '--jitless', '--no-expose-wasm', path.join(root, 'workload.js'), app]);
    expect(r.stdout).toMatch(/workload ok 64 true true/);
    expect(r.status).toBe(0);
  });
});

// The unit's sandbox rebuilt outside systemd: its SystemCallFilter= set as a libseccomp
// filter (everything else fails with EPERM, as SystemCallErrorNumber=EPERM says), plus
// PR_SET_MDWE and no_new_privs, then exec. What runs here runs under the unit.
const SANDBOX = `
import ctypes, errno, os, sys
import seccomp
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for name in sys.argv[1].split(','):
    try:
        f.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError, OSError):
        pass  # not a system call on this architecture
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit(98)
libc.prctl(38, 1, 0, 0, 0)
f.load()
os.execv(sys.argv[2], sys.argv[2:])
`;

/** setpriv(1) arguments for a unit's CapabilityBoundingSet=, AmbientCapabilities= and SecureBits=. */
function privilegeArgs(text: string): string[] {
  const caps = (key: string): string[] =>
    unitValues(text, key)
      .join(' ')
      .split(/\s+/)
      .filter(Boolean)
      .map((c) => c.replace(/^CAP_/, '').toLowerCase());
  const args: string[] = [];
  const bounding = caps('CapabilityBoundingSet');
  if (bounding.length) args.push(`--bounding-set=-all,${bounding.map((c) => `+${c}`).join(',')}`);
  const ambient = caps('AmbientCapabilities');
  if (ambient.length) args.push(`--inh-caps=${ambient.map((c) => `+${c}`).join(',')}`, `--ambient-caps=${ambient.map((c) => `+${c}`).join(',')}`);
  const bits = unitValues(text, 'SecureBits').join(' ').split(/\s+/).filter(Boolean);
  if (bits.length) args.push(`--securebits=${bits.map((b) => `+${b.replace(/-/g, '_')}`).join(',')}`);
  return args;
}

/** The command line that runs argv under a unit's privileges, syscall filter and W^X. */
function sandboxed(py: string, text: string, argv: string[]): string[] {
  const allowed = [...allowedSyscalls(text)].join(',');
  return ['setpriv', ...privilegeArgs(text), '--', py, '-c', SANDBOX, allowed, ...argv];
}

function seccompPython(): string | null {
  for (const candidate of ['/usr/bin/python3', python]) {
    if (candidate && run(candidate, ['-c', 'import seccomp']).status === 0) return candidate;
  }
  return null;
}

describe.skipIf(noAnalyze !== null)('each unit\'s seccomp filter and W^X, applied for real', () => {
  const py = seccompPython();
  const mdweWorks = py !== null && run(py, ['-c', MDWE, '/bin/true']).status === 0;
  const noSandbox = skipReason([
    [isRoot, 'the unit sandbox test needs root (CAP_SYS_ADMIN, setpriv)'],
    [which('setpriv') !== null, 'setpriv not installed (util-linux)'],
    [py !== null, 'python3-seccomp not installed (scripts/dev/setup-deps.sh installs it)'],
    [mdweWorks, 'kernel has no PR_SET_MDWE (Linux < 6.3)'],
  ]);
  let root = '';
  beforeAll(() => {
    root = installIntoTempRoot();
    fs.writeFileSync(path.join(root, 'workload.js'), WORKLOAD);
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(noSandbox !== null).each(unitFiles().map((f) => [path.basename(f), f]))('%s: node, the addon and dd work inside it', (_name, unit) => {
    const text = fs.readFileSync(unit, 'utf8');
    const app = path.join(ROOT, 'dist');
    const flags = nodeFlagsOf(text).split(/\s+/).filter(Boolean);
    const [cmd, ...args] = sandboxed(py as string, text, [process.execPath, ...flags, path.join(root, 'workload.js'), app]);
    const r = run(cmd as string, args);
    expect(r.stderr).toBe('');
    // cap=ok: RNDADDENTROPY worked, so CAP_SYS_ADMIN survived the unit's capability settings
    expect(r.stdout).toMatch(/workload ok 64 true true cap=ok/);
    expect(r.status).toBe(0);
  });

  it.skipIf(noSandbox !== null).each(unitFiles().map((f) => [path.basename(f), f]))('%s: the installed launcher runs `vrngd status` inside it', (_name, unit) => {
    const text = fs.readFileSync(unit, 'utf8');
    const env = { ...process.env, VRNGD_NODE: process.execPath, VRNGD_NODE_FLAGS: nodeFlagsOf(text) };
    const [cmd, ...args] = sandboxed(py as string, text, [path.join(root, 'usr/sbin/vrngd'), 'status', '--json']);
    const r = run(cmd as string, args, { env });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toHaveProperty('kernel');
    expect(r.status).toBe(0);
  });

  it.skipIf(noSandbox !== null)('the filter really bites: a refused call fails with EPERM', () => {
    const allowed = [...allowedSyscalls(fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8'))].join(',');
    const probe = 'try { process.setuid(0); console.log("setuid allowed"); } catch (e) { console.log(e.code); }';
    const r = run(py as string, ['-c', SANDBOX, allowed, process.execPath, '--jitless', '--no-expose-wasm', '-e', probe]);
    expect(r.stdout.trim()).toBe('EPERM');
  });
});

// vrngd.service's daemon inside the unit's seccomp filter and W^X, as systemd would
// start it (Type=notify): READY=1 reaches a real NOTIFY_SOCKET, bytes written to its
// FIFO source are credited with RNDADDENTROPY from inside, SIGTERM brings
// STOPPING=1 and exit 0. The FIFO is the only source.
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('bound', flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

function runHelpListsRun(): boolean {
  const r = run(process.execPath, [path.join(ROOT, 'dist', 'cli', 'main.js'), 'run', '--help']);
  return r.status === 0 && /--foreground/.test(r.stdout);
}

describe.skipIf(noAnalyze !== null)('vrngd.service: the daemon starts, notifies and stops inside the sandbox', () => {
  const py = seccompPython();
  const mdweWorks = py !== null && run(py, ['-c', MDWE, '/bin/true']).status === 0;
  const noSandbox = skipReason([
    [isRoot, 'the unit sandbox test needs root (CAP_SYS_ADMIN, setpriv)'],
    [which('setpriv') !== null, 'setpriv not installed (util-linux)'],
    [py !== null, 'python3-seccomp not installed (scripts/dev/setup-deps.sh installs it)'],
    [mdweWorks, 'kernel has no PR_SET_MDWE (Linux < 6.3)'],
    [runHelpListsRun(), 'vrngd run not built yet (daemon issue)'],
  ]);
  let root = '';
  const children: ChildProcess[] = [];
  beforeAll(() => {
    if (noSandbox === null) root = installIntoTempRoot();
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(noSandbox !== null)('READY=1, watchdog pings, FIFO bytes credited, then STOPPING=1 and exit 0 on SIGTERM', async () => {
    const text = fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.service'), 'utf8');
    const sock = path.join(root, 'notify');
    const fifo = path.join(root, 'source.fifo');
    execFileSync('mkfifo', [fifo]);
    const receiver = spawn(py as string, ['-c', RECEIVER, sock]);
    children.push(receiver);
    const messages: string[] = [];
    let out = '';
    const waiters: Array<() => void> = [];
    receiver.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) if (l !== 'bound') messages.push(JSON.parse(l) as string);
      if (lines.includes('bound') || lines.length) for (const w of waiters.splice(0)) w();
    });
    const until = (cond: () => boolean, what: string, timeoutMs = 15000): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages)}`)), timeoutMs);
        const check = (): void => {
          if (cond()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    await until(() => fs.existsSync(sock), 'the receiver to bind');

    const env = { ...process.env, VRNGD_NODE: process.execPath, VRNGD_NODE_FLAGS: nodeFlagsOf(text), NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000' };
    // -R 1: on this modern kernel (crng ready) vrngd mixes and credits once a second
    const args = ['run', '--foreground', '-r', fifo, '-x', 'rdrand', '--state-file', path.join(root, 'state.json'), '--stats', 'off', '-R', '1'];
    const [cmd, ...rest] = sandboxed(py as string, text, [path.join(root, 'usr/sbin/vrngd'), ...args]);
    const daemon = spawn(cmd as string, rest, { env });
    children.push(daemon);
    let stderr = '';
    daemon.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));

    await until(() => messages.some((m) => m.startsWith('READY=1\n')), 'READY=1');
    const ready = messages.find((m) => m.startsWith('READY=1\n')) as string;
    expect(ready).toMatch(/\nSTATUS=.+/);
    expect(ready).toContain(`\nMAINPID=${daemon.pid}`);
    await until(() => messages.includes('WATCHDOG=1'), 'a watchdog ping (WATCHDOG_USEC=2 s)');

    // real bytes through the FIFO: read by the daemon's reader, FIPS-checked and credited
    // with RNDADDENTROPY from inside the sandbox (CAP_SYS_ADMIN kept, ioctl allowed)
    const writer = fs.createWriteStream(fifo);
    writer.write(crypto.randomBytes(10 * 2500));
    const stateFile = path.join(root, 'state.json');
    const creditedBits = (): number => {
      try {
        return (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { bitsAsked?: number }).bitsAsked ?? 0;
      } catch {
        return 0;
      }
    };
    // the daemon renames a fresh state.json into place after activity: wake on that
    await new Promise<void>((resolve, reject) => {
      const watcher = fs.watch(root, () => {
        if (creditedBits() > 0) done();
      });
      const timer = setTimeout(() => {
        watcher.close();
        reject(new Error(`no bits credited in ${stateFile} within 15 s: ${stderr}`));
      }, 15000);
      const done = (): void => {
        clearTimeout(timer);
        watcher.close();
        resolve();
      };
      if (creditedBits() > 0) done();
    });
    writer.destroy();

    daemon.kill('SIGTERM');
    const code = await exited;
    await until(() => messages.includes('STOPPING=1'), 'STOPPING=1', 5000);
    expect(stderr).not.toMatch(/Error|EPERM|Fatal/);
    expect(code).toBe(0);
  });
});
