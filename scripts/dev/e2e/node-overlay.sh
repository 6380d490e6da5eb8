#!/usr/bin/env bash
# Writes an uncompressed newc cpio that replaces the initramfs's node binary
# (/usr/lib/vrngd/node/bin/node, as 90vrngd installs it) with another one. The
# kernel unpacks concatenated initramfs archives in order, later files replacing
# earlier ones, so vrngd.img, zero-padded to a multiple of 4 bytes, followed by
# OVERLAY boots the same image on
# another Node line (the e2e test uses it for the Node 16 floor).
# Usage: node-overlay.sh NODE_BINARY OUT.cpio
set -euo pipefail
node_bin="${1:?usage: node-overlay.sh NODE_BINARY OUT.cpio}"
out="${2:?usage: node-overlay.sh NODE_BINARY OUT.cpio}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/lib/vrngd/node/bin"
cp "$node_bin" "$stage/usr/lib/vrngd/node/bin/node"
chmod 0755 "$stage/usr/lib/vrngd/node/bin/node"
(cd "$stage" && find usr | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$out"
stat -c %s "$out"
