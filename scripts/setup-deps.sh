#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use (root, Debian/Ubuntu):
# rng-tools5 (rngtest/rngd: the FIPS oracle and the benchmark peer), systemd
# (systemd-analyze), util-linux (setpriv). Idempotent; apt-get update only when
# something is missing.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in rng-tools5 systemd util-linux; do
  have "$pkg" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
