// src/native/syscalls.h: the one place both C files get SYS_getrandom from. Its
// fallback table (used where old kernel headers lack the number) is compiled
// alone for each ABI this compiler targets and compared with the kernel's tables.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/env';

const NATIVE = path.join(ROOT, 'src', 'native');

/** SYS_getrandom as the preprocessor expands it after `include`, evaluated; null when cc cannot preprocess for `arch`. */
function expanded(arch: string, include: string, defines: string[] = []): number | null {
  let out: string;
  try {
    out = execFileSync('cc', [arch, ...defines, '-I', NATIVE, '-E', '-P', '-x', 'c', '-'], { input: `${include}\nVALUE SYS_getrandom\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const line = out.split('\n').find((l) => l.startsWith('VALUE '));
  if (!line) return null;
  const expr = line.slice(6).replace(/__X32_SYSCALL_BIT/g, '0x40000000').replace(/(\d)[uUlL]+\b/g, '$1');
  expect(expr).toMatch(/^[\d\sx()+a-fA-F]+$/);
  return Number(Function(`return (${expr});`)());
}

describe('SYS_getrandom', () => {
  it("the fallback table gives each architecture's number, as the kernel's syscall tables do (x86_64, i386, x32 where installed)", () => {
    const checked: string[] = [];
    // the kernel's own tables as installed by linux-libc-dev (/usr/include/<multiarch>/asm/unistd_{64,32,x32}.h)
    const asmDir = ['/usr/include/asm', ...fs.readdirSync('/usr/include').map((d) => path.join('/usr/include', d, 'asm'))].find((d) => fs.existsSync(path.join(d, 'unistd_64.h')));
    for (const [arch, table] of [['-m64', 'unistd_64.h'], ['-m32', 'unistd_32.h'], ['-mx32', 'unistd_x32.h']] as const) {
      const system = asmDir && fs.existsSync(path.join(asmDir, table)) ? expanded(arch, `#include "${path.join(asmDir, table)}"\n#define SYS_getrandom __NR_getrandom`) : null;
      if (system === null) continue;
      expect(expanded(arch, '#include "syscalls.h"', ['-DVRNGD_SYSCALLS_FALLBACK_ONLY']), arch).toBe(system);
      checked.push(`${arch}=${system}`);
    }
    console.log(`SYS_getrandom checked: ${checked.join(' ')}`);
    expect(checked.length).toBeGreaterThan(0);
  });

  it('vrngd.c and preload.c take it from syscalls.h and define it nowhere else', () => {
    for (const f of fs.readdirSync(NATIVE).filter((n) => /\.[ch]$/.test(n) && n !== 'syscalls.h')) {
      const text = fs.readFileSync(path.join(NATIVE, f), 'utf8');
      expect(text, f).not.toMatch(/#\s*define\s+SYS_getrandom/);
      if (/SYS_getrandom/.test(text)) expect(text, f).toMatch(/#include "syscalls\.h"/);
    }
  });
});
