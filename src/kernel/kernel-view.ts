// What the feeding policy needs to know about the kernel (core/policy.ts
// KernelView), from the probe, with the era's defaults where the probe could not
// read a value (docs/kernel-eras.md): one mapping, for `vrngd run` and `vrngd sources`.
// And the one device-number lookup: whether two paths are the same character device.
import * as fs from 'fs';
import type { KernelView } from '../core/policy';
import type { ProbeResult } from './probe';

/**
 * `targetIsRandomDevice` false: -o at a file or /dev/stdout (rngd's write
 * fallback): nothing to measure, so blocks are written as they come.
 */
export function kernelViewOf(probe: ProbeResult, targetIsRandomDevice = true): KernelView {
  if (!targetIsRandomDevice) return { regime: 'legacy', poolsizeBits: 4096, writeWakeupThresholdBits: 4096, crngReady: null, kernelFeeder: false };
  const k = probe.kernel;
  return {
    regime: k.regime,
    // 5.18+ has a 256-bit pool; before, 4096 bits
    poolsizeBits: k.poolsizeBits ?? (k.regime === 'modern' ? 256 : 4096),
    // 2.6.32 and 3.10 wake feeders below 128 bits; 3.17 onwards below 896
    writeWakeupThresholdBits: k.writeWakeupThresholdBits ?? (k.regime === 'legacy' ? 128 : 896),
    crngReady: k.crngReady,
    kernelFeeder: probe.hwrng.kernelFeeder,
  };
}

/** The device number (st_rdev) of a character device, or null (missing, not a character device). */
export function charDeviceNumber(p: string): number | null {
  try {
    const st = fs.statSync(p);
    return st.isCharacterDevice() ? st.rdev : null;
  } catch {
    return null;
  }
}

/** Whether both paths name the same character device (/dev/hwrng and a -r path to it by another name). */
export function sameCharDevice(a: string, b: string): boolean {
  const x = charDeviceNumber(a);
  return x !== null && x === charDeviceNumber(b);
}
