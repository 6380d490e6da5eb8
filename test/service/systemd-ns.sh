#!/usr/bin/env bash
# TEST ONLY (test/service/el7-units.test.ts): boots this machine's own systemd as
# PID 1 of a throwaway container (private PID, mount, UTS, IPC and cgroup
# namespaces; PID 1 here is not systemd, so systemd-run has no manager to talk
# to) and lets it start vrngd-test.target from UNITDIR only: SYSTEMD_UNIT_PATH
# hides the host's units, so nothing but the units under test and the test's
# own helpers runs. Inside: a fresh /run, /var/lib on a tmpfs, an overlay on /usr
# that adds the install root's /usr/sbin/vrngd and /usr/lib/vrngd, /proc/sys and
# /sys read-only (the manager cannot retune the host), no CAP_SYS_MODULE.
# The manager runs in container mode (container=vrngd-test): the units under test
# must therefore come without ConditionVirtualization=!container.
# The manager's console (a pty from script(1)) goes to OUTDIR/console.log; the
# test's report unit writes OUTDIR/report ending in "END". Then, or on timeout,
# the container is killed and its cgroups removed. Exit: 0 when the report came,
# 124 on timeout, 1 on setup errors. VRNGD_NS_TRACE=1 traces the script.
# Usage: systemd-ns.sh UNITDIR INSTALLROOT OUTDIR TIMEOUT_S
set -euo pipefail
[ -n "${VRNGD_NS_TRACE:-}" ] && set -x

if [ "${1:-}" = --inner ]; then
  shift
  unitdir="$1" iroot="$2" out="$3" console="$4"
  mount --make-rprivate /
  mount -t tmpfs -o mode=0755 tmpfs /run
  mount -t tmpfs -o mode=0755 tmpfs /var/lib
  mkdir -p "$out/usr-upper" "$out/usr-work"
  cp -a "$iroot/usr/." "$out/usr-upper/"
  mount -t overlay overlay -o "lowerdir=/usr,upperdir=$out/usr-upper,workdir=$out/usr-work" /usr
  # cgroup v1 hierarchies rooted at this container's cgroups (cgroup namespace)
  umount -R /sys/fs/cgroup
  mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup
  for h in systemd devices pids; do
    mkdir -p "/sys/fs/cgroup/$h"
    if [ "$h" = systemd ]; then mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
    else mount -t cgroup -o "$h" cgroup "/sys/fs/cgroup/$h"; fi
  done
  mount -o remount,ro,bind /sys/fs/cgroup
  mount --bind /proc/sys /proc/sys && mount -o remount,ro,bind /proc/sys
  mount -o remount,ro,bind /sys
  # the manager's console: the pty that script(1) outside logs to console.log
  mount --bind "$console" /dev/console
  exec env -i container=vrngd-test SYSTEMD_UNIT_PATH="$unitdir" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    setpriv --bounding-set=-sys_module -- \
    /lib/systemd/systemd --system --unit=vrngd-test.target --log-target=console --log-level=info \
    --default-standard-output=tty --default-standard-error=tty --show-status=false \
    </dev/null >/dev/console 2>&1
fi
if [ "${1:-}" = --ns ]; then
  # runs on script(1)'s pty; the unshare below is the container's parent
  shift
  echo "$$" > "$3/ns.pid"
  for h in systemd devices pids; do
    echo "$$" > "/sys/fs/cgroup/$h/$4/cgroup.procs"
  done
  exec unshare --pid --fork --kill-child --mount --mount-proc --uts --ipc --cgroup \
    bash "$0" --inner "$1" "$2" "$3" "$(tty)"
fi

unitdir="$(realpath "${1:?usage: systemd-ns.sh UNITDIR INSTALLROOT OUTDIR TIMEOUT_S}")"
iroot="$(realpath "${2:?}")"
out="$(realpath "${3:?}")"
limit="${4:-60}"
cg="vrngd-test-$$"
cleanup() {
  local h d
  [ -s "$out/ns.pid" ] && kill -KILL "$(cat "$out/ns.pid")" 2>/dev/null || true
  [ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  for h in systemd devices pids; do
    [ -d "/sys/fs/cgroup/$h/$cg" ] || continue
    # SIGKILL is asynchronous: wait (up to 5 s) for the cgroups to empty
    for _ in $(seq 1 50); do
      [ -z "$(find "/sys/fs/cgroup/$h/$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
      sleep 0.1
    done
    # depth first: the manager's slices and scopes, then the container's own
    find "/sys/fs/cgroup/$h/$cg" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "/sys/fs/cgroup/$h/$cg" 2>/dev/null || true
  done
}
trap cleanup EXIT
for h in systemd devices pids; do mkdir -p "/sys/fs/cgroup/$h/$cg"; done
rm -f "$out/report" "$out/ns.pid"
script -qfec "$(printf '%q ' bash "$0" --ns "$unitdir" "$iroot" "$out" "$cg")" "$out/console.log" </dev/null >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 $((limit * 5))); do
  if [ -s "$out/report" ] && grep -q '^END$' "$out/report"; then exit 0; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ -s "$out/report" ] && grep -q '^END$' "$out/report"; then exit 0; fi
echo "systemd-ns: no report within ${limit}s; console:" >&2
tail -n 40 "$out/console.log" >&2 || true
exit 124
