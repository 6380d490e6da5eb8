// The RPMs (scripts/rpm/vrngd.spec) built for real with rpmbuild. The flavour
// for hosts with their own node: `rpm -qlp` lists the same file set install.sh
// installs with the RHEL layout, the sysconfig file is %config, the payload
// carries install.sh's files byte for byte, `rpm -i` into an empty root writes
// install.sh's tree and `rpm -e` removes it. The el6 and el7 RPMs: named
// vrngd-V-1.elN.x86_64.rpm, no Requires on node, their glibc floor and the rest
// declared, their init files, and each unpacked into an empty root passes the
// symbol-version test and runs its own bundle on its own runtime through its
// own launcher (`vrngd status --json`, `vrngd check`). The scriptlets of every
// flavour run in a private mount namespace with recording systemctl, chkconfig
// and init script (first install: enable both, start; upgrade: restart; erase:
// stop and disable).
import { execFile, execFileSync, spawnSync } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedRandom } from '../helpers/fips-data';
import { isRoot, ROOT, skipReason, which } from '../helpers/env';
import { installIntoTempRoot, listTree, manifest, run, tempDir } from './install-root';
import { RELEASES, aboveFloor, elfFilesUnder } from '../packaging/elf';

const execFileAsync = promisify(execFile);
const noRpm = skipReason([
  [which('rpmbuild') !== null && which('rpm') !== null, 'rpmbuild not installed (scripts/dev/setup-deps.sh installs rpm)'],
]);

