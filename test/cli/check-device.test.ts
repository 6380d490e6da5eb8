// `vrngd check` on character devices: read through the reader child at the
// device's pace, never 1 MiB on the thread pool. A silent pty stands for a device
// the host stopped feeding (SIGINT must end it within 1 s, summary printed); the
// real /dev/hwrng (root, virtio-rng) must give one block in seconds.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, hasHwrng, skipReason, which } from '../helpers/env';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
const noPty = skipReason([[which('python3') !== null, 'no python3 to hold a pty open']]);
const noHwrng = skipReason([[hasHwrng, 'no readable /dev/hwrng (root and a virtio-rng device needed)']]);

describe('vrngd check on a character device', () => {
  it.skipIf(noPty !== null)('a silent device: SIGINT at 1 s ends it within 1 s with the summary', async () => {
    const holder = spawn('python3', ['-c', 'import os,pty,time\nm,s=pty.openpty()\nprint(os.ttyname(s),flush=True)\ntime.sleep(600)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    const dev = await new Promise<string>((resolve) => holder.stdout?.once('data', (b: Buffer) => resolve(b.toString().trim())));
    const child = spawn(process.execPath, [CLI, 'check', dev, '-c', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await new Promise((r) => setTimeout(r, 1000));
    expect(child.exitCode).toBeNull();
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(code).toBe(1); // no block tested, as rngtest
    expect(out).toContain('vrngd check: input ended before the 32-bit bootstrap (0 bits received); no block tested');
    holder.kill('SIGKILL');
  });

  it.skipIf(noHwrng !== null)('/dev/hwrng -c 1: one block at device speed, in seconds', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [CLI, 'check', '/dev/hwrng', '-c', '1'], { encoding: 'utf8', timeout: 30000 });
    const ms = Date.now() - t0;
    process.stderr.write(`vrngd check /dev/hwrng -c 1: ${ms} ms\n`);
    expect(r.stdout).toMatch(/FIPS 140-2 successes: [01]\n/);
    expect(r.stdout).toMatch(/bits received from input: 200\d\d\n/);
    expect(ms).toBeLessThan(15000);
  });
});
