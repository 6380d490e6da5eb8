#!/bin/bash
# dracut module 99vrngde2e -- TEST ONLY (npm run test:e2e), never installed: lets
# a non-systemd initramfs with no root device run to the hooks, waits (control
# boot) for the kernel's "crng init done", prints the kernel log between markers
# on the console and powers the guest off (sysrq o: no poweroff binary here).
check() { return 255; }
depends() { return 0; }
installkernel() {
    # the control boot loads virtio-rng too: same device, only vrngd missing
    instmods virtio_rng
}
install() {
    inst_multiple cat dmesg grep sleep modprobe env tr
    inst_hook cmdline 99 "$moddir/e2e-cmdline.sh"
    if dracut_module_included "systemd"; then
        # systemd initramfs: a unit after vrngd-seed.service instead of the hook
        inst_multiple journalctl systemctl tr
        inst_script "$moddir/e2e-report.sh" /usr/lib/vrngd-e2e/e2e-report.sh
        inst_simple "$moddir/e2e-report.service" "$systemdsystemunitdir/e2e-report.service"
        # the wants link itself: dracut 033 has no $SYSTEMCTL (see 90vrngd)
        mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
        ln -sf ../e2e-report.service "$initdir$systemdsystemunitdir/sysinit.target.wants/e2e-report.service"
    else
        # rd.e2e.seed=LAUNCHER: `env -u LD_PRELOAD LAUNCHER seed` (after 90vrngd's hook at 10)
        inst_hook pre-trigger 20 "$moddir/e2e-seed.sh"
        inst_hook pre-trigger 90 "$moddir/e2e-report.sh"
    fi
}
