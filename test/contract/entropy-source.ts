// The EntropySource port's contract (src/sources/entropy-source.ts), as one set
// of assertions for every implementation: the fake (test/fakes/fake-source.ts)
// and DeviceSource on a character device, a FIFO and a regular file
// (test/contract/entropy-source.test.ts runs them all).
//  - open() of a path that is not there rejects with a KernelError ENOENT;
//  - read(n) resolves 1..n bytes, then an empty array at the end of data (a
//    finite source serves exactly what it holds, in order, and never a byte twice,
//    also across a close() and open(): a file goes on at the next byte, a FIFO
//    may drop what its reader had buffered);
//  - a read before open() or after close() rejects with code ECLOSED;
//  - close() never blocks: an outstanding read rejects with ECLOSED at once;
//  - quality is 0..8 bits per byte, and name, kind and path are set.
import { describe, expect, it } from 'vitest';
import { CLOSED, EntropySource } from '../../src/sources/entropy-source';

export interface SourceSubject {
  source: EntropySource;
  /** The bytes it holds before its end of data, in order; null: endless (a device). */
  content: Uint8Array | null;
  /**
   * After close() and open(), whether it goes on at exactly the next byte (a file);
   * a FIFO drops what its reader had buffered (the writer's data is gone once read
   * from the pipe), so there only "never a byte twice" holds.
   */
  resumesExactly?: boolean;
}

export interface EntropySourceContract {
  /** A source (not opened) that holds `bytes` bytes (endless sources: any amount). */
  make(bytes: number): Promise<SourceSubject> | SourceSubject;
  /** A source whose read waits for data that does not come (a silent FIFO writer); absent where none can be made. */
  idle?(): Promise<EntropySource> | EntropySource;
  /** A source whose path does not exist. */
  missing(): EntropySource;
}

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { error: { name: string; code: string | undefined } }> {
  try {
    return { ok: await p };
  } catch (e: unknown) {
    return { error: { name: (e as Error).name, code: (e as { code?: string }).code } };
  }
}

/** Reads until `want` bytes or the end of data (an empty read), at most `chunk` per read; every read within 1..chunk. */
async function drain(s: EntropySource, want: number, chunk: number): Promise<{ data: Uint8Array; ended: boolean }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  while (total < want) {
    const b = await s.read(Math.min(chunk, want - total));
    expect(b).toBeInstanceOf(Uint8Array);
    expect(b.length).toBeLessThanOrEqual(Math.min(chunk, want - total));
    if (b.length === 0) {
      ended = true;
      break;
    }
    parts.push(b);
    total += b.length;
  }
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return { data, ended };
}

const distinct = (b: Uint8Array): number => new Set(b).size;