// A scriptlet, run by sh as rpm would ($1 = 1: first install, 2: upgrade, 0:
// erase), with systemctl, chkconfig and the init script replaced by recorders and
// the unit and init paths pointed into a temporary directory (present or not, as
// in each flavour's payload); /run is a private tmpfs so the systemd case can be
// made true or false without touching this host.
function runScriptlet(rpmFile: string, kind: 'postinstall' | 'preuninstall' | 'postuninstall', arg: string, systemdRunning: boolean): string[] {
  const scripts = execFileSync('rpm', ['-qp', '--scripts', rpmFile], { encoding: 'utf8' });
  const m = new RegExp(`^${kind} scriptlet \\(using /bin/sh\\):\\n([\\s\\S]*?)(?=^\\w+ scriptlet|$(?![\\s\\S]))`, 'm').exec(scripts);
  expect(m, `${kind} scriptlet present`).not.toBeNull();
  const files = execFileSync('rpm', ['-qlp', rpmFile], { encoding: 'utf8' });
  const dir = tempDir('vrngd-scriptlet-');
  try {
    fs.mkdirSync(path.join(dir, 'unit'));
    fs.mkdirSync(path.join(dir, 'init.d'));
    if (files.includes('/usr/lib/systemd/system/vrngd.service\n')) fs.writeFileSync(path.join(dir, 'unit', 'vrngd.service'), '');
    if (files.includes('/etc/rc.d/init.d/vrngd\n')) fs.writeFileSync(path.join(dir, 'init.d', 'vrngd'), `#!/bin/sh\necho "init.d/vrngd $*" >> "${dir}/calls"\n`, { mode: 0o755 });
    const text = (m?.[1] ?? '').replaceAll('/usr/lib/systemd/system/', `${dir}/unit/`).replaceAll('/etc/rc.d/init.d/', `${dir}/init.d/`);
    fs.writeFileSync(path.join(dir, 'scriptlet.sh'), text);
    for (const tool of ['systemctl', 'chkconfig']) {
      fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "${dir}/calls"\n`, { mode: 0o755 });
    }
    const setup = systemdRunning ? 'mkdir -p /run/systemd/system' : 'true';
    const r = run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && ${setup} && PATH="${dir}:/usr/bin:/bin" sh "${dir}/scriptlet.sh" ${arg}`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) : [];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const noNamespace = skipReason([
  [isRoot, 'scriptlet test needs root for a private mount namespace'],
  [which('unshare') !== null, 'unshare not installed'],
  [isRoot && run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run']).status === 0, 'no private mount namespace here (container without CAP_SYS_ADMIN)'],
]);

describe.skipIf(noRpm !== null)('the vrngd RPM for hosts with their own node', () => {
  let top = '';
  let rpmFile = '';
  let root = '';
  beforeAll(async () => {
    top = tempDir('vrngd-rpm-');
    rpmFile = (await execFileAsync('bash', [path.join(ROOT, 'scripts/rpm/build.sh'), top], { encoding: 'utf8' })).stdout.trim();
    // install.sh from the very tarball the RPM was built from (the RHEL layout)
    const source = fs.readdirSync(path.join(top, 'SOURCES')).find((f) => /^vrngd-.*\.tar\.gz$/.test(f)) as string;
    root = installIntoTempRoot(['--initdir', '/etc/rc.d/init.d', '--from', path.join(top, 'SOURCES', source)], { fromCheckout: true });
  }, 120000);
  afterAll(() => {
    for (const d of [top, root]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('builds', () => {
    expect(rpmFile).toMatch(/vrngd-\d+\.\d+\.\d+-1\.\w+\.rpm$/);
    expect(fs.statSync(rpmFile).size).toBeGreaterThan(1000);
  });

  it('lists exactly the files install.sh installs (RHEL layout)', () => {
    const listed = execFileSync('rpm', ['-qlp', rpmFile], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const installed = manifest(root).map((e) => e.path).sort();
    expect(listed).toEqual(installed);
    expect(listed).toContain('/usr/sbin/vrngd');
    expect(listed).toContain('/usr/lib/systemd/system/vrngd.service');
    expect(listed).toContain('/etc/rc.d/init.d/vrngd');
    expect(listed).toContain('/etc/sysconfig/vrngd');
  });

  it('marks /etc/sysconfig/vrngd as configuration and keeps modes', () => {
    expect(execFileSync('rpm', ['-qcp', rpmFile], { encoding: 'utf8' }).trim()).toBe('/etc/sysconfig/vrngd');
    const long = execFileSync('rpm', ['-qlvp', rpmFile], { encoding: 'utf8' });
    expect(long).toMatch(/^-rwxr-xr-x .* \/usr\/sbin\/vrngd$/m);
    expect(long).toMatch(/^-rwxr-xr-x .* \/etc\/rc\.d\/init\.d\/vrngd$/m);
    expect(long).toMatch(/^-rw-r--r-- .* \/usr\/lib\/systemd\/system\/vrngd\.service$/m);
  });

  it('carries install.sh files byte for byte', () => {
    const out = tempDir('vrngd-rpm-x-');
    try {
      execFileSync('sh', ['-c', `rpm2cpio "${rpmFile}" | cpio -idm --quiet`], { cwd: out });
      for (const f of ['usr/sbin/vrngd', 'usr/lib/vrngd/vrngd.js', 'usr/lib/vrngd/build/Release/vrngd.node', 'etc/rc.d/init.d/vrngd', 'usr/lib/systemd/system/vrngd.service']) {
        expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(root, f))), f).toBe(true);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('installs into an empty root with rpm the same tree install.sh writes, and erases cleanly', () => {
    const rpmRoot = tempDir('vrngd-rpmroot-');
    try {
      const rpm = (...args: string[]): void => {
        execFileSync('rpm', ['--root', rpmRoot, '--dbpath', '/var/lib/rpm', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      };
      rpm('--initdb');
      rpm('-i', '--nodeps', '--noscripts', rpmFile);
      const isDb = (p: string): boolean => p === '/var' || p === '/var/lib' || p.startsWith('/var/lib/rpm');
      const tree = (r: string): string[] => listTree(r).filter((p) => !isDb(p));
      expect(tree(rpmRoot)).toEqual(tree(root));
      for (const f of ['usr/sbin/vrngd', 'etc/rc.d/init.d/vrngd', 'usr/lib/vrngd/build/Release/vrngd.node']) {
        expect(fs.statSync(path.join(rpmRoot, f)).mode & 0o7777, f).toBe(fs.statSync(path.join(root, f)).mode & 0o7777);
      }
      rpm('-e', '--nodeps', '--noscripts', 'vrngd');
      expect(listTree(rpmRoot).filter((p) => !isDb(p) && !fs.lstatSync(path.join(rpmRoot, p)).isDirectory())).toEqual([]);
      expect(fs.existsSync(path.join(rpmRoot, 'usr/lib/vrngd'))).toBe(false);
    } finally {
      fs.rmSync(rpmRoot, { recursive: true, force: true });
    }
  });

  it.skipIf(noNamespace !== null)('scriptlets: enable both units and start under systemd, chkconfig and start under SysV', () => {
    // rngd disabled first (the units conflict both ways), then the seed file unit the node flavour has
    expect(runScriptlet(rpmFile, 'postinstall', '1', true)).toEqual(['systemctl daemon-reload', 'systemctl disable rngd.service', 'systemctl enable vrngd.service vrngd-seed.service', 'systemctl enable vrngd-seed-file.service', 'systemctl start vrngd.service']);
    // an image build (systemd not running): enabled, not started
    expect(runScriptlet(rpmFile, 'postinstall', '1', false)).toEqual(['systemctl daemon-reload', 'systemctl disable rngd.service', 'systemctl enable vrngd.service vrngd-seed.service', 'systemctl enable vrngd-seed-file.service']);
    expect(runScriptlet(rpmFile, 'postinstall', '2', true)).toEqual([]); // upgrade: leave the admin's choice
    expect(runScriptlet(rpmFile, 'preuninstall', '0', true)).toEqual(['systemctl disable --now vrngd.service vrngd-seed.service', 'systemctl disable --now vrngd-seed-file.service']);
    expect(runScriptlet(rpmFile, 'preuninstall', '1', true)).toEqual([]);
    expect(runScriptlet(rpmFile, 'postuninstall', '1', true)).toEqual(['systemctl daemon-reload', 'systemctl try-restart vrngd.service']);
  });
});

describe.skipIf(noRpm !== null).each(['el6', 'el7'] as const)('the %s RPM, with its own runtime', (rel) => {
  const floor = RELEASES[rel];
  let top = '';
  let rpmFile = '';
  let unpacked = '';
  beforeAll(async () => {
    top = tempDir(`vrngd-rpm-${rel}-`);
    // asynchronously: a build takes tens of seconds on a loaded machine, and the worker must keep answering
    rpmFile = (await execFileAsync('bash', [path.join(ROOT, 'scripts/rpm/build.sh'), '--release', rel, top], { encoding: 'utf8' })).stdout.trim();
    unpacked = tempDir(`vrngd-rpm-${rel}-root-`);
    execFileSync('sh', ['-c', `rpm2cpio "${rpmFile}" | cpio -idm --quiet`], { cwd: unpacked });
  }, 300000);
  afterAll(() => {
    for (const d of [top, unpacked]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });
  const rpmQ = (...args: string[]): string => execFileSync('rpm', ['-qp', ...args, rpmFile], { encoding: 'utf8' });

  it(`is vrngd-VERSION-1.${rel}.x86_64.rpm and declares what it needs, not node`, () => {
    expect(path.basename(rpmFile)).toMatch(new RegExp(`^vrngd-\\d+\\.\\d+\\.\\d+-1\\.${rel}\\.x86_64\\.rpm$`));
    const req = rpmQ('--requires').split('\n').map((l) => l.trim()).filter(Boolean);
    expect(req.filter((r) => /node/.test(r))).toEqual([]);
    expect(req).toContain(`glibc >= ${floor.glibc}`);
    expect(req).toContain('coreutils');
    expect(req).toContain('/bin/sh');
    if (rel === 'el6') expect(req).toEqual(expect.arrayContaining(['chkconfig', 'initscripts']));
    else expect(req).toContain('systemd');
  });

  it('carries its runtime under /usr/lib/vrngd and its release\'s init files', () => {
    const files = rpmQ('-l').split('\n').filter(Boolean);
    expect(files).toContain('/usr/lib/vrngd/node/bin/node');
    expect(files).toContain('/usr/sbin/vrngd');
    expect(execFileSync(path.join(unpacked, 'usr/lib/vrngd/node/bin/node'), ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${floor.node}`);
    if (rel === 'el6') {
      expect(files).toContain('/etc/rc.d/init.d/vrngd');
      expect(files.filter((f) => f.startsWith('/usr/lib/systemd/'))).toEqual([]);
    } else {
      expect(files).not.toContain('/etc/rc.d/init.d/vrngd');
      // the RHEL 7 unit set (systemd/el7/) when this checkout has it, else the default one
      const unitSrc = fs.existsSync(path.join(ROOT, 'systemd/el7/vrngd.service')) ? path.join(ROOT, 'systemd/el7') : path.join(ROOT, 'systemd');
      for (const u of ['vrngd.service', 'vrngd-seed.service']) {
        expect(fs.readFileSync(path.join(unpacked, 'usr/lib/systemd/system', u)).equals(fs.readFileSync(path.join(unitSrc, u))), u).toBe(true);
      }
      // the syscall deny-list drop-ins ship aside, linked by %post only on systemd 219+ (208 kills node with them);
      // the one drop-in in the unit directory is rngd's side of the conflict
      expect(files.filter((f) => /^\/usr\/lib\/systemd\/system\/.*\.d\//.test(f))).toEqual(['/usr/lib/systemd/system/rngd.service.d/50-vrngd.conf']);
      expect(fs.readFileSync(path.join(unpacked, 'usr/lib/systemd/system/rngd.service.d/50-vrngd.conf'), 'utf8')).toMatch(/^Conflicts=vrngd\.service$/m);
      if (fs.existsSync(path.join(ROOT, 'systemd/el7/vrngd.service.d'))) {
        expect(files).toEqual(expect.arrayContaining(['/usr/lib/vrngd/el7-syscall-filter.sh', '/usr/lib/vrngd/el7-dropins/vrngd.service.d/50-syscall-filter.conf', '/usr/lib/vrngd/el7-dropins/vrngd-seed.service.d/50-syscall-filter.conf']));
      }
    }
  });

  it(`no ELF file in its payload needs more than glibc ${floor.glibc} (and libstdc++ GLIBCXX_${floor.glibcxx})`, () => {
    const elves = elfFilesUnder(unpacked).map((f) => path.relative(unpacked, f));
    expect(elves).toEqual(expect.arrayContaining(['usr/lib/vrngd/node/bin/node', 'usr/lib/vrngd/build/Release/vrngd.node', 'usr/lib/vrngd/build/Release/vrngd-preload.so']));
    for (const f of elves) expect(aboveFloor(path.join(unpacked, f), floor), f).toEqual([]);
  });

  it('its own runtime runs its own bundle from the unpacked root: status --json, check', () => {
    const launcher = path.join(unpacked, 'usr/sbin/vrngd');
    const seen = path.join(top, 'runtime-seen');
    const probe = path.join(top, 'probe.js');
    fs.writeFileSync(probe, `require('fs').writeFileSync(${JSON.stringify(seen)}, process.execPath + ' ' + process.version);\n`);
    // a bare environment: no VRNGD_NODE, and no node on PATH
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', VRNGD_NODE_FLAGS: `-r ${probe}` };
    const status = spawnSync(launcher, ['status', '--json'], { encoding: 'utf8', env, timeout: 60000 });
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    expect((JSON.parse(status.stdout) as { live: boolean }).live).toBe(true);
    expect(fs.readFileSync(seen, 'utf8')).toBe(`${path.join(unpacked, 'usr/lib/vrngd/node/bin/node')} v${floor.node}`);
    const check = spawnSync(launcher, ['check'], { encoding: 'utf8', env, input: fixedRandom(2500 * 32 + 4), timeout: 60000 });
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/FIPS 140-2 successes: 32$/m);
    expect(check.stdout).toMatch(/FIPS 140-2 failures: 0$/m);
  });

  it.skipIf(noNamespace !== null)('scriptlets as rng-tools: first install enables and starts, upgrade restarts, erase stops and disables', () => {
    if (rel === 'el7') {
      expect(runScriptlet(rpmFile, 'postinstall', '1', true)).toEqual(['systemctl daemon-reload', 'systemctl disable rngd.service', 'systemctl enable vrngd.service vrngd-seed.service', 'systemctl start vrngd.service']);
      expect(runScriptlet(rpmFile, 'postuninstall', '1', true)).toEqual(['systemctl daemon-reload', 'systemctl try-restart vrngd.service']);
      expect(runScriptlet(rpmFile, 'preuninstall', '0', true)).toEqual(['systemctl disable --now vrngd.service vrngd-seed.service']);
    } else {
      expect(runScriptlet(rpmFile, 'postinstall', '1', false)).toEqual(['chkconfig rngd off', 'chkconfig --add vrngd', 'init.d/vrngd start']);
      expect(runScriptlet(rpmFile, 'postuninstall', '1', false)).toEqual(['init.d/vrngd condrestart']);
      expect(runScriptlet(rpmFile, 'preuninstall', '0', false)).toEqual(['init.d/vrngd stop', 'chkconfig --del vrngd']);
    }
    expect(runScriptlet(rpmFile, 'postinstall', '2', rel === 'el7')).toEqual([]);
    expect(runScriptlet(rpmFile, 'preuninstall', '1', rel === 'el7')).toEqual([]);
  });
});
