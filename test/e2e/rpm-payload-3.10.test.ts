// The el6 and el7 RPM payloads in a booted 3.10 guest (RHEL 7.0's kernel base; no
// getrandom, OpenSSL 1.1.1 waits on /dev/random): each RPM built by
// scripts/rpm/build.sh, unpacked into a busybox initramfs (the host's glibc for
// the userland), booted under QEMU TCG with virtio-rng; test/packaging/guest/init.sh
// drives /usr/sbin/vrngd with no LD_PRELOAD from the caller: `vrngd seed` on the
// cold pool, then on a drained pool `vrngd run -f` without the launcher's seed
// step (control: it never starts) and with it (it injects). About 60-90 s per
// release on a loaded 2-core host.
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, skipReason, which } from '../helpers/env';
import { RELEASES, runtimeOf } from '../packaging/elf';

const exec = promisify(execFile);
const KERNELS = process.env.VRNGD_E2E_KERNELS ?? path.join(ROOT, '..', 'shared', 'guest-kernels');
const KERNEL = path.join(KERNELS, 'bzImage-3.10.108');
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((b) => fs.existsSync(b)) ?? null;
const APPLETS = ['sh', 'mount', 'cat', 'cut', 'sleep', 'echo', 'grep', 'wc', 'kill', 'readlink', 'dirname', 'head', 'tr', 'od', 'ls', 'ps', 'dd'];

const skip = skipReason([
  [isRoot, 'not root'],
  [fs.existsSync(KERNEL), `no 3.10 guest kernel at ${KERNEL} (set VRNGD_E2E_KERNELS)`],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [which('rpmbuild') !== null && which('rpm2cpio') !== null && which('cpio') !== null, 'rpmbuild, rpm2cpio or cpio missing'],
  [BUSYBOX !== null, 'busybox missing'],
]);

type Fields = Record<string, string>;
function lines(log: string): Record<string, Fields> {
  const out: Record<string, Fields> = {};
  for (const m of log.matchAll(/^E2E (\S+)(.*)$/gm)) {
    const f: Fields = {};
    for (const kv of (m[2] as string).matchAll(/(\w+)=(\{.*\}|\[[^\]]*\]|\S*)/g)) f[kv[1] as string] = kv[2] as string;
    out[m[1] as string] = f;
  }
  return out;
}

