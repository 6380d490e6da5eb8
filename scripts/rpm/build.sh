#!/usr/bin/env bash
# Builds one vrngd RPM: a release tarball from this checkout (install.sh
# --make-tarball), then rpmbuild -bb scripts/rpm/vrngd.spec in a private topdir.
# Usage: scripts/rpm/build.sh [--release el6|el7|node] [TOPDIR]
#   el6, el7: with the Node runtime of scripts/rpm/releases.json (fetched by
#   scripts/dev/setup-nodeN.sh into .cache/ if missing), Release 1.el6 / 1.el7;
#   node (default): for hosts with their own node >= 16, no runtime.
# Prints the path of the binary RPM. Needs rpmbuild (Debian/RHEL package rpm-build or rpm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
release=node
if [ "${1:-}" = --release ]; then release="${2:?--release needs el6, el7 or node}"; shift 2; fi
case "$release" in el6|el7|node) ;; *) echo "build.sh: --release: el6, el7 or node, not $release" >&2; exit 64 ;; esac
top="${1:-$(mktemp -d)}"
version="$(node -p 'require(process.argv[1]).version' "$src/package.json")"
mkdir -p "$top/SOURCES" "$top/BUILD" "$top/RPMS" "$top/SPECS" "$top/SRPMS"
bash "$src/scripts/install.sh" --make-tarball "$top/SOURCES" >/dev/null
defs=(--define "_topdir $top" --define "vrngd_version $version" --define "vrngd_flavour $release")
if [ "$release" != node ]; then
  cache="$(node -p 'require(process.argv[1])[process.argv[2]].cache' "$src/scripts/rpm/releases.json" "$release")"
  runtime="$(bash "$src/scripts/dev/setup-$cache.sh")"
  install -m 0755 "$runtime" "$top/SOURCES/vrngd-runtime-$release"
  defs+=(--define "dist .$release")
else
  defs+=(--define "dist %{nil}")
fi
rpmbuild -bb --quiet "${defs[@]}" "$here/vrngd.spec" >&2
if [ "$release" = node ]; then pat="vrngd-$version-1.*.rpm"; else pat="vrngd-$version-1.$release.*.rpm"; fi
find "$top/RPMS" -name "$pat" | head -n 1
