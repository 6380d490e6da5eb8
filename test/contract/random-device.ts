// The RandomDevice port's contract (src/kernel/random-device.ts), as one set of
// assertions that every implementation must pass: the simulated kernel
// (test/sim/sim-kernel.ts) in each era, and the real kernel through
// LinuxRandomDevice (test/contract/random-device.test.ts runs both).
//
// Only what a real, already-seeded host kernel can show without writing under
// /proc/sys/kernel/random and without RNDZAPENTCNT/RNDCLEARPOOL: the count is
// readable and in range, RNDADDENTROPY is accepted and never lowers the count
// (and raises it where the pool is not full), write(2) mixes without credit,
// poll(2) answers only the events asked for, waits for its timeout and is
// interrupted at once, bad arguments are refused before the kernel is asked,
// without CAP_SYS_ADMIN the add is refused with EPERM, and a closed device
// refuses everything but crngReady().
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../src/kernel/errors';
import type { RandomDevice } from '../../src/kernel/random-device';

export const POLLIN = 1;
export const POLLOUT = 4;
/** The addon's MAX_ADD_BYTES and MAX_POLL_MS (src/native/vrngd.c): one RNDADDENTROPY call, one poll. */
export const MAX_ADD_BYTES = 2500;
export const MAX_POLL_MS = 60000;

export interface RandomDeviceSubject {
  device: RandomDevice;
  /** /proc/sys/kernel/random/poolsize of this kernel, in bits. */
  poolsizeBits: number;
  /** Whether nothing else changes the count meanwhile (the simulation); false on a live kernel. */
  quiet: boolean;
}

export interface RandomDeviceContract {
  /** A fresh device, opened for reading and writing. */
  open(): RandomDeviceSubject;
  /**
   * An RNDADDENTROPY without CAP_SYS_ADMIN: what it threw (null: it did not throw),
   * or { skip: reason } where this machine cannot run one.
   */
  addWithoutCapability(): Promise<{ name: string; code: string | undefined } | null | { skip: string }>;
}

const bytes = (n: number, fill = 0x5a): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (fill + i * 37) & 0xff;
  return b;
};

function thrown(fn: () => unknown): { name: string; code: string | undefined } | null {
  try {
    fn();
  } catch (e: unknown) {
    return { name: (e as Error).name, code: (e as { code?: string }).code };
  }
  return null;
}

async function rejected(p: Promise<unknown>): Promise<{ name: string; code: string | undefined } | null> {
  try {
    await p;
  } catch (e: unknown) {
    return { name: (e as Error).name, code: (e as { code?: string }).code };
  }
  return null;
}

