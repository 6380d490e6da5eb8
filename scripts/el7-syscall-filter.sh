#!/bin/sh
# Links the el7 units' syscall deny-list drop-ins (systemd/el7/*.service.d/) into
# place only where systemd is 219 or newer (RHEL 7.1+). systemd 208 (RHEL 7.0)
# turns every SystemCallFilter=, even a "~" deny-list, into an allow-list of the
# calls it knows, and kills node there; so the drop-ins are shipped aside, in
# /usr/lib/vrngd/el7-dropins, and linked by the package's %post / install.sh.
# Usage: el7-syscall-filter.sh enable|disable [--root DIR] [--prefix /usr]
# Exit: 0 (also when systemd is older or absent: nothing linked, said once), 64 usage.
set -u
action="${1:-}"; shift || :
root=""; prefix=/usr
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    *) echo "el7-syscall-filter.sh: unknown argument '$1'" >&2; exit 64 ;;
  esac
done
store="$prefix/lib/vrngd/el7-dropins"
unitdir="$root$prefix/lib/systemd/system"
case "$action" in
  enable)
    v=$(systemctl --version 2>/dev/null | sed -n '1s/^systemd \([0-9][0-9]*\).*/\1/p')
    if [ -z "$v" ] || [ "$v" -lt 219 ]; then
      echo "el7-syscall-filter.sh: systemd ${v:-not found}: no syscall filter (it needs systemd 219 or newer)" >&2
      exit 0
    fi
    for d in "$root$store"/*.service.d; do
      [ -d "$d" ] || continue
      u=$(basename "$d")
      mkdir -p "$unitdir/$u"
      for f in "$d"/*.conf; do [ -f "$f" ] && ln -sfn "$store/$u/$(basename "$f")" "$unitdir/$u/$(basename "$f")"; done
    done ;;
  disable)
    for d in "$root$store"/*.service.d; do
      [ -d "$d" ] || continue
      u=$(basename "$d")
      for f in "$d"/*.conf; do rm -f "$unitdir/$u/$(basename "$f")"; done
      rmdir "$unitdir/$u" 2>/dev/null || :
    done ;;
  *) echo "usage: el7-syscall-filter.sh enable|disable [--root DIR] [--prefix /usr]" >&2; exit 64 ;;
esac
exit 0
