// The 90vrngd dracut module under the dracut releases of the legacy guests, in
// real guests (QEMU TCG): initramfs images built by upstream dracut 004 (RHEL 6's
// base; the module's executable check/install/installkernel scripts) and 033
// (RHEL 7's; module-setup.sh, with and without systemd in the initramfs, the
// systemd one running the el7 vrngd-seed.service) from the tarballs in
// ../shared/legacy-tools (scripts/dev/e2e/legacy-dracut.sh; nothing is fetched here
// beyond the kernel the other e2e tests fetch). 004's image boots the 3.10.108
// guest kernel, 033's the Debian 6.12 kernel of seed-boot.test.ts, which covers
// the host's current dracut. Each boot must show vrngd seed reading /dev/hwrng and
// crediting the kernel from inside the initramfs.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CACHE, E2E, sh } from './scripts';
import { ROOT, isRoot, skipReason, which } from '../helpers/env';

/** dracut's own progress lines, not worth a test log. */
const DRACUT_CHATTER = (l: string): boolean => /^\*\*\*|^(Mode|Method|Files|Linked|Compared|Saved|Duration):/.test(l);

const IMAGES = path.join(CACHE, 'images');
const TOOLS = path.join(ROOT, '..', 'shared', 'legacy-tools');
const KERNEL_310 = path.join(ROOT, '..', 'shared', 'guest-kernels', 'bzImage-3.10.108');
const NODE16 = path.join(ROOT, '.cache', 'node16', 'package', 'bin', 'node');

const skip = skipReason([
  [isRoot, 'not root: dracut and depmod -b need root'],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [fs.existsSync(path.join(TOOLS, 'dracut-004.tar.gz')) && fs.existsSync(path.join(TOOLS, 'dracut-033.tar.gz')), `dracut 004/033 tarballs missing from ${TOOLS}`],
  [fs.existsSync(KERNEL_310), `${KERNEL_310} missing`],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd-preload.so')), 'build/Release/vrngd-preload.so missing (npm run build:native)'],
  [which('make') !== null && which('cc') !== null, 'make/cc missing: dracut 033 builds its dracut-install'],
]);

interface Seed {
  bytes: number;
  credited: number;
  before: number;
  after: number;
  readyBefore: string;
  readyAfter: string;
  exit: number;
}
interface Boot {
  log: string;
  seconds: number;
  hookStarted: boolean;
  unitResult: string | null;
  seed: Seed | null;
}

async function boot(initrd: string, name: string, params: string[], kernel?: string): Promise<Boot> {
  const log = path.join(IMAGES, `${name}.log`);
  fs.rmSync(log, { force: true });
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const env = { ...process.env, VRNGD_E2E_CACHE: CACHE, VRNGD_E2E_BOOT_TIMEOUT: '420', ...(kernel ? { VRNGD_E2E_KERNEL: kernel } : {}) };
    const child = spawn('bash', [path.join(E2E, 'boot.sh'), initrd, log, ...params], { cwd: ROOT, env, stdio: 'ignore' });
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').replace(/\r/g, '') : '';
  const begin = text.indexOf('E2E-DMESG-BEGIN');
  const dmesg = begin >= 0 ? text.slice(begin, text.indexOf('E2E-DMESG-END', begin)) : '';
  // "crng ready n/a (no getrandom)" on 3.10: a state with spaces
  const m = /vrngd-seed: vrngd seed: \w+: read (\d+) bytes from \/dev\/hwrng, credited (\d+) bits \(\d+ asked\), entropy (\d+) -> (\d+) bits, crng ready (.+?) -> (.+?), \d+ ms.*\(exit (\d+)\)/.exec(dmesg);
  const unit = /E2E-UNIT vrngd-seed\.service result=(\S*)/.exec(text);
  process.stderr.write(`e2e ${name}: booted and reported in ${seconds}s, console log ${log}\n`);
  return {
    log: text,
    seconds,
    hookStarted: /\] vrngd-seed: starting/.test(dmesg),
    unitResult: unit ? (unit[1] as string) : null,
    seed: m ? { bytes: Number(m[1]), credited: Number(m[2]), before: Number(m[3]), after: Number(m[4]), readyBefore: m[5] as string, readyAfter: m[6] as string, exit: Number(m[7]) } : null,
  };
}

function expectSeeded(b: Boot): Seed {
  expect(b.log, 'the guest printed its kernel log').toMatch(/E2E-DMESG-BEGIN/);
  expect(b.seed, 'vrngd seed printed its line in the initramfs').not.toBeNull();
  const s = b.seed as Seed;
  expect(s.exit).toBe(0);
  expect(s.bytes).toBeGreaterThanOrEqual(2500); // at least one FIPS-checked block from the device
  expect(s.credited).toBeGreaterThan(0);
  expect(s.after).toBeGreaterThan(s.before);
  return s;
}

describe.skipIf(skip !== null)('90vrngd under dracut 004 and 033 (QEMU TCG)', () => {
  const img = { d004: '', d033: '', d033s: '' };
  // Node 16.20 is the RHEL 7 line; fall back to this node when it was not fetched
  const node = fs.existsSync(NODE16) ? NODE16 : process.execPath;

  beforeAll(async () => {
    fs.mkdirSync(IMAGES, { recursive: true });
    const t = Date.now();
    for (const [key, ver, variant] of [['d004', '004', 'vrngd'], ['d033', '033', 'vrngd'], ['d033s', '033', 'vrngd-systemd']] as const) {
      img[key] = path.join(IMAGES, `dracut-${ver}-${variant}.img`);
      const size = await sh(path.join(E2E, 'build-legacy-initramfs.sh'), [ver, variant, img[key]], { VRNGD_NODE: node }, DRACUT_CHATTER);
      process.stderr.write(`e2e: dracut ${ver} ${variant}: ${size} bytes\n`);
    }
    process.stderr.write(`e2e: three legacy dracut images built in ${Math.round((Date.now() - t) / 1000)}s\n`);
  });

  it('dracut 004 (RHEL 6 base), 3.10.108 kernel: the pre-trigger hook seeds from /dev/hwrng', async () => {
    const b = await boot(img.d004, 'dracut-004', ['rd.vrngd.timeout=120'], KERNEL_310);
    expect(b.hookStarted, 'the 90vrngd hook ran (004 took the module through its install script)').toBe(true);
    const s = expectSeeded(b);
    // 3.10 has no getrandom and no crng state; its pool is 4096 bits
    expect(s.readyAfter).toMatch(/^n\/a/);
    expect(s.after).toBeGreaterThanOrEqual(256);
    expect(b.log).toMatch(/E2E-NODE v\d+\./);
  });

  it('dracut 033 without systemd (RHEL 7, dracut init): the hook seeds and the crng becomes ready', async () => {
    const b = await boot(img.d033, 'dracut-033', ['rd.vrngd.timeout=120']);
    expect(b.hookStarted).toBe(true);
    const s = expectSeeded(b);
    expect(s.readyBefore).toBe('no');
    expect(s.readyAfter).toBe('yes');
  });

  it('dracut 033 systemd initramfs (RHEL 7 default): the el7 vrngd-seed.service is enabled, runs and seeds', async () => {
    const b = await boot(img.d033s, 'dracut-033-systemd', ['rd.vrngd.timeout=120', 'systemd.show_status=0']);
    expect(b.unitResult, 'vrngd-seed.service ran in the initramfs (the wants link works without $SYSTEMCTL)').toBe('success');
    const s = expectSeeded(b);
    expect(s.readyAfter).toBe('yes');
  });
});
