// The bundle's API surface stays within the oldest runtime a package ships
// (el6: Node 10.24.1): eslint-plugin-n's no-unsupported-features rules, set to
// that version by eslint.config.mjs, over vrngd's sources and over every
// dependency file esbuild put into the bundle; every production dependency's
// engines range admits it, or it is a listed exception that the runtime tests
// (runtimes.test.ts) run under that Node.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env';
import { RELEASES } from './elf';

const FLOOR = RELEASES.el6.node;
// engines ranges that exclude the floor only because that Node line had reached
// its end of life, not because of what the code uses (the lint below covers it)
const ENGINES_EXCEPTIONS: Record<string, string> = {
  commander: 'commander 8.3.0 says ">= 12"; its code uses nothing above Node 10 (lint below) and every command runs under 10.24.1',
};

function satisfiesFloor(range: string): boolean {
  // the engines ranges in this tree: ">=X", ">= X", "*", or none
  const r = range.trim();
  if (r === '*' || r === '') return true;
  const m = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(r);
  if (!m) throw new Error(`engines range not understood: ${range}`);
  const want = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  const have = FLOOR.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((have[i] as number) !== want[i]) return (have[i] as number) > (want[i] as number);
  return true;
}

let inputs: string[] = [];
const eslint = new ESLint({ cwd: ROOT, ignorePatterns: ['!**/node_modules/'], warnIgnored: false });

beforeAll(() => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vrngd-floor-'));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'dev', 'bundle.js'), out], { stdio: 'pipe' });
  inputs = JSON.parse(fs.readFileSync(path.join(out, 'bundle-inputs.json'), 'utf8')) as string[];
  fs.rmSync(out, { recursive: true, force: true });
}, 60_000);

describe(`API floor: Node ${FLOOR}`, () => {
  it('the lint flags what Node 10 lacks (control)', async () => {
    const [r] = await eslint.lintText("import * as util from 'util';\nutil.stripVTControlCharacters('x');\nObject.hasOwn({}, 'a');\n", { filePath: path.join(ROOT, 'src', 'floor-control.ts') });
    const ids = (r?.messages ?? []).map((m) => m.ruleId);
    expect(ids).toContain('n/no-unsupported-features/node-builtins');
    expect(ids).toContain('n/no-unsupported-features/es-builtins');
  });

  it('vrngd sources and the bundled dependency files use no built-in above it', async () => {
    const files = inputs.filter((f) => /\.(c|m)?[jt]s$/.test(f));
    expect(files.some((f) => f.startsWith('node_modules/winston/'))).toBe(true);
    expect(files.some((f) => f.startsWith('src/cli/'))).toBe(true);
    const results = await eslint.lintFiles(files.map((f) => path.join(ROOT, f)));
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.message}`));
    expect(errors).toEqual([]);
  }, 120_000);

  it('vrngd sources call no prototype method newer than it (the lint sees only globals and modules)', () => {
    const newer = /\.(flat|matchAll|replaceAll|at|findLast|findLastIndex|hasOwn|toSorted|toReversed)\(/;
    const bad: string[] = [];
    for (const f of inputs.filter((x) => x.startsWith('src/') && x !== 'src/compat/node10.ts')) {
      fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
        if (!/^\s*(\/\/|\*)/.test(line) && newer.test(line)) bad.push(`${f}:${i + 1} ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it("every bundled package's engines range admits it, or is a listed exception", () => {
    const pkgs = new Set(inputs.filter((f) => f.startsWith('node_modules/')).map((f) => {
      const parts = f.split('/');
      return parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2]}` : (parts[1] as string);
    }));
    expect(pkgs.size).toBeGreaterThan(5);
    const refused: string[] = [];
    for (const p of pkgs) {
      const j = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string; engines?: { node?: string } };
      const range = j.engines?.node;
      if (range !== undefined && !satisfiesFloor(range) && !(p in ENGINES_EXCEPTIONS)) refused.push(`${p}@${j.version} engines ${range}`);
    }
    expect(refused).toEqual([]);
    for (const p of Object.keys(ENGINES_EXCEPTIONS)) expect(pkgs.has(p), `${p} is still bundled`).toBe(true);
  });
});
