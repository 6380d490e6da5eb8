#!/bin/sh
# migrate-rngd.sh: carries an existing rngd configuration over to vrngd's
# VRNGD_ARGS (issue 19). Reads, under --root:
#   /etc/sysconfig/rngd                  EXTRAOPTIONS= (RHEL 6/7), RNGD_ARGS= (RHEL 8+)
#   /etc/default/rng-tools[-debian]      HRNGDEVICE=, RNGDOPTIONS= (Debian)
#   /etc/systemd/system/rngd.service and rngd.service.d/*.conf   ExecStart= overrides
# and writes the flags vrngd can use into VRNGD_ARGS= of /etc/sysconfig/vrngd, the
# file vrngd.service (EnvironmentFile=) and the SysV script read. vrngd reads both
# rngd dialects, so flags are carried word for word; each one is checked with
# `vrngd run --check-options` when a vrngd is at hand. It says what it carried
# and what it dropped, and why. It never overwrites a VRNGD_ARGS that is already
# set, so running it twice changes nothing. Called by scripts/install.sh and the
# RPM's %post. POSIX sh (RHEL 6's bash 4.1 and coreutils 8.4 included).
#
# Exit: 0 (also when there is nothing to carry), 64 bad usage, 73 cannot write.

usage() {
  cat <<'EOF'
Usage: migrate-rngd.sh [--root DIR] [--sysconfig PATH] [--vrngd COMMAND] [--dry-run] [--quiet]
  --root DIR         the system's root (default /)
  --sysconfig PATH   vrngd's config file inside the root (default /etc/sysconfig/vrngd)
  --vrngd COMMAND    the vrngd that checks the flags (default DIR/usr/sbin/vrngd, or
                     vrngd on PATH when DIR is /); without one the flags are not checked
  --dry-run          say what would be written, write nothing
  --quiet            print nothing when there is nothing to carry
EOF
}

me=migrate-rngd
root=/
sysconfig=/etc/sysconfig/vrngd
vrngd=
vrngd_set=0
dry_run=0
quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || { echo "$me: --root needs a directory" >&2; exit 64; }; root=$2; shift ;;
    --sysconfig) [ $# -ge 2 ] || { echo "$me: --sysconfig needs a path" >&2; exit 64; }; sysconfig=$2; shift ;;
    --vrngd) [ $# -ge 2 ] || { echo "$me: --vrngd needs a command" >&2; exit 64; }; vrngd=$2; vrngd_set=1; shift ;;
    --dry-run) dry_run=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$me: unknown option: $1" >&2; usage >&2; exit 64 ;;
  esac
  shift
done
[ -d "$root" ] || { echo "$me: --root $root: no such directory" >&2; exit 64; }
root=${root%/}
if [ "$vrngd_set" = 0 ]; then
  if [ -x "$root/usr/sbin/vrngd" ]; then vrngd="$root/usr/sbin/vrngd"
  elif [ -z "$root" ] && command -v vrngd >/dev/null 2>&1; then vrngd=vrngd
  fi
fi

say() { echo "$me: $*"; }

# The words of a string, one space apart (no globbing; never `echo $x`: -n is a word here).
squash() {
  set -f
  # shellcheck disable=SC2086 # word splitting is the point
  set -- $1
  set +f
  printf '%s' "$*"
}

# The value of VAR in a shell-style config file: the last assignment, one level of
# quotes removed, a trailing comment dropped. The file is not executed.
get_var() { # FILE VAR
  sed -n "s/^[[:space:]]*\(export[[:space:]][[:space:]]*\)\{0,1\}$2=//p" "$1" | tail -n 1 |
    sed -e 's/^"\([^"]*\)".*$/\1/' -e t -e "s/^'\\([^']*\\)'.*\$/\\1/" -e t -e 's/[[:space:]]*#.*$//'
}

# --- what rngd ran with ----------------------------------------------------------
words=          # the collected rngd words, space-separated
from=           # where they came from, for the report
add_words() { # ORIGIN WORDS
  [ -n "$2" ] || return 0
  words="$words $2"
  from="$from${from:+; }$1"
  say "found $1: $2"
}

rh="$root/etc/sysconfig/rngd"
rh_extra=
rh_args=
if [ -f "$rh" ]; then
  rh_extra=$(get_var "$rh" EXTRAOPTIONS)
  rh_args=$(get_var "$rh" RNGD_ARGS)
fi

