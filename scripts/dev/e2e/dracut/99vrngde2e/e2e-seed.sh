#!/bin/sh
# TEST ONLY: with rd.e2e.seed=LAUNCHER (and rd.vrngd=0, so 90vrngd's own hook
# stays out), runs `env -u LD_PRELOAD LAUNCHER seed` at e2e_pre-trigger, as a user's
# own script (rc.local, cloud-init's runcmd) would: the caller sets no LD_PRELOAD,
# so only the launcher itself can apply vrngd-preload.so. LAUNCHER is
# /usr/sbin/vrngd (the installed launcher) or the npm package's bin
# (pkg-overlay.sh). It prints the same kernel-log lines as 90vrngd's hook, and
# E2E-SEED-PROC: the command line and LD_PRELOAD of the node process the launcher
# exec'd (the same e2e_pid as env's and the launcher's), read from /proc while it runs.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
e2e_seed=$(getarg rd.e2e.seed=)
if [ -n "$e2e_seed" ]; then
    timeout=$(getarg rd.vrngd.timeout=)
    [ -n "$timeout" ] || timeout=10
    modprobe -q virtio-rng 2>/dev/null
    echo "E2E-SEED-CALLER launcher=$e2e_seed preload=[${LD_PRELOAD:-}]"
    echo "<5>vrngd-seed: starting (timeout ${timeout}s) env -u LD_PRELOAD $e2e_seed seed" > /dev/kmsg
    env -u LD_PRELOAD VRNGD_NODE_FLAGS="--jitless --no-expose-wasm" \
        "$e2e_seed" seed --timeout "$timeout" >/run/e2e-seed.out 2>&1 &
    e2e_pid=$!
    e2e_seen=
    while kill -0 "$e2e_pid" 2>/dev/null; do
        e2e_cmd=$(tr '\0' ' ' <"/proc/$e2e_pid/cmdline" 2>/dev/null)
        case "$e2e_cmd" in
            */node\ *)
                e2e_pre=$(tr '\0' '\n' <"/proc/$e2e_pid/environ" 2>/dev/null | grep '^LD_PRELOAD=')
                echo "E2E-SEED-PROC cmdline=[$e2e_cmd] env=[$e2e_pre]"
                e2e_seen=1
                break ;;
        esac
        sleep 0.05
    done
    [ -n "$e2e_seen" ] || echo "E2E-SEED-PROC none (exited before it was seen)"
    wait "$e2e_pid"
    rc=$?
    out=$(cat /run/e2e-seed.out)
    printf '<5>vrngd-seed: %s (exit %s)\n' "$(echo "$out" | tr '\n' ' ')" "$rc" > /dev/kmsg
fi
