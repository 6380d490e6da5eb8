// The layer order of src/ (README.md "How it works"): each
// folder may import only from its own layer and the ones before it. Parses every
// import and require under src/ and fails naming the file and the import that
// points upward, or a folder that is not in the order yet.
import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/env';

/** Lowest first. core is pure; cli is the only layer that knows exit statuses; compat wraps the whole program. */
export const LAYERS = ['core', 'native', 'fs', 'kernel', 'sources', 'log', 'seed', 'clone', 'daemon', 'cli', 'compat'] as const;

const SRC = path.join(ROOT, 'src');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative module specifiers in `import ... from`, `export ... from`, `import()`, `require()` and `import x = require()`. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[2] as string);
  return out;
}

const layerOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0] as string;

/** Every import that points to a later layer, or from/to a folder under src/ the order does not name. */
export function violations(files: Array<{ file: string; text: string }>): string[] {
  const rank = (l: string): number => (LAYERS as readonly string[]).indexOf(l);
  const bad: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    if (rank(from) < 0) {
      bad.push(`${path.relative(ROOT, file)}: folder src/${from} is not in LAYERS (test/arch/layers.test.ts)`);
      continue;
    }
    for (const spec of importsOf(text)) {
      const target = path.resolve(path.dirname(file), spec);
      if (path.relative(SRC, target).startsWith('..')) continue; // package.json, outside src/
      const to = layerOf(target);
      if (to === from) continue;
      if (rank(to) < 0) bad.push(`${path.relative(ROOT, file)}: imports '${spec}' from src/${to}, which is not in LAYERS`);
      else if (rank(to) > rank(from)) bad.push(`${path.relative(ROOT, file)}: ${from} imports upward from ${to} ('${spec}')`);
    }
  }
  return bad;
}

describe('layers', () => {
  it('no file under src/ imports from a later layer', () => {
    const files = tsFiles(SRC).map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
    expect(files.length).toBeGreaterThan(50);
    expect(violations(files)).toEqual([]);
  });

  it('the check catches an upward import, a dynamic one and a require', () => {
    const f = (rel: string, text: string): { file: string; text: string } => ({ file: path.join(SRC, rel), text });
    expect(
      violations([
        f('daemon/x.ts', "import { CliError, EX } from '../cli/exit';"),
        f('core/y.ts', "import type { DaemonState } from '../daemon/state-file';"),
        f('kernel/z.ts', "const m = await import('../daemon/daemon');\nconst n = require('../sources/fifo-reader');"),
        f('sources/ok.ts', "import { loadBinding } from '../native/binding';\nimport { KernelError } from '../kernel/errors';"),
      ]),
    ).toEqual([
      "src/daemon/x.ts: daemon imports upward from cli ('../cli/exit')",
      "src/core/y.ts: core imports upward from daemon ('../daemon/state-file')",
      "src/kernel/z.ts: kernel imports upward from daemon ('../daemon/daemon')",
      "src/kernel/z.ts: kernel imports upward from sources ('../sources/fifo-reader')",
    ]);
  });

  it('nothing in src/ knows about the test runner', () => {
    const hits = tsFiles(SRC).filter((file) => /\bVITEST\b|from 'vitest'/.test(fs.readFileSync(file, 'utf8')));
    expect(hits.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});
