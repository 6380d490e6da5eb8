// The RHEL 7 units (systemd/el7/) against the parsers of the releases they ship
// for: systemd 208 (upstream v208 and Red Hat's rhel-7.0 branch) and 219 (v219,
// rhel-7.9). Each unit is reduced as that release would load it
// (test/service/legacy-systemd.ts: its directive table, exec prefixes, syscall
// filter mode, ProtectSystem= values); the test fails if an el7 unit would lose
// a directive it relies on or get an allow-list filter, and shows on the modern
// units that the reduction does find such losses. The reduced el7 units are then
// started by this machine's real systemd 252 as PID 1 of a throwaway container
// (test/service/systemd-ns.sh; PID 1 of the host is not systemd): they must
// start, write their state and read /dev/hwrng. `systemd-analyze security
// --offline` rates the 219 reading of each el7 unit (with its drop-in) at 5.0 or
// lower; the modern units keep their 2.0 in systemd-units.test.ts.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasHwrng, isRoot, ROOT, skipReason, which } from '../helpers/env';
import { installIntoTempRoot, parseExposure, run, tempDir } from './install-root';
import { BASE, directiveTable, LEGACY_TOOLS, Line, reduce, Release, RELEASES, SYSCALL_MAX_208, syscallNumbers, tableFile, unitText } from './legacy-systemd';

const EL7 = path.join(ROOT, 'systemd', 'el7');
const MODERN = path.join(ROOT, 'systemd');
const MAX_EXPOSURE_EL7 = 5.0;
const UNITS = ['vrngd.service', 'vrngd-seed.service'] as const;
type UnitName = (typeof UNITS)[number];

const read = (f: string): string => fs.readFileSync(f, 'utf8');
const el7Main = (u: UnitName): string => read(path.join(EL7, u));
const el7DropIn = (u: UnitName): string => read(path.join(EL7, `${u}.d`, '50-syscall-filter.conf'));
/** What a release reads for an el7 unit: the drop-in goes in with systemd >= 219 only. */
const el7Texts = (u: UnitName, r: Release): string[] => (BASE[r] >= 219 ? [el7Main(u), el7DropIn(u)] : [el7Main(u)]);

const noTables = skipReason([[RELEASES.every((r) => fs.existsSync(tableFile(r))), `the systemd directive tables are missing from ${LEGACY_TOOLS}`]]);

/** Keys that must survive in every release, per unit: the ones the unit relies on. */
const RELIED: Record<UnitName, string[]> = {
  'vrngd.service': ['Type', 'NotifyAccess', 'ExecStart', 'ExecReload', 'Restart', 'WatchdogSec', 'Environment', 'EnvironmentFile', 'User', 'CapabilityBoundingSet', 'NoNewPrivileges', 'SecureBits', 'DevicePolicy', 'DeviceAllow', 'ReadOnlyDirectories', 'ReadWriteDirectories', 'InaccessibleDirectories', 'PrivateTmp', 'PrivateNetwork', 'UMask', 'WantedBy'],
  'vrngd-seed.service': ['Type', 'DefaultDependencies', 'Before', 'After', 'RequiresMountsFor', 'PermissionsStartOnly', 'ExecStartPre', 'ExecStart', 'SuccessExitStatus', 'TimeoutStartSec', 'Environment', 'User', 'CapabilityBoundingSet', 'NoNewPrivileges', 'SecureBits', 'DevicePolicy', 'DeviceAllow', 'ReadOnlyDirectories', 'ReadWriteDirectories', 'InaccessibleDirectories', 'PrivateNetwork', 'UMask', 'WantedBy'],
};
/** What 208 may drop, each backed by a directive 208 does know (or, for the last two, harmless to lose). */
const DROPPED_BY_208 = ['ProtectHome', 'ProtectSystem', 'RestrictAddressFamilies', 'SystemCallArchitectures'];

const values = (lines: Line[], key: string): string[] => lines.filter((l) => l.key === key).map((l) => l.value);

