#!/usr/bin/env bash
# Builds the vrngd RPM: a release tarball from this checkout (install.sh
# --make-tarball), then rpmbuild -bb scripts/rpm/vrngd.spec in a private topdir.
# Usage: scripts/rpm/build.sh [TOPDIR]   (default: a new temporary directory)
# Prints the path of the binary RPM. Needs rpmbuild (Debian/RHEL package rpm-build or rpm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
top="${1:-$(mktemp -d)}"
version="$(node -p 'require(process.argv[1]).version' "$src/package.json")"
mkdir -p "$top/SOURCES" "$top/BUILD" "$top/RPMS" "$top/SPECS" "$top/SRPMS"
bash "$src/scripts/install.sh" --make-tarball "$top/SOURCES" >/dev/null
rpmbuild -bb --quiet \
  --define "_topdir $top" \
  --define "vrngd_version $version" \
  "$here/vrngd.spec" >&2
find "$top/RPMS" -name "vrngd-$version-*.rpm" | head -n 1
