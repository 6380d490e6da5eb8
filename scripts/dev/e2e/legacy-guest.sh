#!/usr/bin/env bash
# Builds the initramfs of the legacy-kernel e2e guests (test/e2e/legacy-kernels.test.ts)
# and prints its path. Booted on the upstream 3.10.108 and 5.4.59 kernels of
# ../shared/guest-kernels (no modules: virtio-rng is built in). Its root holds:
#   - busybox-static (/bin, /sbin applets) as the shell and tools,
#   - Debian 12's dynamic loader and the glibc/libstdc++ libraries ldd lists for
#     node, the addon and rngd (Debian's glibc runs on kernels >= 3.2),
#   - vrngd, installed by the project's own installer (scripts/install.sh
#     --destdir, the RPM's file set) and run as /usr/sbin/vrngd,
#   - Node 16.20.2 (the Node line vrngd ships for RHEL 7: the newest official
#     one on glibc 2.17) where the launcher looks first, /usr/lib/vrngd/node/bin/node,
#   - Debian's rngd 5 (rng-tools5) with its libraries, for the side-by-side runs,
#   - strace with its libraries when the host has it (the seed step's syscalls),
#   - /e2e/legacy-probe (scripts/dev/e2e/legacy-probe.c, static) and /init
#     (scripts/dev/e2e/legacy-init.sh), which runs the cases named by e2e.cases=.
# Cached under VRNGD_E2E_CACHE/legacy/ by a hash of every input, so an unchanged
# checkout reuses the image.
# Usage: legacy-guest.sh            (prints the image path; progress on stderr)
# Env: VRNGD_E2E_CACHE (default test/e2e/.cache), VRNGD_E2E_NODE (node binary for the
#      guest; default the Node 16.20.2 of scripts/dev/setup-node16.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
here="$root/scripts/dev/e2e"

die() { echo "legacy-guest.sh: $*" >&2; exit "${2:-1}"; }
for tool in busybox gcc cpio gzip ldd; do command -v "$tool" >/dev/null || die "$tool missing (busybox-static, gcc, cpio)" 69; done
busybox_bin="$(command -v busybox)"
file "$busybox_bin" 2>/dev/null | grep -q 'dynamically linked' && die "$busybox_bin is not static: apt-get install busybox-static" 69
rngd_bin="$(command -v rngd || true)"
[ -n "$rngd_bin" ] || [ ! -x /usr/sbin/rngd ] || rngd_bin=/usr/sbin/rngd
[ -n "$rngd_bin" ] || die "rngd missing (apt-get install rng-tools5)" 69
node_bin="${VRNGD_E2E_NODE:-$(bash "$root/scripts/dev/setup-node16.sh")}"
[ -x "$node_bin" ] || die "no node binary for the guest: $node_bin" 69
for f in vrngd.node vrngd-preload.so; do
  [ -f "$root/build/Release/$f" ] || die "build/Release/$f missing (npm run build:native)" 66
done

# --- cache key: every file that ends up in the image, or that decides what does ---
key="$(
  {
    cd "$root"
    git ls-files -co --exclude-standard -- src scripts systemd package.json package-lock.json 2>/dev/null |
      LC_ALL=C sort | while IFS= read -r f; do [ -f "$f" ] && sha256sum "$f"; done
    sha256sum build/Release/vrngd.node build/Release/vrngd-preload.so "$node_bin" "$rngd_bin" "$busybox_bin" $(command -v strace || true)
  } | sha256sum | cut -c1-16
)"
out_dir="$cache/legacy"
out="$out_dir/guest-$key.cpio.gz"
if [ -s "$out" ]; then
  echo "legacy-guest.sh: cached $out" >&2
  echo "$out"
  exit 0
fi
mkdir -p "$out_dir"

stage="$(mktemp -d "$out_dir/stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,run,var/run,var/lib/vrngd,etc,e2e,lib64,lib/x86_64-linux-gnu,usr/bin,usr/sbin}

# busybox and its applets (only where nothing else is installed later)
cp "$busybox_bin" "$stage/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# vrngd through the project's installer (the same file set as the RPM)
# (and the runtime with it, where the installer takes one: --runtime)
if bash "$root/scripts/install.sh" --help | grep -q -- '--runtime'; then
  bash "$root/scripts/install.sh" --destdir "$stage" --runtime "$node_bin" >/dev/null
else
  bash "$root/scripts/install.sh" --destdir "$stage" >/dev/null
  install -D -m 0755 "$node_bin" "$stage/usr/lib/vrngd/node/bin/node"
fi
[ -x "$stage/usr/sbin/vrngd" ] || die "install.sh did not install /usr/sbin/vrngd" 70
[ -x "$stage/usr/lib/vrngd/node/bin/node" ] || die "no runtime at /usr/lib/vrngd/node/bin/node" 70

# rngd 5
install -D -m 0755 "$rngd_bin" "$stage/usr/sbin/rngd"
# strace (when the host has it): shows the seed step's write(2) to /dev/urandom
strace_bin="$(command -v strace || true)"
[ -z "$strace_bin" ] || install -D -m 0755 "$strace_bin" "$stage/usr/bin/strace"

# the loader and the libraries ldd lists (Debian 12's glibc, libstdc++, libgcrypt)
copy_libs() {
  local lib
  for lib in $(ldd "$@" 2>/dev/null | awk '/=> \// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | LC_ALL=C sort -u); do
    [ -e "$stage$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"
  done
}
copy_libs "$node_bin" "$rngd_bin" ${strace_bin:+"$strace_bin"} "$root"/build/Release/vrngd.node "$root"/build/Release/vrngd-preload.so
[ -e "$stage/lib64/ld-linux-x86-64.so.2" ] || die "the dynamic loader was not copied" 70
# /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu are one directory on Debian 12 (merged /usr)
if [ -d "$stage/usr/lib/x86_64-linux-gnu" ]; then
  cp -a "$stage/usr/lib/x86_64-linux-gnu/." "$stage/lib/x86_64-linux-gnu/"
  rm -rf "$stage/usr/lib/x86_64-linux-gnu"
fi
ln -s ../lib/x86_64-linux-gnu "$stage/usr/lib/x86_64-linux-gnu"

# the measuring tool and the init
gcc -O2 -static -Wall -o "$stage/e2e/legacy-probe" "$here/legacy-probe.c"
gcc -O2 -static -Wall -o "$stage/e2e/clone-probe" "$here/clone-probe.c"
install -m 0755 "$here/legacy-init.sh" "$stage/init"
echo 'root:x:0:0:root:/:/bin/sh' >"$stage/etc/passwd"
echo 'root:x:0:' >"$stage/etc/group"

tmp="$out.tmp.$$"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -6) >"$tmp"
mv -f "$tmp" "$out"
# only the current image is kept (each is ~35 MB)
find "$out_dir" -maxdepth 1 -name 'guest-*.cpio.gz' ! -path "$out" -delete
echo "legacy-guest.sh: built $out ($(stat -c %s "$out") bytes)" >&2
echo "$out"
