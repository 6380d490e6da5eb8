// scripts/install.sh in temporary roots: the file set (the single-file bundle and
// the native files, launcher, every unit, sysconfig, init script, man page, dracut
// module), the manifest matching the tree, the wrapper running, a release tarball
// installing the same set, --dry-run changing nothing, --disable-rngd only in
// dry-run, and --uninstall leaving no file behind.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env';
import { INSTALL_SH, installIntoTempRoot, listTree, manifest, run, tempDir, unitFiles } from './install-root';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});
function newRoot(extra: string[] = [], opts: { fromCheckout?: boolean } = {}): string {
  const r = installIntoTempRoot(extra, opts);
  roots.push(r);
  return r;
}

describe('install.sh into a temporary root', () => {
  let root = '';
  beforeAll(() => {
    root = newRoot([], { fromCheckout: true });
  });

  it('installs the application, wrapper, units, sysconfig, init script, man page and dracut module', () => {
    const has = (p: string): boolean => fs.existsSync(path.join(root, p));
    // the single-file bundle (dependencies inside) and the native files beside it
    expect(has('usr/lib/vrngd/vrngd.js')).toBe(true);
    expect(has('usr/lib/vrngd/build/Release/vrngd.node')).toBe(true);
    expect(has('usr/lib/vrngd/build/Release/vrngd-preload.so')).toBe(true);
    expect(fs.statSync(path.join(root, 'usr/lib/vrngd/build/Release/vrngd-reader')).mode & 0o111).not.toBe(0);
    expect(has('usr/lib/vrngd/node_modules')).toBe(false);
    const bundle = fs.readFileSync(path.join(root, 'usr/lib/vrngd/vrngd.js'), 'utf8');
    for (const dep of Object.keys(pkg.dependencies)) expect(bundle, dep).toContain(`node_modules/${dep}/`);
    expect(fs.statSync(path.join(root, 'usr/sbin/vrngd')).mode & 0o777).toBe(0o755);
    for (const unit of unitFiles()) expect(has(`usr/lib/systemd/system/${path.basename(unit)}`)).toBe(true);
    expect(fs.readFileSync(path.join(root, 'etc/sysconfig/vrngd'), 'utf8')).toMatch(/^VRNGD_ARGS=/m);
    expect(fs.statSync(path.join(root, 'etc/init.d/vrngd')).mode & 0o777).toBe(0o755);
    if (fs.existsSync(path.join(ROOT, 'docs/vrngd.8'))) expect(has('usr/share/man/man8/vrngd.8')).toBe(true);
    const dracut = path.join(ROOT, 'scripts/dracut/90vrngd');
    if (fs.existsSync(dracut)) {
      for (const f of fs.readdirSync(dracut)) expect(has(`usr/lib/dracut/modules.d/90vrngd/${f}`), f).toBe(true);
    }
  });

  it('the installed bundle finds its device reader: check of a character device reads through vrngd-reader', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'usr/lib/vrngd/vrngd.js'), 'check', '/dev/urandom', '-c', '2', '--json'], { encoding: 'utf8', env: { ...process.env, VRNGD_READER_PATH: '' } });
    expect((JSON.parse(out) as { blocksPassed: number; blocksFailed: number }).blocksPassed + (JSON.parse(out) as { blocksFailed: number }).blocksFailed).toBe(2);
  });

  it('records exactly the tree it wrote in its manifest', () => {
    const listed = manifest(root).map((e) => e.path);
    expect(new Set(listed).size).toBe(listed.length);
    const tree = listTree(root);
    // every file in the root is listed; directories are listed when vrngd owns them
    const files = tree.filter((p) => !fs.statSync(path.join(root, p)).isDirectory() || fs.lstatSync(path.join(root, p)).isSymbolicLink());
    expect(files.filter((p) => !listed.includes(p))).toEqual([]);
    expect(listed.filter((p) => !tree.includes(p))).toEqual([]);
    const owned = manifest(root).filter((e) => e.type === 'd').map((e) => e.path);
    expect(owned).toContain('/usr/lib/vrngd');
    expect(owned).not.toContain('/usr/lib');
    expect(owned).not.toContain('/usr/lib/systemd/system');
  });

  it('gives a wrapper that runs the installed application, also through a symlink', () => {
    const env = { ...process.env, VRNGD_NODE: process.execPath };
    const r = run(path.join(root, 'usr/sbin/vrngd'), ['--version'], { env });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pkg.version);
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.symlinkSync('../sbin/vrngd', path.join(root, 'usr/bin/vrngd'));
    expect(run(path.join(root, 'usr/bin/vrngd'), ['--version'], { env }).stdout.trim()).toBe(pkg.version);
    fs.rmSync(path.join(root, 'usr/bin/vrngd'));
    const missing = run(path.join(root, 'usr/sbin/vrngd'), ['--version'], { env: { ...env, VRNGD_NODE: '/nonexistent/node' } });
    expect(missing.status).not.toBe(0);
  });

  it('installs the same set from a release tarball made by --make-tarball', () => {
    const out = tempDir('vrngd-tarball-');
    roots.push(out);
    const made = run('bash', [INSTALL_SH, '--make-tarball', out]);
    expect(made.status).toBe(0);
    const tarball = path.join(out, `vrngd-${pkg.version}.tar.gz`);
    expect(fs.existsSync(tarball)).toBe(true);
    const other = newRoot(['--from', tarball], { fromCheckout: true }); // only this --from
    const paths = (r: string): string[] => manifest(r).map((e) => `${e.type} ${e.path}`).sort();
    expect(paths(other)).toEqual(paths(root));
    // the installed bundle is the tarball's (a second bundle build could differ while
    // the shared checkout is being edited, so it is not compared with the first install)
    const bundled = execFileSync('tar', ['-xzOf', tarball, `vrngd-${pkg.version}/vrngd.js`]);
    expect(fs.readFileSync(path.join(other, 'usr/lib/vrngd/vrngd.js')).equals(bundled)).toBe(true);
  });
});

