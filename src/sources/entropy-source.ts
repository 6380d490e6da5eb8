// The EntropySource port: one place bytes come from (a hardware RNG device, the
// CPU's RDSEED/RDRAND, a named pipe or file). The daemon and `vrngd seed` only
// ever see this interface; adapters live beside it (device-source.ts,
// rdrand-source.ts) and createSource() in open-source.ts builds them from a spec.
//
// Contract:
// - open() makes the source readable or rejects with a KernelError whose `code`
//   says why (ENOENT, ENODEV, EACCES, ENOTSUP for a CPU without RDRAND...).
// - read(bytes) resolves with 1..bytes bytes, or with an empty array at end of
//   data (a regular file ran out, a FIFO's writer went away). It rejects with a
//   KernelError (EIO, ENODEV, EINTR, EAGAIN...) or with code 'ECLOSED' when close()
//   interrupts it. At most one read is outstanding per source.
// - close() never blocks: an outstanding read is abandoned (a reader child is
//   killed with SIGKILL, a stream is destroyed) and rejects with 'ECLOSED'.
// - quality is the bits of entropy the source may be credited per byte, 0..8.
//   Nothing is credited by a source itself: see core/credit.ts and core/gate.ts.

import type { SourceKind } from '../core/config';

export type { SourceKind };

export interface SourceSpec {
  kind: SourceKind;
  /** Device, FIFO or file path (hwrng, pipe); ignored for rdrand. */
  path?: string;
  /** Bits credited per byte, 0..8; the adapter's default when absent. */
  quality?: number;
  /** Bytes per blocking read(2) on character devices (64..512). */
  readChunkBytes?: number;
}

export interface EntropySource {
  /** Short name as rngd's -x/-n match it: 'hwrng', 'rdrand', 'pipe'. */
  readonly name: string;
  readonly kind: SourceKind;
  /** Path, or a description for non-file sources (e.g. 'cpu:rdseed'). */
  readonly path: string;
  /** Bits credited per byte, 0..8. */
  readonly quality: number;
  open(): Promise<void>;
  read(bytes: number): Promise<Uint8Array>;
  close(): void;
}

/** The code carried by the rejection of a read that close() abandoned. */
export const CLOSED = 'ECLOSED';
