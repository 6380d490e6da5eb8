#!/bin/sh
# /init of the RPM-payload guest (test/e2e/rpm-payload-3.10.test.ts): a busybox
# userland with one RPM's payload unpacked at /, booted on the 3.10 kernel.
# Through the installed launcher, with no LD_PRELOAD from the caller:
#   1. `vrngd seed` on the cold pool;
#   2. control: the pool drained below read_wakeup_threshold, `vrngd run -f` with
#      VRNGD_PRESEED=0 (the launcher's seed step off): Node blocks before its first
#      line, so no injection within CONTROL_S;
#   3. the pool drained again, `vrngd run -f` as the units start it: the launcher
#      seeds first, then the daemon injects.
# OpenSSL's SysV shm flag (key 114) is printed before each case: nothing here
# creates it (the seed step's preload only answers the lookup), so every case
# starts from the same blocked state.
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null; mount -t tmpfs tmp /run
r=/proc/sys/kernel/random
CONTROL_S=15
up() { cut -d' ' -f1 /proc/uptime; }
shm() { grep -cE '^ *114 ' /proc/sysvipc/shm; }
drain() { cat /dev/random >/dev/null & c=$!; sleep 2; kill $c; wait $c 2>/dev/null; }
injected() { grep -q '"injections":[1-9]' "$1" 2>/dev/null; }
# up to $2 seconds of uptime, not of loop turns: on a loaded host each turn is slow,
# and a control watched for 40 s instead of 15 let the pool reach 64 bits by itself
secs() { u=$(up); echo "${u%.*}"; }
waitinj() { end=$(( $(secs) + $2 )); while [ "$(secs)" -lt "$end" ] && ! injected "$1"; do sleep 0.1; done; }
echo "E2E boot kernel=$(cat /proc/sys/kernel/osrelease) avail=$(cat $r/entropy_avail) rwt=$(cat $r/read_wakeup_threshold) shm=$(shm) preload=[${LD_PRELOAD:-}] node=$(/usr/lib/vrngd/node/bin/node --version) hwrng=$(ls /dev/hwrng 2>&1 | tr " " _) rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>&1 | tr " " _)"
t0=$(up); /usr/sbin/vrngd seed --timeout 20 --json >/run/seed.json 2>/run/seed.err; rc=$?; t1=$(up)
cat /run/seed.err
echo "E2E seed rc=$rc start=$t0 end=$t1 avail=$(cat $r/entropy_avail) shm=$(shm) json=$(cat /run/seed.json)"
drain
echo "E2E control-before avail=$(cat $r/entropy_avail) shm=$(shm)"
t0=$(up); VRNGD_PRESEED=0 /usr/sbin/vrngd run -f --state-file /run/control.json 2>/run/control.err & p=$!
waitinj /run/control.json $CONTROL_S; t1=$(up)
if injected /run/control.json; then ci=1; else ci=0; fi
echo "E2E control start=$t0 end=$t1 injected=$ci stderr_lines=$(wc -l </run/control.err) avail=$(cat $r/entropy_avail)"
kill -9 $p 2>/dev/null; wait $p 2>/dev/null
drain
echo "E2E run-before avail=$(cat $r/entropy_avail) shm=$(shm)"
t0=$(up); /usr/sbin/vrngd run -f --state-file /run/run.json 2>/run/run.err & p=$!
waitinj /run/run.json 60; t1=$(up)
if injected /run/run.json; then ri=1; else ri=0; fi
echo "E2E run start=$t0 first_injection_by=$t1 injected=$ri avail=$(cat $r/entropy_avail) regime=$(grep -o '"regime":"[a-z]*"' /run/run.json)"
t2=$(up); kill -TERM $p; wait $p; rc=$?; t3=$(up)
echo "E2E stop rc=$rc start=$t2 end=$t3"
echo "E2E done"
echo b >/proc/sysrq-trigger
