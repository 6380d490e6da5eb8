// vrngd-preload.so (src/native/preload.c) on the real kernel: both Node lines
// start with it and make no blocking getrandom call (strace), while without it
// -- or with it in a process that is not `... seed` -- they do (the controls);
// and the interposer's answers from a small C program (getrandom, getentropy,
// syscall(SYS_getrandom), OpenSSL's shmget(114) lookup), active and inert.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { ROOT, skipReason, which } from '../helpers/env';

const PRELOAD = path.join(ROOT, 'build', 'Release', 'vrngd-preload.so');
const NODE16 = path.join(ROOT, '.cache', 'node16', 'package', 'bin', 'node');
const noLib = skipReason([[fs.existsSync(PRELOAD), 'build/Release/vrngd-preload.so missing (npm run build:native)']]);

/** getrandom calls as strace prints them: flags of each call. */
function getrandomFlags(node: string, preload: boolean, argv: string[] = ['seed']): string[] {
  const r = spawnSync('strace', ['-f', '-e', 'trace=getrandom', node, '-e', 'require("crypto").randomBytes(8)', ...argv], {
    encoding: 'utf8',
    env: { ...process.env, LD_PRELOAD: preload ? PRELOAD : '' },
  });
  expect(r.status).toBe(0);
  return [...r.stderr.matchAll(/getrandom\([^,]*, \d+, ([A-Z_|0-9]+)\)/g)].map((m) => m[1] as string);
}

const lines: Array<[string, string]> = [['Node ' + process.version, process.execPath]];
if (fs.existsSync(NODE16)) lines.push(['Node 16.20.2', NODE16]);

describe.skipIf(noLib !== null || skipReason([[which('strace') !== null, 'strace not installed']]) !== null)('preload: no blocking getrandom at node start-up', () => {
  it.each(lines)('%s: blocking calls without it (control), none with it', (_name, node) => {
    const without = getrandomFlags(node, false);
    expect(without).toContain('0');
    const withLib = getrandomFlags(node, true);
    expect(withLib.length).toBeGreaterThan(0);
    expect(withLib.every((f) => f.includes('GRND_NONBLOCK') || f.includes('GRND_INSECURE'))).toBe(true);
  });

  it.each(lines)('%s: inert in a process that is not the seeder (e.g. `vrngd run`)', (_name, node) => {
    expect(getrandomFlags(node, true, ['run', '--foreground'])).toContain('0');
  });
});

const PROBE_C = `
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc; (void)argv;
  unsigned char b[64];
  long a = getrandom(b, sizeof b, 0);
  int e = getentropy(b, 32);
  long s = syscall(SYS_getrandom, b, 16, 0);
  long p = syscall(SYS_getpid);
  int id = shmget(114, 1, 0);
  int id2 = shmget(115, 1, 0);
  printf("getrandom=%ld getentropy=%d syscall=%ld pid_ok=%d shm114=%d shm115=%d\\n", a, e, s, p == getpid(), id != -1, id2 != -1);
  return 0;
}
`;

describe.skipIf(noLib !== null || skipReason([[which('cc') !== null, 'no C compiler']]) !== null)('preload: the interposer from C', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-preload-'));
  const exe = path.join(dir, 'probe');
  it('answers getrandom/getentropy/syscall in full, passes other syscalls through, fakes only OpenSSL key 114', () => {
    fs.writeFileSync(path.join(dir, 'probe.c'), PROBE_C);
    execFileSync('cc', ['-O2', '-o', exe, path.join(dir, 'probe.c')]);
    const real = spawnSync('ipcs', ['-m'], { encoding: 'utf8' }).stdout ?? '';
    const has114 = /^0x00000072\s/m.test(real);
    const withLib = execFileSync(exe, ['seed'], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: PRELOAD } }).trim();
    expect(withLib).toBe(`getrandom=64 getentropy=0 syscall=16 pid_ok=1 shm114=1 shm115=0`);
    const plain = `getrandom=64 getentropy=0 syscall=16 pid_ok=1 shm114=${has114 ? 1 : 0} shm115=0`;
    expect(execFileSync(exe, ['seed'], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: '' } }).trim()).toBe(plain);
    // loaded, but not in a seeder: OpenSSL's lookup is answered truthfully
    expect(execFileSync(exe, ['run'], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: PRELOAD } }).trim()).toBe(plain);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
