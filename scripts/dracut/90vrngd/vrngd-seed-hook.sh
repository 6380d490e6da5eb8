#!/bin/sh
# 90vrngd pre-trigger hook for a non-systemd initramfs (RHEL 6's dracut):
# loads virtio-rng and runs `vrngd seed` once, before udev triggers and settles.
# Its one-line result goes to the kernel log (and so to the console) with a
# timestamp, next to the kernel's own "crng init done". rd.vrngd=0 skips it;
# rd.vrngd.timeout=SECONDS bounds the wait for the device (default 10).
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
# getargbool came in dracut 008; 004 (RHEL 6's base) has getarg only.
if ! type getargbool >/dev/null 2>&1; then
    getargbool() {
        local _v
        _v=$(getarg "$2=") || return $(( $1 ? 0 : 1 ))
        case "$_v" in 0|no|off|n) return 1 ;; esac
        return 0
    }
fi

if getargbool 1 rd.vrngd; then
    timeout=$(getarg rd.vrngd.timeout=)
    [ -n "$timeout" ] || timeout=10
    modprobe -q virtio-rng 2>/dev/null
    echo "<5>vrngd-seed: starting (timeout ${timeout}s)" > /dev/kmsg
    # No LD_PRELOAD here: the launcher (/usr/sbin/vrngd = scripts/vrngd) applies
    # vrngd-preload.so to `vrngd seed` itself (see src/native/preload.c for why).
    out=$(VRNGD_NODE_FLAGS="--jitless --no-expose-wasm" \
        /usr/sbin/vrngd seed --timeout "$timeout" 2>&1)
    rc=$?
    printf '<5>vrngd-seed: %s (exit %s)\n' "$(echo "$out" | tr '\n' ' ')" "$rc" > /dev/kmsg
fi
