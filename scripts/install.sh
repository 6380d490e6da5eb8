#!/usr/bin/env bash
# Installs vrngd from a source checkout (after `npm ci`) or from a release tarball
# (made by `--make-tarball`) into a root, and removes it again. It is also the
# RPM's %install (scripts/rpm/vrngd.spec), so both install the same file set.
# Every action goes through `act`, so `--dry-run` prints exactly what would run.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: install.sh [options]
  --destdir DIR        install into DIR as the root (staging; default: /, or $DESTDIR)
  --prefix DIR         prefix for the application, wrapper and man page (default: /usr)
  --unitdir DIR        systemd unit directory (default: /usr/lib/systemd/system)
  --initdir DIR        SysV init script directory (default: /etc/rc.d/init.d when the
                       root has it, else /etc/init.d)
  --sysconfdir DIR     where sysconfig/vrngd goes (default: /etc)
  --dracutdir DIR      dracut modules directory (default: /usr/lib/dracut/modules.d)
  --from TARBALL       install from a release tarball instead of this checkout
  --manifest FILE      also write the installed file list to FILE
  --enable             enable and start vrngd (systemctl, or chkconfig + service),
                       its seed units, and stop and disable rngd (as --disable-rngd)
  --disable-rngd       stop and disable rngd (systemctl, chkconfig + service, update-rc.d)
  --release REL        the file set of one RPM flavour: el6 (the SysV init script, no
                       systemd units), el7 (the units in systemd/el7/ when present,
                       its tmpfiles.d file, no init script); default: everything
  --runtime NODE       also install this node binary as PREFIX/lib/vrngd/node/bin/node,
                       the runtime the launcher and the dracut module prefer (the
                       el6/el7 packages ship one)
  --uninstall          remove what a previous install put there, the links systemd,
                       chkconfig or update-rc.d made for it, and its run-time files
  --purge              with --uninstall: also remove the seed file (/var/lib/vrngd)
  --make-tarball DIR   write DIR/vrngd-VERSION.tar.gz (a release tarball) and exit
  --dry-run            print what would be done, change nothing
  -h, --help           this text
EOF
}

die() { echo "install.sh: $*" >&2; exit "${2:-1}"; }

destdir="${DESTDIR:-}"
prefix=/usr
unitdir=/usr/lib/systemd/system
initdir=
sysconfdir=/etc
dracutdir=/usr/lib/dracut/modules.d
from=
manifest_out=
do_enable=0
do_disable_rngd=0
do_uninstall=0
do_purge=0
release=
runtime=
tarball_dir=
dry_run=0

while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) destdir="${2:?--destdir needs a directory}"; shift ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift ;;
    --unitdir) unitdir="${2:?--unitdir needs a directory}"; shift ;;
    --initdir) initdir="${2:?--initdir needs a directory}"; shift ;;
    --sysconfdir) sysconfdir="${2:?--sysconfdir needs a directory}"; shift ;;
    --dracutdir) dracutdir="${2:?--dracutdir needs a directory}"; shift ;;
    --from) from="${2:?--from needs a tarball}"; shift ;;
    --manifest) manifest_out="${2:?--manifest needs a file}"; shift ;;
    --enable) do_enable=1 ;;
    --disable-rngd) do_disable_rngd=1 ;;
    --uninstall) do_uninstall=1 ;;
    --purge) do_purge=1 ;;
    --release) release="${2:?--release needs el6 or el7}"; shift
      case "$release" in el6|el7) ;; *) die "--release: el6 or el7, not $release" 64 ;; esac ;;
    --runtime) runtime="${2:?--runtime needs a node binary}"; shift ;;
    --make-tarball) tarball_dir="${2:?--make-tarball needs a directory}"; shift ;;
    --dry-run|-n) dry_run=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" 64 ;;
  esac
  shift
done

destdir="${destdir%/}"
root="${destdir:-/}"
[ -n "$initdir" ] || { if [ -d "$destdir/etc/rc.d/init.d" ]; then initdir=/etc/rc.d/init.d; else initdir=/etc/init.d; fi; }
appdir="$prefix/lib/vrngd"          # the wrapper finds it as ../lib/vrngd from its own directory
sbindir="$prefix/sbin"
mandir="$prefix/share/man"
manifest_path="$appdir/install-manifest"

act() {
  echo "+ $*"
  [ "$dry_run" = 1 ] || "$@"
}

