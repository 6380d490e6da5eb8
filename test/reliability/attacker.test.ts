// vrngd as root against a second, unprivileged local user (nobody, through
// setpriv): links planted where root's vrngd writes, pid files naming other
// processes, a lock held by someone else, and N starts racing a stale pid file.
// The real binary (dist/cli/main.js) and the real pid-file module in child
// processes; -o at a plain file, so no kernel state is touched. Root only.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, ROOT, skipReason, which } from '../helpers/env';
import { readStateFile } from '../../src/daemon/state-file';

const noAttacker = skipReason([
  [isRoot, 'not root: the attacker tests run root vrngd against user nobody'],
  [which('setpriv') !== null, 'no setpriv (util-linux) to act as user nobody'],
]);

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-atk-'));
fs.chmodSync(base, 0o711); // nobody may enter, not list or write
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
});

const env = { ...process.env, JOURNAL_STREAM: '', NOTIFY_SOCKET: '', VITEST: '' };
const asNobody = (cmd: string, args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', cmd, ...args], { encoding: 'utf8' });

let n = 0;
/** A directory with this mode (and owner), and a root-owned victim file beside it. */
function scene(mode: number, owner = 0): { dir: string; victim: string } {
  const dir = path.join(base, `d${++n}`);
  fs.mkdirSync(dir);
  fs.chmodSync(dir, mode);
  if (owner) fs.chownSync(dir, owner, owner);
  const victim = path.join(base, `victim${n}`);
  fs.writeFileSync(victim, 'precious\n', { mode: 0o644 });
  return { dir, victim };
}
const plant = (victim: string, link: string): void => {
  const r = asNobody('ln', ['-s', victim, link]);
  expect(r.status, String(r.stderr)).toBe(0);
  expect(fs.lstatSync(link).uid).toBe(65534);
};
const runSync = (args: string[], timeoutMs = 20000): { status: number | null; stderr: string; stdout: string } => {
  const out = path.join(base, `out${++n}`);
  fs.writeFileSync(out, '');
  const r = spawnSync(process.execPath, [CLI, ...args.map((a) => (a === 'OUT' ? out : a))], { encoding: 'utf8', env, timeout: timeoutMs });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
};
const oneLine = (s: string): void => {
  expect(s.trim().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/);
};

describe.skipIf(noAttacker !== null)('links planted by another user are never followed', () => {
  it('a directory every user can write (not sticky): refused with 77 before anything is written, the victims untouched', () => {
    const { dir, victim } = scene(0o777);
    // the old predictable names, and the final names
    for (const name of [`.state.json.${process.pid + 1}.tmp`, 'state.json', 'state.pid', 'm.prom', 'log', 'seed.new']) plant(victim, path.join(dir, name));
    for (const extra of [[], ['--metrics-file', path.join(dir, 'm.prom')], ['--log-file', path.join(dir, 'log')]]) {
      const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', path.join(dir, 'state.json'), ...extra]);
      expect(r.status, r.stderr).toBe(77);
      oneLine(r.stderr);
      expect(r.stderr).toMatch(new RegExp(`directory ${dir} is writable by every user \\(mode 0777\\); refusing to write there as uid 0`));
    }
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it.each([
    ['the state file', 'state.json', (d: string) => ['--state-file', path.join(d, 'state.json')]],
    ['the state lock', 'state.pid', (d: string) => ['--state-file', path.join(d, 'state.json')]],
    ['the pid file', 'vrngd.pid', (d: string) => ['--state-file', 'off', '-p', path.join(d, 'vrngd.pid')]],
    ['the metrics file', 'm.prom', (d: string) => ['--state-file', 'off', '--metrics-file', path.join(d, 'm.prom')]],
    ['the log file', 'log', (d: string) => ['--state-file', 'off', '--log-file', path.join(d, 'log')]],
  ])('a sticky directory (/tmp-like), a link at %s: refused with 73, the victim untouched', (_what, name, flags) => {
    const { dir, victim } = scene(0o1777);
    plant(victim, path.join(dir, name));
    const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', ...flags(dir)]);
    expect(r.status, r.stderr).toBe(73);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/a symbolic link owned by uid 65534 is in the way in the sticky directory .*; refusing/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.readlinkSync(path.join(dir, name))).toBe(victim);
  });

  it('a hard link to a root file, planted in a sticky directory as the log or pid file: refused with 73, nothing written through it', () => {
    const { dir, victim } = scene(0o1777);
    const link = path.join(dir, 'log');
    const r0 = asNobody('ln', [victim, link]);
    if (r0.status !== 0) {
      // fs.protected_hardlinks=1 here stops nobody; make the same link as root, as nobody
      // could where it is 0 (never changed on this host)
      fs.linkSync(victim, link);
    }
    expect(fs.statSync(link).nlink).toBe(2);
    for (const flags of [['--log-file', link], ['-p', link]]) {
      const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', 'off', ...flags]);
      expect(r.status, r.stderr).toBe(73);
      oneLine(r.stderr);
      expect(r.stderr).toContain('has 2 hard links; refusing');
    }
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it("a directory another user owns (a textfile collector directory): refused with 77", () => {
    const { dir } = scene(0o755, 65534);
    const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', 'off', '--metrics-file', path.join(dir, 'vrngd.prom')]);
    expect(r.status, r.stderr).toBe(77);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`directory ${dir} is owned by uid 65534`);
  });

  it('a link to a directory, planted in a sticky directory, does not choose where root writes', () => {
    const { dir } = scene(0o1777);
    const target = path.join(base, `t${++n}`);
    fs.mkdirSync(target); // root's own, trusted
    plant(target, path.join(dir, 'sub'));
    const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', path.join(dir, 'sub', 'state.json')]);
    expect(r.status, r.stderr).toBe(77);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`${dir}/sub is a symbolic link owned by uid 65534; refusing`);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it("vrngd's own files in a sticky directory are fine: it starts, writes its state and removes its lock at exit", async () => {
    const { dir } = scene(0o1777);
    const state = path.join(dir, 'state.json');
    const out = path.join(base, `out${++n}`);
    fs.writeFileSync(out, '');
    const child = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', state, '--metrics-file', path.join(dir, 'm.prom')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    const t0 = Date.now();
    while (!((readStateFile(state)?.injections ?? 0) > 0)) {
      expect(Date.now() - t0).toBeLessThan(15000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fs.statSync(state).uid).toBe(0);
    // temp names are not the predictable .state.json.PID.tmp any more (one may be in flight
    // now: every write is fsynced before its rename), and none is left once it stopped
    expect(fs.readdirSync(dir).filter((f) => /^\.(state\.json|m\.prom)\.\d+\.tmp$/.test(f))).toEqual([]);
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(dir, 'state.pid'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('vrngd seed: a seed file in a directory others can write is neither read (credited) nor rewritten', () => {
    const { dir, victim } = scene(0o777);
    const seed = path.join(dir, 'seed');
    fs.writeFileSync(seed, Buffer.alloc(512, 0x41)); // planted data that must not be credited
    plant(victim, path.join(dir, 'seed.new'));
    const r = spawnSync(process.execPath, [CLI, 'seed', '-r', '/dev/urandom', '--bytes', '2500', '--timeout', '10', '--seed-file', seed, '--json'], { encoding: 'utf8', env, timeout: 30000 });
    expect(r.stderr).toMatch(new RegExp(`^vrngd: seed file ${seed}: directory ${dir} is writable by every user`));
    oneLine(r.stderr);
    const report = JSON.parse(r.stdout) as { seedFile: { loadedBytes: number; written: boolean } };
    expect(report.seedFile).toMatchObject({ loadedBytes: 0, written: false });
    expect(fs.readFileSync(seed).equals(Buffer.alloc(512, 0x41))).toBe(true);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
  });
});

/**
 * A child taking the lock through the real module: reports "won" or "refused CODE
 * MESSAGE" on stdout; a winner holds the lock until its stdin closes, so every
 * contender of a trial runs while the winner holds it (no winner leaves early).
 */
function locker(file: string): { answer: Promise<string>; done: () => Promise<void> } {
  const js = `
    const { acquirePidFile } = require(${JSON.stringify(path.join(ROOT, 'dist', 'daemon', 'pid-file.js'))});
    const { exitCodeFor } = require(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'exit.js'))});
    try { acquirePidFile(${JSON.stringify(file)}); process.stdout.write('won\\n'); process.stdin.on('end', () => process.exit(0)); process.stdin.resume(); }
    catch (e) { process.stdout.write('refused ' + exitCodeFor(e) + ' ' + e.message + '\\n'); process.exit(0); }`;
  const c = spawn(process.execPath, ['-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const answer = new Promise<string>((resolve) => c.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.endsWith('\n')) resolve(out.trim());
  }));
  const exited = new Promise<void>((resolve) => c.on('exit', () => resolve()));
  return { answer, done: () => { c.stdin.end(); return exited; } };
}

describe.skipIf(noAttacker !== null)('the single-instance lock', () => {
  it('50 trials of 3 simultaneous starts with a stale pid file (naming a live unrelated process): exactly one wins each time', async () => {
    const { dir } = scene(0o755);
    const file = path.join(dir, 'vrngd.pid');
    const unrelated = spawn('sleep', ['300']);
    children.push(unrelated);
    const tally = { won: 0, refused: 0, trials: 0 };
    for (let t = 0; t < 50; t++) {
      fs.writeFileSync(file, `${unrelated.pid}\n`);
      const ls = [locker(file), locker(file), locker(file)];
      const outs = await Promise.all(ls.map((l) => l.answer));
      await Promise.all(ls.map((l) => l.done()));
      const won = outs.filter((o) => o === 'won').length;
      expect(won, outs.join(' | ')).toBe(1);
      for (const o of outs) if (o !== 'won') expect(o).toMatch(/^refused 69 another vrngd is already running \(pid \d+, pid file /);
      tally.won += won;
      tally.refused += outs.length - won;
      tally.trials++;
    }
    expect(tally).toEqual({ won: 50, refused: 100, trials: 50 });
    expect(unrelated.exitCode).toBeNull(); // nobody signalled it
  }, 120000);

  it('two daemons on one state file with different -p: the second is refused with 69', async () => {
    const { dir } = scene(0o755);
    const state = path.join(dir, 'state.json');
    const out = path.join(base, `out${++n}`);
    fs.writeFileSync(out, '');
    const first = spawn(process.execPath, [CLI, 'run', '-f', '-r', '/dev/urandom', '-o', out, '--state-file', state, '-p', path.join(dir, 'a.pid')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(first);
    const t0 = Date.now();
    while (!((readStateFile(state)?.injections ?? 0) > 0)) {
      expect(Date.now() - t0).toBeLessThan(15000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', state, '-p', path.join(dir, 'b.pid')]);
    expect(second.status).toBe(69);
    expect(second.stderr).toBe(`vrngd: another vrngd is already running (pid ${first.pid}, state file ${state})\n`);
    expect(fs.existsSync(path.join(dir, 'b.pid'))).toBe(false); // released when refused
    const exited = new Promise<number | null>((r) => first.on('exit', (c) => r(c)));
    first.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a stale pid file naming a process that calls itself vrngd does not block, and that process is not signalled', () => {
    const { dir } = scene(0o755);
    const file = path.join(dir, 'vrngd.pid');
    const fake = spawn('bash', ['-c', 'exec -a "node /srv/app/main.js vrngd" sleep 300']);
    children.push(fake);
    spawnSync('sleep', ['0.1']);
    fs.writeFileSync(file, `${fake.pid}\nvrngd start=1 exe=/usr/bin/sleep\n`);
    const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', 'off', '-p', file, '-t'], 3000);
    // -t runs until stopped: the timeout's SIGTERM ends it; what matters is that it started
    expect(r.stderr).not.toMatch(/already running/);
    expect(fake.exitCode).toBeNull();
  });

  it('a lock that another user holds on a stale pid file is named in one line (69), not mistaken for vrngd', () => {
    const { dir } = scene(0o755);
    const file = path.join(dir, 'vrngd.pid');
    fs.writeFileSync(file, '1\n', { mode: 0o644 }); // left behind by a SIGKILLed daemon
    // its own process group, so the kill below takes flock and its sleep child together
    const holder = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'flock', '-s', file, 'sleep', '300'], { detached: true, stdio: 'ignore' });
    children.push(holder);
    const t0 = Date.now();
    while (!fs.readFileSync('/proc/locks', 'utf8').includes(`:${fs.statSync(file).ino} `)) {
      expect(Date.now() - t0).toBeLessThan(5000);
      spawnSync('sleep', ['0.05']);
    }
    const r = runSync(['run', '-f', '-r', '/dev/urandom', '-o', 'OUT', '--state-file', 'off', '-p', file]);
    expect(r.status).toBe(69);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`pid file ${file} is locked by pid \\d+, which is not the vrngd it names`));
    process.kill(-(holder.pid as number), 'SIGKILL');
  });
});
