// scripts/migrate-rngd.sh (issue 19 §2) against temporary roots: RHEL's
// /etc/sysconfig/rngd (EXTRAOPTIONS, RNGD_ARGS), Debian's /etc/default/rng-tools
// (HRNGDEVICE, RNGDOPTIONS) and systemd drop-ins overriding rngd's ExecStart are
// carried into VRNGD_ARGS; it says what it carried and what it dropped; the daemon
// reads the migrated line (through the real SysV script's expansion) exactly as the
// same flags on its command line; install.sh and the RPM's %post run it.
// The script runs under dash (POSIX sh) and under bash --posix (RHEL 6's /bin/sh).
import { splitArgs } from '../../src/cli/args-string';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConfigFor } from '../../src/cli/commands/run';
import { CLI, isRoot, ROOT, skipReason, which } from '../helpers/env';
import { INSTALL_SH, releaseTarballOfCheckout, run, tempDir } from './install-root';

const SCRIPT = path.join(ROOT, 'scripts', 'migrate-rngd.sh');
const CHECKER = `${process.execPath} ${CLI}`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function root(files: Record<string, string>, withVrngdSysconfig = true): string {
  const r = tempDir('vrngd-migrate-');
  dirs.push(r);
  const all = withVrngdSysconfig ? { '/etc/sysconfig/vrngd': fs.readFileSync(path.join(ROOT, 'systemd', 'vrngd.sysconfig'), 'utf8'), ...files } : files;
  for (const [p, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(r, p)), { recursive: true });
    fs.writeFileSync(path.join(r, p), text);
  }
  return r;
}

function migrate(r: string, extra: string[] = [], shell: string[] = ['sh']): { status: number | null; out: string; err: string } {
  const res = run(shell[0] as string, [...shell.slice(1), SCRIPT, '--root', r, ...extra], { timeoutMs: 120000 });
  return { status: res.status, out: res.stdout, err: res.stderr };
}

/** VRNGD_ARGS as the SysV script and systemd's EnvironmentFile= see it: the file sourced by sh. */
function vrngdArgs(r: string): string {
  return execFileSync('sh', ['-c', '. "$1/etc/sysconfig/vrngd"; printf %s "$VRNGD_ARGS"', 'sh', r], { encoding: 'utf8' });
}

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

