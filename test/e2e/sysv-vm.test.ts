// vrngd's SysV init script under a real SysV init: Debian bookworm's
// sysvinit-core as PID 1 (the same image as systemd-vm.test.ts, booted with its
// default /sbin/init), Debian 13's 6.12 kernel under QEMU TCG with virtio-rng.
// Installed from the release tarball with install.sh; then start (with rngd
// running and a VRNGD_ARGS holding blanks and shell metacharacters), status, a
// second start, reload, stop, status, start again, a permanent failure (no
// device), an open quote in VRNGD_ARGS, cloud-init's seed_random, and erase.
import { beforeAll, describe, expect, it } from 'vitest';
import { boot, Console, line, prepare, vmSkip } from './debian-vm';

const NAME = 'sysv';

describe.skipIf(vmSkip !== null)('the SysV init script under sysvinit-core as PID 1 (Debian bookworm VM, QEMU TCG, 6.12)', () => {
  let c: Console;

  beforeAll(async () => {
    const payload = await prepare(NAME, ['sysv']);
    c = await boot(NAME, payload, [], []);
   }, 1_800_000);

  it('boots with init as PID 1 and runs every step', () => {
    expect(line(c, 'boot', { n: '1' }).pid1).toBe('init');
    expect(c.text).toContain('E2E phase-done sysv');
    expect(line(c, 'install').rc).toBe('0');
  });

  it('start stops a running rngd and starts vrngd with a VRNGD_ARGS of blanks and metacharacters', () => {
    expect(line(c, 'rngd').running).toBe('yes');
    const s = line(c, 'sysv', { op: 'start' });
    process.stderr.write(`e2e sysv: start took ${s.ms} ms\n`);
    expect(s.rc).toBe('0');
    expect(s.rngd_running).toBe('no');
    expect(line(c, 'args')).toMatchObject({ logfile: '1', statefile: '1' });
  });

  it('status 0 while running; a second start keeps the first daemon', () => {
    expect(line(c, 'sysv', { op: 'status' }).rc).toBe('0');
    const again = line(c, 'sysv', { op: 'start-again' });
    expect(again.rc).toBe('0');
    expect(again.pid).toBe(again.first_pid);
  });

  it('reload keeps the PID; stop ends the daemon within 1 s (beyond the script\'s own cost) and removes the pid file; status then says 3', () => {
    const r = line(c, 'sysv', { op: 'reload' });
    expect(r.rc).toBe('0');
    expect(r.pid_after).toBe(r.pid_before);
    expect(r.alive).toBe('yes');
    const s = line(c, 'sysv', { op: 'stop' });
    const floor = Number(line(c, 'sysv', { op: 'status' }).ms);
    process.stderr.write(`e2e sysv: stop took ${s.ms} ms (the script's status, its floor: ${floor} ms); the daemon's own exit (SIGTERM to gone) ${line(c, 'sysv', { op: 'exit' }).ms} ms\n`);
    expect(s).toMatchObject({ rc: '0', alive: 'no', pidfile: 'no' });
    // under TCG bash, the script's sourcing and its pid check alone (`status`) cost a few hundred ms
    expect(Number(s.ms) - floor).toBeLessThanOrEqual(1000);
    expect(Number(line(c, 'sysv', { op: 'exit' }).ms)).toBeLessThanOrEqual(1000);
    expect(line(c, 'sysv', { op: 'status-stopped' }).rc).toBe('3');
  });

  it('starts a second time after stop', () => {
    const s = line(c, 'sysv', { op: 'second-start' });
    expect(s.rc).toBe('0');
    expect(Number(s.pid)).toBeGreaterThan(1);
  });

  it('a permanent failure and an open quote in VRNGD_ARGS: start fails, nothing left running', () => {
    expect(line(c, 'sysv', { op: 'start-nodevice' })).toMatchObject({ running: 'no' });
    expect(line(c, 'sysv', { op: 'start-nodevice' }).rc).not.toBe('0');
    expect(line(c, 'sysv', { op: 'start-openquote' })).toMatchObject({ running: 'no' });
    expect(line(c, 'sysv', { op: 'start-openquote' }).rc).not.toBe('0');
    expect(c.text).toMatch(/sysv badquote: .*--args: unterminated '/);
  });

  it('cloud-init seed_random with the shipped config succeeds; erase removes the init script and its links', () => {
    expect(line(c, 'cloudinit', { label: 'sysv' })).toMatchObject({ rc: '0', failed: '0' });
    expect(line(c, 'erase')).toMatchObject({ links: '0', initscript: 'no' });
  });
});
