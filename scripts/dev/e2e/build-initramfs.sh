#!/usr/bin/env bash
# Builds an e2e initramfs with the real dracut for the fetched Debian 6.12 kernel
# (scripts/dev/e2e/fetch-kernel.sh). dracut reads its modules from a copy of
# /usr/lib/dracut (named by dracutbasedir=) into which the project's 90vrngd and
# the test-only 99vrngde2e modules are copied: nothing is installed on the host.
# Non-systemd initramfs (dracut's own init, RHEL 6 style): modules base
# (+ vrngd) + vrngde2e.
# vrngd-systemd: a systemd initramfs (RHEL 7+ style) where 90vrngd installs
# vrngd-seed.service instead of the hook; the unit goes in without its
# Environment=LD_PRELOAD= line, so that only the launcher can apply the preload.
# /usr/sbin/vrngd in every image is scripts/vrngd itself (VRNGD_LAUNCHER).
# Usage: build-initramfs.sh vrngd|vrngd-systemd|control OUT.img  (prints OUT.img's size in bytes)
# Env: VRNGD_E2E_CACHE (default test/e2e/.cache), VRNGD_NODE (node for the image).
set -euo pipefail
variant="${1:?usage: build-initramfs.sh vrngd|vrngd-systemd|control OUT.img}"
out="${2:?usage: build-initramfs.sh vrngd|control OUT.img}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
kver="$(bash "$root/scripts/dev/e2e/fetch-kernel.sh")"
kroot="$cache/kernel"

base="$cache/dracut-base"
rm -rf "$base"
mkdir -p "$base"
cp -a /usr/lib/dracut/. "$base/"
cp -a "$root/scripts/dracut/90vrngd" "$base/modules.d/90vrngd"
cp -a "$root/scripts/dev/e2e/dracut/99vrngde2e" "$base/modules.d/99vrngde2e"
mkdir -p "$cache/dracut-conf.d"

mods="base vrngde2e"
omit="systemd systemd-initrd dracut-systemd"
case "$variant" in
  vrngd|control) ;;
  vrngd-systemd) mods="systemd systemd-initrd dracut-systemd $mods"; omit="" ;;
  *) echo "build-initramfs.sh: unknown variant $variant" >&2; exit 64 ;;
esac
if [ "$variant" != control ]; then
  mods="$mods vrngd"
  node "$root/scripts/dev/bundle.js" "$cache/bundle" >&2
  export VRNGD_LIBDIR="$cache/bundle"
  export VRNGD_NODE="${VRNGD_NODE:-$(command -v node)}"
  export VRNGD_LAUNCHER="$root/scripts/vrngd"
  unit="$cache/vrngd-seed.service"
  sed '/^Environment=LD_PRELOAD=/d' "$root/systemd/vrngd-seed.service" > "$unit"
  if grep -q LD_PRELOAD= "$unit"; then echo "build-initramfs.sh: $unit still sets LD_PRELOAD" >&2; exit 70; fi
  export VRNGD_UNIT="$unit"
fi

export dracutbasedir="$base"
dracut --force --quiet --no-hostonly --no-hostonly-cmdline --no-early-microcode \
  --kver "$kver" --kmoddir "$kroot/lib/modules/$kver" \
  --modules "$mods" ${omit:+--omit "$omit"} \
  --compress gzip --confdir "$cache/dracut-conf.d" --conf /dev/null \
  --tmpdir "$cache" \
  "$out" >&2
stat -c %s "$out"
