// Reads what an ELF file needs from the C and C++ runtimes (the versions of its
// undefined dynamic symbols, readelf --dyn-syms) and compares them with the
// floors of the release whose package carries it (scripts/rpm/releases.json).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/env';

export interface Release {
  node: string;
  cache: string;
  glibc: string;
  glibcxx: string;
  init: string;
}

const releasesJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'scripts', 'rpm', 'releases.json'), 'utf8')) as Record<string, unknown>;
export const RELEASES = { el6: releasesJson.el6 as Release, el7: releasesJson.el7 as Release };

/** The Node binary scripts/dev/setup-nodeN.sh fetched for a release, or null. */
export function runtimeOf(rel: Release): string | null {
  const bin = path.join(ROOT, '.cache', rel.cache, 'package', 'bin', 'node');
  return fs.existsSync(bin) ? bin : null;
}

export function isElf(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(4);
      return fs.readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Every regular ELF file under dir (symlinks not followed). */
export function elfFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && isElf(p)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** "name@GLIBC_2.14"-style entries for every undefined versioned symbol. */
export function neededVersions(file: string): string[] {
  const text = execFileSync('readelf', ['--dyn-syms', '--wide', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length >= 8 && f[6] === 'UND') {
      const m = /^([^@\s]+)@+((?:GLIBC|GLIBCXX|CXXABI)_[0-9.]+)/.exec(f[7] as string);
      if (m) out.add(`${m[1]}@${m[2]}`);
    }
  }
  return [...out].sort();
}

function cmpVersion(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The needed symbols above the release's glibc and libstdc++ floors (empty: it loads there). */
export function aboveFloor(file: string, rel: Pick<Release, 'glibc' | 'glibcxx'>): string[] {
  return neededVersions(file).filter((s) => {
    const [, tag] = s.split('@') as [string, string];
    const [lib, ver] = [tag.slice(0, tag.indexOf('_')), tag.slice(tag.indexOf('_') + 1)];
    if (lib === 'GLIBC') return cmpVersion(ver, rel.glibc) > 0;
    if (lib === 'GLIBCXX') return cmpVersion(ver, rel.glibcxx) > 0;
    return false; // CXXABI_1.3.x: RHEL 6 has 1.3.3, and Node 10 needs none above that (checked by GLIBCXX)
  });
}
