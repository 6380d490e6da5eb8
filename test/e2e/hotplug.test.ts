// Hot-unplug in a real guest: Debian 13's 6.12 kernel under QEMU TCG, virtio-rng
// that the kernel does not credit by itself (rng_core.default_quality=0: no hwrng
// kernel thread, so vrngd's policy really reads /dev/hwrng), `vrngd run` started
// in the initramfs, and the virtio-rng-pci device removed and added back over QMP
// (device_del / device_add, ACPI PCI hotplug) while vrngd reads it.
//
// Reuses the seed e2e harness without editing it: the vrngd initramfs that
// scripts/dev/e2e/build-initramfs.sh builds (built here if missing), plus a small
// overlay archive appended to it (as scripts/dev/e2e/node-overlay.sh does) that
// replaces the 99vrngde2e report hook with one that runs `vrngd run -R 2` and waits,
// and a fresh bundle of the current sources. The QEMU command line is boot.sh's,
// copied with two additions boot.sh has no hook for: a QMP socket and an id on the
// virtio-rng-pci device.
//
// Asserted from the guest console: vrngd keeps running (reseeds after the device
// came back, no exit line), says once that the device left (one "ok → absent", one
// "every entropy source is unavailable") and resumes feeding when it returns
// ("absent → ok", "available again", reseeds again).
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, isRoot, skipReason, which } from '../helpers/env';

const CACHE = process.env.VRNGD_E2E_CACHE ?? path.join(ROOT, 'test', 'e2e', '.cache');
const E2E = path.join(ROOT, 'scripts', 'dev', 'e2e');
const BASE_IMAGE = path.join(CACHE, 'images', 'vrngd.img');

const skip = skipReason([
  [isRoot, 'not root: dracut and depmod -b need root'],
  [which('qemu-system-x86_64') !== null, 'qemu-system-x86_64 missing (bash scripts/dev/setup-deps.sh)'],
  [which('dracut') !== null, 'dracut missing (bash scripts/dev/setup-deps.sh)'],
  [which('cpio') !== null, 'cpio missing'],
  [fs.existsSync(path.join(ROOT, 'build', 'Release', 'vrngd.node')), 'build/Release/vrngd.node missing (npm run build:native)'],
]);

// The guest side: replaces 90-e2e-report.sh (sourced by dracut's init at pre-trigger).
const GUEST_HOOK = `#!/bin/sh
# TEST ONLY (hotplug e2e): run the daemon against /dev/hwrng and keep the initramfs alive.
modprobe -q virtio-rng 2>/dev/null
echo "HOTPLUG-GUEST quality=$(cat /sys/module/rng_core/parameters/default_quality) rng=$(cat /sys/class/misc/hw_random/rng_current)"
/usr/sbin/vrngd run -f -R 2 --state-file off --stats off 2>&1 &
echo "HOTPLUG-GUEST vrngd pid $!"
wait $!
echo "HOTPLUG-GUEST vrngd exited with status $?"
while :; do sleep 60; done
`;

function sh(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, VRNGD_E2E_CACHE: CACHE, ...env }, timeout: 900000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

/** A minimal QMP client: commands in order, events collected. */
class Qmp {
  private buf = '';
  private waiters: Array<(msg: Record<string, unknown>) => void> = [];
  readonly events: string[] = [];
  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      this.buf += b.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (typeof msg.event === 'string') this.events.push(msg.event);
        else if ('return' in msg || 'error' in msg || 'QMP' in msg) this.waiters.shift()?.(msg);
      }
    });
  }

  static async connect(file: string, timeoutMs: number): Promise<Qmp> {
    const t0 = Date.now();
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(file, () => resolve(s));
          s.on('error', reject);
        });
        const q = new Qmp(sock);
        await q.next(); // greeting
        await q.command('qmp_capabilities');
        return q;
      } catch (e) {
        if (Date.now() - t0 > timeoutMs) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async command(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = this.next();
    this.sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const msg = await reply;
    if ('error' in msg) throw new Error(`QMP ${execute}: ${JSON.stringify(msg.error)}`);
    return msg;
  }

  close(): void {
    this.sock.destroy();
  }
}