describe('migrate-rngd.sh', () => {
  it.each([
    ['dash (POSIX sh)', ['sh']],
    ['bash --posix (RHEL 6 /bin/sh)', ['bash', '--posix']],
  ])('RHEL 6 /etc/sysconfig/rngd EXTRAOPTIONS under %s: carries rngd 5 flags, drops -p with the reason, checked by vrngd', (_name, shell) => {
    const r = root({ '/etc/sysconfig/rngd': '# options for rngd\nEXTRAOPTIONS="-n 1 -d 1 -t 5 -i -r /dev/hwrng -p /var/run/rngd.pid"   # RHEL 6\n' });
    const m = migrate(r, ['--vrngd', CHECKER], shell);
    expect(m.status, m.err).toBe(0);
    expect(m.err).toBe('');
    expect(m.out).toMatch(/^migrate-rngd: found \/etc\/sysconfig\/rngd EXTRAOPTIONS: -n 1 -d 1 -t 5 -i -r \/dev\/hwrng -p \/var\/run\/rngd.pid$/m);
    for (const c of ['-n 1', '-d 1', '-t 5', '-i', '-r /dev/hwrng']) expect(m.out).toContain(`migrate-rngd: carried ${c}\n`);
    expect(m.out).toMatch(/^migrate-rngd: dropped -p \/var\/run\/rngd.pid: the service manager decides/m);
    // vrngd's own warnings, once each, where the meaning differs
    expect(m.out).toMatch(/vrngd says: warning: -t 5: rngd 5's timeout/);
    expect(m.out).toMatch(/vrngd says: warning: -i\/--ignorefail ignored/);
    expect(m.out).toMatch(/^migrate-rngd: wrote VRNGD_ARGS="-n 1 -d 1 -t 5 -i -r \/dev\/hwrng" to \/etc\/sysconfig\/vrngd$/m);
    expect(vrngdArgs(r)).toBe('-n 1 -d 1 -t 5 -i -r /dev/hwrng');
    // the rest of vrngd's file is untouched, with a note on where the line came from
    const text = fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8');
    expect(text).toMatch(/^# carried over from rngd \(\/etc\/sysconfig\/rngd EXTRAOPTIONS\) by migrate-rngd.sh\nVRNGD_ARGS="-n 1 -d 1 -t 5 -i -r \/dev\/hwrng"$/m);
    expect(text).toContain('#PIDFILE=/var/run/vrngd.pid');
    expect(text.match(/^VRNGD_ARGS=/gm)).toHaveLength(1);
  });

  it('the daemon reads the migrated line exactly as the same flags on its command line', () => {
    const original = ['-n', '1', '--no-drng=1', '-t', '30', '-i', '-v', '-W', '3072', '-x', 'jitter', '-O', 'jitter:use_aes:1', '-s', '32'];
    const r = root({ '/etc/sysconfig/rngd': `EXTRAOPTIONS="-f ${original.join(' ')}"\n` });
    expect(migrate(r, ['--vrngd', CHECKER]).status).toBe(0);
    expect(words(vrngdArgs(r))).toEqual(original); // only -f dropped
    expect(runConfigFor(words(vrngdArgs(r)))).toEqual(runConfigFor(original));
    // and through the real SysV script: `vrngd -b -p PIDFILE --args "$VRNGD_ARGS"`, split by vrngd
    const rec = path.join(r, 'argv');
    const bin = path.join(r, 'fake-vrngd');
    fs.writeFileSync(bin, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${rec}"\nexit 1\n`, { mode: 0o755 });
    run('bash', [path.join(ROOT, 'scripts/sysvinit/vrngd'), 'start'], {
      env: { PATH: process.env.PATH, VRNGD_BIN: bin, SYSCONFIG: path.join(r, 'etc/sysconfig/vrngd'), PIDFILE: path.join(r, 'vrngd.pid'), LOCKFILE: path.join(r, 'lock'), VRNGD_INIT_FUNCTIONS: '', RNGD_INIT: '/nonexistent' },
    });
    const argv = fs.readFileSync(rec, 'utf8').split('\n').filter(Boolean);
    expect(argv.slice(0, 3)).toEqual(['-b', '-p', path.join(r, 'vrngd.pid')]);
    expect(argv[3]).toBe('--args');
    expect(argv).toHaveLength(5);
    expect(splitArgs(argv[4] as string)).toEqual(original);
  });

  it('Debian /etc/default/rng-tools: HRNGDEVICE becomes -r; what vrngd refuses is dropped with its reason', () => {
    const r = root({ '/etc/default/rng-tools': 'HRNGDEVICE=/dev/hwrng\nRNGDOPTIONS="--fill-watermark=90% --feed-interval=1 -W 2048"\n' });
    const m = migrate(r, ['--vrngd', CHECKER]);
    expect(m.status, m.err).toBe(0);
    expect(m.out).toMatch(/^migrate-rngd: found \/etc\/default\/rng-tools HRNGDEVICE: -r \/dev\/hwrng$/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped --fill-watermark=90%: vrngd refuses it: -W\/--fill-watermark: '90%' is not a whole number/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped --feed-interval=1: vrngd refuses it: unknown option/m);
    expect(vrngdArgs(r)).toBe('-r /dev/hwrng -W 2048');
  });

  it('a systemd drop-in overriding ExecStart: the last ExecStart wins, $EXTRAOPTIONS is expanded from /etc/sysconfig/rngd, -f -D and -r /dev/urandom are dropped', () => {
    const r = root({
      '/etc/sysconfig/rngd': 'EXTRAOPTIONS="--no-tpm=1"\n',
      '/etc/systemd/system/rngd.service.d/10-old.conf': '[Service]\nExecStart=\nExecStart=/sbin/rngd -f -x tpm\n',
      '/etc/systemd/system/rngd.service.d/20-new.conf': '[Service]\nExecStart=\nExecStart=/sbin/rngd -f -r /dev/urandom $EXTRAOPTIONS -D daemon:daemon -s 128\n',
    });
    const m = migrate(r, ['--vrngd', CHECKER]);
    expect(m.status, m.err).toBe(0);
    expect(m.out).toMatch(/^migrate-rngd: found \/etc\/systemd\/system\/rngd.service.d\/20-new.conf ExecStart: -f -r \/dev\/urandom --no-tpm=1 -D daemon:daemon -s 128$/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped -r \/dev\/urandom: feeding the kernel its own output credits no real entropy$/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped -D daemon:daemon: vrngd refuses it: .*more privilege than asked/m);
    expect(m.out).not.toMatch(/EXTRAOPTIONS: /); // carried once, through ExecStart
    expect(vrngdArgs(r)).toBe('--no-tpm=1 -s 128');
  });

  it('words the shell or systemd would read differently ($VAR, globs) are dropped, and said', () => {
    const r = root({ '/etc/sysconfig/rngd': 'EXTRAOPTIONS="-r $DEV -O jitter:x:* -x [a] -n 1"\n' });
    const m = migrate(r, ['--vrngd', CHECKER]);
    expect(m.status, m.err).toBe(0);
    expect(m.out).toMatch(/^migrate-rngd: dropped -r \$DEV: not carried through VRNGD_ARGS \(quotes/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped -O jitter:x:\*: not carried through VRNGD_ARGS \(a glob character\)$/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped -x \[a\]: .*glob/m);
    expect(vrngdArgs(r)).toBe('-n 1');
  });

  it('a combination vrngd refuses as a whole is not carried, and said', () => {
    const r = root({ '/etc/sysconfig/rngd': 'RNGD_ARGS="-t 5 -R 30"\n' });
    const m = migrate(r, ['--vrngd', CHECKER]);
    expect(m.status).toBe(0);
    expect(m.out).toMatch(/^migrate-rngd: dropped everything \(-t 5 -R 30\): vrngd refuses the combination: .*both set/m);
    expect(vrngdArgs(r)).toBe('');
  });

  it('runs twice without change, keeps a VRNGD_ARGS the admin set, and --dry-run writes nothing', () => {
    const r = root({ '/etc/sysconfig/rngd': 'EXTRAOPTIONS="-n 1"\n' });
    expect(migrate(r, ['--vrngd', CHECKER, '--dry-run']).out).toMatch(/would write VRNGD_ARGS="-n 1"/);
    expect(vrngdArgs(r)).toBe('');
    expect(migrate(r, ['--vrngd', CHECKER]).status).toBe(0);
    const once = fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8');
    const again = migrate(r, ['--vrngd', CHECKER]);
    expect(again.out).toMatch(/kept \/etc\/sysconfig\/vrngd: VRNGD_ARGS is already set \("-n 1"\)/);
    expect(fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8')).toBe(once);
  });

  it('nothing to carry: exit 0, says so (--quiet: silent), writes nothing', () => {
    const r = root({});
    const before = fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8');
    expect(migrate(r).out).toMatch(/^migrate-rngd: no rngd configuration under .*: nothing to carry$/m);
    expect(migrate(r, ['--quiet'])).toMatchObject({ status: 0, out: '', err: '' });
    expect(fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8')).toBe(before);
  });

  it('without a vrngd to check with, or one that cannot run: carries unchecked, and says so; creates the file if missing', () => {
    const r = root({ '/etc/sysconfig/rngd': 'EXTRAOPTIONS="-b -n 1 -l"\n' }, false);
    const m = migrate(r, ['--vrngd', '/nonexistent/vrngd']);
    expect(m.status, m.err).toBe(0);
    expect(m.out).toMatch(/^migrate-rngd: \/nonexistent\/vrngd does not run here \(status 127\): the flags are carried unchecked$/m);
    expect(m.out).toMatch(/^migrate-rngd: carried -n 1 \(unchecked\)$/m);
    expect(m.out).toMatch(/^migrate-rngd: dropped -l: it would make the service exit or feed nothing$/m);
    expect(vrngdArgs(r)).toBe('-n 1');
  });

  it('bad usage: exit 64, one line', () => {
    const res = run('sh', [SCRIPT, '--bogus']);
    expect(res.status).toBe(64);
    expect(res.stderr.split('\n')[0]).toBe('migrate-rngd.sh: unknown option: --bogus'.replace('migrate-rngd.sh', 'migrate-rngd'));
    expect(run('sh', [SCRIPT, '--root', '/nonexistent-root']).status).toBe(64);
  });
});

describe('install.sh carries /etc/sysconfig/rngd over', () => {
  it('into a temporary root with an RHEL 7 rngd configuration: installs migrate-rngd.sh and writes VRNGD_ARGS, checked by the installed vrngd', () => {
    const stage = tempDir('vrngd-migrate-install-');
    dirs.push(stage);
    fs.mkdirSync(path.join(stage, 'etc/sysconfig'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'etc/sysconfig/rngd'), 'EXTRAOPTIONS="-f --no-tpm=1 -t 60"\n');
    // install.sh --destdir into a root that already holds rngd's file
    const res = run('bash', [INSTALL_SH, '--destdir', stage, '--from', releaseTarballOfCheckout()], { timeoutMs: 120000 });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^migrate-rngd: dropped -f: the service manager decides/m);
    // the installed launcher checked the flags (its warning is quoted)
    expect(res.stdout).toMatch(/^ {2}vrngd says: warning: -t 60: rngd 5's timeout/m);
    expect(fs.statSync(path.join(stage, 'usr/lib/vrngd/migrate-rngd.sh')).mode & 0o777).toBe(0o755);
    expect(vrngdArgs(stage)).toBe('--no-tpm=1 -t 60');
    const manifest = fs.readFileSync(path.join(stage, 'usr/lib/vrngd/install-manifest'), 'utf8');
    expect(manifest).toContain('f /usr/lib/vrngd/migrate-rngd.sh\n');
  });
});

// The RPM's %post, run for real by rpm -i into a temporary root: a chroot with just
// the tools the scriptlet and the script use (no node: the flags go unchecked there).
const noRpm = skipReason([
  [which('rpmbuild') !== null && which('rpm') !== null, 'rpmbuild not installed (scripts/dev/setup-deps.sh installs rpm)'],
  [isRoot, 'rpm -i with scriptlets into a root needs root (chroot)'],
]);

describe.skipIf(noRpm !== null)("the RPM's %post carries /etc/sysconfig/rngd over", () => {
  it('rpm --root R -i: VRNGD_ARGS written from EXTRAOPTIONS, what was dropped said', () => {
    const top = tempDir('vrngd-migrate-rpm-');
    dirs.push(top);
    const rpmFile = execFileSync('bash', [path.join(ROOT, 'scripts/rpm/build.sh'), top], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const r = tempDir('vrngd-migrate-rpmroot-');
    dirs.push(r);
    // a minimal chroot: sh and the tools, with their libraries
    const tools = ['sh', 'sed', 'awk', 'tail', 'grep', 'mv', 'chmod', 'mkdir', 'dirname', 'cat', 'rm'];
    const copy = (file: string): void => {
      const real = fs.realpathSync(file);
      const dest = path.join(r, file);
      if (fs.existsSync(dest)) return;
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(real, dest);
      fs.chmodSync(dest, 0o755);
    };
    for (const t of tools) {
      const bin = which(t) as string;
      copy(bin);
      copy(`/bin/${t}`);
      for (const m of execFileSync('ldd', [bin], { encoding: 'utf8' }).matchAll(/(\/\S+)/g)) copy(m[1] as string);
    }
    fs.mkdirSync(path.join(r, 'etc/sysconfig'), { recursive: true });
    fs.writeFileSync(path.join(r, 'etc/sysconfig/rngd'), 'EXTRAOPTIONS="-n 1 -d 1 -p /var/run/rngd.pid"\n');
    const rpm = (...args: string[]): string => execFileSync('rpm', ['--root', r, '--dbpath', '/var/lib/rpm', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    rpm('--initdb');
    const said = rpm('-i', '--nodeps', rpmFile);
    expect(said).toMatch(/^migrate-rngd: dropped -p \/var\/run\/rngd.pid: the service manager decides/m);
    expect(said).toMatch(/^migrate-rngd: wrote VRNGD_ARGS="-n 1 -d 1" to \/etc\/sysconfig\/vrngd$/m);
    expect(vrngdArgs(r)).toBe('-n 1 -d 1');
    expect(fs.readFileSync(path.join(r, 'etc/sysconfig/vrngd'), 'utf8')).toMatch(/^# carried over from rngd \(\/etc\/sysconfig\/rngd EXTRAOPTIONS\)/m);
  }, 180000);
});
