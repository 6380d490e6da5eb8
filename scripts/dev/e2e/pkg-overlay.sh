#!/usr/bin/env bash
# Writes an uncompressed newc cpio that adds the npm package, laid out as
# `npm install vrngd` leaves it, to an e2e initramfs (vrngd.img, zero-padded to a
# multiple of 4 bytes, then OVERLAY; see node-overlay.sh):
#   /opt/vrngd-npm/node_modules/vrngd/{package.json,scripts/vrngd,dist/,build/Release/}
#   /opt/vrngd-npm/node_modules/<the production dependencies, hoisted>
#   /opt/vrngd-npm/node_modules/.bin/vrngd -> ../vrngd/scripts/vrngd   (the package's bin)
#   /usr/bin/node -> /usr/lib/vrngd/node/bin/node   (a system node, as an npm user has)
# From this tree's dist/ and build/Release (npm run build, npm run build:native).
# Usage: pkg-overlay.sh OUT.cpio   (prints OUT.cpio's size in bytes)
set -euo pipefail
out="${1:?usage: pkg-overlay.sh OUT.cpio}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
top="$stage/opt/vrngd-npm/node_modules"
pkg="$top/vrngd"
for f in dist/cli/main.js build/Release/vrngd.node build/Release/vrngd-preload.so scripts/vrngd; do
  [ -f "$root/$f" ] || { echo "pkg-overlay.sh: $root/$f missing (npm run build, npm run build:native)" >&2; exit 66; }
done
mkdir -p "$pkg/scripts" "$pkg/build/Release" "$top/.bin" "$stage/usr/bin"
cp "$root/package.json" "$pkg/"
cp -R "$root/dist" "$pkg/dist"
install -m 0755 "$root/scripts/vrngd" "$pkg/scripts/vrngd"
for f in vrngd.node vrngd-preload.so vrngd-reader; do
  [ ! -f "$root/build/Release/$f" ] || cp "$root/build/Release/$f" "$pkg/build/Release/"
done
ln -s ../vrngd/scripts/vrngd "$top/.bin/vrngd"
ln -s /usr/lib/vrngd/node/bin/node "$stage/usr/bin/node"
# the production dependency closure of package.json, resolved as node would
node -e '
  const fs = require("fs"), path = require("path");
  const [root, dest] = process.argv.slice(1);
  const seen = new Set();
  const visit = (from, name) => {
    let dir;
    try { dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [from] })); }
    catch { dir = null; }
    if (!dir) { for (let d = from; ; d = path.dirname(d)) { const c = path.join(d, "node_modules", name); if (fs.existsSync(path.join(c, "package.json"))) { dir = c; break; } if (d === path.dirname(d)) break; } }
    if (!dir) throw new Error(`dependency ${name} not found from ${from}`);
    dir = fs.realpathSync(dir);
    if (seen.has(dir)) return;
    seen.add(dir);
    const rel = dir.slice(dir.lastIndexOf(`node_modules${path.sep}`) + "node_modules/".length);
    fs.cpSync(dir, path.join(dest, rel), { recursive: true, dereference: true });
    const p = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    for (const d of Object.keys(p.dependencies || {})) visit(dir, d);
  };
  for (const d of Object.keys(require(path.join(root, "package.json")).dependencies || {})) visit(root, d);
  process.stderr.write(`pkg-overlay.sh: ${seen.size} production packages\n`);
' "$root" "$top"
(cd "$stage" && find opt usr | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$out"
stat -c %s "$out"
