import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createSource } from '../../src/sources/open-source';
import type { SourceSpec } from '../../src/sources/entropy-source';

/** Builds and opens a source, as the daemon's runner does. */
async function openSource(spec: SourceSpec) {
  const s = createSource(spec);
  await s.open();
  return s;
}
import { DeviceSource } from '../../src/sources/device-source';
import { ChildReader } from '../../src/sources/child-reader';
import { RdrandSource } from '../../src/sources/rdrand-source';
import { codeFromStrerror } from '../../src/sources/source-error';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-src-'));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function fifo(name: string): string {
  const p = path.join(tmp, name);
  execFileSync('mkfifo', [p]);
  cleanups.push(() => fs.rmSync(p, { force: true }));
  return p;
}

describe('DeviceSource', () => {
  it('reads a character device through the reader child', async () => {
    const s = await openSource({ kind: 'hwrng', path: '/dev/zero' });
    expect((s as DeviceSource).fileType).toBe('char');
    const data = await s.read(2500);
    expect(data.length).toBe(2500);
    expect(data.every((b) => b === 0)).toBe(true);
    s.close();
  });

  it('names the fault for a missing device', async () => {
    await expect(openSource({ kind: 'hwrng', path: path.join(tmp, 'nope') })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('abandons a blocked device read at once on close()', async () => {
    // dd opening a FIFO with no writer blocks like a read waiting on the host
    const r = new ChildReader({ path: fifo('blocked-dev'), readChunkBytes: 64 });
    const pending = r.read(64);
    expect(r.busy).toBe(true);
    const t0 = Date.now();
    r.close();
    await expect(pending).rejects.toMatchObject({ code: 'ECLOSED' });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(r.busy).toBe(false);
  });

  it('reads a FIFO without waiting for a writer to open, and ends at EOF', async () => {
    const p = fifo('feed');
    const s = await openSource({ kind: 'pipe', path: p });
    expect((s as DeviceSource).fileType).toBe('fifo');
    const pending = s.read(100);
    const w = fs.createWriteStream(p);
    w.end(Buffer.alloc(40, 7));
    const got = await pending;
    expect(Buffer.from(got)).toEqual(Buffer.alloc(40, 7));
    expect((await s.read(100)).length).toBe(0);
    s.close();
  });

  it('close() abandons a FIFO read with no writer', async () => {
    const p = fifo('idle');
    const s = await openSource({ kind: 'pipe', path: p });
    const pending = s.read(100);
    s.close();
    await expect(pending).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('reads a regular file to its end', async () => {
    const p = path.join(tmp, 'data.bin');
    fs.writeFileSync(p, Buffer.alloc(3000, 5));
    const s = await openSource({ kind: 'pipe', path: p, quality: 2 });
    expect(s.quality).toBe(2);
    expect((await s.read(2500)).length).toBe(2500);
    expect((await s.read(2500)).length).toBe(500);
    expect((await s.read(2500)).length).toBe(0);
    s.close();
  });
});

describe('RdrandSource', () => {
  it('is absent when CPUID says no', async () => {
    const s = new RdrandSource({ cpuRngSupport: () => ({ rdrand: false, rdseed: false }), readCpuRng: () => 0 });
    expect(s.available).toBe(false);
    await expect(s.open()).rejects.toMatchObject({ code: 'ENOTSUP' });
  });
  it('reads the CPU generator and reports a CPU that keeps failing', async () => {
    let fail = false;
    const s = new RdrandSource({ cpuRngSupport: () => ({ rdrand: true, rdseed: false }), readCpuRng: (d) => (fail ? 0 : (d.fill(3), d.length)) });
    expect(s.quality).toBe(1);
    await s.open();
    expect((await s.read(16)).length).toBe(16);
    fail = true;
    await expect(s.read(16)).rejects.toMatchObject({ code: 'EAGAIN' });
  });
  it('uses the real CPU where it has RDRAND/RDSEED', async () => {
    const s = createSource({ kind: 'rdrand' }) as RdrandSource;
    if (!s.available) return void process.stderr.write('skip: CPU has no RDRAND/RDSEED\n');
    await s.open();
    const d = await s.read(64);
    expect(d.length).toBe(64);
    expect(new Set(d).size).toBeGreaterThan(20);
  });
});

describe('codeFromStrerror', () => {
  it('maps dd messages to codes', () => {
    expect(codeFromStrerror("dd: error reading '/dev/hwrng': No such device")).toBe('ENODEV');
    expect(codeFromStrerror("dd: failed to open '/x': No such file or directory")).toBe('ENOENT');
    expect(codeFromStrerror("dd: error reading '/x': No such device or address")).toBe('ENXIO');
    expect(codeFromStrerror("dd: failed to open '/dev/hwrng': Permission denied")).toBe('EACCES');
    expect(codeFromStrerror('something odd')).toBe('EIO');
  });
});
