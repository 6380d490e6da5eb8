#!/bin/sh
# TEST ONLY: /init of the legacy-kernel e2e guests (scripts/dev/e2e/legacy-guest.sh).
# Runs the cases named on the kernel command line (e2e.cases=a,b,c) in order,
# printing "E2E-..." lines on the console for test/e2e/legacy-kernels.test.ts,
# then powers off. Timing and sampling are done by /e2e/legacy-probe (one process,
# no exec per sample: on 3.10 every exec takes 128-256 bits from the input pool).
# The installed files are used as installed: /usr/sbin/vrngd (the launcher),
# /usr/lib/vrngd/build/Release/vrngd-preload.so, /usr/sbin/rngd.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/vrngd /var/lock/subsys /dev/shm
P=/e2e/legacy-probe
R=/proc/sys/kernel/random
PRELOAD=/usr/lib/vrngd/build/Release/vrngd-preload.so
STATE=/run/vrngd/state.json

say() { echo "E2E-$*"; }
# cat, not the shell's read: 3.10's sysctl files answer a read at a non-zero offset
# with end-of-file, and busybox's read takes one byte at a time.
val() { v=$(cat "$1" 2>/dev/null); echo "${v:-none}"; }
# Prints a file's lines prefixed, with the shell's builtins only.
show() { # show TAG FILE
    while IFS= read -r line; do echo "E2E-OUT $1: $line"; done <"$2"
}
# The seed step exactly as the dracut hook and vrngd-seed.service run it: no
# LD_PRELOAD from the caller (the launcher applies $PRELOAD to `seed` itself).
seed_as_installed() { # seed_as_installed TAG
    VRNGD_NODE_FLAGS="--jitless --no-expose-wasm" \
        $P run /usr/sbin/vrngd seed --timeout 10 >/tmp/seed.out 2>&1
    show "$1" /tmp/seed.out
}
# Starts `vrngd run -f ARGS` in the background (its output in /tmp/vrngd.log) and
# waits until it has written its state file (at most 20 s); sets $vpid.
start_daemon() { # start_daemon TAG ARGS...
    tag=$1; shift
    rm -f $STATE
    /usr/sbin/vrngd run -f --stats off "$@" >/tmp/vrngd.log 2>&1 &
    vpid=$!
    say "DAEMON $tag pid=$vpid $($P waitfile $STATE "$vpid" 20000) $($P avail)"
}
stop_daemon() { # stop_daemon TAG: SIGTERM, timed
    echo "E2E-STOP $1 $($P term "$vpid" 5000)"
    wait "$vpid" 2>/dev/null
    say "DAEMON-EXIT $1 status=$?"
    show "$1-log" /tmp/vrngd.log
}
print_state() { # print_state TAG
    [ -s $STATE ] && echo "E2E-STATE $1 $(cat $STATE)"
    /usr/sbin/vrngd status --json >/tmp/status.out 2>&1
    echo "E2E-STATUS $1 exit=$? $(cat /tmp/status.out | tr '\n' ' ')"
}
drain() { # drain TAG SECONDS
    $P drain "$2" >/tmp/drain.out 2>&1
    show "drain-$1" /tmp/drain.out
}

info() {
    thread=no
    for c in /proc/[0-9]*/comm; do read -r n <"$c" 2>/dev/null && [ "$n" = hwrng ] && thread=yes; done
    say "INFO kernel=$(uname -r) poolsize=$(val $R/poolsize) write_wakeup=$(val $R/write_wakeup_threshold)" \
        "read_wakeup=$(val $R/read_wakeup_threshold) avail=$(val $R/entropy_avail)" \
        "rng_current=$(val /sys/class/misc/hw_random/rng_current)" \
        "current_quality=$(val /sys/module/rng_core/parameters/current_quality) hwrng_thread=$thread" \
        "node=$(/usr/lib/vrngd/node/bin/node --version 2>/dev/null || echo none)"
}

