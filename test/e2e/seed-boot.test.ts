// Proof in a real guest: Debian 13's 6.12 kernel under QEMU TCG with a
// virtio-rng device that the kernel is told not to credit by itself
// (rng_core.default_quality=0, random.trust_cpu=off, random.trust_bootloader=off),
// booted from initramfs images built by the real dracut:
//   - vrngd: base + the 90vrngd module (node, bundle, addon, preload, hook),
//   - the same image with the Node 16 binary laid over it (the runtime floor),
//   - a systemd initramfs where 90vrngd runs vrngd-seed.service instead of the hook,
//   - control: the same dracut build without 90vrngd, virtio-rng loaded all the same.
// Nobody but the launcher sets LD_PRELOAD: /usr/sbin/vrngd in the images is
// scripts/vrngd itself (checked with lsinitrd), the hook sets none, the unit goes in
// without its Environment=LD_PRELOAD=, and two more boots run `env -u LD_PRELOAD
// LAUNCHER seed` from a test hook (99vrngde2e's e2e-seed.sh, 90vrngd's hook off),
// as a user's own script would: LAUNCHER the installed /usr/sbin/vrngd, and the npm
// package's bin (node_modules/.bin/vrngd -> scripts/vrngd, dist/, build/Release,
// the production dependencies: scripts/dev/e2e/pkg-overlay.sh) with a system node.
// From the guest console it checks that vrngd's node process ran JavaScript while
// entropy_avail was below 256 (the seeder read it itself, before injecting), the
// bits it credited, "crng init done" after the seeder started and no later than
// its result, and that the control boot reaches it later or not at all.
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHE, E2E, sh } from './scripts';
import { ROOT, isRoot, skipReason, which } from '../helpers/env';

const IMAGES = path.join(CACHE, 'images');
const CONTROL_WAIT_S = 30;

const skip = skipReason([
  [isRoot, 'not root: dracut and depmod -b need root'],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [which('dracut') !== null, 'dracut missing (bash scripts/dev/setup-deps.sh)'],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd-preload.so')), 'build/Release/vrngd-preload.so missing (npm run build:native)'],
]);

interface Boot {
  log: string;
  dmesg: string;
  /** Seconds since boot of each "crng init done". */
  crngInit: number[];
  seedStart: number | null;
  /** systemd initramfs: vrngd-seed.service's Result. */
  unitResult: string | null;
  seed: { at: number; bytes: number; credited: number; before: number; after: number; readyBefore: string; readyAfter: string; ms: number; exit: number } | null;
  node: string | null;
  /** e2e-seed.sh: the launcher it ran and the LD_PRELOAD of its own environment. */
  caller: { launcher: string; preload: string } | null;
  startLine: string | null;
  /** e2e-seed.sh: the node process the launcher exec'd, from /proc while it ran. */
  proc: { cmdline: string; env: string } | null;
  lastTimestamp: number;
}

