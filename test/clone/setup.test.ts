// clone/setup.ts: --clone-watch parsing, and that nothing runs where there is no device.
import { describe, expect, it } from 'vitest';
import { parseCloneWatch, startCloneWatch } from '../../src/clone/setup';
import { RepeatMemory } from '../../src/core/repeat-memory';
import type { RandomDevice } from '../../src/kernel/random-device';
import { MemoryLogger } from '../fakes/fake-logger';

describe('parseCloneWatch', () => {
  it('defaults to 1 s; takes durations from 100 ms to 1 h, or off', () => {
    expect(parseCloneWatch(undefined)).toBe(1000);
    expect(parseCloneWatch('250ms')).toBe(250);
    expect(parseCloneWatch('5s')).toBe(5000);
    expect(parseCloneWatch('off')).toBeNull();
  });
  it('refuses the rest with one line', () => {
    expect(() => parseCloneWatch('5ms')).toThrow("--clone-watch: 5ms is out of range (100ms..1h, or 'off')");
    expect(() => parseCloneWatch('soon')).toThrow(/--clone-watch: 'soon' is not a duration/);
    expect(() => parseCloneWatch('2h')).toThrow(/not a duration|out of range/);
  });
});

describe('startCloneWatch', () => {
  const base = { device: {} as RandomDevice, rngDevice: '/dev/hwrng', entropyPerByte: 8, hasGetrandom: false, repeats: new RepeatMemory(), onEvent: () => undefined };
  it('no device: nothing runs and nothing is logged (the idle host)', () => {
    const logger = new MemoryLogger();
    expect(startCloneWatch({ ...base, intervalMs: 1000, logger, probe: () => ({ kind: 'absent', reason: 'x' }) })).toBeNull();
    expect(logger.lines).toHaveLength(0);
  });
  it("5.18+: the kernel's driver handles it: one info line, nothing runs", () => {
    const logger = new MemoryLogger();
    expect(startCloneWatch({ ...base, intervalMs: 1000, logger, probe: () => ({ kind: 'kernel', reason: "the kernel's vmgenid driver reseeds its crng on a VM fork; nothing to do" }) })).toBeNull();
    expect(logger.lines).toEqual([{ level: 'info', message: "clone watch: the kernel's vmgenid driver reseeds its crng on a VM fork; nothing to do" }]);
  });
  it('unreadable: one warning; off or test mode (no device): not even probed', () => {
    const logger = new MemoryLogger();
    expect(startCloneWatch({ ...base, intervalMs: 1000, logger, probe: () => ({ kind: 'unreadable', reason: 'no /dev/mem' }) })).toBeNull();
    expect(logger.lines.map((l) => l.level)).toEqual(['warning']);
    const probe = (): never => {
      throw new Error('probed');
    };
    expect(startCloneWatch({ ...base, intervalMs: null, logger, probe })).toBeNull();
    expect(startCloneWatch({ ...base, device: null, intervalMs: 1000, logger, probe })).toBeNull();
  });
});
