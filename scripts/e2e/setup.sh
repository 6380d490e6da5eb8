#!/usr/bin/env bash
# Installs the Debian packages the real-guest tests (npm run test:e2e) and the
# cloud-config schema test use: QEMU for x86_64 (TCG, no KVM needed), the real
# dracut (dash from the host is the initramfs shell), cpio, kmod
# (depmod -b), cloud-init (`cloud-init schema`) and strace (the preload test).
# Root, Debian/Ubuntu.
# Idempotent; apt-get update only when something is missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in qemu-system-x86 dracut-core cpio kmod zstd cloud-init strace; do
  have "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
