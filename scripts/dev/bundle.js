#!/usr/bin/env node
// Builds the single-file bundle of vrngd for the initramfs (dracut module
// 90vrngd) and offline installs: esbuild packs src/cli/main.ts with commander,
// winston and node-cron into one CommonJS file for the oldest runtime a package
// ships (el6: Node 10.24.1; src/compat/bundle-main.ts is the entry, which loads
// src/compat/node10.ts first), and the addon and
// the preload library are copied beside it in the layout the addon loader
// (src/native/binding.ts) and the seed unit expect:
//   OUT/vrngd.js  OUT/build/Release/vrngd.node  OUT/build/Release/vrngd-preload.so
// Usage: node scripts/dev/bundle.js [OUT]   (default build/bundle; needs npm run build:native)
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..', '..');
const out = path.resolve(process.argv[2] || path.join(root, 'build', 'bundle'));

function isElf(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } finally {
    fs.closeSync(fd);
  }
}

async function main() {
  const release = path.join(root, 'build', 'Release');
  for (const f of ['vrngd.node', 'vrngd-preload.so', 'vrngd-reader']) {
    if (!fs.existsSync(path.join(release, f))) {
      process.stderr.write(`bundle: ${path.join(release, f)} missing: run npm run build:native\n`);
      process.exit(66);
    }
  }
  fs.mkdirSync(path.join(out, 'build', 'Release'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'src', 'compat', 'bundle-main.ts')],
    outfile: path.join(out, 'vrngd.js'),
    bundle: true,
    platform: 'node',
    target: 'node10.24',
    format: 'cjs',
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
    // the addon is loaded by path at run time (binding.ts), never bundled
    external: ['*.node'],
    metafile: true,
  });
  if (result.errors.length > 0) process.exit(70);
  // the source files inside the bundle, for the API-floor lint (test/packaging/api-floor.test.ts)
  fs.writeFileSync(path.join(out, 'bundle-inputs.json'), JSON.stringify(Object.keys(result.metafile.inputs).sort(), null, 1) + '\n');
  // every native product: the addon, the preload library, and any other ELF file a
  // binding.gyp target makes there (e.g. a reader helper executable)
  for (const f of fs.readdirSync(release)) {
    const from = path.join(release, f);
    if (!fs.statSync(from).isFile() || !isElf(from)) continue;
    fs.copyFileSync(from, path.join(out, 'build', 'Release', f));
    fs.chmodSync(path.join(out, 'build', 'Release', f), 0o755);
  }
  const bytes = fs.statSync(path.join(out, 'vrngd.js')).size;
  process.stdout.write(`${path.join(out, 'vrngd.js')} ${bytes} bytes\n`);
}

main().catch((e) => {
  process.stderr.write(`bundle: ${e && e.message ? e.message : String(e)}\n`);
  process.exit(70);
});
