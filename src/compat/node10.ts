// Fills in the few built-ins that vrngd's own code uses and Node 10.24.1 (the
// runtime of the el6 package) lacks. Loaded first by the bundle's entry
// (src/compat/bundle-main.ts) and nowhere else; each one is defined only where the
// runtime has none, so Node 16+ runs its own. The list is the `ignores` of the
// API-floor lint (eslint.config.mjs): every built-in above the floor that the
// code may use is either here or an error there.
// `import x = require()`: the modules themselves, not an ES-module copy of their
// properties (which esbuild's `import * as` would make, and fill in nothing)
import fs = require('fs');
import util = require('util');

export const POLYFILLED = ['fs.rmSync', 'util.getSystemErrorMap'] as const;

interface Node10Util {
  getSystemErrorMap?: () => Map<number, [string, string]>;
}
interface Node10Fs {
  rmSync?: (file: string, options?: { force?: boolean }) => void;
}
interface UvBinding {
  errmap?: Map<number, [string, string]>;
}

const u = util as unknown as Node10Util;
if (typeof u.getSystemErrorMap !== 'function') {
  // Node 10's own table (the one util.getSystemErrorMap returns from 14.17 on)
  const binding = (process as unknown as { binding(name: string): UvBinding }).binding('uv');
  const map = binding.errmap instanceof Map ? binding.errmap : new Map<number, [string, string]>();
  u.getSystemErrorMap = () => map;
}

const f = fs as unknown as Node10Fs;
if (typeof f.rmSync !== 'function') {
  // vrngd removes only single files with it (pid, state and temporary files)
  f.rmSync = (file, options) => {
    try {
      fs.unlinkSync(file);
    } catch (e: unknown) {
      if (!(options && options.force && (e as { code?: string }).code === 'ENOENT')) throw e;
    }
  };
}

// Array.prototype.flatMap (Node 11): used with a callback that returns arrays.
const arrayProto = Array.prototype as unknown as { flatMap?: unknown };
if (typeof arrayProto.flatMap !== 'function') {
  Object.defineProperty(Array.prototype, 'flatMap', {
    configurable: true,
    writable: true,
    value: function flatMap<T, U>(this: T[], fn: (value: T, index: number, array: T[]) => U | U[], thisArg?: unknown): U[] {
      const out: U[] = [];
      this.forEach((v, i, a) => {
        const r = fn.call(thisArg, v, i, a);
        if (Array.isArray(r)) out.push(...r);
        else out.push(r);
      });
      return out;
    },
  });
}
