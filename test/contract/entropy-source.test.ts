// Runs the EntropySource contract (entropy-source.ts beside this file) against
// the fake (endless, finite, stalled), and DeviceSource on a character device
// (/dev/urandom always; /dev/hwrng as root when it is there, skipping with the
// reason printed otherwise), a FIFO (fed by a child `cat FILE > FIFO`; a silent
// writer `sleep` for the idle case) and a regular file.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, it } from 'vitest';
import { DeviceSource } from '../../src/sources/device-source';
import { readerPath } from '../../src/sources/child-reader';
import { FakeSource } from '../fakes/fake-source';
import { canRead, isRoot, skipReason } from '../helpers/env';
import { entropySourceContract } from './entropy-source';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-contract-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  // files stay until here: a deleted file's inode may be reused by the next one,
  // and FileReader remembers how far it read each inode (see the report of this suite)
  fs.rmSync(tmp, { recursive: true, force: true });
});
let seq = 0;
const fresh = (stem: string): string => path.join(tmp, `${stem}-${++seq}`);
const missing = (kind: 'hwrng' | 'pipe'): DeviceSource => new DeviceSource({ name: kind, kind, path: fresh('absent'), quality: 8 });

entropySourceContract('FakeSource, endless', {
  make: () => ({ source: new FakeSource('hwrng', '/dev/fake-hwrng', undefined, 1e6), content: null }),
  idle: () => {
    const f = new FakeSource('hwrng', '/dev/fake-hwrng');
    f.stalled = true;
    return f;
  },
  missing: () => {
    const f = new FakeSource('hwrng', '/dev/fake-hwrng');
    f.present = false;
    return f;
  },
});

entropySourceContract('FakeSource, finite (endAfterBytes)', {
  make: (bytes) => {
    // the fake's generator decides the bytes; record them as they are served to know the content
    const content = randomBytes(bytes);
    let at = 0;
    const f = new FakeSource('pipe', '/tmp/fake-pipe', (n) => {
      const out = content.subarray(at, at + n);
      at += n;
      return new Uint8Array(out);
    }, 1e6, 8, 'pipe');
    f.endAfterBytes = bytes;
    return { source: f, content: new Uint8Array(content), resumesExactly: true };
  },
  missing: () => {
    const f = new FakeSource('pipe', '/tmp/fake-pipe', undefined, 1e6, 8, 'pipe');
    f.present = false;
    return f;
  },
});

const noReader = skipReason([[readerPath() !== null, 'vrngd-reader missing (npm run build:native): the character-device source reads through it']]);
describe.skipIf(noReader !== null)('character devices', () => {
  entropySourceContract('DeviceSource on /dev/urandom (a character device)', {
    make: () => ({ source: new DeviceSource({ name: 'hwrng', kind: 'hwrng', path: '/dev/urandom', quality: 8, readChunkBytes: 500 }), content: null }),
    missing: () => missing('hwrng'),
  });
});

const noHwrng = skipReason([
  [readerPath() !== null, 'vrngd-reader missing (npm run build:native)'],
  [isRoot, 'not root: /dev/hwrng is root-only'],
  [fs.existsSync('/dev/hwrng'), 'no /dev/hwrng on this machine'],
  [canRead('/dev/hwrng'), '/dev/hwrng not readable'],
]);
describe.skipIf(noHwrng !== null)('/dev/hwrng', () => {
  entropySourceContract('DeviceSource on /dev/hwrng (the real hardware RNG)', {
    make: () => ({ source: new DeviceSource({ name: 'hwrng', kind: 'hwrng', path: '/dev/hwrng', quality: 8, readChunkBytes: 500 }), content: null }),
    missing: () => missing('hwrng'),
  });
});
if (noHwrng !== null) describe('/dev/hwrng', () => it.skip(`skipped: ${noHwrng}`, () => undefined));

entropySourceContract('DeviceSource on a FIFO', {
  make: (bytes) => {
    const content = randomBytes(bytes);
    const file = fresh('fifo-data');
    fs.writeFileSync(file, content);
    const fifo = fresh('fifo');
    spawnSync('mkfifo', [fifo]);
    // the writer blocks in open(2) until the source opens the FIFO, then writes all and leaves (end of data)
    children.push(spawn('sh', ['-c', 'exec cat "$1" > "$2"', 'sh', file, fifo], { stdio: 'ignore' }));
    return { source: new DeviceSource({ name: 'pipe', kind: 'pipe', path: fifo, quality: 8 }), content: new Uint8Array(content) };
  },
  idle: () => {
    const fifo = fresh('fifo-idle');
    spawnSync('mkfifo', [fifo]);
    // a writer that holds the FIFO open and never writes
    children.push(spawn('sh', ['-c', 'exec sleep 60 > "$1"', 'sh', fifo], { stdio: 'ignore' }));
    return new DeviceSource({ name: 'pipe', kind: 'pipe', path: fifo, quality: 8 });
  },
  missing: () => missing('pipe'),
});

entropySourceContract('DeviceSource on a regular file', {
  make: (bytes) => {
    const content = randomBytes(bytes);
    const file = fresh('file');
    fs.writeFileSync(file, content);
    return { source: new DeviceSource({ name: 'pipe', kind: 'pipe', path: file, quality: 8 }), content: new Uint8Array(content), resumesExactly: true };
  },
  missing: () => missing('pipe'),
});
