// The launcher (bin/vrngd = /usr/sbin/vrngd = the npm package's bin) on this
// host, with a fake node behind VRNGD_NODE / ../lib/vrngd/node/bin/node that records how it
// was started, and a fake /proc (VRNGD_PROC) for the kernel's pool: which runtime
// it picks, that only `seed` gets LD_PRELOAD=vrngd-preload.so, and that `run` and
// rngd-style invocations run the seed step first (with the preload) exactly when
// the pool holds less than read_wakeup_threshold, then the daemon without it.
// Then the real thing: the installed launcher starting real `vrngd seed` with the
// preload active (strace: no blocking getrandom) and `vrngd status` without it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, skipReason, which } from '../helpers/env';
import { installIntoTempRoot } from '../service/install-root';

const LAUNCHER = path.join(ROOT, 'scripts', 'vrngd');
const REAL_PRELOAD = path.join(ROOT, 'build', 'Release', 'vrngd-preload.so');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

// A fake node: one line per start, "PRELOAD=<LD_PRELOAD>|ARGS=<args>"; exits with
// $FAKE_SEED_RC when started as `... seed`, else 0.
const FAKE_NODE = `#!/bin/sh
printf 'PRELOAD=%s|ARGS=%s\\n' "\${LD_PRELOAD:-}" "$*" >>"$FAKE_LOG"
for a in "$@"; do [ "$a" = seed ] && exit "\${FAKE_SEED_RC:-0}"; done
exit 0
`;

interface Layout {
  launcher: string;
  script: string;
  preload: string;
  shipped: string;
}