describe.skipIf(noTables !== null)('the directive tables of 208, 219 and RHEL 7.0/7.9', () => {
  it('expand to the known directive sets (m4 macros, HAVE_SECCOMP)', () => {
    const t208 = directiveTable('v208');
    const t219 = directiveTable('v219');
    // spot checks against the sources: ProtectSystem= and RuntimeDirectory= came after 208
    expect(t208.get('Service.ExecStartPre')).toBe('config_parse_exec');
    expect(t208.get('Service.SystemCallFilter')).toBe('config_parse_syscall_filter');
    expect(t208.has('Service.ProtectSystem')).toBe(false);
    expect(t208.has('Service.RuntimeDirectory')).toBe(false);
    expect(t219.get('Service.ProtectSystem')).toBe('config_parse_protect_system');
    expect(t219.get('Service.SystemCallErrorNumber')).toBe('config_parse_syscall_errno');
    expect(t219.has('Service.MemoryDenyWriteExecute')).toBe(false);
    expect(t219.has('Service.StateDirectory')).toBe(false);
    expect(t219.has('Socket.ExecStartPre')).toBe(true); // the macro is expanded for every exec section
    expect(directiveTable('rhel-7.9').has('Service.AmbientCapabilities')).toBe(true); // a Red Hat backport
    expect(t208.size).toBeGreaterThan(250);
    expect(t219.size).toBeGreaterThan(t208.size);
  });
});

describe.skipIf(noTables !== null)('each el7 unit as its releases read it', () => {
  it.each(RELEASES.flatMap((r) => UNITS.map((u) => [u, r] as [UnitName, Release])))('%s under %s keeps every directive it relies on, and no allow-list', (unit, release) => {
    const r = reduce(el7Texts(unit, release), release);
    process.stderr.write(`el7 ${unit} under ${release}: dropped ${r.dropped.map((d) => d.key).join(' ') || 'nothing'}\n`);
    for (const key of RELIED[unit]) expect(values(r.kept, key).length, `${key} kept by ${release}`).toBeGreaterThan(0);
    const droppedKeys = [...new Set(r.dropped.map((d) => d.key))].sort();
    if (BASE[release] >= 219) expect(droppedKeys).toEqual([]);
    else expect(droppedKeys).toEqual(DROPPED_BY_208);
    // no exec line lost, whatever its prefix
    expect(r.dropped.filter((d) => d.key.startsWith('Exec'))).toEqual([]);
    if (BASE[release] >= 219) {
      expect(r.filter?.mode).toBe('deny');
      expect(r.filter?.dropped).toEqual([]);
      expect(r.filter?.names).toEqual(expect.arrayContaining(['mount', 'init_module', 'finit_module', 'kexec_load', 'ptrace', 'reboot', 'swapon']));
      expect(values(r.kept, 'SystemCallErrorNumber')).toEqual(['EPERM']);
    } else {
      // 208 compiles every filter as an allow-list: the el7 unit gives it none
      expect(r.filter).toBeNull();
    }
  });

  it('208 gets the ProtectSystem=full / ProtectHome=yes paths from ReadOnly/InaccessibleDirectories', () => {
    for (const unit of UNITS) {
      const r = reduce(el7Texts(unit, 'v208'), 'v208');
      const ro = values(r.kept, 'ReadOnlyDirectories').join(' ').split(/\s+/);
      expect(ro).toEqual(expect.arrayContaining(['/usr', '/etc', '-/boot']));
      const gone = values(r.kept, 'InaccessibleDirectories').join(' ').split(/\s+/);
      expect(gone).toEqual(expect.arrayContaining(['-/home', '-/root', '-/run/user']));
      // 208 accepts "-" (ignore missing) for ReadOnly/Inaccessible only, not for ReadWrite
      expect(values(r.kept, 'ReadWriteDirectories').join(' ')).not.toMatch(/(^|\s)-/);
    }
  });

  it('the tmpfiles.d entries create exactly the ReadWriteDirectories the el7 units need', () => {
    const tmp = read(path.join(EL7, 'vrngd.tmpfiles'))
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/\s+/));
    const dirs = tmp.filter((f) => f[0] === 'd').map((f) => f[1]);
    const rw = UNITS.flatMap((u) => values(reduce([el7Main(u)], 'v208').kept, 'ReadWriteDirectories').join(' ').split(/\s+/));
    expect([...new Set(rw)].sort()).toEqual([...dirs].sort());
    expect(tmp.find((f) => f[1] === '/var/lib/vrngd')?.[2]).toBe('0700');
  });

  it('the check can fail: the modern units lose their exec line, filesystem protection and filter mode', () => {
    const seed = reduce([read(path.join(MODERN, 'vrngd-seed.service'))], 'v219');
    expect(seed.dropped.find((d) => d.key === 'ExecStartPre')?.why).toMatch(/not absolute: \+\/sbin\/modprobe/);
    expect(seed.dropped.find((d) => d.key === 'ProtectSystem')?.why).toMatch(/protect system/);
    expect(seed.dropped.map((d) => d.key)).toEqual(expect.arrayContaining(['ExecCondition', 'MemoryDenyWriteExecute', 'ProtectKernelTunables']));
    // SystemCallFilter=@system-service: an allow-list of five calls, the group dropped
    expect(seed.filter?.mode).toBe('allow');
    expect(seed.filter?.dropped).toContain('@system-service');
    expect(seed.filter?.names.sort()).toEqual(['execve', 'exit', 'exit_group', 'rt_sigreturn', 'sigreturn']);
    const main208 = reduce([read(path.join(MODERN, 'vrngd.service'))], 'v208');
    expect(main208.dropped.map((d) => d.key)).toEqual(expect.arrayContaining(['RuntimeDirectory', 'ProtectSystem', 'SystemCallErrorNumber']));
  });
});

