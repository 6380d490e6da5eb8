// The VM generation ID (QEMU's and Hyper-V's "vmgenid" ACPI device, hid QEMUVGID):
// 16 bytes in guest memory that the hypervisor changes on every snapshot restore,
// incoming migration and clone. Firmware patches their physical address into the
// ACPI object VGIA (an SSDT); QEMU then raises a GPE whose method Notify()s
// \_SB.VGEN. Kernels from 5.18 have a driver (vmgenid) that reseeds the crng on that
// Notify; before, no driver binds QEMUVGID, no event reaches user space, and the
// only way to see a new ID is to read it.
//
// Reading it: read(2) of /dev/mem stops at high_memory (EFAULT; the buffer is in a
// reserved e820 page above the end of RAM), so the addon mmap(2)s the page
// (native readPhys). CONFIG_STRICT_DEVMEM (RHEL's default) still allows mapping
// pages that are not System RAM (arch/x86/mm/init.c devmem_is_allowed), so root
// with CAP_SYS_RAWIO can; a kernel without CONFIG_DEVMEM (our 5.4.59 build) cannot.
import * as fs from 'fs';
import * as path from 'path';
import type { RndBinding } from '../native/binding';

export const ID_BYTES = 16;
/** The ID is 40 bytes into the buffer VGIA points at (QEMU's VMGENID_GUID_OFFSET; its AML method ADDR adds it too). */
export const GUID_OFFSET = 40;

/** The port the clone watcher reads the ID through (a fake in unit tests). */
export interface GenerationIdReader {
  /** The current 16-byte ID. Throws when it cannot be read. */
  read(): Uint8Array;
  close(): void;
}

/**
 * The physical address in a table's `Name (VGIA, <DWord or QWord>)`, or null.
 * AML: NameOp 0x08, "VGIA", then DWordPrefix 0x0C + 4 bytes or QWordPrefix 0x0E + 8
 * (little-endian), as QEMU's hw/acpi/vmgenid.c emits it for the firmware to patch.
 */
export function findVgia(table: Uint8Array): number | null {
  for (let i = 1; i + 9 <= table.length; i++) {
    if (table[i - 1] !== 0x08 || table[i] !== 0x56 || table[i + 1] !== 0x47 || table[i + 2] !== 0x49 || table[i + 3] !== 0x41) continue;
    const b = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
    if (table[i + 4] === 0x0c) return b.readUInt32LE(i + 5) || null;
    if (table[i + 4] === 0x0e && i + 13 <= table.length) {
      const v = Number(b.readBigUInt64LE(i + 5));
      return v > 0 && Number.isSafeInteger(v) ? v : null;
    }
  }
  return null;
}

export type VmgenidVerdict =
  /** No vmgenid device: nothing to watch (a host, a guest without -device vmgenid). */
  | { kind: 'absent'; reason: string }
  /** A kernel driver handles it (5.18+: "crng reseeded due to virtual machine fork"). */
  | { kind: 'kernel'; reason: string }
  /** A device no driver handles, whose ID vrngd cannot read. */
  | { kind: 'unreadable'; reason: string }
  /** A device no driver handles, whose ID is at `address` (VGIA + 40): the watcher reads it. */
  | { kind: 'watch'; reason: string; address: number };

export interface VmgenidFs {
  exists(p: string): boolean;
  readdir(p: string): string[];
  readFile(p: string): Uint8Array;
}

export const realFs: VmgenidFs = {
  exists: (p) => fs.existsSync(p),
  readdir: (p) => {
    try {
      return fs.readdirSync(p);
    } catch {
      return [];
    }
  },
  readFile: (p) => fs.readFileSync(p),
};

const ACPI_DEVICES = '/sys/bus/acpi/devices';
const TABLES = '/sys/firmware/acpi/tables';

/** What the watcher should do on this machine. Reads sysfs only; opens nothing. */
export function probeVmgenid(f: VmgenidFs = realFs): VmgenidVerdict {
  const devs = f.readdir(ACPI_DEVICES).filter((d) => d.startsWith('QEMUVGID:'));
  if (devs.length === 0) return { kind: 'absent', reason: 'no VM generation ID device (ACPI QEMUVGID)' };
  const dev = path.join(ACPI_DEVICES, devs[0] as string);
  // the ACPI driver (5.18-6.x) binds the ACPI device; later kernels bind its platform node
  const physical = f.readdir(dev).filter((n) => n.startsWith('physical_node'));
  const bound = f.exists(path.join(dev, 'driver')) || physical.some((n) => f.exists(path.join(dev, n, 'driver')));
  if (bound || f.exists('/sys/bus/acpi/drivers/vmgenid') || f.exists('/sys/bus/platform/drivers/vmgenid'))
    return { kind: 'kernel', reason: "the kernel's vmgenid driver reseeds its crng on a VM fork; nothing to do" };
  let address: number | null = null;
  for (const t of f.readdir(TABLES).filter((n) => n.startsWith('SSDT')).sort()) {
    try {
      address = findVgia(f.readFile(path.join(TABLES, t)));
    } catch {
      continue; // tables are 0400 root; a non-root probe reads none
    }
    if (address !== null) break;
  }
  if (address === null) return { kind: 'unreadable', reason: `${devs[0] as string} has no driver, but no ACPI table names its address (VGIA)` };
  if (!f.exists('/dev/mem')) return { kind: 'unreadable', reason: `${devs[0] as string} has no driver, and this kernel has no /dev/mem (CONFIG_DEVMEM off) to read its ID at 0x${address.toString(16)}` };
  const id = address + GUID_OFFSET;
  return { kind: 'watch', reason: `${devs[0] as string} has no driver: its ID at 0x${id.toString(16)} is read through /dev/mem`, address: id };
}

/** Reads the ID through an open /dev/mem fd and the addon's mmap (readPhys). */
export class DevMemIdReader implements GenerationIdReader {
  private fd: number;

  constructor(private readonly address: number, private readonly binding: Pick<RndBinding, 'readPhys'>, devMem = '/dev/mem') {
    if (!binding.readPhys) throw new Error('the native addon has no readPhys (rebuild it: npm run build:native)');
    this.fd = fs.openSync(devMem, 'r');
  }

  read(): Uint8Array {
    if (this.fd < 0) throw new Error('closed');
    return (this.binding.readPhys as NonNullable<RndBinding['readPhys']>)(this.fd, this.address, ID_BYTES);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
