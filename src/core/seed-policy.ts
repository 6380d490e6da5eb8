// When `vrngd seed` may stop, and what its run amounts to. Pure.
//
// It stops when the kernel says it is seeded -- modern kernels: getrandom
// (GRND_NONBLOCK) succeeds, i.e. the crng is ready; legacy kernels without
// getrandom (2.6.32, 3.10): the input pool has reached the fill watermark (rngd's
// default, 3/4 of poolsize) -- or when --bytes have been read. It always injects
// at least one passing block first, so a run on an already-seeded kernel still
// mixes fresh device bytes in (and reseeds the crng from them, 4.17+).

import { defaultFillWatermarkBits } from './policy';

/** getrandom answer: true ready, false not yet, null no getrandom (legacy). */
export type CrngState = boolean | null;

export interface SeedProgress {
  crngReady: CrngState;
  entropyBits: number;
  poolsizeBits: number | null;
  bytesRead: number;
  blocksPassed: number;
  maxBytes: number | null;
}

export function kernelSeeded(p: Pick<SeedProgress, 'crngReady' | 'entropyBits' | 'poolsizeBits'>): boolean {
  if (p.crngReady === null) return p.entropyBits >= defaultFillWatermarkBits(p.poolsizeBits);
  return p.crngReady;
}

export function seedDone(p: SeedProgress): boolean {
  if (p.maxBytes !== null && p.bytesRead >= p.maxBytes) return true;
  return p.blocksPassed > 0 && kernelSeeded(p);
}

export interface SeedReport {
  device: string;
  bytesRead: number;
  blocksPassed: number;
  blocksFailed: number;
  /** What the kernel's count (RNDGETENTCNT) rose by around each injection. */
  creditedBits: number;
  /** What vrngd asked the kernel to credit. */
  askedBits: number;
  entropyBeforeBits: number;
  entropyAfterBits: number;
  crngReadyBefore: CrngState;
  crngReady: CrngState;
  /** RNDRESEEDCRNG: true done, false unsupported, null not tried. */
  reseeded: boolean | null;
  elapsedMs: number;
  seedFile: { path: string; loadedBytes: number; loadedCreditedBits: number; written: boolean; writtenCreditable: boolean } | null;
  /** 0 seeded, 75 too little before the timeout or before a file's end, 69 no device. */
  outcome: 'seeded' | 'timeout' | 'exhausted' | 'no-device';
}

const yesNo = (s: CrngState): string => (s === null ? 'n/a (no getrandom)' : s ? 'yes' : 'no');

/** The one output line. */
export function formatSeedLine(r: SeedReport): string {
  const parts = [
    `read ${r.bytesRead} bytes from ${r.device}`,
    `credited ${r.creditedBits} bits (${r.askedBits} asked)`,
    `entropy ${r.entropyBeforeBits} -> ${r.entropyAfterBits} bits`,
    `crng ready ${yesNo(r.crngReadyBefore)} -> ${yesNo(r.crngReady)}`,
    `${r.elapsedMs} ms`,
  ];
  if (r.seedFile) parts.push(`seed file ${r.seedFile.loadedBytes} bytes in (${r.seedFile.loadedCreditedBits} bits credited), ${r.seedFile.written ? (r.seedFile.writtenCreditable ? 'creditable' : 'uncredited') + ' seed written' : 'no seed written'}`);
  return `vrngd seed: ${r.outcome}: ${parts.join(', ')}`;
}