/** The el7 text of a unit as a release reads it, in one file (drop-in merged), for analyze and systemd. */
function reducedText(unit: UnitName, release: Release, omit: (l: Line) => boolean = () => false): string {
  return unitText(reduce(el7Texts(unit, release), release).kept, omit);
}

const analyze = which('systemd-analyze');
describe.skipIf(noTables !== null || analyze === null)('systemd-analyze security of the el7 units', () => {
  const dir = tempDir('vrngd-el7-analyze-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const exposure = (unit: UnitName, text: string): number | null => {
    fs.writeFileSync(path.join(dir, unit), text);
    const r = run('systemd-analyze', ['security', '--offline=true', unit], { cwd: dir });
    return parseExposure(r.stdout + r.stderr);
  };

  it.each(UNITS.map((u) => [u]))('%s as 219 reads it is rated 5.0 or lower', (unit) => {
    const e219 = exposure(unit, reducedText(unit, 'v219'));
    const e208 = exposure(unit, reducedText(unit, 'v208'));
    process.stderr.write(`exposure el7 ${unit}: 219 (with the filter drop-in) ${e219}, 208 reading ${e208}\n`);
    expect(e219).not.toBeNull();
    expect(e219 as number).toBeLessThanOrEqual(MAX_EXPOSURE_EL7);
    // the rating sees ProtectSystem= and the filter only, so 208's reading rates worse
    expect(e208 as number).toBeGreaterThan(e219 as number);
  });
});