async function boot(initrd: string, name: string, params: string[]): Promise<Boot> {
  const log = path.join(IMAGES, `${name}.log`);
  fs.rmSync(log, { force: true });
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('bash', [path.join(E2E, 'boot.sh'), initrd, log, ...params], { cwd: ROOT, env: { ...process.env, VRNGD_E2E_CACHE: CACHE }, stdio: 'ignore' });
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').replace(/\r/g, '') : '';
  process.stderr.write(`e2e ${name}: boot.sh exit ${String(status)}, console log ${log}\n`);
  const begin = text.indexOf('E2E-DMESG-BEGIN');
  const end = text.indexOf('E2E-DMESG-END', begin);
  const dmesg = begin >= 0 && end > begin ? text.slice(begin, end) : '';
  const ts = (line: string): number => Number(/^\[\s*([\d.]+)\]/.exec(line)?.[1] ?? NaN);
  const lines = dmesg.split('\n');
  const crngInit = lines.filter((l) => /\] random: crng init done/.test(l)).map(ts);
  const startLine = lines.find((l) => /\] vrngd-seed: starting/.test(l));
  // systemd initramfs: when the unit's main process (node) was started, from systemctl
  const unit = /E2E-UNIT vrngd-seed\.service result=(\S*) status=(\S*) unit_us=\d* start_us=(\d+)/.exec(text);
  const seedLine = lines.find((l) => /\] vrngd-seed: vrngd seed: /.test(l));
  const m = seedLine
    ? /vrngd seed: \w+: read (\d+) bytes from \/dev\/hwrng, credited (\d+) bits \(\d+ asked\), entropy (\d+) -> (\d+) bits, crng ready (\S+) -> (\S+), (\d+) ms\s+\(exit (\d+)\)/.exec(seedLine)
    : null;
  const stamps = lines.map(ts).filter((n) => Number.isFinite(n));
  return {
    log: text,
    dmesg,
    crngInit,
    seedStart: startLine ? ts(startLine) : unit ? Number(unit[3]) / 1e6 : null,
    unitResult: unit ? (unit[1] as string) : null,
    seed:
      m && seedLine
        ? { at: ts(seedLine), bytes: Number(m[1]), credited: Number(m[2]), before: Number(m[3]), after: Number(m[4]), readyBefore: m[5] as string, readyAfter: m[6] as string, ms: Number(m[7]), exit: Number(m[8]) }
        : null,
    node: /E2E-NODE (v[\d.]+)/.exec(text)?.[1] ?? null,
    caller: ((c) => (c ? { launcher: c[1] as string, preload: c[2] as string } : null))(/E2E-SEED-CALLER launcher=(\S+) preload=\[([^\]]*)\]/.exec(text)),
    startLine: startLine ?? null,
    proc: ((c) => (c ? { cmdline: c[1] as string, env: c[2] as string } : null))(/E2E-SEED-PROC cmdline=\[([^\]]*)\] env=\[([^\]]*)\]/.exec(text)),
    lastTimestamp: stamps.length ? Math.max(...stamps) : NaN,
  };
}

function expectSeededBeforeCrngInit(b: Boot): void {
  expect(b.dmesg, 'the guest printed its kernel log (console log incomplete)').not.toBe('');
  expect(b.log).not.toMatch(/Initramfs unpacking failed/);
  expect(b.seedStart, 'the 90vrngd hook started').not.toBeNull();
  expect(b.seed, 'vrngd seed printed its line').not.toBeNull();
  const s = b.seed as NonNullable<Boot['seed']>;
  expect(s.exit).toBe(0);
  // read by vrngd's own JavaScript (RNDGETENTCNT, getrandom probe) before injecting:
  expect(s.before).toBeLessThan(256);
  expect(s.readyBefore).toBe('no');
  expect(s.credited).toBeGreaterThan(0);
  expect(s.after).toBe(256);
  expect(s.readyAfter).toBe('yes');
  expect(b.crngInit).toHaveLength(1);
  const crng = b.crngInit[0] as number;
  expect(crng).toBeGreaterThan(b.seedStart as number);
  expect(crng).toBeLessThanOrEqual(s.at);
}