async function bootPayload(rel: 'el6' | 'el7', work: string): Promise<string> {
  const top = path.join(work, 'rpm');
  const rpmFile = (await exec('bash', [path.join(ROOT, 'scripts/rpm/build.sh'), '--release', rel, top], { encoding: 'utf8' })).stdout.trim();
  const root = path.join(work, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'run', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  await exec('sh', ['-c', `rpm2cpio "${rpmFile}" | cpio -idm --quiet`], { cwd: root });
  fs.copyFileSync(BUSYBOX as string, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  const node = path.join(root, 'usr/lib/vrngd/node/bin/node');
  const ldd = (await exec('ldd', [node], { encoding: 'utf8' })).stdout;
  for (const lib of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const dest = path.join(root, lib[1] as string);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib[1] as string), dest);
  }
  fs.copyFileSync(path.join(ROOT, 'test/packaging/guest/init.sh'), path.join(root, 'init'));
  fs.chmodSync(path.join(root, 'init'), 0o755);
  const img = path.join(work, 'initrd.cpio.gz');
  await exec('sh', ['-c', `find . | cpio -o -H newc --quiet | gzip -1 > "${img}"`], { cwd: root });
  const args = ['-machine', 'pc,accel=tcg', '-m', '1536', '-nographic', '-no-reboot', '-nic', 'none', '-kernel', KERNEL, '-initrd', img,
    '-append', 'console=ttyS0 panic=-1 quiet', '-object', 'rng-random,filename=/dev/urandom,id=rng0', '-device', 'virtio-rng-pci,rng=rng0,id=rng0'];
  return new Promise((resolve) => {
    let log = '';
    const q = spawn('nice', ['qemu-system-x86_64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => q.kill('SIGKILL'), 300000);
    q.stdout.on('data', (d: Buffer) => (log += d.toString('latin1')));
    q.stderr.on('data', (d: Buffer) => (log += d.toString('latin1')));
    q.on('exit', () => {
      clearTimeout(timer);
      resolve(log.replace(/\r/g, ''));
    });
  });
}

describe.skipIf(skip !== null).each(['el6', 'el7'] as const)('the %s RPM payload on a booted 3.10 kernel', (rel) => {
  let work = '';
  let log = '';
  let e: Record<string, Fields> = {};
  beforeAll(async () => {
    if (!runtimeOf(RELEASES[rel])) process.stderr.write(`note: building the ${rel} RPM fetches its runtime first (scripts/dev/setup-${RELEASES[rel].cache}.sh)\n`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), `vrngd-e2e-${rel}-`));
    log = await bootPayload(rel, work);
    e = lines(log);
    const keep = path.join(os.tmpdir(), `vrngd-e2e-rpm-payload-${rel}.log`);
    fs.writeFileSync(keep, log);
    process.stdout.write(`${rel} guest console: ${keep}\n`);
    process.stdout.write(`${rel} guest:\n${log.split('\n').filter((l) => l.startsWith('E2E')).join('\n')}\n`);
  }, 420000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('boots the payload with its own runtime, a cold pool, no LD_PRELOAD from the caller', () => {
    expect(e.done, log.slice(-3000)).toBeDefined();
    expect(e.boot?.kernel).toBe('3.10.108');
    expect(e.boot?.node).toBe(`v${RELEASES[rel].node}`);
    expect(e.boot?.preload).toBe('[]');
  });

  it('`vrngd seed` through /usr/sbin/vrngd fills the cold pool', () => {
    const s = e.seed as Fields;
    expect(s.rc).toBe('0');
    const j = JSON.parse(s.json as string) as { entropyBeforeBits: number; entropyAfterBits: number; blocksPassed: number };
    expect(j.blocksPassed).toBeGreaterThan(0);
    expect(j.entropyAfterBits).toBeGreaterThanOrEqual(3072);
    // Its JavaScript ran before OpenSSL's wait would have ended: it read the pool
    // itself (RNDGETENTCNT) below read_wakeup_threshold, the level OpenSSL 1.1.1's
    // select() on /dev/random waits for. And that wait never happened: a finished
    // wait leaves SysV shm key 114, which is still absent after the seed (the
    // launcher's preload answers OpenSSL's shmget(114) lookup for this process
    // only, so it goes straight to /dev/urandom; nothing system-wide is made).
    expect(e.boot?.shm).toBe('0');
    expect(j.entropyBeforeBits).toBeLessThan(Number(e.boot?.rwt));
    expect(Number(e.boot?.rwt)).toBe(64);
    expect(s.shm).toBe('0');
    process.stdout.write(`${rel}: seed ${(Number(s.end) - Number(s.start)).toFixed(2)} s wall (node start included), pool ${j.entropyBeforeBits} -> ${j.entropyAfterBits}\n`);
  });

  it('control: on a drained pool the daemon without the seed step never starts (Node blocks before its first line)', () => {
    expect(Number(e['control-before']?.avail)).toBeLessThan(64);
    expect(e['control-before']?.shm).toBe('0');
    expect(e.control?.injected).toBe('0');
    expect(e.control?.stderr_lines).toBe('0'); // not even its first log line
  });

  it('`vrngd run -f` as the units start it: the launcher seeds first, the daemon injects, SIGTERM stops it', () => {
    expect(Number(e['run-before']?.avail)).toBeLessThan(64);
    expect(e['run-before']?.shm).toBe('0');
    const r = e.run as Fields;
    expect(r.injected).toBe('1');
    expect(r.regime).toBe('"regime":"legacy"');
    const s = Number(r.first_injection_by) - Number(r.start);
    expect(s).toBeLessThan(20);
    expect(e.stop?.rc).toBe('0');
    expect(Number(e.stop?.end) - Number(e.stop?.start)).toBeLessThan(2);
    process.stdout.write(`${rel}: run -f on a drained pool: first injection within ${s.toFixed(2)} s of the start\n`);
  });
});
