#!/usr/bin/env bash
# Builds an e2e initramfs with upstream dracut 004 or 033 (scripts/dev/e2e/legacy-dracut.sh
# unpacks them from ../shared/legacy-tools), the project's 90vrngd and the test-only
# 99vrngde2e modules copied into a private module tree, as build-initramfs.sh does
# for the host's current dracut. Nothing is installed on the host.
#   004 vrngd          RHEL 6 style (dracut's own init; the pre-trigger hook), for
#                      the 3.10.108 guest kernel (virtio-rng built in, no modules)
#   033 vrngd          RHEL 7 without systemd in the initramfs (the hook)
#   033 vrngd-systemd  RHEL 7's default: systemd initramfs (vrngd-seed.service),
#                      both 033 ones for the fetched Debian 6.12 kernel (as boot.sh)
# Usage: build-legacy-initramfs.sh 004|033 vrngd|vrngd-systemd OUT.img  (prints OUT.img's size)
# Env: VRNGD_E2E_CACHE, VRNGD_NODE (node for the image), VRNGD_UNIT (seed unit;
#      default systemd/el7/vrngd-seed.service for 033, as the el7 RPM ships it).
set -euo pipefail
ver="${1:?usage: build-legacy-initramfs.sh 004|033 vrngd|vrngd-systemd OUT.img}"
variant="${2:?usage: build-legacy-initramfs.sh 004|033 vrngd|vrngd-systemd OUT.img}"
out="${3:?usage: build-legacy-initramfs.sh 004|033 vrngd|vrngd-systemd OUT.img}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
tree="$(bash "$root/scripts/dev/e2e/legacy-dracut.sh" "$ver")"

base="$cache/dracut-$ver-base"
rm -rf "$base"
cp -a "$tree" "$base"
cp -a "$root/scripts/dracut/90vrngd" "$base/modules.d/90vrngd"
cp -a "$root/scripts/dev/e2e/dracut/99vrngde2e" "$base/modules.d/99vrngde2e"
node "$root/scripts/dev/bundle.js" "$cache/bundle" >&2
export VRNGD_LIBDIR="$cache/bundle"
export VRNGD_LAUNCHER="$root/scripts/vrngd"
export VRNGD_NODE="${VRNGD_NODE:-$(command -v node)}"
export VRNGD_UNIT="${VRNGD_UNIT:-$root/systemd/el7/vrngd-seed.service}"
export dracutbasedir="$base"
conf="$cache/dracut-empty.conf"
: > "$conf"
mkdir -p "$cache/dracut-conf.d"

case "$ver:$variant" in
  004:vrngd)
    # the 3.10 guest kernel has no modules: an empty module tree for 004's depmod
    kver=3.10.108
    kmod="$cache/kmod-$kver/lib/modules/$kver"
    mkdir -p "$kmod"
    touch "$kmod/modules.order" "$kmod/modules.builtin" "$kmod/modules.builtin.modinfo"
    depmod -b "$cache/kmod-$kver" "$kver"
    bash "$base/dracut" --force --nostrip -c "$conf" -k "$kmod" \
      -m "base vrngd vrngde2e" "$out" "$kver" >&2
    ;;
  033:vrngd|033:vrngd-systemd)
    kver="$(bash "$root/scripts/dev/e2e/fetch-kernel.sh")"
    mods="base vrngd vrngde2e"
    omit="systemd"
    [ "$variant" = vrngd-systemd ] && { mods="systemd $mods"; omit=""; }
    DRACUT_INSTALL="$base/dracut-install" bash "$base/dracut.sh" --force --no-hostonly \
      --kver "$kver" --kmoddir "$cache/kernel/lib/modules/$kver" \
      --modules "$mods" ${omit:+--omit "$omit"} --gzip \
      --confdir "$cache/dracut-conf.d" --conf "$conf" --tmpdir "$cache" \
      "$out" >&2
    ;;
  *) echo "build-legacy-initramfs.sh: unknown combination $ver $variant" >&2; exit 64 ;;
esac
stat -c %s "$out"
