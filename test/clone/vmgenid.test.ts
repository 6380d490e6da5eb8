// kernel/vmgenid.ts: finding VGIA in an SSDT, and the decision whether to watch.
import { describe, expect, it } from 'vitest';
import { findVgia, GUID_OFFSET, probeVmgenid, VmgenidFs } from '../../src/kernel/vmgenid';

/** An SSDT as QEMU's hw/acpi/vmgenid.c emits it (header, then Name (VGIA, DWord) patched by the firmware). */
function ssdt(vgia: number, wide = false): Uint8Array {
  const header = Buffer.alloc(36);
  header.write('SSDT', 0);
  const name = Buffer.from([0x08, ...Buffer.from('VGIA'), wide ? 0x0e : 0x0c]);
  const value = Buffer.alloc(wide ? 8 : 4);
  if (wide) value.writeBigUInt64LE(BigInt(vgia));
  else value.writeUInt32LE(vgia);
  // a scope with the device and a method that mentions VGIA without NameOp before it
  const rest = Buffer.from([0x10, 0x20, ...Buffer.from('\\_SB_VGEN'), 0x72, ...Buffer.from('VGIA'), 0x0a, 0x28]);
  return Buffer.concat([header, name, value, rest]);
}

function fakeFs(files: Record<string, Uint8Array | 'dir'>): VmgenidFs {
  return {
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(`${p}/`)),
    readdir: (p) => [...new Set(Object.keys(files).filter((f) => f.startsWith(`${p}/`)).map((f) => f.slice(p.length + 1).split('/')[0] as string))],
    readFile: (p) => {
      const v = files[p];
      if (!v || v === 'dir') throw Object.assign(new Error(`EACCES ${p}`), { code: 'EACCES' });
      return v;
    },
  };
}

const DEV = '/sys/bus/acpi/devices/QEMUVGID:00';

describe('findVgia', () => {
  it('reads the DWord (and a QWord) after NameOp VGIA, little-endian', () => {
    expect(findVgia(ssdt(0x5ffff000))).toBe(0x5ffff000);
    expect(findVgia(ssdt(0x1_2345_6000, true))).toBe(0x1_2345_6000);
  });
  it('null for a table without it, an unpatched 0, or a truncated value', () => {
    expect(findVgia(Buffer.from('SSDT no such name here'))).toBeNull();
    expect(findVgia(ssdt(0))).toBeNull();
    expect(findVgia(ssdt(0x5ffff000).subarray(0, 36 + 7))).toBeNull();
  });
});

describe('probeVmgenid', () => {
  it('absent: no QEMUVGID device (the host, the idle bench)', () => {
    expect(probeVmgenid(fakeFs({ '/sys/bus/acpi/devices/PNP0A03:00/hid': Buffer.from('x') })).kind).toBe('absent');
  });
  it('kernel: a driver is bound (5.18+), on the ACPI device or its platform node, or registered', () => {
    const base = { [`${DEV}/hid`]: Buffer.from('QEMUVGID'), '/sys/firmware/acpi/tables/SSDT1': ssdt(0x5ffff000), '/dev/mem': Buffer.alloc(0) };
    expect(probeVmgenid(fakeFs({ ...base, [`${DEV}/driver/x`]: 'dir' })).kind).toBe('kernel');
    expect(probeVmgenid(fakeFs({ ...base, [`${DEV}/physical_node/driver/x`]: 'dir' })).kind).toBe('kernel');
    expect(probeVmgenid(fakeFs({ ...base, '/sys/bus/acpi/drivers/vmgenid/bind': 'dir' })).kind).toBe('kernel');
  });
  it('watch: no driver, VGIA in an SSDT, /dev/mem present; the ID is at VGIA + 40', () => {
    const v = probeVmgenid(fakeFs({ [`${DEV}/hid`]: Buffer.from('QEMUVGID'), '/sys/firmware/acpi/tables/SSDT': Buffer.from('other'), '/sys/firmware/acpi/tables/SSDT2': ssdt(0x5ffff000), '/dev/mem': Buffer.alloc(0) }));
    expect(v).toEqual({ kind: 'watch', address: 0x5ffff000 + GUID_OFFSET, reason: 'QEMUVGID:00 has no driver: its ID at 0x5ffff028 is read through /dev/mem' });
  });
  it('unreadable: no /dev/mem (CONFIG_DEVMEM off, our 5.4 build), or no VGIA (tables unreadable)', () => {
    const noMem = probeVmgenid(fakeFs({ [`${DEV}/hid`]: Buffer.from('QEMUVGID'), '/sys/firmware/acpi/tables/SSDT1': ssdt(0x5ffff000) }));
    expect(noMem.kind).toBe('unreadable');
    expect(noMem.reason).toMatch(/no \/dev\/mem \(CONFIG_DEVMEM off\)/);
    const noTable = probeVmgenid(fakeFs({ [`${DEV}/hid`]: Buffer.from('QEMUVGID'), '/sys/firmware/acpi/tables/SSDT1': 'dir', '/dev/mem': Buffer.alloc(0) }));
    expect(noTable.kind).toBe('unreadable');
    expect(noTable.reason).toMatch(/VGIA/);
  });
});