/** Registers the contract's tests for one implementation. */
export function randomDeviceContract(name: string, impl: RandomDeviceContract): void {
  const withDevice = async (fn: (s: RandomDeviceSubject) => Promise<void> | void): Promise<void> => {
    const s = impl.open();
    try {
      await fn(s);
    } finally {
      s.device.close();
    }
  };

  describe(`RandomDevice contract: ${name}`, () => {
    it('entropyBits(): a whole number of bits within 0..poolsize, the same on a second read of a quiet pool', () =>
      withDevice((s) => {
        const a = s.device.entropyBits();
        expect(Number.isInteger(a)).toBe(true);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(s.poolsizeBits);
        if (s.quiet) expect(s.device.entropyBits()).toBe(a);
      }));

    it('addEntropy(): accepted with 0 and with 8 bits per byte; counted: never lower, higher where the pool was not full', () =>
      withDevice((s) => {
        const before = s.device.entropyBits();
        expect(s.device.addEntropy(bytes(32), 0)).toBeUndefined();
        if (s.quiet) expect(s.device.entropyBits()).toBe(before); // mixed, not credited
        const mid = s.device.entropyBits();
        expect(s.device.addEntropy(bytes(32, 0x11), 256)).toBeUndefined();
        const after = s.device.entropyBits();
        expect(after).toBeLessThanOrEqual(s.poolsizeBits);
        if (s.quiet || mid >= s.poolsizeBits) {
          // a live pool may be drained by others between the reads; a full or quiet one is not
          expect(after).toBeGreaterThanOrEqual(mid);
          if (mid < s.poolsizeBits && s.device.crngReady() !== true) expect(after).toBeGreaterThan(mid);
        }
      }));

    it('addEntropy(): the largest call (MAX_ADD_BYTES, 8 bits per byte) is accepted', () =>
      withDevice((s) => {
        expect(thrown(() => s.device.addEntropy(bytes(MAX_ADD_BYTES), MAX_ADD_BYTES * 8))).toBeNull();
      }));

    it('addEntropy(): a count outside 0..8×length, a non-integer count, or data outside 1..MAX_ADD_BYTES is refused before the kernel is asked', () =>
      withDevice((s) => {
        const before = s.device.entropyBits();
        expect(thrown(() => s.device.addEntropy(bytes(4), -1))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        expect(thrown(() => s.device.addEntropy(bytes(4), 33))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        expect(thrown(() => s.device.addEntropy(bytes(4), 1.5))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        expect(thrown(() => s.device.addEntropy(bytes(4), Number.NaN))).toEqual({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        expect(thrown(() => s.device.addEntropy(new Uint8Array(0), 0))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        expect(thrown(() => s.device.addEntropy(bytes(MAX_ADD_BYTES + 1), 8))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        if (s.quiet) expect(s.device.entropyBits()).toBe(before);
      }));

    it('addEntropy() without CAP_SYS_ADMIN: a KernelError with code EPERM', async (ctx) => {
      const r = await impl.addWithoutCapability();
      if (r && 'skip' in r) {
        process.stderr.write(`skip: ${r.skip}\n`);
        ctx.skip();
      }
      expect(r).toEqual({ name: 'KernelError', code: 'EPERM' });
    });

    it('write(): mixes without credit', () =>
      withDevice((s) => {
        const before = s.device.entropyBits();
        expect(s.device.write(bytes(64))).toBeUndefined();
        // no credit: a quiet pool stays, a live one may only fall (readers) or be fed by the kernel
        if (s.quiet || before >= s.poolsizeBits) expect(s.device.entropyBits()).toBeLessThanOrEqual(before);
      }));

    it('crngReady(): true, false or null (no getrandom), the same answer twice on a quiet kernel', () =>
      withDevice((s) => {
        const r = s.device.crngReady();
        expect([true, false, null]).toContain(r);
        if (s.quiet) expect(s.device.crngReady()).toBe(r);
      }));

    it('reseedCrng(): a boolean; true once the crng is ready where the kernel has RNDRESEEDCRNG; ENODATA before', () =>
      withDevice((s) => {
        const ready = s.device.crngReady();
        let r: boolean | null = null;
        let e: unknown = null;
        try {
          r = s.device.reseedCrng();
        } catch (err: unknown) {
          e = err;
        }
        if (e !== null) {
          expect(e).toBeInstanceOf(KernelError);
          expect((e as KernelError).code).toBe('ENODATA');
          expect(ready).toBe(false);
        } else {
          expect(typeof r).toBe('boolean');
          // a kernel with getrandom that says ready and has the ioctl (4.17+: poolsize 256 means 5.18+)
          if (ready === true && s.poolsizeBits === 256) expect(r).toBe(true);
        }
      }));

    it('poll(POLLIN|POLLOUT): answers at once with a non-empty subset of the events asked for (some side is always ready)', () =>
      withDevice(async (s) => {
        const t0 = Date.now();
        const r = await s.device.poll(POLLIN | POLLOUT, 2000);
        expect(Date.now() - t0).toBeLessThan(1000);
        expect(r).toBeGreaterThan(0);
        expect(r & ~(POLLIN | POLLOUT)).toBe(0);
      }));

    it('poll(): once the crng is ready, POLLIN at once and no POLLOUT within the timeout (5.18+ semantics); never an event not asked for', () =>
      withDevice(async (s) => {
        const ready = s.device.crngReady();
        const pollIn = await s.device.poll(POLLIN, 1000);
        expect(pollIn & ~POLLIN).toBe(0);
        if (ready === true && s.poolsizeBits === 256) {
          expect(pollIn).toBe(POLLIN);
          const t0 = Date.now();
          expect(await s.device.poll(POLLOUT, 150)).toBe(0);
          expect(Date.now() - t0).toBeGreaterThanOrEqual(140); // it waited for the timeout
        }
      }));

    it('interruptPoll(): a pending poll resolves 0 at once, long before its timeout', () =>
      withDevice(async (s) => {
        if (!s.device.interruptPoll) return;
        // an event that is not ready: POLLOUT on a ready 5.18+ kernel, POLLIN on a pool below 64 bits
        const events = s.device.crngReady() === true && s.poolsizeBits === 256 ? POLLOUT : s.device.entropyBits() < 64 ? POLLIN : 0;
        if (events === 0) return;
        const t0 = Date.now();
        const p = s.device.poll(events, 10000);
        setTimeout(() => s.device.interruptPoll?.(), 50);
        expect(await p).toBe(0);
        expect(Date.now() - t0).toBeLessThan(2000);
      }));

    it('poll(): a timeout outside 0..MAX_POLL_MS is refused (RangeError ERR_OUT_OF_RANGE)', () =>
      withDevice(async (s) => {
        expect(await rejected(s.device.poll(POLLIN, MAX_POLL_MS + 1))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        expect(await rejected(s.device.poll(POLLIN, -1))).toEqual({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
      }));

    it('close(): every call that needs the device then throws (poll rejects); crngReady() still answers; a second close is harmless', async () => {
      const s = impl.open();
      s.device.close();
      expect(thrown(() => s.device.entropyBits())).not.toBeNull();
      expect(thrown(() => s.device.addEntropy(bytes(4), 0))).not.toBeNull();
      expect(thrown(() => s.device.write(bytes(4)))).not.toBeNull();
      expect(thrown(() => s.device.reseedCrng())).not.toBeNull();
      expect(await rejected(s.device.poll(POLLIN, 10))).not.toBeNull();
      expect([true, false, null]).toContain(s.device.crngReady());
      expect(thrown(() => s.device.close())).toBeNull();
    });
  });
}