export function entropySourceContract(name: string, impl: EntropySourceContract): void {
  describe(`EntropySource contract: ${name}`, () => {
    it('names itself: name, kind and path set, quality 0..8 bits per byte', async () => {
      const { source } = await impl.make(64);
      expect(source.name).toMatch(/^\S+$/);
      expect(['hwrng', 'rdrand', 'pipe']).toContain(source.kind);
      expect(source.path.length).toBeGreaterThan(0);
      expect(source.quality).toBeGreaterThanOrEqual(0);
      expect(source.quality).toBeLessThanOrEqual(8);
    });

    it('a read before open() rejects with ECLOSED', async () => {
      const { source } = await impl.make(64);
      expect(await settle(source.read(16))).toEqual({ error: expect.objectContaining({ code: CLOSED }) });
    });

    it('open() of a path that is not there rejects with a KernelError ENOENT', async () => {
      expect(await settle(impl.missing().open())).toEqual({ error: { name: 'KernelError', code: 'ENOENT' } });
    });

    it('read(n) resolves 1..n bytes: 1, 64 and 2,500 asked; the bytes are data, not one repeated value', async () => {
      const { source, content } = await impl.make(4000);
      await source.open();
      try {
        for (const n of [1, 64, 2500]) {
          const b = await source.read(n);
          expect(b).toBeInstanceOf(Uint8Array);
          expect(b.length, `read(${n})`).toBeGreaterThanOrEqual(1);
          expect(b.length, `read(${n})`).toBeLessThanOrEqual(n);
          if (n === 2500 && b.length >= 256) expect(distinct(b)).toBeGreaterThan(64);
        }
        if (content) expect(content.length).toBe(4000);
      } finally {
        source.close();
      }
    });

    it('a finite source serves exactly what it holds, in order, then an empty read (end of data); an endless one keeps serving', async () => {
      const size = 6000;
      const { source, content } = await impl.make(size);
      await source.open();
      try {
        const { data, ended } = await drain(source, content ? size + 1000 : 7500, 2500);
        if (content) {
          expect(ended).toBe(true);
          expect(data.length).toBe(size);
          expect(Buffer.from(data).equals(Buffer.from(content))).toBe(true);
          const again = await source.read(100);
          expect(again.length).toBe(0); // still the end
        } else {
          expect(ended).toBe(false);
          expect(data.length).toBe(7500);
        }
      } finally {
        source.close();
      }
    });

    it('close() and open() again: a finite source serves no byte twice (a file goes on at the next byte), an endless one serves again', async () => {
      const size = 3000;
      const { source, content, resumesExactly } = await impl.make(size);
      await source.open();
      const first = await drain(source, 1000, 1000);
      source.close();
      expect(await settle(source.read(16))).toEqual({ error: expect.objectContaining({ code: CLOSED }) });
      await source.open();
      try {
        if (content && !resumesExactly) {
          // a FIFO whose writer has left waits for a new writer: later data, an end, or a read still waiting
          const p = settle(source.read(2500));
          const r = await Promise.race([p, new Promise<'pending'>((res) => setTimeout(() => res('pending'), 500))]);
          if (r === 'pending') {
            source.close();
            expect(await p).toEqual({ error: expect.objectContaining({ code: CLOSED }) });
          } else {
            expect('ok' in r).toBe(true);
            const b = Buffer.from((r as { ok: Uint8Array }).ok);
            if (b.length > 0) expect(Buffer.from(content).indexOf(b, first.data.length)).toBeGreaterThanOrEqual(first.data.length);
          }
          expect(Buffer.from(first.data).equals(Buffer.from(content.subarray(0, first.data.length)))).toBe(true);
          return;
        }
        const rest = await drain(source, content ? size : 1000, 2500);
        if (content) {
          expect(Buffer.concat([first.data, rest.data]).equals(Buffer.from(content))).toBe(true);
          expect(first.data.length + rest.data.length).toBe(size);
          expect(rest.ended).toBe(true);
        } else {
          expect(rest.data.length).toBe(1000);
        }
      } finally {
        source.close();
      }
    });

    it('close() with a read outstanding returns at once, and the read rejects with ECLOSED (20 rounds: a race shows)', async () => {
      for (let round = 0; round < 20; round++) {
        const { source } = await impl.make(1 << 16);
        await source.open();
        const p = settle(source.read(2500));
        const t0 = process.hrtime.bigint();
        source.close();
        expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(50);
        // the close runs before the event loop turns, so no read can have answered first
        expect(await p, `round ${round}`).toEqual({ error: expect.objectContaining({ code: CLOSED }) });
      }
    });

    it('a read that waits for data (nothing comes) is ended by close() at once, with ECLOSED', async (ctx) => {
      if (!impl.idle) {
        process.stderr.write(`skip: ${name}: no idle variant (its reads never wait for long)\n`);
        ctx.skip();
        return;
      }
      const source = await impl.idle();
      await source.open();
      const p = settle(source.read(64));
      const early = await Promise.race([p, new Promise((r) => setTimeout(() => r('pending'), 300))]);
      expect(early).toBe('pending');
      const t0 = Date.now();
      source.close();
      expect(await p).toEqual({ error: expect.objectContaining({ code: CLOSED }) });
      expect(Date.now() - t0).toBeLessThan(200);
    });
  });
}
