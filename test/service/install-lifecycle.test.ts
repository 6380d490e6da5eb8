// install.sh over a whole life cycle: an upgrade restarts a running daemon (and
// only a running one), uninstall removes every link enabling made (systemd's
// wants links, also dangling ones, and rc?.d links) and the run-time files, and
// keeps the seed file unless --purge. The live-system cases run in a private
// mount namespace (/run a tmpfs, so "systemd is running" can be made true) with a
// recording systemctl on PATH and every install directory under a temporary one.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, skipReason, which } from '../helpers/env';
import { INSTALL_SH, installIntoTempRoot, listTree, run, tempDir } from './install-root';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('install.sh --uninstall into a root that was enabled and has run', () => {
  function enabledRoot(): string {
    const root = installIntoTempRoot(['--initdir', '/etc/rc.d/init.d']);
    dirs.push(root);
    const link = (target: string, at: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, at)), { recursive: true });
      fs.symlinkSync(target, path.join(root, at));
    };
    // what systemctl enable, chkconfig / systemd-sysv-install made, and what the daemon left
    link('/usr/lib/systemd/system/vrngd.service', 'etc/systemd/system/multi-user.target.wants/vrngd.service');
    link('/usr/lib/systemd/system/vrngd-seed.service', 'etc/systemd/system/sysinit.target.wants/vrngd-seed.service');
    for (const n of [0, 1, 6]) link('../init.d/vrngd', `etc/rc.d/rc${n}.d/K01vrngd`);
    for (const n of [2, 3, 4, 5]) link('../init.d/vrngd', `etc/rc.d/rc${n}.d/S13vrngd`);
    link('../init.d/vrngd', 'etc/rc3.d/S01vrngd');
    link('/usr/lib/systemd/system/rngd.service', 'etc/systemd/system/multi-user.target.wants/rngd.service'); // not ours
    fs.mkdirSync(path.join(root, 'run/vrngd'), { recursive: true });
    fs.writeFileSync(path.join(root, 'run/vrngd/state.json'), '{}');
    fs.mkdirSync(path.join(root, 'var/run'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/run/vrngd.pid'), '123\n');
    fs.mkdirSync(path.join(root, 'var/lib/vrngd'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/vrngd/seed'), Buffer.alloc(512, 1));
    return root;
  }
  const leftovers = (root: string): string[] => listTree(root).filter((p) => !fs.lstatSync(path.join(root, p)).isDirectory());

  it('removes the wants and rc links (dangling ones too) and the run-time files, keeps the seed file', () => {
    const root = enabledRoot();
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--uninstall']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/keeping the seed file \/var\/lib\/vrngd\/seed/);
    expect(leftovers(root)).toEqual(['/etc/systemd/system/multi-user.target.wants/rngd.service', '/var/lib/vrngd/seed']);
  });

  it('--purge also removes the seed file', () => {
    const root = enabledRoot();
    const r = run('bash', [INSTALL_SH, '--destdir', root, '--uninstall', '--purge']);
    expect(r.status).toBe(0);
    expect(leftovers(root)).toEqual(['/etc/systemd/system/multi-user.target.wants/rngd.service']);
    expect(fs.existsSync(path.join(root, 'var/lib/vrngd'))).toBe(false);
  });

  it('--purge without --uninstall is a usage error (64)', () => {
    const r = run('bash', [INSTALL_SH, '--purge', '--dry-run']);
    expect(r.status).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

const noNamespace = skipReason([
  [isRoot, 'live install.sh test needs root for a private mount namespace'],
  [which('unshare') !== null, 'unshare not installed'],
  [isRoot && run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run']).status === 0, 'no private mount namespace here'],
]);

describe.skipIf(noNamespace !== null)('install.sh on a live systemd system (namespace, recording systemctl)', () => {
  // every directory install.sh writes to is under base; destdir stays empty, so
  // install.sh acts as on a live system and talks to "systemd"
  function live(base: string, args: string[], active: boolean): { status: number | null; stderr: string; calls: string[] } {
    const bin = path.join(base, 'fakebin');
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(base, 'calls');
    fs.rmSync(calls, { force: true });
    fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> "${calls}"\ncase "$*" in *is-active*) exit ${active ? 0 : 3} ;; esac\nexit 0\n`, { mode: 0o755 });
    const where = ['--prefix', `${base}/usr`, '--unitdir', `${base}/unit`, '--initdir', `${base}/init.d`, '--sysconfdir', `${base}/etc`, '--dracutdir', `${base}/dracut`];
    const r = run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && PATH="${bin}:/usr/bin:/bin:/usr/sbin:/sbin" bash "${INSTALL_SH}" ${[...where, ...args].map((a) => `'${a}'`).join(' ')}`], { timeoutMs: 120000 });
    return { status: r.status, stderr: r.stderr, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [] };
  }

  it('an upgrade over a running daemon restarts it; over a stopped one it does not start it', () => {
    const base = tempDir('vrngd-live-');
    dirs.push(base);
    const first = live(base, [], false);
    expect(first.status).toBe(0);
    expect(first.calls).toEqual(['systemctl daemon-reload', 'systemctl -q is-active vrngd.service']);
    const upgrade = live(base, [], true);
    expect(upgrade.status).toBe(0);
    expect(upgrade.calls).toEqual(['systemctl daemon-reload', 'systemctl -q is-active vrngd.service', 'systemctl try-restart vrngd.service']);
  }, 180000);

  it('uninstall stops and disables both units, then reloads', () => {
    const base = tempDir('vrngd-live-');
    dirs.push(base);
    expect(live(base, [], false).status).toBe(0);
    const r = live(base, ['--uninstall'], true);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(['systemctl disable --now vrngd.service vrngd-seed.service vrngd-seed-file.service', 'systemctl daemon-reload']);
    expect(fs.existsSync(path.join(base, 'usr/lib/vrngd'))).toBe(false);
  }, 180000);
});
