#!/usr/bin/env bash
# Unpacks upstream dracut 004 (RHEL 6's base) or 033 (RHEL 7's) from the tarballs
# in ../shared/legacy-tools (`git archive` of the tags; nothing is fetched) into
# the e2e cache, makes the local fixes they need to run on this Debian 12 host,
# builds 033's dracut-install, and prints the tree (its dracutbasedir). Cached:
# a tree with .vrngd-ready is reused.
# Fixes (build host only; nothing inside the images changes):
#   004  95udev-rules/install names RHEL 6's udevd, /lib/udev/firmware.sh and
#        /lib/libnss_files*: take systemd-udevd as /sbin/udevd, firmware.sh as
#        optional (udev loads firmware itself since 2012) and the multiarch libnss_files.
#   033  dracut.sh refuses a kernel without /lib/modules/$kver even when
#        --kmoddir names its modules: accept the --kmoddir directory.
# Usage: legacy-dracut.sh 004|033
# Env: VRNGD_E2E_CACHE (default test/e2e/.cache), VRNGD_LEGACY_TOOLS.
set -euo pipefail
ver="${1:?usage: legacy-dracut.sh 004|033}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
tools="${VRNGD_LEGACY_TOOLS:-$root/../shared/legacy-tools}"
tarball="$tools/dracut-$ver.tar.gz"
tree="$cache/dracut-$ver"
case "$ver" in 004|033) ;; *) echo "legacy-dracut.sh: unknown version $ver" >&2; exit 64 ;; esac
[ -f "$tarball" ] || { echo "legacy-dracut.sh: $tarball missing" >&2; exit 66; }
if [ -f "$tree/.vrngd-ready" ]; then echo "$tree"; exit 0; fi

rm -rf "$tree"
mkdir -p "$cache"
tar -xzf "$tarball" -C "$cache"
[ -d "$tree" ] || { echo "legacy-dracut.sh: $tarball did not unpack to dracut-$ver/" >&2; exit 65; }
case "$ver" in
  004)
    f="$tree/modules.d/95udev-rules/install"
    grep -q '^dracut_install udevd udevadm' "$f" || { echo "legacy-dracut.sh: 004 udev-rules line not found" >&2; exit 65; }
    sed -i -e 's|^dracut_install udevd udevadm|inst /lib/systemd/systemd-udevd /sbin/udevd; dracut_install udevadm|' \
      -e 's|dracut_install /lib/libnss_files\*|dracut_install /lib/x86_64-linux-gnu/libnss_files*|' \
      -e 's|ldd $(find_binary udevd)|ldd /lib/systemd/systemd-udevd|' \
      -e 's|^dracut_install /lib/udev/firmware.sh$|dracut_install -o /lib/udev/firmware.sh|' "$f"
    ;;
  033)
    f="$tree/dracut.sh"
    grep -q 'if ! \[\[ -d /lib/modules/$kernel \]\] && \[\[ $no_kernel != yes \]\]; then' "$f" || { echo "legacy-dracut.sh: 033 kernel check not found" >&2; exit 65; }
    sed -i 's|if ! \[\[ -d /lib/modules/$kernel \]\] && \[\[ $no_kernel != yes \]\]; then|if ! [[ -d ${drivers_dir_l:-/lib/modules/$kernel} ]] \&\& [[ $no_kernel != yes ]]; then|' "$f"
    (cd "$tree" && ./configure >/dev/null && make -s install/dracut-install >&2)
    cp "$tree/install/dracut-install" "$tree/dracut-install"
    ;;
esac
touch "$tree/.vrngd-ready"
echo "$tree"
