// Every ELF file vrngd ships loads on the glibc of the release whose package
// carries it: the addon and the preload library (in both packages: glibc 2.12),
// each package's Node runtime (el6: 2.12, el7: 2.17). The RPM payloads get the
// same check in test/service/rpm.test.ts.
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { ROOT, skipReason, which } from '../helpers/env';
import { RELEASES, aboveFloor, elfFilesUnder, neededVersions, runtimeOf } from './elf';

const RELEASE_DIR = path.join(ROOT, 'build', 'Release');
const noReadelf = skipReason([[which('readelf') !== null, 'readelf not installed (binutils)']]);
const noBuild = skipReason([[fs.existsSync(path.join(RELEASE_DIR, 'vrngd.node')), 'build/Release/vrngd.node missing (npm run build:native)']]);

describe.skipIf(noReadelf !== null)('glibc floor of the shipped ELF files', () => {
  it('the checker reports a file that needs a newer glibc (control: this host\'s own node)', () => {
    // Node 20+ on glibc 2.36 needs at least GLIBC_2.25 (getrandom) and GLIBCXX_3.4.2x
    const above = aboveFloor(process.execPath, RELEASES.el6);
    expect(above.length).toBeGreaterThan(0);
    expect(neededVersions(process.execPath).some((s) => s.includes('@GLIBC_2.2.5'))).toBe(true);
  });

  it.skipIf(noBuild !== null)('the addon and the preload library need nothing above GLIBC_2.12 (el6, so also el7)', () => {
    const files = elfFilesUnder(RELEASE_DIR).filter((f) => !f.includes(`${path.sep}obj.target${path.sep}`) && !f.includes(`${path.sep}.deps${path.sep}`));
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['vrngd.node', 'vrngd-preload.so']));
    for (const f of files) {
      expect(neededVersions(f).length, f).toBeGreaterThan(0);
      expect(aboveFloor(f, RELEASES.el6), f).toEqual([]);
    }
  });

  it.each(Object.entries(RELEASES))('%s: its Node runtime loads on its glibc and libstdc++', (name, rel) => {
    const bin = runtimeOf(rel);
    if (!bin) {
      process.stderr.write(`skip: ${name} runtime .cache/${rel.cache} missing (bash scripts/dev/setup-${rel.cache}.sh)\n`);
      return;
    }
    expect(aboveFloor(bin, rel)).toEqual([]);
  });

  it('el6 could not carry the el7 runtime (Node 16 needs more than glibc 2.12)', () => {
    const bin = runtimeOf(RELEASES.el7);
    if (!bin) {
      process.stderr.write('skip: .cache/node16 missing (bash scripts/dev/setup-node16.sh)\n');
      return;
    }
    expect(aboveFloor(bin, RELEASES.el6).length).toBeGreaterThan(0);
  });
});