# --- the cases ---------------------------------------------------------------------
# Cold pool: the first Node process of this boot, OpenSSL's shm flag removed.
case_seed_cold() {
    say "CASE seed-cold $($P avail)"
    $P ipcrm 114
    seed_as_installed seed-cold
}
# vrngd seed as a user types it (no preload), on a pool drained to zero in the
# guest (RNDZAPENTCNT is allowed here, never on the host) with the shm flag removed.
case_seed_plain() {
    $P ipcrm 114
    $P zap
    say "CASE seed-plain $($P avail)"
    $P run timeout -s KILL 30 /usr/sbin/vrngd seed --timeout 10 >/tmp/seed.out 2>&1
    show seed-plain /tmp/seed.out
}
# The seed step's system calls (strace -f; the launcher sets the preload for node only), on a
# zapped pool: the open of /dev/urandom, the write(2)s to it, the RNDADDENTROPY calls.
case_seed_traced() {
    if ! command -v strace >/dev/null; then say "TRACE none"; return; fi
    $P ipcrm 114
    $P zap
    VRNGD_NODE_FLAGS="--jitless --no-expose-wasm" $P run strace -f -qq -o /tmp/seed.trace \
        -e trace=open,openat,write,ioctl \
        /usr/sbin/vrngd seed --timeout 10 >/tmp/seed.out 2>&1
    show seed-traced /tmp/seed.out
    grep -E 'urandom|RNDADDENTROPY|write\([3-9]|write\([1-9][0-9]' /tmp/seed.trace | grep -v ENOENT | head -n 300 >/tmp/trace.sel
    show trace /tmp/trace.sel
}
case_drain_none() {
    say "CASE drain-none"
    drain none 60
}
case_drain_rngd() {
    say "CASE drain-rngd"
    wakeup=$(val $R/write_wakeup_threshold)
    rngd -f -r /dev/hwrng >/tmp/rngd.log 2>&1 &
    rpid=$!
    sleep 1
    drain rngd 60
    kill "$rpid"
    wait "$rpid" 2>/dev/null
    show rngd-log /tmp/rngd.log
    # rngd 5 sets write_wakeup_threshold to its fill watermark and leaves it there;
    # put the kernel's value back so the next run starts from the same kernel state
    say "RNGD-WAKEUP before=$wakeup after=$(val $R/write_wakeup_threshold)"
    echo "$wakeup" >$R/write_wakeup_threshold
}
# The daemon, started after the seed step (the deadlock: a Node process on a
# drained 3.10 pool blocks before its JavaScript until the pool holds 64 bits).
case_drain_vrngd() {
    say "CASE drain-vrngd"
    $P ipcrm 114
    seed_as_installed drain-vrngd-seed
    start_daemon drain-vrngd
    # the same 1 s head start rngd gets above: the state file appears at start-up,
    # before the first 2,500-byte block is read, which takes about 1 s from this
    # guest's hwrng under TCG (64 B per virtio request)
    sleep 1
    drain vrngd 60
    print_state drain-vrngd
    stop_daemon drain-vrngd-feeding
}
# SIGTERM in every state: starting (Node not yet in JavaScript), idle (pool above
# the watermark), feeding (a reader drains the pool), and the source read blocked
# (a FIFO whose writer never writes).
case_stop() {
    say "CASE stop"
    /usr/sbin/vrngd run -f --stats off --state-file off >/tmp/vrngd.log 2>&1 &
    vpid=$!
    sleep 0.3
    stop_daemon starting
    start_daemon idle
    sleep 3
    say "STOP-STATE idle $($P avail)"
    stop_daemon idle
    start_daemon feeding
    $P drain 6 >/dev/null 2>&1 &
    dpid=$!
    sleep 3
    say "STOP-STATE feeding $($P avail)"
    stop_daemon feeding
    wait "$dpid"
    mkfifo /tmp/silent
    sleep 1000 >/tmp/silent &
    wpid=$!
    start_daemon blocked -r /tmp/silent -x rdrand
    sleep 3
    say "STOP-STATE blocked readers=$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c silent)"
    stop_daemon blocked
    say "STOP-AFTER blocked readers=$(ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c silent)"
    kill "$wpid"
}
# 5.4: the kernel's hwrng thread feeds; the daemon stays idle, feeds once the
# thread's quality is 0 (mixing without credit) or with --compete. The daemon
# probes the kernel at start only: the one running when quality drops to 0 is
# watched (reported), then restarted, as a service restart would.
case_assisted() {
    say "CASE assisted"
    start_daemon assisted-idle
    drain assisted-idle 10
    print_state assisted-idle
    echo 0 >/sys/module/rng_core/parameters/current_quality
    say "QUALITY $(val /sys/module/rng_core/parameters/current_quality)"
    drain quality0-running 8
    print_state quality0-running
    stop_daemon assisted-idle
    start_daemon quality0
    drain quality0 10
    print_state quality0
    stop_daemon quality0
    echo 1000 >/sys/module/rng_core/parameters/current_quality
    start_daemon compete --compete
    drain compete 10
    print_state compete
    stop_daemon compete
    $P zap
    seed_as_installed seed-assisted
}

