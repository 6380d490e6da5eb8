// The seeding process may run with a weakly seeded user-space CSPRNG (under
// vrngd-preload.so before crng init), so the seeder's own code must never use
// it: no crypto.random*, no Math.random, no random temporary names. A source
// scan of every file the seeder owns, with a control that the scan can fail.
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env';

const FORBIDDEN = /\b(randomBytes|randomFill|randomFillSync|randomInt|randomUUID|getRandomValues|webcrypto|Math\.random|mkdtemp|mkdtempSync|generateKey|generateKeyPair)\b/;

function files(): string[] {
  const seedDir = path.join(ROOT, 'src', 'seed');
  return [
    ...fs.readdirSync(seedDir).map((f) => path.join(seedDir, f)),
    ...fs.readdirSync(path.join(ROOT, 'src', 'core')).filter((f) => f.startsWith('seed-')).map((f) => path.join(ROOT, 'src', 'core', f)),
    path.join(ROOT, 'src', 'cli', 'commands', 'seed.ts'),
  ];
}

/** Code without // and /* comments (the files explain the rule in comments). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('the seeder never uses its own CSPRNG', () => {
  it('no random API in src/seed, src/core/seed-*, src/cli/commands/seed.ts', () => {
    const list = files();
    expect(list.length).toBeGreaterThanOrEqual(5);
    for (const f of list) expect(code(fs.readFileSync(f, 'utf8')), f).not.toMatch(FORBIDDEN);
  });

  it('control: the scan finds such a call', () => {
    expect(code("const name = `seed-${crypto.randomBytes(4).toString('hex')}`;")).toMatch(FORBIDDEN);
    expect(code('// crypto.randomBytes is not used here')).not.toMatch(FORBIDDEN);
  });
});
