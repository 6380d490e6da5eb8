// The injector on the real kernel through the addon's addEntropySteps
// (src/native/inject.c): one N-API crossing per batch, and the same outcome as
// the port-based reference (addEntropyStepsVia over addEntropy/entropyBits). On
// the host only RNDADDENTROPY into /dev/urandom (allowed: it mixes, the count of
// a 5.18+ kernel stays at 256); no zapping, nothing under /proc/sys.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { daemonCreditPolicy } from '../../src/core/credit-policy';
import { Injector } from '../../src/kernel/injector';
import { addEntropyStepsVia, LinuxRandomDevice, StepsRequest } from '../../src/kernel/random-device';
import { loadBinding, RndBinding } from '../../src/native/binding';

const root = process.getuid?.() === 0;
const data = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);

/** The real binding, counting the calls that cross N-API. */
function countingBinding(): { binding: RndBinding; calls: Record<string, number> } {
  const real = loadBinding();
  const calls: Record<string, number> = {};
  const binding = new Proxy(real, {
    get(target, key: string) {
      const v = (target as unknown as Record<string, unknown>)[key];
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls[key] = (calls[key] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { binding, calls };
}

const req = (over: Partial<StepsRequest>): StepsRequest => ({ data: data(2500), stepBytes: 64, bitsFull: 512, bitsLast: 8 * (2500 % 64), maxSteps: 40, startBits: 0, untilBits: null, perStep: true, stopWhenLinear: false, ...over });

describe.skipIf(!root)('addEntropySteps on the real kernel (/dev/urandom)', () => {
  it('the same steps, counts and errors as the port-based reference', () => {
    const dev = new LinuxRandomDevice({ path: '/dev/urandom', writable: true });
    try {
      const start = dev.entropyBits();
      for (const r of [req({}), req({ perStep: false }), req({ maxSteps: 7 }), req({ data: data(100), bitsLast: 36 * 8 }), req({ startBits: start, untilBits: start })]) {
        const a = dev.addEntropySteps({ ...r, startBits: r.untilBits === null ? dev.entropyBits() : r.startBits });
        const b = addEntropyStepsVia(dev, { ...r, startBits: r.untilBits === null ? dev.entropyBits() : r.startBits });
        expect({ steps: a.steps, counts: Array.from(a.counts), error: a.error, countFailed: a.countFailed }).toEqual({ steps: b.steps, counts: Array.from(b.counts), error: b.error, countFailed: b.countFailed });
        expect(a.steps).toBe(r.untilBits !== null ? 0 : Math.min(r.maxSteps, Math.ceil(r.data.length / 64)));
        // per step: one count per step, each the live count (256 on a 5.18+ host, never above the pool)
        if (r.perStep) for (const c of Array.from(a.counts)) expect(c).toBeGreaterThanOrEqual(0);
      }
    } finally {
      dev.close();
    }
  });

  it('a target that is no random device: ENOTTY before the first step, returned not thrown, as the reference says', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-inj-')), 'plain');
    fs.writeFileSync(file, '');
    const dev = new LinuxRandomDevice({ path: file, writable: true });
    try {
      const a = dev.addEntropySteps(req({}));
      const b = addEntropyStepsVia(dev, req({}));
      expect(a.steps).toBe(0);
      expect(b.steps).toBe(0);
      expect((a.error as { code?: string }).code).toBe('ENOTTY');
      expect((b.error as { code?: string }).code).toBe('ENOTTY');
      expect((a.error as Error).message).toBe((b.error as Error).message);
    } finally {
      dev.close();
    }
  });

  it('bad arguments are refused before the kernel is asked', () => {
    const b = loadBinding();
    const fd = fs.openSync('/dev/urandom', 'r+');
    try {
      const out = new Int32Array(4);
      expect(() => b.addEntropySteps(fd, data(2500), 64, 512, 32, 40, 0, -1, 1, out)).toThrow(RangeError); // out too short
      expect(() => b.addEntropySteps(fd, data(2500), 64, 513 * 8, 32, 40, 0, -1, 0, out)).toThrow(); // bitsFull > 8 x step
      expect(() => b.addEntropySteps(fd, data(100), 64, 512, 36 * 8 + 1, 2, 0, -1, 0, out)).toThrow(RangeError); // bitsLast too big
      expect(() => b.addEntropySteps(fd, data(100), 0, 0, 0, 2, 0, -1, 0, out)).toThrow(TypeError); // step 0
      expect(() => b.addEntropySteps(fd, [1, 2] as never, 64, 0, 0, 2, 0, -1, 0, out)).toThrow(TypeError);
      expect(() => b.addEntropySteps(fd, data(100), 64, 0, 0, 2, 0, -1, 0, new Uint8Array(8) as never)).toThrow(TypeError);
      expect(out[0]).toBe(0); // nothing was done
    } finally {
      fs.closeSync(fd);
    }
  });

  // null: credit not known, every step measured (the host's pinned 256 never proves it linear)
  for (const linearCredit of [true, null]) {
    it(`the injector, ${linearCredit ? 'linear: one batch' : 'per step'}: one addEntropySteps crossing per 2,500-B block, no per-step addEntropy`, () => {
      const { binding, calls } = countingBinding();
      const dev = new LinuxRandomDevice({ path: '/dev/urandom', writable: true, binding });
      try {
        const inj = new Injector(dev, daemonCreditPolicy({ entropyPerByte: 8, stepBytes: 64 }), { target: '/dev/urandom', linearCredit });
        for (let i = 0; i < 10; i++) expect(inj.inject(data(2500), 1000, null).consumed).toBe(2500);
        expect(calls.addEntropySteps).toBe(10);
        expect(calls.addEntropy ?? 0).toBe(0);
        // RNDGETENTCNT crossings: once before each block, and once after a linear batch
        expect(calls.getEntropyCount).toBe(linearCredit ? 20 : 10);
        expect(inj.totals.injections).toBe(10 * 40);
        expect(inj.totals.bytesInjected).toBe(25000);
        expect(inj.totals.bitsAsked).toBe(10 * (39 * 512 + 4 * 8));
        expect(inj.totals.bitsCredited).toBeGreaterThanOrEqual(0);
        expect(inj.totals.entropyAfterBits).toBe(dev.entropyBits());
      } finally {
        dev.close();
      }
    });
  }
});