# --- where the files come from ---------------------------------------------------
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cleanup_dir=
trap '[ -z "$cleanup_dir" ] || rm -rf "$cleanup_dir"' EXIT
if [ -n "$from" ] && [ "$do_uninstall" = 0 ]; then
  [ -f "$from" ] || die "no such tarball: $from" 66
  cleanup_dir="$(mktemp -d)"
  tar -xzf "$from" -C "$cleanup_dir"
  src="$(find "$cleanup_dir" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
  [ -n "$src" ] || die "empty tarball: $from" 66
fi

# The application is the single-file bundle (scripts/dev/bundle.js: vrngd.js with its
# modules inside) and the native files beside it, the layout the addon loader and
# the dracut module expect. A release tarball carries a built bundle; from a
# checkout it is built into a temporary directory (needs npm ci and build:native).
bundle_dir=
find_bundle() {
  if [ -f "$src/vrngd.js" ] && [ -f "$src/build/Release/vrngd.node" ]; then
    bundle_dir="$src"
    return 0
  fi
  [ -f "$src/scripts/dev/bundle.js" ] || die "$src is neither a checkout nor a release tarball" 66
  [ -f "$src/build/Release/vrngd.node" ] || die "$src/build/Release/vrngd.node missing: run npm run build:native" 66
  [ -d "$src/node_modules/esbuild" ] || die "$src/node_modules/esbuild missing: run npm ci" 66
  command -v node >/dev/null 2>&1 || die "node not found: needed to build the bundle" 69
  [ -n "$cleanup_dir" ] || cleanup_dir="$(mktemp -d)"
  bundle_dir="$cleanup_dir/bundle"
  node "$src/scripts/dev/bundle.js" "$bundle_dir" >/dev/null || die "building the bundle failed (node scripts/dev/bundle.js)" 70
}