describe.skipIf(skip)('hot-unplug of virtio-rng while vrngd run reads it (real guest, QMP)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-hotplug-'));
  const log = path.join(tmp, 'console.log');
  let qemu: ChildProcess | null = null;
  let qemuExit: Promise<number | null> = Promise.resolve(null);

  const consoleText = (): string => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').replace(/\r/g, '') : '');
  const count = (re: RegExp): number => (consoleText().match(new RegExp(re.source, 'g')) ?? []).length;
  async function until(re: RegExp, timeoutMs: number, min = 1): Promise<void> {
    const t0 = Date.now();
    while (count(re) < min) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(re)} ×${min}; console:\n${consoleText().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    if (!fs.existsSync(BASE_IMAGE)) {
      fs.mkdirSync(path.dirname(BASE_IMAGE), { recursive: true });
      await sh('bash', [path.join(E2E, 'build-initramfs.sh'), 'vrngd', BASE_IMAGE]);
    }
    // overlay: the current bundle and the hotplug hook in place of the report hook
    const stage = path.join(tmp, 'stage');
    const bundle = path.join(tmp, 'bundle');
    await sh(process.execPath, [path.join(ROOT, 'scripts', 'dev', 'bundle.js'), bundle]);
    fs.mkdirSync(path.join(stage, 'usr/lib/vrngd'), { recursive: true });
    fs.copyFileSync(path.join(bundle, 'vrngd.js'), path.join(stage, 'usr/lib/vrngd/vrngd.js'));
    fs.mkdirSync(path.join(stage, 'usr/lib/dracut/hooks/pre-trigger'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'usr/lib/dracut/hooks/pre-trigger/90-e2e-report.sh'), GUEST_HOOK, { mode: 0o755 });
    const overlay = path.join(tmp, 'overlay.cpio');
    await sh('sh', ['-c', `cd "${stage}" && find usr | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > "${overlay}"`]);
    // the base image zero-padded to 4 bytes, then the overlay (later files replace earlier ones)
    const image = path.join(tmp, 'hotplug.img');
    const base = fs.readFileSync(BASE_IMAGE);
    const pad = Buffer.alloc((4 - (base.length % 4)) % 4);
    fs.writeFileSync(image, Buffer.concat([base, pad, fs.readFileSync(overlay)]));

    const kver = await sh('bash', [path.join(E2E, 'fetch-kernel.sh')]);
    const qmpSock = path.join(tmp, 'qmp.sock');
    // boot.sh's command line, plus -qmp and id=rng0
    const params = 'console=ttyS0 panic=-1 loglevel=6 rng_core.default_quality=0 random.trust_cpu=off random.trust_bootloader=off';
    qemu = spawn(
      'timeout',
      ['--kill-after=5', '600', 'qemu-system-x86_64', '-accel', 'tcg', '-m', '1024', '-smp', '1', '-no-reboot', '-display', 'none', '-monitor', 'none', '-serial', `file:${log}`,
        '-qmp', `unix:${qmpSock},server=on,wait=off`,
        '-kernel', path.join(CACHE, 'kernel', 'boot', `vmlinuz-${kver}`), '-initrd', image, '-append', params,
        '-device', 'virtio-rng-pci,id=rng0'],
      { stdio: 'ignore' },
    );
    const child = qemu;
    qemuExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    process.stderr.write(`e2e hotplug: console log ${log}\n`);
  });

  afterAll(async () => {
    if (qemu && qemu.exitCode === null) {
      qemu.kill('SIGTERM');
      await qemuExit;
    }
    if (process.env.VRNGD_E2E_KEEP) process.stderr.write(`e2e hotplug: kept ${tmp}\n`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('vrngd keeps running, says once that the device left, and feeds again when it returns', async () => {
    const qmp = await Qmp.connect(path.join(tmp, 'qmp.sock'), 30000);
    try {
      // vrngd reads /dev/hwrng: the kernel does not (quality 0, no hwrng thread)
      await until(/HOTPLUG-GUEST quality=0 rng=virtio_rng/, 240000);
      await until(/reseed: mixed 2500 B/, 120000, 3);
      expect(consoleText()).not.toMatch(/standby/);
      const before = count(/reseed: mixed 2500 B/);

      await qmp.command('device_del', { id: 'rng0' });
      await until(/hwrng \(\/dev\/hwrng\): ok → absent/, 120000);
      expect(qmp.events).toContain('DEVICE_DELETED');
      // the device stays away for a while: vrngd retries with backoff, silently
      await new Promise((r) => setTimeout(r, 20000));
      const whileGone = count(/reseed: mixed 2500 B/);

      await qmp.command('device_add', { driver: 'virtio-rng-pci', id: 'rng0' });
      await until(/hwrng \(\/dev\/hwrng\): absent → ok: block passed/, 180000);
      await until(/reseed: mixed 2500 B/, 60000, whileGone + 3);

      const text = consoleText();
      process.stderr.write(`e2e hotplug: ${before} reseeds before unplug, ${whileGone} when re-added, ${count(/reseed: mixed 2500 B/)} at the end\n`);
      // said once
      expect(count(/→ absent/)).toBe(1);
      expect(count(/every entropy source is unavailable/)).toBe(1);
      expect(count(/an entropy source is available again/)).toBe(1);
      // absent → ok twice: the first open at start, and the device's return
      expect(count(/hwrng \(\/dev\/hwrng\): absent → ok: opened/)).toBe(1);
      expect(count(/hwrng \(\/dev\/hwrng\): absent → ok: block passed/)).toBe(1);
      expect(count(/→ ok/)).toBe(2);
      // a handful of lines in all, not one per retry
      const daemonLines = text.split('\n').filter((l) => l.startsWith('vrngd: ') && !/reseed: mixed/.test(l));
      expect(daemonLines.length).toBeLessThanOrEqual(8);
      // the line that says it left names the device error
      expect(text).toMatch(/hwrng \(\/dev\/hwrng\): ok → absent: .*(ENODEV|No such device)/);
      // still running: never exited, never crashed
      expect(text).not.toMatch(/HOTPLUG-GUEST vrngd exited/);
      expect(text).not.toMatch(/internal error|Traceback|at .*\.js:\d+/);
    } finally {
      try {
        await qmp.command('quit');
      } catch {
        /* already gone */
      }
      qmp.close();
    }
  });
});