// The 208 filter, applied for real with libseccomp as 208's apply_seccomp builds
// it: allow exactly the calls 208 knows (up to SYSCALL_MAX_208) minus the denied
// ones, kill everything else. This is why the deny-list lives in a 219-only drop-in.
const FILTER_208 = `
import os, sys, seccomp
f = seccomp.SyscallFilter(defaction=seccomp.KILL)
for name in sys.argv[1].split(','):
    f.add_rule(seccomp.ALLOW, name)
f.load()
os.execv(sys.argv[2], sys.argv[2:])
`;
describe.skipIf(noTables !== null)('why the el7 units carry no SystemCallFilter= for 208', () => {
  const nr = syscallNumbers();
  const py = run('/usr/bin/python3', ['-c', 'import seccomp']).status === 0 ? '/usr/bin/python3' : null;
  const skip = skipReason([
    [nr !== null, 'kernel headers (linux-libc-dev) missing'],
    [py !== null, 'python3-seccomp missing (scripts/dev/setup-deps.sh installs it)'],
  ]);
  it.skipIf(skip !== null)("the drop-in's deny-list, compiled the 208 way, kills node; the 219 way, it runs", () => {
    const nums = nr as Map<string, number>;
    const r208 = reduce([el7Main('vrngd.service'), el7DropIn('vrngd.service')], 'v208', undefined, (n) => (nums.get(n) ?? Infinity) <= SYSCALL_MAX_208);
    expect(r208.filter?.mode).toBe('deny');
    const allowed = [...nums].filter(([n, i]) => i <= SYSCALL_MAX_208 && !(r208.filter as { names: string[] }).names.includes(n)).map(([n]) => n);
    const probe = ['--jitless', '-e', 'console.log("ran", require("crypto").randomBytes(4).length, require("fs").statSync("/").isDirectory())'];
    const killed = spawnSync(py as string, ['-c', FILTER_208, allowed.join(','), process.execPath, ...probe], { encoding: 'utf8' });
    expect(killed.signal ?? '').toBe('SIGSYS');
    // the same names with everything newer allowed (219's deny-list semantics) run
    const newer = [...nums].filter(([, i]) => i > SYSCALL_MAX_208).map(([n]) => n);
    const ok = spawnSync(py as string, ['-c', FILTER_208, [...allowed, ...newer].join(','), process.execPath, ...probe], { encoding: 'utf8' });
    expect(ok.stdout).toMatch(/^ran 4 true/);
  });
});

// ---- the reduced el7 units under the real systemd ----

const nsScript = path.join(__dirname, 'systemd-ns.sh');
const noSystemd = skipReason([
  [noTables === null, 'no directive tables'],
  [isRoot, 'the container needs root'],
  [fs.existsSync('/lib/systemd/systemd'), 'systemd not installed'],
  [which('unshare') !== null && which('script') !== null && which('setpriv') !== null, 'util-linux unshare/script/setpriv missing'],
  [fs.existsSync('/sys/fs/cgroup/systemd') && fs.existsSync('/sys/fs/cgroup/devices'), 'no cgroup v1 name=systemd and devices hierarchies to root the container at'],
  [hasHwrng, 'no readable /dev/hwrng'],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd.node')), 'addon not built (npm ci)'],
]);

/** Test-only helper units: tmpfiles setup from the el7 vrngd.tmpfiles, the targets, the report. */
function helperUnits(dir: string, out: string): void {
  const w = (name: string, text: string): void => fs.writeFileSync(path.join(dir, name), text);
  w('systemd-tmpfiles-setup.service', `[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/systemd-tmpfiles --create ${path.join(EL7, 'vrngd.tmpfiles')}\n`);
  w('sysinit.target', '[Unit]\nDefaultDependencies=no\nWants=systemd-tmpfiles-setup.service\nAfter=systemd-tmpfiles-setup.service\n');
  w('basic.target', '[Unit]\nDefaultDependencies=no\nRequires=sysinit.target\nAfter=sysinit.target\n');
  w('vrngd-test.target', '[Unit]\nDefaultDependencies=no\nWants=sysinit.target vrngd-seed.service vrngd.service vrngd-test-report.service\n');
  // waits (up to 20 s) for the daemon's state file to show credited bits, then reports
  const report = [
    `o=${out}/report`,
    'for i in $(seq 1 100); do grep -Eq \'"bitsAsked": *[1-9]\' /run/vrngd/state.json 2>/dev/null && break; sleep 0.2; done',
    'for u in vrngd-seed.service vrngd.service; do echo "UNIT $u $(systemctl show -p ActiveState -p SubState -p Result -p ExecMainStatus $u | tr \'\\n\' \' \')"; done > $o.tmp',
    'echo "SEED $(stat -c \'%a %s\' /var/lib/vrngd/seed 2>&1)" >> $o.tmp',
    'echo "STATE $(tr -d \'\\n\' < /run/vrngd/state.json 2>&1)" >> $o.tmp',
    'echo END >> $o.tmp',
    'mv $o.tmp $o',
  ].join('\n');
  w('report.sh', `${report}\n`);
  w('vrngd-test-report.service', `[Unit]\nDefaultDependencies=no\nAfter=vrngd-seed.service vrngd.service\n[Service]\nType=oneshot\nExecStart=/bin/sh ${path.join(dir, 'report.sh')}\n`);
}