/** An installed layout (usr/sbin/vrngd, usr/lib/vrngd/...) with a fake shipped runtime. */
function installedLayout(withRuntime = true): Layout {
  const root = tmp('vrngd-launch-');
  const app = path.join(root, 'usr/lib/vrngd');
  fs.mkdirSync(path.join(app, 'build/Release'), { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/sbin'), { recursive: true });
  fs.copyFileSync(LAUNCHER, path.join(root, 'usr/sbin/vrngd'));
  fs.chmodSync(path.join(root, 'usr/sbin/vrngd'), 0o755);
  fs.writeFileSync(path.join(app, 'vrngd.js'), '');
  // a real shared object: the fake node is a shell script, and ld.so loads what LD_PRELOAD names into it
  fs.copyFileSync(REAL_PRELOAD, path.join(app, 'build/Release/vrngd-preload.so'));
  if (withRuntime) {
    fs.mkdirSync(path.join(app, 'node/bin'), { recursive: true });
    fs.writeFileSync(path.join(app, 'node/bin/node'), FAKE_NODE, { mode: 0o755 });
  }
  return { launcher: path.join(root, 'usr/sbin/vrngd'), script: path.join(app, 'vrngd.js'), preload: path.join(app, 'build/Release/vrngd-preload.so'), shipped: path.join(app, 'node/bin/node') };
}

function fakeProc(random: Record<string, string>): string {
  const p = tmp('vrngd-proc-');
  fs.mkdirSync(path.join(p, 'sys/kernel/random'), { recursive: true });
  for (const [k, v] of Object.entries(random)) fs.writeFileSync(path.join(p, 'sys/kernel/random', k), `${v}\n`);
  return p;
}
const STARVING = { entropy_avail: '12', read_wakeup_threshold: '64', poolsize: '4096' };
const FED = { entropy_avail: '3100', read_wakeup_threshold: '64', poolsize: '4096' };
const MODERN = { entropy_avail: '256', poolsize: '256' }; // no read_wakeup_threshold since 5.6

function launch(l: Layout, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string; starts: Array<{ preload: string; args: string }> } {
  const log = path.join(tmp('vrngd-log-'), 'starts');
  const r = spawnSync(l.launcher, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', FAKE_LOG: log, ...env }, timeout: 20000 });
  const starts = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => {
        const m = /^PRELOAD=(.*)\|ARGS=(.*)$/.exec(line) as RegExpExecArray;
        return { preload: m[1] as string, args: m[2] as string };
      })
    : [];
  return { status: r.status, stderr: r.stderr, starts };
}

/** The node flags the launcher gives `run` only (scripts/vrngd: the daemon's young generation). */
const RUN_FLAGS = '--max-semi-space-size=1';

const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((f) => fs.existsSync(f)) ?? null;
if (systemNode) process.stderr.write(`skip: "no runtime anywhere" needs a host without ${systemNode}\n`);
const noLib = skipReason([[fs.existsSync(REAL_PRELOAD), 'build/Release/vrngd-preload.so missing (npm run build:native)']]);
describe.skipIf(noLib !== null)('launcher: runtime and preload', () => {
  it('prefers the runtime the package ships, then VRNGD_NODE over it, then node on PATH', () => {
    const l = installedLayout();
    const proc = fakeProc(FED);
    const a = launch(l, ['status', '--json'], { VRNGD_PROC: proc });
    expect(a.status).toBe(0);
    expect(a.starts).toEqual([{ preload: '', args: `${l.script} status --json` }]);

    const other = path.join(tmp('vrngd-node-'), 'node');
    fs.writeFileSync(other, FAKE_NODE.replace('PRELOAD=', 'OTHER PRELOAD='), { mode: 0o755 });
    const log = path.join(tmp('vrngd-log-'), 'starts');
    spawnSync(l.launcher, ['sources'], { env: { PATH: '/usr/bin:/bin', FAKE_LOG: log, VRNGD_NODE: other, VRNGD_PROC: proc } });
    expect(fs.readFileSync(log, 'utf8').trim()).toMatch(/^OTHER PRELOAD=\|ARGS=.* sources$/);

    const bare = installedLayout(false);
    const pathDir = path.dirname(other);
    const log2 = path.join(tmp('vrngd-log-'), 'starts');
    spawnSync(bare.launcher, ['sources'], { env: { PATH: `${pathDir}:/usr/bin:/bin`, FAKE_LOG: log2, VRNGD_PROC: proc } });
    if (systemNode === null) expect(fs.readFileSync(log2, 'utf8')).toMatch(/^OTHER /);
    else expect(fs.existsSync(log2)).toBe(false); // /usr/bin/node or /usr/local/bin/node (the real one) ran instead
  });

  it.skipIf(systemNode !== null)('no runtime anywhere: one line, exit 69', () => {
    const l = installedLayout(false);
    const r = spawnSync(l.launcher, ['status'], { encoding: 'utf8', env: { PATH: tmp('vrngd-empty-') } });
    expect(r.status).toBe(69);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('`seed` alone gets the preload library, in front of what the caller preloads', () => {
    const l = installedLayout();
    const proc = fakeProc(STARVING);
    expect(launch(l, ['seed', '--timeout', '3'], { VRNGD_PROC: proc }).starts).toEqual([{ preload: l.preload, args: `${l.script} seed --timeout 3` }]);
    expect(launch(l, ['seed'], { VRNGD_PROC: proc, LD_PRELOAD: '/x/other.so' }).starts[0]?.preload).toBe(`${l.preload}:/x/other.so`);
    // the seed unit and the dracut hook set it themselves: not twice
    expect(launch(l, ['seed'], { VRNGD_PROC: proc, LD_PRELOAD: l.preload }).starts[0]?.preload).toBe(l.preload);
    for (const args of [['status'], ['check', '-'], ['sources'], ['--help'], ['-V'], ['help', 'seed']]) {
      const r = launch(l, args, { VRNGD_PROC: proc });
      expect(r.starts, args.join(' ')).toEqual([{ preload: '', args: `${l.script} ${args.join(' ')}` }]);
    }
  });

  it('`run` on a pool fuller than read_wakeup_threshold, and on a modern kernel: the daemon alone, no preload', () => {
    const l = installedLayout();
    for (const proc of [fakeProc(FED), fakeProc(MODERN)]) {
      const r = launch(l, ['run', '-f'], { VRNGD_PROC: proc });
      expect(r.starts).toEqual([{ preload: '', args: `${RUN_FLAGS} ${l.script} run -f` }]);
    }
  });

  it('`run` on a starving legacy pool: the seed step with the preload first, then the daemon without it', () => {
    const l = installedLayout();
    const r = launch(l, ['run', '--foreground'], { VRNGD_PROC: fakeProc(STARVING) });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.starts).toEqual([
      { preload: l.preload, args: `${l.script} seed --timeout 10` },
      { preload: '', args: `${RUN_FLAGS} ${l.script} run --foreground` },
    ]);
  });

  it('rngd-style invocations too, seeding from the device the daemon was given', () => {
    const l = installedLayout();
    const proc = fakeProc(STARVING);
    for (const [args, dev] of [
      [['-f', '-r', '/dev/vport0p1'], '/dev/vport0p1'],
      [['-b', '--rng-device=/dev/hw2'], '/dev/hw2'],
      [['-f', '-r/dev/hw3'], '/dev/hw3'],
      [[], ''],
    ] as Array<[string[], string]>) {
      const r = launch(l, args, { VRNGD_PROC: proc });
      expect(r.starts, args.join(' ')).toEqual([
        { preload: l.preload, args: `${l.script} seed --timeout 10${dev ? ` --rng-device ${dev}` : ''}` },
        { preload: '', args: [RUN_FLAGS, l.script, ...args].join(' ') },
      ]);
    }
  });

  it('the units\' and the SysV script\'s --args STRING: -r inside it is the seed step\'s device, the string reaches the daemon unchanged', () => {
    const l = installedLayout();
    const proc = fakeProc(STARVING);
    for (const [str, dev] of [
      ["-r /dev/vport0p1 --reseed '*/5 * * * *'", '/dev/vport0p1'],
      ['--rng-device=/dev/hw2 -q', '/dev/hw2'],
      ["--reseed '*/5 * * * *'", ''], // no -r: the default device, and no file name from the glob
      ['', ''],
    ] as Array<[string, string]>) {
      const r = launch(l, ['run', '--foreground', '--args', str], { VRNGD_PROC: proc });
      expect(r.starts[0], str).toEqual({ preload: l.preload, args: `${l.script} seed --timeout 10${dev ? ` --rng-device ${dev}` : ''}` });
      expect(r.starts[1]?.args, str).toBe(`${RUN_FLAGS} ${l.script} run --foreground --args ${str}`.trimEnd());
    }
  });

  it('a caller-set LD_PRELOAD reaches the daemon unchanged (the library stays inert there by its own argv check)', () => {
    const l = installedLayout();
    const r = launch(l, ['run', '-f'], { VRNGD_PROC: fakeProc(STARVING), LD_PRELOAD: '/x/other.so' });
    expect(r.starts.map((s) => s.preload)).toEqual([`${l.preload}:/x/other.so`, '/x/other.so']);
  });

  it('no seed step for `run --help`, or with VRNGD_PRESEED=0', () => {
    const l = installedLayout();
    const proc = fakeProc(STARVING);
    expect(launch(l, ['run', '--help'], { VRNGD_PROC: proc }).starts).toHaveLength(1);
    expect(launch(l, ['-b', '-h'], { VRNGD_PROC: proc }).starts).toHaveLength(1);
    expect(launch(l, ['run', '-f'], { VRNGD_PROC: proc, VRNGD_PRESEED: '0' }).starts).toEqual([{ preload: '', args: `${RUN_FLAGS} ${l.script} run -f` }]);
  });

  it('a failed seed step: one line on stderr, and the daemon still starts', () => {
    const l = installedLayout();
    const r = launch(l, ['run', '-f'], { VRNGD_PROC: fakeProc(STARVING), FAKE_SEED_RC: '69' });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vrngd: .*seeding it first failed/);
    expect(r.starts.map((s) => s.args)).toEqual([`${l.script} seed --timeout 10`, `${RUN_FLAGS} ${l.script} run -f`]);
  });

  it('the npm package layout (scripts/vrngd, dist/cli/main.js), also through node_modules/.bin', () => {
    const pkg = tmp('vrngd-npm-');
    fs.mkdirSync(path.join(pkg, 'node_modules/vrngd/scripts'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'node_modules/vrngd/dist/cli'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'node_modules/vrngd/build/Release'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'node_modules/.bin'), { recursive: true });
    const app = path.join(pkg, 'node_modules/vrngd');
    fs.copyFileSync(LAUNCHER, path.join(app, 'scripts/vrngd'));
    fs.chmodSync(path.join(app, 'scripts/vrngd'), 0o755);
    fs.writeFileSync(path.join(app, 'dist/cli/main.js'), '');
    // a real shared object: the fake node is a shell script, and ld.so loads what LD_PRELOAD names into it
  fs.copyFileSync(REAL_PRELOAD, path.join(app, 'build/Release/vrngd-preload.so'));
    fs.symlinkSync('../vrngd/scripts/vrngd', path.join(pkg, 'node_modules/.bin/vrngd'));
    const node = path.join(tmp('vrngd-node-'), 'node');
    fs.writeFileSync(node, FAKE_NODE, { mode: 0o755 });
    const l: Layout = { launcher: path.join(pkg, 'node_modules/.bin/vrngd'), script: path.join(app, 'dist/cli/main.js'), preload: path.join(app, 'build/Release/vrngd-preload.so'), shipped: '' };
    const r = launch(l, ['seed'], { VRNGD_NODE: node, VRNGD_PROC: fakeProc(FED) });
    expect(r.starts).toEqual([{ preload: l.preload, args: `${l.script} seed` }]);
  });

  it('needs no dirname, readlink or any PATH for `seed` (an initramfs may lack them): the preload still applies', () => {
    const l = installedLayout();
    const r = launch(l, ['seed', '--timeout', '3'], { PATH: tmp('vrngd-nopath-'), VRNGD_PROC: fakeProc(STARVING) });
    expect(r.stderr).toBe('');
    expect(r.starts).toEqual([{ preload: l.preload, args: `${l.script} seed --timeout 3` }]);
  });

  it('the 90vrngd dracut module installs this launcher as the initramfs /usr/sbin/vrngd (one launcher), and the hook sets no LD_PRELOAD', () => {
    const mod = fs.readFileSync(path.join(ROOT, 'scripts/dracut/90vrngd/module-setup.sh'), 'utf8');
    expect(mod).toMatch(/inst_script "\$launcher" \/usr\/sbin\/vrngd/);
    expect(fs.existsSync(path.join(ROOT, 'scripts/dracut/90vrngd/vrngd-initrd.sh'))).toBe(false);
    // the module's lookup, run on its own: the source tree's scripts/vrngd, unless VRNGD_LAUNCHER names another
    const find = (env: NodeJS.ProcessEnv): string =>
      spawnSync('bash', ['-c', `moddir=${path.join(ROOT, 'scripts/dracut/90vrngd')}; . "$moddir/module-setup.sh"; vrngd_launcher`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } }).stdout.trim();
    expect(fs.realpathSync(find({}))).toBe(LAUNCHER);
    const other = installedLayout().launcher;
    expect(find({ VRNGD_LAUNCHER: other })).toBe(other);
    const hook = fs.readFileSync(path.join(ROOT, 'scripts/dracut/90vrngd/vrngd-seed-hook.sh'), 'utf8');
    expect(hook).not.toMatch(/^[^#]*LD_PRELOAD/m);
    expect(hook).toMatch(/\/usr\/sbin\/vrngd seed /);
  });

  it('runs under dash (POSIX sh) and has no bashisms that `sh -n` rejects', () => {
    for (const sh of ['sh', 'dash', 'bash']) {
      if (!which(sh)) continue;
      expect(spawnSync(sh, ['-n', LAUNCHER]).status, sh).toBe(0);
    }
    expect(fs.readFileSync(LAUNCHER, 'utf8').split('\n')[0]).toBe('#!/bin/sh');
  });
});

const noStrace = skipReason([[which('strace') !== null, 'strace not installed'], [fs.existsSync(path.join(ROOT, 'build/Release/vrngd-preload.so')), 'build/Release/vrngd-preload.so missing']]);
describe.skipIf(noStrace !== null)('launcher, installed, with the real runtime: the preload takes effect for seed only', () => {
  it('`vrngd seed` makes no blocking getrandom call; `vrngd status` does (control)', () => {
    const root = installIntoTempRoot([]);
    dirs.push(root);
    const launcher = path.join(root, 'usr/sbin/vrngd');
    const flags = (args: string[]): string[] => {
      const r = spawnSync('strace', ['-f', '-e', 'trace=getrandom', launcher, ...args], { encoding: 'utf8', env: { ...process.env, VRNGD_NODE: process.execPath, LD_PRELOAD: '' }, timeout: 30000 });
      return [...r.stderr.matchAll(/getrandom\([^,]*, \d+, ([A-Z_|0-9]+)\)/g)].map((m) => m[1] as string);
    };
    const seed = flags(['seed', '--rng-device', '/dev/urandom', '--bytes', '2500', '--timeout', '5', '-h']);
    expect(seed.length).toBeGreaterThan(0);
    expect(seed.every((f) => f.includes('GRND_NONBLOCK') || f.includes('GRND_INSECURE'))).toBe(true);
    expect(flags(['status', '--json'])).toContain('0');
  });
});
