// What the test machine offers, and the one way tests say why they skip.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function canRead(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export const hasHwrng = isRoot && canRead('/dev/hwrng');

export function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Returns the reason a test must skip, printing it once; null when it can run. */
export function skipReason(conditions: Array<[boolean, string]>): string | null {
  for (const [ok, reason] of conditions) {
    if (!ok) {
      process.stderr.write(`skip: ${reason}\n`);
      return reason;
    }
  }
  return null;
}

/** A small /proc or /sys file, trimmed; null when it cannot be read. */
export const readTrimmed = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

export const readNumber = (file: string): number | null => {
  const v = readTrimmed(file);
  return v === null ? null : Number(v);
};