# The clone e2e (test/e2e/clone.test.ts): prints what a restore could be seen by,
# then takes commands from the console, one a line, sent by the host through the
# serial port before the snapshot and in each restored clone (see clone_cmd).
case_clone() {
    addr=$(/e2e/clone-probe vgia | cut -d' ' -f1)
    say "CLONE-INFO vgia=$addr guid=$(/e2e/clone-probe guid "$addr" 2>&1) devmem=$([ -c /dev/mem ] && echo yes || echo no)" \
        "vgen=$(ls -d /sys/bus/acpi/devices/QEMUVGID:* 2>/dev/null | tr '\n' ' ')driver=$(ls /sys/bus/acpi/devices/QEMUVGID:00/driver 2>/dev/null && echo bound || echo none)"
    /e2e/clone-probe tfd &
    say "CLONE-READY"
    while IFS= read -r cmd; do clone_cmd $cmd; say "CLONE-ACK $cmd"; [ "$cmd" = off ] && break; done </dev/console
}
# Waits (at most 120 s) until the daemon has logged its clone watch decision.
wait_watch() {
    i=0
    while [ $i -lt 240 ] && ! grep -q 'clone watch:' /tmp/vrngd.log 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
    say "CLONE-WATCH-LOGGED after=$((i / 2))s"
}
clone_cmd() {
    case "$1" in
        # on a loaded host Node can take over 20 s to start (3.10: OpenSSL waits for 64 bits)
        vrngd) start_daemon clone; wait_watch ;;
        vrngd-debug) start_daemon clone -d ;;
        vrngd-nowatch) start_daemon clone --clone-watch off ;;
        vrngd-stop) stop_daemon clone >/dev/null ;;
        probe)
            say "CLONE-PROBE $(/e2e/clone-probe clocks) guid=$(/e2e/clone-probe guid "$addr" 2>&1) boot_id=$(cat $R/boot_id) avail=$(val $R/entropy_avail)"
            for g in /sys/firmware/acpi/interrupts/gpe[0-9A-F]* /sys/firmware/acpi/interrupts/sci; do
                read -r n rest <"$g" 2>/dev/null
                [ "${n:-0}" = 0 ] || say "CLONE-GPE $(basename "$g")=$n $rest"
            done ;;
        read) say "CLONE-URANDOM $(hexdump -n 32 -e '32/1 "%02x"' /dev/urandom)" ;;
        # in a restored clone: 2 s after the ID changed (the restore), by the guest's
        # clock, with no input from the host meanwhile (under -icount two clones then
        # run alike unless something from outside, the hwrng, is mixed in)
        read-after-restore)
            (/e2e/clone-probe waitguid "$addr"; sleep 2; say "CLONE-URANDOM $(hexdump -n 32 -e '32/1 "%02x"' /dev/urandom)"
             sleep 3; show clone-log /tmp/vrngd.log; say "CLONE-LATER-DONE") & ;;
        # the daemon's log and state file (no `vrngd status`: a Node start takes seconds under TCG)
        log) show clone-log /tmp/vrngd.log; [ -s $STATE ] && echo "E2E-STATE clone $(cat $STATE)" ;;
        # the watch's cost: the daemon's context switches (all its threads) over 10 s,
        # and the CPU time of one check (mmap of /dev/mem, 16 bytes, munmap) in Node
        cost)
            sleep 5
            c0=$(cat /proc/$vpid/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }')
            sleep 10
            c1=$(cat /proc/$vpid/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }')
            us=$(/usr/lib/vrngd/node/bin/node -e "const b=require('/usr/lib/vrngd/build/Release/vrngd.node'),fd=require('fs').openSync('/dev/mem','r');let t=process.cpuUsage();for(let i=0;i<2000;i++)b.readPhys(fd,$addr+40,16);t=process.cpuUsage(t);console.log(((t.user+t.system)/2000).toFixed(1))" 2>&1)
            say "CLONE-COST switches_10s=$((c1 - c0)) us_per_check=$us" ;;
        dmesg) dmesg | tail -n 5 >/tmp/dmesg.out; show dmesg /tmp/dmesg.out ;;
    esac
}

info
for c in $(sed -n 's/.*e2e\.cases=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' '); do
    case "$c" in
        seed-cold) case_seed_cold ;;
        seed-plain) case_seed_plain ;;
        seed-traced) case_seed_traced ;;
        drain-none) case_drain_none ;;
        drain-rngd) case_drain_rngd ;;
        drain-vrngd) case_drain_vrngd ;;
        stop) case_stop ;;
        assisted) case_assisted ;;
        clone) case_clone ;;
        *) say "UNKNOWN-CASE $c" ;;
    esac
done
info
say "DONE"
echo b >/proc/sysrq-trigger
reboot -f