describe.skipIf(skip !== null)('vrngd seed in a real guest (QEMU TCG, Debian 6.12, dracut)', () => {
  let control = '';
  let vrngd = '';
  let vrngd16: string | null = null;
  let vrngdSystemd = '';
  let vrngdPkg = '';
  const sizes: Record<string, number> = {};

  beforeAll(async () => {
    fs.mkdirSync(IMAGES, { recursive: true });
    process.stderr.write(`e2e: kernel ${await sh(path.join(E2E, 'fetch-kernel.sh'), [])}\n`);
    control = path.join(IMAGES, 'control.img');
    vrngd = path.join(IMAGES, 'vrngd.img');
    sizes.control = Number(await sh(path.join(E2E, 'build-initramfs.sh'), ['control', control]));
    sizes.vrngd = Number(await sh(path.join(E2E, 'build-initramfs.sh'), ['vrngd', vrngd]));
    vrngdSystemd = path.join(IMAGES, 'vrngd-systemd.img');
    sizes.systemd = Number(await sh(path.join(E2E, 'build-initramfs.sh'), ['vrngd-systemd', vrngdSystemd]));
    process.stderr.write(`e2e: initramfs gzip sizes: control ${sizes.control} bytes, with 90vrngd ${sizes.vrngd} bytes (+${sizes.vrngd - sizes.control})\n`);
    const t0 = Date.now();
    const pkgOverlay = path.join(IMAGES, 'npm-package.cpio');
    await sh(path.join(E2E, 'pkg-overlay.sh'), [pkgOverlay]);
    vrngdPkg = path.join(IMAGES, 'vrngd-npm-package.img');
    const plain = fs.readFileSync(vrngd);
    fs.writeFileSync(vrngdPkg, Buffer.concat([plain, Buffer.alloc((4 - (plain.length % 4)) % 4), fs.readFileSync(pkgOverlay)]));
    process.stderr.write(`e2e: npm package overlay ${fs.statSync(pkgOverlay).size} bytes, ${Date.now() - t0} ms\n`);
    let node16: string | null = null;
    try {
      node16 = await sh(path.join(ROOT, 'scripts', 'dev', 'setup-node16.sh'), []);
    } catch (e: unknown) {
      process.stderr.write(`e2e: no Node 16 binary: ${String(e)}\n`);
      node16 = null;
    }
    if (node16) {
      const overlay = path.join(IMAGES, 'node16.cpio');
      await sh(path.join(E2E, 'node-overlay.sh'), [node16, overlay]);
      vrngd16 = path.join(IMAGES, 'vrngd-node16.img');
      // the kernel looks for an uncompressed archive after a compressed one only at a 4-byte boundary
      const base = fs.readFileSync(vrngd);
      fs.writeFileSync(vrngd16, Buffer.concat([base, Buffer.alloc((4 - (base.length % 4)) % 4), fs.readFileSync(overlay)]));
    }
  });

  let seeded: Boot | null = null;

  it('the images carry the one launcher (scripts/vrngd) as /usr/sbin/vrngd, and the unit sets no LD_PRELOAD', () => {
    const launcher = fs.readFileSync(path.join(ROOT, 'scripts', 'vrngd'), 'utf8');
    for (const img of [vrngd, vrngdSystemd]) {
      expect(execFileSync('lsinitrd', ['-f', 'usr/sbin/vrngd', img], { encoding: 'utf8', maxBuffer: 1 << 24 }), img).toBe(launcher);
    }
    const unit = execFileSync('lsinitrd', ['-f', 'usr/lib/systemd/system/vrngd-seed.service', vrngdSystemd], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/vrngd seed /m);
    expect(unit).not.toMatch(/^[^#]*LD_PRELOAD/m); // (its comments may still name it)
    const hook = fs.readFileSync(path.join(ROOT, 'scripts', 'dracut', '90vrngd', 'vrngd-seed-hook.sh'), 'utf8');
    expect(hook).not.toMatch(/^[^#]*LD_PRELOAD=/m);
  });

  it('Node 20 line: vrngd seed (the hook, no LD_PRELOAD) runs JavaScript before crng init, credits, and crng init follows', async () => {
    const b = await boot(vrngd, 'vrngd-node20', ['rd.vrngd.timeout=120']);
    seeded = b;
    expect(b.node).toMatch(/^v(1[89]|[2-9]\d)\./);
    expectSeededBeforeCrngInit(b);
    process.stderr.write(`e2e node20: seed started ${b.seedStart}s, crng init ${b.crngInit[0]}s, ${JSON.stringify(b.seed)}\n`);
  });

  it('`env -u LD_PRELOAD /usr/sbin/vrngd seed` (a caller of its own, no preload): the same', async () => {
    const b = await boot(vrngd, 'vrngd-env-u', ['rd.vrngd=0', 'rd.e2e.seed=/usr/sbin/vrngd', 'rd.vrngd.timeout=120']);
    expect(b.caller).toEqual({ launcher: '/usr/sbin/vrngd', preload: '' });
    expect(b.startLine).toMatch(/env -u LD_PRELOAD \/usr\/sbin\/vrngd seed$/);
    expect(b.proc?.cmdline).toMatch(/^\/usr\/lib\/vrngd\/node\/bin\/node --jitless --no-expose-wasm \/usr\/lib\/vrngd\/vrngd\.js seed --timeout 120 ?$/);
    expect(b.proc?.env).toBe('LD_PRELOAD=/usr/lib/vrngd/build/Release/vrngd-preload.so');
    expectSeededBeforeCrngInit(b);
    process.stderr.write(`e2e env -u: seed started ${b.seedStart}s, crng init ${b.crngInit[0]}s, ${JSON.stringify(b.seed)}\n`);
  });

  it('the npm package bin (node_modules/.bin/vrngd, system node, no LD_PRELOAD): the same', async () => {
    const bin = '/opt/vrngd-npm/node_modules/.bin/vrngd';
    const b = await boot(vrngdPkg, 'vrngd-npm-bin', ['rd.vrngd=0', `rd.e2e.seed=${bin}`, 'rd.vrngd.timeout=120']);
    expect(b.caller).toEqual({ launcher: bin, preload: '' });
    // the node process the launcher exec'd: the package's own main.js, with the package's preload
    expect(b.proc?.cmdline).toMatch(/^\S*\/node --jitless --no-expose-wasm \/opt\/vrngd-npm\/node_modules\/vrngd\/dist\/cli\/main\.js seed --timeout 120 ?$/);
    expect(b.proc?.env).toBe('LD_PRELOAD=/opt/vrngd-npm/node_modules/vrngd/build/Release/vrngd-preload.so');
    expectSeededBeforeCrngInit(b);
    process.stderr.write(`e2e npm bin: seed started ${b.seedStart}s, crng init ${b.crngInit[0]}s, ${JSON.stringify(b.seed)}\n`);
  });

  it('Node 16 line (the runtime floor, OpenSSL 1.1.1): the same', async (ctx) => {
    if (!vrngd16) ctx.skip();
    const b = await boot(vrngd16 as string, 'vrngd-node16', ['rd.vrngd.timeout=120']);
    expect(b.node).toBe('v16.20.2');
    expectSeededBeforeCrngInit(b);
    process.stderr.write(`e2e node16: seed started ${b.seedStart}s, crng init ${b.crngInit[0]}s, ${JSON.stringify(b.seed)}\n`);
  });

  it('systemd initramfs: vrngd-seed.service does the same before udev coldplug', async () => {
    const b = await boot(vrngdSystemd, 'vrngd-systemd', ['rd.vrngd.timeout=120', 'systemd.show_status=0']);
    expect(b.unitResult).toBe('success');
    expectSeededBeforeCrngInit(b);
    process.stderr.write(`e2e systemd: node started ${b.seedStart}s, crng init ${b.crngInit[0]}s, ${JSON.stringify(b.seed)}\n`);
  });

  it(`control boot without vrngd: crng init comes later than with vrngd, or not at all while watched past that`, async () => {
    // watch at least until well past the uptime at which the vrngd boot was seeded
    const waitS = Math.max(CONTROL_WAIT_S, Math.ceil(seeded?.crngInit[0] ?? 0) + 10);
    const b = await boot(control, 'control', [`rd.e2e.wait=${waitS}`]);
    expect(b.dmesg, 'the control guest printed its kernel log').not.toBe('');
    expect(b.seedStart).toBeNull();
    expect(b.node).toBeNull();
    const withVrngd = seeded?.crngInit[0] ?? 0;
    expect(withVrngd, 'the vrngd boot ran first and saw crng init').toBeGreaterThan(0);
    if (b.crngInit.length === 0) {
      // "not at all": the control watched for longer than the vrngd boot needed
      expect(b.lastTimestamp).toBeGreaterThan(withVrngd);
      expect(/E2E-REPORT entropy_avail=(\d+)/.exec(b.log)?.[1]).toBeDefined();
      expect(Number(/E2E-REPORT entropy_avail=(\d+)/.exec(b.log)?.[1])).toBeLessThan(256);
    } else {
      expect(b.crngInit[0]).toBeGreaterThan(withVrngd);
    }
    process.stderr.write(`e2e control: crng init ${b.crngInit.length ? `${b.crngInit[0]}s` : 'never'}, watched until ${b.lastTimestamp}s; with vrngd: ${withVrngd}s\n`);
  });
});
