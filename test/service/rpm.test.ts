// The RPM (scripts/rpm/vrngd.spec) built for real with rpmbuild: `rpm -qlp` lists
// the same file set install.sh installs with the RHEL layout, the sysconfig file is
// %config, the payload carries install.sh's files byte for byte, `rpm -i` into an
// empty root writes install.sh's tree and `rpm -e` removes it, and the scriptlets
// enable the unit under systemd and the init script under chkconfig (run in a
// private mount namespace with recording systemctl/chkconfig on PATH).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, ROOT, skipReason, which } from '../helpers/env';
import { installIntoTempRoot, listTree, manifest, run, tempDir } from './install-root';

const noRpm = skipReason([
  [which('rpmbuild') !== null && which('rpm') !== null, 'rpmbuild not installed (scripts/setup-deps.sh installs rpm)'],
]);

describe.skipIf(noRpm !== null)('the vrngd RPM', () => {
  let top = '';
  let rpmFile = '';
  let root = '';
  beforeAll(() => {
    top = tempDir('vrngd-rpm-');
    rpmFile = execFileSync('bash', [path.join(ROOT, 'scripts/rpm/build.sh'), top], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
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

  // The %post scriptlet, run by sh as rpm would ($1 = 1: first install), with
  // systemctl and chkconfig replaced by recorders; /run is a private tmpfs so the
  // systemd case can be made true or false without touching this host.
  function runScriptlet(kind: 'postinstall' | 'preuninstall', arg: string, systemdRunning: boolean): string[] {
    const scripts = execFileSync('rpm', ['-qp', '--scripts', rpmFile], { encoding: 'utf8' });
    const m = new RegExp(`^${kind} scriptlet \\(using /bin/sh\\):\\n([\\s\\S]*?)(?=^\\w+ scriptlet|$(?![\\s\\S]))`, 'm').exec(scripts);
    expect(m, `${kind} scriptlet present`).not.toBeNull();
    const dir = tempDir('vrngd-scriptlet-');
    try {
      fs.writeFileSync(path.join(dir, 'scriptlet.sh'), m?.[1] ?? '');
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

  it.skipIf(noNamespace !== null)('%post enables the unit under systemd and the init script under chkconfig', () => {
    expect(runScriptlet('postinstall', '1', true)).toEqual(['systemctl daemon-reload', 'systemctl enable vrngd.service']);
    expect(runScriptlet('postinstall', '1', false)).toEqual(['chkconfig --add vrngd']);
    expect(runScriptlet('postinstall', '2', true)).toEqual([]); // upgrade: leave the admin's choice
  });

  it.skipIf(noNamespace !== null)('%preun disables on erase only', () => {
    expect(runScriptlet('preuninstall', '0', true)).toEqual(['systemctl disable --now vrngd.service']);
    expect(runScriptlet('preuninstall', '0', false)).toEqual(['chkconfig --del vrngd']);
    expect(runScriptlet('preuninstall', '1', true)).toEqual([]);
  });
});