# systemd: the last ExecStart= of rngd.service and its drop-ins (an empty one resets)
exec_start=
exec_from=
for f in "$root/etc/systemd/system/rngd.service" "$root"/etc/systemd/system/rngd.service.d/*.conf; do
  [ -f "$f" ] || continue
  v=$(sed -n 's/^[[:space:]]*ExecStart[[:space:]]*=[[:space:]]*//p' "$f" | tail -n 1)
  if grep -q '^[[:space:]]*ExecStart[[:space:]]*=' "$f"; then exec_start=$v; exec_from=${f#"$root"}; fi
done
if [ -n "$exec_start" ]; then
  set -f
  # shellcheck disable=SC2086 # word splitting is the point
  set -- $exec_start
  set +f
  cmd=${1#[-@+!:]}
  cmd=${cmd#[-@+!:]}
  shift
  case "$cmd" in
    */rngd|rngd)
      line=
      for w in "$@"; do
        case "$w" in
          '$EXTRAOPTIONS'|'${EXTRAOPTIONS}') line="$line $rh_extra"; rh_extra= ;;
          '$RNGD_ARGS'|'${RNGD_ARGS}') line="$line $rh_args"; rh_args= ;;
          '$'*) say "dropped $w from $exec_from ExecStart: not a variable of /etc/sysconfig/rngd" ;;
          *) line="$line $w" ;;
        esac
      done
      add_words "$exec_from ExecStart" "$(squash "$line")"
      ;;
    *) say "dropped $exec_from ExecStart: it runs $cmd, not rngd" ;;
  esac
fi
add_words "/etc/sysconfig/rngd EXTRAOPTIONS" "$(squash "$rh_extra")"
add_words "/etc/sysconfig/rngd RNGD_ARGS" "$(squash "$rh_args")"

for deb in "$root/etc/default/rng-tools" "$root/etc/default/rng-tools-debian"; do
  [ -f "$deb" ] || continue
  dev=$(get_var "$deb" HRNGDEVICE)
  opts=$(get_var "$deb" RNGDOPTIONS)
  name=${deb#"$root"}
  case "$dev" in
    '') ;;
    /dev/null) say "dropped $name HRNGDEVICE=/dev/null: vrngd has no 'no hardware RNG' mode; it reads /dev/hwrng" ;;
    *) add_words "$name HRNGDEVICE" "-r $dev" ;;
  esac
  add_words "$name RNGDOPTIONS" "$(squash "$opts")"
done

if [ -z "$from" ]; then
  [ "$quiet" = 1 ] || say "no rngd configuration under ${root:-/}: nothing to carry"
  exit 0
fi

