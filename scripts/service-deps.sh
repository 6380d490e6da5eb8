#!/usr/bin/env bash
# Installs the Debian packages the service-integration tests (test/service,
# test/daemon/sd-notify*) use: rpm (rpmbuild, rpm -qlp), man-db + groff-base
# (man -l renders vrngd(8)), python3 (the unix datagram receiver for sd_notify),
# python3-seccomp + strace (each unit's syscall filter rebuilt and checked),
# util-linux (unshare for the RPM scriptlet test),
# systemd (systemd-analyze verify/security). Idempotent; apt-get update only when
# something is missing. `--list` prints the package names and exits.
set -euo pipefail
pkgs=(rpm man-db groff-base python3 python3-seccomp strace systemd util-linux)
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
