#!/usr/bin/env bash
# Installs the Debian packages that the tests, the real-guest tests and the
# benchmarks use (root, Debian/Ubuntu). Idempotent: apt-get update only when
# something is missing. `--list` prints the package names and exits.
#   rng-tools5            rngtest (the FIPS oracle) and rngd 5 (the benchmark peer)
#   systemd               systemd-analyze verify/security
#   util-linux            setpriv, unshare
#   rpm                   rpmbuild, rpm -qlp
#   man-db groff-base     man -l renders vrngd(8)
#   python3 python3-seccomp strace   sd_notify receiver, each unit's syscall filter
#   qemu-system-x86 dracut-core cpio kmod zstd   real-guest boots (npm run test:e2e)
#   busybox-static        the legacy-kernel guests (scripts/dev/e2e/legacy-guest.sh)
#   cloud-init            cloud-init schema on the shipped cloud-configs
#   mmdebstrap            the Debian bookworm VM image of the service e2e suites
#                         (scripts/dev/e2e/debian-vm.sh: systemd-vm, sysv-vm tests)
set -euo pipefail
pkgs=(rng-tools5 busybox-static systemd util-linux rpm man-db groff-base python3 python3-seccomp strace
  qemu-system-x86 dracut-core cpio kmod zstd cloud-init mmdebstrap)
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in "${pkgs[@]}"; do
  have "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