# The addon plus every other native product next to it (the seeder's preload
# library, any helper executable): the regular files in build/Release.
native_files() {
  local f
  for f in "$bundle_dir"/build/Release/*; do
    if [ -f "$f" ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then echo "$f"; fi
  done
}

check_source() {
  [ -f "$src/systemd/vrngd.service" ] || die "$src/systemd/vrngd.service missing" 66
  find_bundle
}

# --- the release tarball ---------------------------------------------------------
make_tarball() {
  check_source
  local version stage top f d
  version="$(node -p 'require(process.argv[1]).version' "$src/package.json")"
  stage="$(mktemp -d)"
  top="$stage/vrngd-$version"
  mkdir -p "$top/build/Release" "$top/scripts"
  cp "$bundle_dir/vrngd.js" "$src/package.json" "$top/"
  for f in $(native_files); do cp "$f" "$top/build/Release/"; done
  cp -R "$src/systemd" "$top/"
  cp "$src/scripts/install.sh" "$top/scripts/"
  cp "$src/scripts/migrate-rngd.sh" "$top/scripts/" # rngd configuration migration (issue 19)
  cp "$src/scripts/el7-syscall-filter.sh" "$top/scripts/"
  cp "$src/scripts/vrngd" "$top/scripts/"
  for d in sysvinit dracut rpm; do [ ! -d "$src/scripts/$d" ] || cp -R "$src/scripts/$d" "$top/scripts/"; done
  if [ -f "$src/docs/vrngd.8" ]; then mkdir -p "$top/docs" && cp "$src/docs/vrngd.8" "$top/docs/"; fi
  for f in README.md CHANGELOG.md LICENSE COPYING; do [ ! -f "$src/$f" ] || cp "$src/$f" "$top/"; done
  act mkdir -p "$tarball_dir"
  act tar -czf "$tarball_dir/vrngd-$version.tar.gz" -C "$stage" "vrngd-$version"
  rm -rf "$stage"
  echo "$tarball_dir/vrngd-$version.tar.gz"
}

# --- service managers (only on the live system) ----------------------------------
systemd_running() { [ -z "$destdir" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

disable_rngd() {
  if systemd_running; then
    act systemctl disable --now rngd.service || true
  elif command -v chkconfig >/dev/null 2>&1; then
    act service rngd stop || true
    act chkconfig rngd off || true
  elif command -v update-rc.d >/dev/null 2>&1; then
    act invoke-rc.d rngd stop || true
    act update-rc.d rngd disable || true
  else
    echo "install.sh: no systemctl, chkconfig or update-rc.d: stop rngd by hand" >&2
  fi
}

# Enabling vrngd disables rngd (both feed the same pool from the same device; the
# units conflict both ways, so both enabled would only race at boot), enables the
# seed step(s) and starts the daemon.
enable_vrngd() {
  local u seeds=()
  if [ "$do_disable_rngd" = 0 ]; then disable_rngd; fi
  if systemd_running; then
    act systemctl daemon-reload
    for u in vrngd-seed.service vrngd-seed-file.service; do
      if [ -f "$unitdir/$u" ]; then seeds+=("$u"); fi
    done
    if [ "${#seeds[@]}" -gt 0 ]; then act systemctl enable "${seeds[@]}"; fi
    act systemctl enable --now vrngd.service
  elif command -v chkconfig >/dev/null 2>&1; then
    act chkconfig --add vrngd
    act chkconfig vrngd on
    act service vrngd start
  elif command -v update-rc.d >/dev/null 2>&1; then
    act update-rc.d vrngd defaults
    act invoke-rc.d vrngd start
  else
    echo "install.sh: no service manager found: start $sbindir/vrngd -b by hand" >&2
  fi
}

# --- install ---------------------------------------------------------------------
# Installed paths, recorded as "d PATH", "f PATH" or "c PATH SHA256" (config file).
manifest=()

put() { # put MODE SRC DEST
  act install -D -m "$1" "$2" "$destdir$3"
  manifest+=("f $3")
}

put_tree() { # put_tree SRC DEST: a directory owned by vrngd, copied whole
  local rel
  act mkdir -p "$destdir$2"
  act cp -R "$1/." "$destdir$2/"
  manifest+=("d $2")
  while IFS= read -r rel; do
    if [ -d "$1/$rel" ] && [ ! -L "$1/$rel" ]; then manifest+=("d $2/$rel"); else manifest+=("f $2/$rel"); fi
  done < <(cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
}

install_all() {
  check_source
  local tmp f sysconfig="$sysconfdir/sysconfig/vrngd"
  # the application: the bundle and the native files beside it
  act mkdir -p "$destdir$appdir" "$destdir$appdir/build" "$destdir$appdir/build/Release"
  manifest+=("d $appdir" "d $appdir/build" "d $appdir/build/Release")
  put 0644 "$bundle_dir/vrngd.js" "$appdir/vrngd.js"
  for f in $(native_files); do put 0755 "$f" "$appdir/build/Release/$(basename "$f")"; done
  # the runtime the package ships, if any, and the launcher (scripts/vrngd), which prefers it
  if [ -n "$runtime" ]; then
    [ -f "$runtime" ] && [ -x "$runtime" ] || die "--runtime $runtime: not an executable file" 66
    act mkdir -p "$destdir$appdir/node/bin"
    manifest+=("d $appdir/node" "d $appdir/node/bin")
    put 0755 "$runtime" "$appdir/node/bin/node"
  fi
  [ -f "$src/scripts/vrngd" ] || die "$src/scripts/vrngd (the launcher) missing" 66
  put 0755 "$src/scripts/vrngd" "$sbindir/vrngd"
  # units (every unit in systemd/), sysconfig, init script, man page, dracut module
  local units="$src/systemd" d
  [ "$release" != el7 ] || [ ! -d "$src/systemd/el7" ] || units="$src/systemd/el7"
  if [ "$release" != el6 ]; then
    for f in "$units"/*.service "$units"/*.timer "$units"/*.socket "$units"/*.path; do
      if [ -f "$f" ]; then put 0644 "$f" "$unitdir/$(basename "$f")"; fi
    done
    # drop-in directories (NAME.service.d/*.conf) and the tmpfiles.d file, where a unit set has them.
    # el7's are the syscall deny-lists that only systemd 219+ may get (208 kills node with
    # them): stored aside and linked by el7-syscall-filter.sh after checking the version.
    local dropins="$unitdir"
    if [ "$release" = el7 ]; then
      dropins="$appdir/el7-dropins"
      put 0755 "$src/scripts/el7-syscall-filter.sh" "$appdir/el7-syscall-filter.sh"
    fi
    for d in "$units"/*.d; do
      [ -d "$d" ] || continue
      for f in "$d"/*.conf; do [ ! -f "$f" ] || put 0644 "$f" "$dropins/$(basename "$d")/$(basename "$f")"; done
    done
    # rngd's side of the conflict (Conflicts=vrngd.service, which systemd 208 reads too):
    # the el7 set has no drop-in of its own for it, so it takes the default set's
    if [ "$release" = el7 ] && [ -f "$src/systemd/rngd.service.d/50-vrngd.conf" ]; then
      put 0644 "$src/systemd/rngd.service.d/50-vrngd.conf" "$unitdir/rngd.service.d/50-vrngd.conf"
    fi
    if [ "$release" = el7 ] && [ -z "$destdir" ]; then act sh "$src/scripts/el7-syscall-filter.sh" enable --prefix "$prefix"; fi
    if [ -f "$units/vrngd.tmpfiles" ]; then put 0644 "$units/vrngd.tmpfiles" "$prefix/lib/tmpfiles.d/vrngd.conf"; fi
  fi
  if [ -f "$destdir$sysconfig" ] && ! cmp -s "$src/systemd/vrngd.sysconfig" "$destdir$sysconfig"; then
    echo "install.sh: keeping the modified $sysconfig" >&2
  else
    act install -D -m 0644 "$src/systemd/vrngd.sysconfig" "$destdir$sysconfig"
  fi
  manifest+=("c $sysconfig $(sha256sum "$src/systemd/vrngd.sysconfig" | cut -d' ' -f1)")
  # rngd configuration migration (issue 19): rngd's flags into VRNGD_ARGS, said line by line
  put 0755 "$src/scripts/migrate-rngd.sh" "$appdir/migrate-rngd.sh"
  act sh "$src/scripts/migrate-rngd.sh" --root "$root" --sysconfig "$sysconfig" --vrngd "$destdir$sbindir/vrngd" || true
  if [ "$release" != el7 ] && [ -f "$src/scripts/sysvinit/vrngd" ]; then put 0755 "$src/scripts/sysvinit/vrngd" "$initdir/vrngd"; fi
  if [ -f "$src/docs/vrngd.8" ]; then put 0644 "$src/docs/vrngd.8" "$mandir/man8/vrngd.8"; fi
  if [ -d "$src/scripts/dracut/90vrngd" ]; then
    act mkdir -p "$destdir$dracutdir"
    put_tree "$src/scripts/dracut/90vrngd" "$dracutdir/90vrngd"
    for f in "$src"/scripts/dracut/90vrngd/*.sh; do [ ! -f "$f" ] || act chmod 0755 "$destdir$dracutdir/90vrngd/$(basename "$f")"; done
  fi
  # the manifest, which lists itself, for --uninstall and the RPM's %files
  manifest+=("f $manifest_path")
  if [ "$dry_run" = 1 ]; then
    echo "+ write $destdir$manifest_path (${#manifest[@]} entries)"
  else
    printf '%s\n' "${manifest[@]}" >"$destdir$manifest_path"
  fi
  if [ -n "$manifest_out" ] && [ "$dry_run" = 0 ]; then cp "$destdir$manifest_path" "$manifest_out"; fi
  if systemd_running; then act systemctl daemon-reload; fi
  restart_running
}

# An upgrade over a running daemon restarts it on the new files (only a running one).
restart_running() {
  [ -z "$destdir" ] || return 0
  if systemd_running; then
    if systemctl -q is-active vrngd.service 2>/dev/null; then act systemctl try-restart vrngd.service || true; fi
  elif [ -x "$initdir/vrngd" ]; then
    if "$initdir/vrngd" status >/dev/null 2>&1; then act "$initdir/vrngd" condrestart || true; fi
  fi
}

# --- uninstall -------------------------------------------------------------------
uninstall_all() {
  local type path sum files=() dirs=()
  local m="$destdir$manifest_path"
  [ -f "$m" ] || die "no install manifest at $m: nothing installed by install.sh here" 66
  stop_and_unlink
  while read -r type path sum; do
    case "$type" in
      f) if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then files+=("$destdir$path"); fi ;;
      c)
        if [ -f "$destdir$path" ]; then
          if [ "$(sha256sum "$destdir$path" | cut -d' ' -f1)" = "$sum" ]; then
            files+=("$destdir$path")
          else
            act mv -f "$destdir$path" "$destdir$path.save"
            echo "install.sh: $path was modified; saved as $path.save" >&2
          fi
        fi ;;
      d) if [ -d "$destdir$path" ]; then dirs+=("$destdir$path"); fi ;;
    esac
  done <"$m"
  if [ "${#files[@]}" -gt 0 ]; then act rm -f -- "${files[@]}"; fi
  # only directories vrngd owns, deepest first, and only when empty
  if [ "${#dirs[@]}" -gt 0 ]; then
    mapfile -t dirs < <(printf '%s\n' "${dirs[@]}" | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-)
    act rmdir --ignore-fail-on-non-empty -- "${dirs[@]}"
  fi
  remove_runtime_files
  if systemd_running; then act systemctl daemon-reload; fi
}

# Stop the daemon and remove every link that enabling it made: systemctl's
# *.wants/ links (vrngd.service, vrngd-seed.service, vrngd-seed-file.service, also when systemd is not
# running or the link dangles), chkconfig's and update-rc.d's rc?.d links.
stop_and_unlink() {
  local l u ours=()
  if systemd_running; then
    # only the units this install has (el7 has no vrngd-seed-file.service): one unknown name fails them all
    for u in vrngd.service vrngd-seed.service vrngd-seed-file.service; do
      if [ -f "$unitdir/$u" ]; then ours+=("$u"); fi
    done
    if [ "${#ours[@]}" -gt 0 ]; then act systemctl disable --now "${ours[@]}" || true; fi
    if [ -f "$appdir/el7-syscall-filter.sh" ]; then act sh "$appdir/el7-syscall-filter.sh" disable --prefix "$prefix" || true; fi
  elif [ -z "$destdir" ] && [ -x "$destdir$initdir/vrngd" ]; then
    act "$initdir/vrngd" stop || true
  fi
  # chkconfig and update-rc.d know only the system's own init directory
  if [ -z "$destdir" ] && [ -f "$initdir/vrngd" ] && { [ "$initdir" = /etc/rc.d/init.d ] || [ "$initdir" = /etc/init.d ]; }; then
    if command -v chkconfig >/dev/null 2>&1; then act chkconfig --del vrngd || true
    elif command -v update-rc.d >/dev/null 2>&1; then act update-rc.d -f vrngd remove >/dev/null || true; fi
  fi
  for l in "$destdir"/etc/systemd/system/*.wants/vrngd.service "$destdir"/etc/systemd/system/*.wants/vrngd-seed.service \
           "$destdir"/etc/systemd/system/*.wants/vrngd-seed-file.service \
           "$destdir"/etc/rc[0-6S].d/[SK][0-9][0-9]vrngd "$destdir"/etc/rc.d/rc[0-6].d/[SK][0-9][0-9]vrngd; do
    if [ -L "$l" ]; then act rm -f -- "$l"; fi
  done
}

# What the running daemon and the seed step leave: the state directory, pid and
# lock files; the seed file only with --purge.
remove_runtime_files() {
  local f
  for f in "$destdir/var/run/vrngd.pid" "$destdir/run/vrngd.pid" "$destdir/var/lock/subsys/vrngd"; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then act rm -f -- "$f"; fi
  done
  for f in "$destdir/run/vrngd" "$destdir/var/run/vrngd"; do
    if [ -d "$f" ] && [ ! -L "$f" ]; then act rm -rf -- "$f"; fi
  done
  if [ "$do_purge" = 1 ]; then
    if [ -d "$destdir/var/lib/vrngd" ]; then act rm -rf -- "$destdir/var/lib/vrngd"; fi
  elif [ -e "$destdir/var/lib/vrngd/seed" ]; then
    echo "install.sh: keeping the seed file /var/lib/vrngd/seed (--purge removes it)" >&2
  fi
}

if [ -n "$tarball_dir" ]; then make_tarball; exit 0; fi
if [ "$do_disable_rngd" = 1 ] && [ -n "$destdir" ] && [ "$dry_run" = 0 ]; then
  die "--disable-rngd acts on the running system, not on --destdir $destdir" 64
fi
if [ "$do_purge" = 1 ] && [ "$do_uninstall" = 0 ]; then die "--purge goes with --uninstall" 64; fi
if [ "$do_uninstall" = 1 ]; then
  uninstall_all
else
  install_all
  if [ "$do_disable_rngd" = 1 ]; then disable_rngd; fi
  if [ "$do_enable" = 1 ]; then
    if [ -n "$destdir" ]; then echo "install.sh: --enable ignored with --destdir" >&2; else enable_vrngd; fi
  fi
fi
exit 0
