#!/usr/bin/env bash
# Fetches Debian 13 (trixie)'s linux-image 6.12 package through a private apt
# configuration (this machine's own sources are bookworm and stay untouched:
# the mirror is taken from them, only the suite differs), extracts it, and runs
# `depmod -b` on the extracted tree (dracut needs modules.dep for a kernel that
# is not the running one). Prints the kernel release on stdout.
# Cache: $VRNGD_E2E_CACHE (default test/e2e/.cache, gitignored). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
apt_dir="$cache/apt"
kroot="$cache/kernel"
suite="${VRNGD_E2E_SUITE:-trixie}"

if [ -f "$kroot/.kver" ] && [ -n "$(cat "$kroot/.kver")" ] && [ -f "$kroot/boot/vmlinuz-$(cat "$kroot/.kver")" ]; then
  cat "$kroot/.kver"
  exit 0
fi

# The machine's Debian mirror (deb822 or one-line form); only the suite changes.
mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)"
fi
[ -n "$mirror" ] || { echo "fetch-kernel: no Debian mirror found in /etc/apt sources" >&2; exit 69; }

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d" "$apt_dir/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt_dir/etc/sources.list"
: > "$apt_dir/status"
opts=(
  -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures=amd64"
  -o "Acquire::Languages=none"
  -o "APT::Sandbox::User=root"
)
apt-get "${opts[@]}" -qq update >&2
# linux-image-amd64 is the metapackage; its dependency names the current 6.12 image.
pkg="$(apt-cache "${opts[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-6\.12/{print $2; exit}')"
[ -n "$pkg" ] || { echo "fetch-kernel: no linux-image-6.12 package in $suite" >&2; exit 69; }
(cd "$apt_dir/debs" && rm -f ./*.deb && apt-get "${opts[@]}" -qq download "$pkg" >&2)
deb="$(ls "$apt_dir"/debs/*.deb | head -n1)"
rm -rf "$kroot" && mkdir -p "$kroot"
dpkg-deb -x "$deb" "$kroot"
# merged /usr: modules live in usr/lib/modules; depmod -b and dracut look in lib/modules.
[ -e "$kroot/lib" ] || ln -s usr/lib "$kroot/lib"
kver="$(ls "$kroot/lib/modules" | head -n1)"
depmod -b "$kroot" "$kver"
echo "$kver" > "$kroot/.kver"
echo "$kver"