describe.skipIf(noSystemd !== null)('the reduced el7 units started by the real systemd (container)', () => {
  let root = '';
  beforeAll(() => {
    root = installIntoTempRoot();
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it.each([['v208' as Release], ['v219' as Release]])('as %s reads them: the seed unit seeds from /dev/hwrng and writes the seed file; vrngd.service gets ready and credits', async (release) => {
    const work = tempDir(`vrngd-el7-${release}-`);
    const units = path.join(work, 'units');
    const out = path.join(work, 'out');
    fs.mkdirSync(units);
    fs.mkdirSync(out);
    // the container is one: the only line the harness takes out
    const noVirtCondition = (l: Line): boolean => l.key === 'ConditionVirtualization';
    for (const u of UNITS) fs.writeFileSync(path.join(units, u), reducedText(u, release, noVirtCondition));
    // what /etc/sysconfig/vrngd would say: feed /dev/hwrng although this kernel's
    // hwrng thread reads it too, and reseed every second so bits get credited now
    fs.mkdirSync(path.join(units, 'vrngd.service.d'));
    fs.writeFileSync(path.join(units, 'vrngd.service.d', 'test.conf'), '[Service]\nEnvironment="VRNGD_ARGS=--compete -R 1 --stats off"\n');
    helperUnits(units, out);
    const started = Date.now();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn('bash', [nsScript, units, root, out, '60'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code: number | null) => resolve({ code, stderr }));
    });
    const console_ = fs.existsSync(path.join(out, 'console.log')) ? read(path.join(out, 'console.log')).replace(/\r/g, '') : '';
    const report = fs.existsSync(path.join(out, 'report')) ? read(path.join(out, 'report')) : '';
    process.stderr.write(`el7 ${release} container: exit ${r.code} after ${Date.now() - started} ms\n${report}`);
    expect(r.code, `${r.stderr}\n${console_}`).toBe(0);
    const unitLine = (u: string): string => report.split('\n').find((l) => l.startsWith(`UNIT ${u} `)) ?? '';
    expect(unitLine('vrngd-seed.service')).toMatch(/Result=success/);
    expect(unitLine('vrngd-seed.service')).toMatch(/ExecMainStatus=0 /);
    expect(unitLine('vrngd.service')).toMatch(/ActiveState=active/);
    expect(unitLine('vrngd.service')).toMatch(/SubState=running/);
    // the seed: read the device, credited, rewrote the seed file (0600, UMask=0077)
    expect(console_).toMatch(/vrngd seed: seeded: read \d+ bytes from \/dev\/hwrng, credited \d+ bits \([1-9]\d* asked\)/);
    expect(report).toMatch(/^SEED 600 [1-9]\d*$/m);
    // the daemon: its state file in /run/vrngd (ReadWriteDirectories, from tmpfiles) shows credited bits
    const state = JSON.parse((/^STATE (.*)$/m.exec(report)?.[1] ?? 'null') as string) as { bitsAsked?: number; sources?: Array<{ path: string; bytesRead: number }> } | null;
    expect(state?.bitsAsked ?? 0).toBeGreaterThan(0); // asked: this host's crng is ready, so its count no longer rises
    expect(state?.sources?.find((s) => s.path === '/dev/hwrng')?.bytesRead ?? 0).toBeGreaterThan(0);
    expect(console_).not.toMatch(/vrngd[^\n]*(Failed|status=2\d\d\/|SIGSYS)/);
    fs.rmSync(work, { recursive: true, force: true });
  }, 120000);
});