describe('install.sh --dry-run and --disable-rngd', () => {
  it('--dry-run prints the actions and changes nothing', () => {
    const root = tempDir('vrngd-dry-');
    roots.push(root);
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\+ install -D -m 0755 \S+ \S+\/usr\/sbin\/vrngd$/m);
    expect(r.stdout).toMatch(/^\+ install -D -m 0644 \S+vrngd\.service \S+\/usr\/lib\/systemd\/system\/vrngd\.service$/m);
    expect(r.stdout).toMatch(/^\+ write \S+\/usr\/lib\/vrngd\/install-manifest/m);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('--disable-rngd --dry-run names the stop and the disable for this host', () => {
    const root = tempDir('vrngd-dry-');
    roots.push(root);
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--dry-run', '--disable-rngd']);
    expect(r.status).toBe(0);
    const lines = r.stdout + r.stderr;
    expect(lines).toMatch(/^\+ (systemctl disable --now rngd\.service|service rngd stop|invoke-rc\.d rngd stop)$/m);
    if (!/systemctl/.test(lines)) expect(lines).toMatch(/^\+ (chkconfig rngd off|update-rc\.d rngd disable)$/m);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('--enable --dry-run names the enable and start for this host and installs nothing', () => {
    const before = fs.existsSync('/usr/sbin/vrngd');
    const r = run('bash', [INSTALL_SH, '--dry-run', '--enable']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\+ (systemctl enable --now vrngd\.service|chkconfig vrngd on|update-rc\.d vrngd defaults)$/m);
    expect(r.stdout).toMatch(/^\+ (systemctl enable --now vrngd\.service|service vrngd start|invoke-rc\.d vrngd start)$/m);
    expect(fs.existsSync('/usr/sbin/vrngd')).toBe(before);
  });

  it('refuses --disable-rngd on a staging root (it would act on this host)', () => {
    const root = tempDir('vrngd-dry-');
    roots.push(root);
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--disable-rngd']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--disable-rngd acts on the running system/);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('rejects an unknown option with 64', () => {
    const r = run('bash', [INSTALL_SH, '--bogus']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown option: --bogus/);
  });
});

describe('install.sh --uninstall', () => {
  const files = (root: string): string[] => listTree(root).filter((p) => !fs.lstatSync(path.join(root, p)).isDirectory());

  it('removes every file and every directory it owns', () => {
    const root = newRoot();
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--uninstall']);
    expect(r.status).toBe(0);
    expect(files(root)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'usr/lib/vrngd'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'usr/lib/dracut/modules.d/90vrngd'))).toBe(false);
  });

  it('keeps a modified sysconfig (as .save), and a reinstall keeps it in place', () => {
    const root = newRoot();
    const sysconfig = path.join(root, 'etc/sysconfig/vrngd');
    fs.appendFileSync(sysconfig, 'VRNGD_ARGS="-x rdrand"\n');
    const edited = fs.readFileSync(sysconfig, 'utf8');
    const again = run('bash', [INSTALL_SH, '--destdir', root]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/keeping the modified \/etc\/sysconfig\/vrngd/);
    expect(fs.readFileSync(sysconfig, 'utf8')).toBe(edited);
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--uninstall']);
    expect(r.status).toBe(0);
    expect(files(root)).toEqual(['/etc/sysconfig/vrngd.save']);
    expect(fs.readFileSync(`${sysconfig}.save`, 'utf8')).toBe(edited);
  });

  it('says so when nothing was installed', () => {
    const root = tempDir('vrngd-empty-');
    roots.push(root);
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--uninstall']);
    expect(r.status).toBe(66);
    expect(r.stderr).toMatch(/no install manifest/);
  });
});
