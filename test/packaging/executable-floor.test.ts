// binding.gyp's glibc floor reaches any target, executables included (the
// reader helper another branch may add): a throwaway gyp project with this
// checkout's target_defaults and one small executable (a constructor, a memcpy)
// builds, runs here with its constructor run, and needs nothing above
// GLIBC_2.12 -- while the same program built without the floor needs
// __libc_start_main@GLIBC_2.34 on this host (the control).
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, skipReason, which } from '../helpers/env';
import { RELEASES, aboveFloor } from './elf';

const exec = promisify(execFile);
const PROGRAM = `#include <stdio.h>
#include <string.h>
static int ctor_ran;
__attribute__((constructor)) static void ctor(void) { ctor_ran = 1; }
int main(int argc, char **argv)
{
	char b[64];
	(void)argc;
	memcpy(b, argv[0], sizeof b < strlen(argv[0]) + 1 ? sizeof b : strlen(argv[0]) + 1);
	b[63] = 0;
	printf("ctor=%d %c\\n", ctor_ran, b[0]);
	return 0;
}
`;
const noCc = skipReason([[which('cc') !== null && which('readelf') !== null, 'cc or readelf not installed']]);
let dir = '';
let built = '';
let buildError = '';
beforeAll(async () => {
  if (noCc) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-exe-'));
  const gyp = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')) as { target_defaults: unknown };
  fs.mkdirSync(path.join(dir, 'src/native'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'src/native/glibc-floor.h'), path.join(dir, 'src/native/glibc-floor.h'));
  fs.writeFileSync(path.join(dir, 'probe.c'), PROGRAM);
  fs.writeFileSync(
    path.join(dir, 'binding.gyp'),
    JSON.stringify({
      target_defaults: gyp.target_defaults,
      targets: [{ target_name: 'floor-probe', type: 'executable', sources: ['probe.c'], cflags: ['-std=gnu99', '-O2', '-Wall', '-Wextra', '-Werror', '-fstack-protector-strong'] }],
    }),
  );
  // npm puts its own node-gyp on PATH for scripts
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"floor-probe","version":"1.0.0","private":true,"scripts":{"build":"node-gyp rebuild --release"}}\n');
  try {
    await exec('npm', ['run', '--silent', 'build'], { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    built = path.join(dir, 'build/Release/floor-probe');
  } catch (e: unknown) {
    buildError = String((e as { stderr?: string }).stderr ?? e);
  }
}, 180000);
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(noCc !== null)('glibc floor for an executable target', () => {
  it('builds with binding.gyp\'s target_defaults, runs here and runs its constructors', () => {
    expect(buildError).toBe('');
    expect(execFileSync(built, [], { encoding: 'utf8' }).trim()).toMatch(/^ctor=1 \//);
  });

  it('needs nothing above GLIBC_2.12; without the floor the same program needs GLIBC_2.34 (control)', () => {
    expect(aboveFloor(built, RELEASES.el6)).toEqual([]);
    const plain = path.join(dir, 'plain');
    execFileSync('cc', ['-O2', '-o', plain, path.join(dir, 'probe.c')]);
    expect(aboveFloor(plain, RELEASES.el6)).toContain('__libc_start_main@GLIBC_2.34');
  });
});