# --- which words vrngd takes -----------------------------------------------------
# First the words are sorted: those vrngd must not get are dropped here, the rest
# become candidate items (a flag and its value), one per line. Then vrngd checks the
# candidates as one line (one node start); only if it refuses them are they checked
# one by one, to drop just the ones it refuses.
cands=
all=
item() { # WORD [VALUE]: a candidate, unless the shell or systemd would read it differently
  case "$*" in
    *\"*|*\'*|*\\*|*\$*|*\`*) say "dropped $*: not carried through VRNGD_ARGS (quotes, \$, \\ or \`)"; return ;;
    *\**|*\?*|*\[*) say "dropped $*: not carried through VRNGD_ARGS (a glob character)"; return ;;
  esac
  cands="$cands$*
"
  all="$all $*"
}
drop() { # WHY WORD...
  why=$1
  shift
  say "dropped $*: $why"
}
check_out=
check() { # ITEM...: vrngd's exit status for `run --check-options ITEM...`; its stderr in check_out
  # shellcheck disable=SC2086 # $vrngd may be "node /path/main.js"
  check_out=$($vrngd run --check-options "$@" 2>&1 >/dev/null </dev/null)
}
warnings() { [ -z "$check_out" ] || printf '%s\n' "$check_out" | sed -n 's/^vrngd: warning: /  vrngd says: warning: /p'; }
reason() { printf '%s\n' "$check_out" | sed -n 's/^vrngd: //p' | tail -n 1; }

SERVICE="the service manager decides how vrngd runs and where its pid file goes"
NOFEED="it would make the service exit or feed nothing"
set -f
# shellcheck disable=SC2086
set -- $words
set +f
while [ $# -gt 0 ]; do
  w=$1
  nxt=${2-}
  case "$w" in
    -b|--background|-f|--foreground) drop "$SERVICE" "$w" ;;
    -p|--pid-file|--pidfile) if [ $# -ge 2 ]; then shift; fi; drop "$SERVICE" "$w $nxt" ;;
    --pid-file=*|--pidfile=*|-p?*) drop "$SERVICE" "$w" ;;
    -l|--list|-V|--version|-h|--help|'-?'|--usage|--test) drop "$NOFEED" "$w" ;;
    -t)
      case "$nxt" in
        ''|*[!0-9]*) drop "$NOFEED (rngd 6's test mode)" "$w" ;;
        *) shift; item "$w" "$nxt" ;;
      esac ;;
    -r|--rng-device)
      if [ $# -ge 2 ]; then shift; fi
      case "$nxt" in
        /dev/urandom|/dev/random) drop "feeding the kernel its own output credits no real entropy" "$w $nxt" ;;
        *) item "$w" "$nxt" ;;
      esac ;;
    --rng-device=/dev/urandom|--rng-device=/dev/random|-r/dev/urandom|-r/dev/random) drop "feeding the kernel its own output credits no real entropy" "$w" ;;
    -o|-W|-e|-s|-x|-n|-O|-R|-D|-d|--random-device|--fill-watermark|--entropy-count|--random-step|--exclude|--include|--option|--force-reseed|--drop-privileges|--no-tpm|--no-drng|--timeout)
      # an option with a value (-d only when 0|1 follows: alone it is rngd 6's debug)
      case "$w:$nxt" in
        -d:0|-d:1) shift; item "$w" "$nxt" ;;
        -d:*) item "$w" ;;
        *) if [ $# -ge 2 ]; then shift; item "$w" "$nxt"; else item "$w"; fi ;;
      esac ;;
    *) item "$w" ;;
  esac
  shift
done
all=$(squash "$all")
carried=
[ -z "$all" ] || [ -n "$vrngd" ] || say "no vrngd to check the flags with (--vrngd): they are carried unchecked"
if [ -n "$all" ] && [ -n "$vrngd" ]; then
  set -f
  # shellcheck disable=SC2086
  set -- $all
  set +f
  check "$@"
  rc=$?
  if [ "$rc" = 0 ]; then
    carried=$all
    printf '%s' "$cands" | while IFS= read -r it; do [ -z "$it" ] || say "carried $it"; done
    warnings
  elif [ "$rc" = 64 ]; then
    # one by one (the rare case), then the survivors as a line once more
    while IFS= read -r it; do
      [ -n "$it" ] || continue
      set -f
      # shellcheck disable=SC2086
      set -- $it
      set +f
      if check "$@"; then
        carried="$carried $it"
        say "carried $it"
        warnings
      else
        say "dropped $it: vrngd refuses it: $(reason)"
      fi
    done <<EOF
$cands
EOF
    carried=$(squash "$carried")
    if [ -n "$carried" ]; then
      set -f
      # shellcheck disable=SC2086
      set -- $carried
      set +f
      if ! check "$@"; then
        say "dropped everything ($carried): vrngd refuses the combination: $(reason)"
        carried=
      fi
    fi
  else
    say "$vrngd does not run here (status $rc): the flags are carried unchecked"
    vrngd=
  fi
fi
if [ -n "$all" ] && [ -z "$vrngd" ]; then
  carried=$all
  printf '%s' "$cands" | while IFS= read -r it; do [ -z "$it" ] || say "carried $it (unchecked)"; done
fi

# --- write VRNGD_ARGS ------------------------------------------------------------
target="$root$sysconfig"
if [ -f "$target" ]; then
  current=$(get_var "$target" VRNGD_ARGS)
  if [ -n "$current" ]; then
    say "kept $sysconfig: VRNGD_ARGS is already set (\"$current\"); not carried: ${carried:-nothing}"
    exit 0
  fi
fi
if [ -z "$carried" ]; then
  say "nothing vrngd can use; $sysconfig unchanged"
  exit 0
fi
if [ "$dry_run" = 1 ]; then
  say "would write VRNGD_ARGS=\"$carried\" to $sysconfig"
  exit 0
fi
dir=$(dirname "$target")
[ -d "$dir" ] || mkdir -p "$dir" || { echo "$me: cannot create $dir" >&2; exit 73; }
tmp="$target.migrate.$$"
note="# carried over from rngd ($from) by migrate-rngd.sh"
if [ -f "$target" ] && grep -q '^[[:space:]]*VRNGD_ARGS=' "$target"; then
  awk -v line="VRNGD_ARGS=\"$carried\"" -v note="$note" '
    !done && /^[[:space:]]*VRNGD_ARGS=/ { print note; print line; done = 1; next }
    { print }' "$target" >"$tmp" || { rm -f "$tmp"; echo "$me: cannot write $tmp" >&2; exit 73; }
else
  { [ ! -f "$target" ] || cat "$target"; echo "$note"; echo "VRNGD_ARGS=\"$carried\""; } >"$tmp" || { rm -f "$tmp"; echo "$me: cannot write $tmp" >&2; exit 73; }
fi
if [ -f "$target" ]; then chmod --reference="$target" "$tmp" 2>/dev/null || chmod 0644 "$tmp"; else chmod 0644 "$tmp"; fi
mv -f "$tmp" "$target" || { rm -f "$tmp"; echo "$me: cannot write $target" >&2; exit 73; }
say "wrote VRNGD_ARGS=\"$carried\" to $sysconfig"
exit 0
