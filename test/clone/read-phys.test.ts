// The addon's readPhys (the clone watch's /dev/mem read): bad arguments throw a
// usage error, a non-device fd is refused (a regular file mapped past its end would
// SIGBUS), and a device that cannot be mapped gives its errno. Never a crash.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/native/binding';

describe('readPhys', () => {
  const b = loadBinding();
  const readPhys = b.readPhys as NonNullable<typeof b.readPhys>;

  it('is exported', () => {
    expect(typeof b.readPhys).toBe('function');
  });

  it('bad arguments: a usage error, not a crash', () => {
    for (const args of [[-1, 0, 16], [0, -5, 16], [0, 0, 65], [0, 0, 0], ['x', 0, 16], [0, 1.5, 16], [0, 2 ** 60, 16]] as Array<[number, number, number]>)
      expect(() => readPhys(...args), JSON.stringify(args)).toThrow('Usage: readPhys(fd, addr, length 1..64)');
  });

  it('a regular file (even far past its end) is refused with ENODEV', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-phys-')), 'small');
    fs.writeFileSync(f, 'x');
    const fd = fs.openSync(f, 'r');
    try {
      expect(() => readPhys(fd, 1 << 20, 16)).toThrow(/mmap\(\/dev\/mem\).*No such device/);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a character device that cannot be mapped gives its errno (/dev/null: ENODEV); /dev/zero maps', () => {
    const nul = fs.openSync('/dev/null', 'r');
    const zero = fs.openSync('/dev/zero', 'r');
    try {
      expect(() => readPhys(nul, 0, 16)).toThrow(/No such device/);
      expect(Buffer.from(readPhys(zero, 4096 + 40, 16)).equals(Buffer.alloc(16))).toBe(true);
    } finally {
      fs.closeSync(nul);
      fs.closeSync(zero);
    }
  });
});
