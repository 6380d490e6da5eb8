#!/bin/sh
# TEST ONLY: runs after 90vrngd's pre-trigger hook (non-systemd initramfs) or as
# e2e-report.service after vrngd-seed.service (systemd one). rd.e2e.wait=N waits up to N s
# for "crng init done" (the control boot), then dumps the kernel log and powers off.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
modprobe -q virtio-rng 2>/dev/null
wait=$(getarg rd.e2e.wait=)
[ -n "$wait" ] || wait=0
i=0
while [ "$i" -lt "$wait" ] && ! dmesg | grep -q 'crng init done'; do
    sleep 1
    i=$((i + 1))
done
# systemd initramfs: vrngd seed ran as vrngd-seed.service; its start (seconds
# since boot), result and line go to the console
if [ -d /run/systemd/system ]; then
    start_us=$(systemctl show -p ExecMainStartTimestampMonotonic --value vrngd-seed.service 2>/dev/null)
    status=$(systemctl show -p ExecMainStatus --value vrngd-seed.service 2>/dev/null)
    end_us=$(systemctl show -p ExecMainExitTimestampMonotonic --value vrngd-seed.service 2>/dev/null)
    unit_us=$(systemctl show -p InactiveExitTimestampMonotonic --value vrngd-seed.service 2>/dev/null)
    echo "E2E-UNIT vrngd-seed.service result=$(systemctl show -p Result --value vrngd-seed.service) status=${status} unit_us=${unit_us} start_us=${start_us} end_us=${end_us}"
    journalctl -b -u vrngd-seed.service -o cat --no-pager 2>/dev/null | grep '^vrngd seed:' | while read -r line; do
        echo "<5>vrngd-seed: $line (exit $status)" > /dev/kmsg
    done
fi
# a timestamped mark in the kernel log: how long this boot was watched
echo "<5>e2e: watched ${i}s for crng init" > /dev/kmsg
[ -x /usr/lib/vrngd/node/bin/node ] && echo "E2E-NODE $(/usr/lib/vrngd/node/bin/node --version)"
echo "E2E-REPORT entropy_avail=$(cat /proc/sys/kernel/random/entropy_avail) waited=${i}s"
echo "E2E-DMESG-BEGIN"
dmesg
echo "E2E-DMESG-END"
echo 1 > /proc/sys/kernel/sysrq
echo o > /proc/sysrq-trigger
# a kernel without power-off support (the tiny 3.10 build): reboot, which QEMU's
# -no-reboot turns into an exit
sleep 5
echo b > /proc/sysrq-trigger
sleep 30
