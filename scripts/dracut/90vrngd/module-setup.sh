#!/bin/bash
# dracut module 90vrngd: seeds the kernel's RNG from virtio-rng inside the
# initramfs with `vrngd seed`, before udev settles. Installs the node binary, the
# single-file bundle of vrngd (scripts/bundle.js), the addon, the preload library
# (src/native/preload.c), dd (the hwrng reader child) and the virtio-rng module.
# A systemd initramfs (RHEL 7+) runs systemd/vrngd-seed.service; a non-systemd
# one (RHEL 6's dracut) runs vrngd-seed-hook.sh at pre-trigger.
# Where things come from on the build host:
#   VRNGD_LIBDIR  the bundle directory (vrngd.js, build/Release/vrngd.node and
#                 vrngd-preload.so); default /usr/lib/vrngd/bundle, then /usr/lib/vrngd
#   VRNGD_NODE    the node binary (>= 16.20); default: /usr/lib/vrngd/node/bin/node,
#                 /usr/bin/node, /usr/local/bin/node
#   VRNGD_UNIT    the seed unit; default $moddir/vrngd-seed.service, then the
#                 installed /usr/lib/systemd/system/vrngd-seed.service
# Kernel command line: rd.vrngd=0 skips the seed, rd.vrngd.timeout=SECONDS.

vrngd_libdir() {
    local d
    for d in "${VRNGD_LIBDIR:-}" /usr/lib/vrngd/bundle /usr/lib/vrngd; do
        [ -n "$d" ] && [ -f "$d/vrngd.js" ] && [ -f "$d/build/Release/vrngd.node" ] && { echo "$d"; return 0; }
    done
    return 1
}

vrngd_node() {
    local n
    for n in "${VRNGD_NODE:-}" /usr/lib/vrngd/node/bin/node /usr/bin/node /usr/local/bin/node; do
        [ -n "$n" ] && [ -x "$n" ] && { echo "$n"; return 0; }
    done
    return 1
}

vrngd_unit() {
    local u
    for u in "${VRNGD_UNIT:-}" "$moddir/vrngd-seed.service" /usr/lib/systemd/system/vrngd-seed.service /lib/systemd/system/vrngd-seed.service; do
        [ -n "$u" ] && [ -f "$u" ] && { echo "$u"; return 0; }
    done
    return 1
}

check() {
    vrngd_libdir >/dev/null || { dinfo "90vrngd: no vrngd bundle (set VRNGD_LIBDIR)"; return 1; }
    vrngd_node >/dev/null || { dinfo "90vrngd: no node binary (set VRNGD_NODE)"; return 1; }
    # Not hostonly-dependent: a guest image is built once and booted anywhere.
    return 0
}

depends() {
    return 0
}

installkernel() {
    # virtio and virtio_pci are usually built in; virtio-rng is a module.
    instmods virtio_rng virtio_pci
}

install() {
    local lib node unit
    lib="$(vrngd_libdir)"
    node="$(vrngd_node)"
    inst_dir /usr/lib/vrngd/build/Release
    inst_dir /usr/lib/vrngd/node/bin
    inst_simple "$lib/vrngd.js" /usr/lib/vrngd/vrngd.js
    inst_simple "$lib/build/Release/vrngd.node" /usr/lib/vrngd/build/Release/vrngd.node
    inst_simple "$lib/build/Release/vrngd-preload.so" /usr/lib/vrngd/build/Release/vrngd-preload.so
    inst_simple "$lib/build/Release/vrngd-reader" /usr/lib/vrngd/build/Release/vrngd-reader
    # node and the shared libraries it links (libstdc++, libgcc_s, libm...)
    inst_binary "$node" /usr/lib/vrngd/node/bin/node
    inst_libdir_file "libdl.so*" "librt.so*" "libpthread.so*"
    inst_multiple dd modprobe sh tr
    inst_script "$moddir/vrngd-initrd.sh" /usr/sbin/vrngd

    if dracut_module_included "systemd"; then
        unit="$(vrngd_unit)" || { derror "90vrngd: vrngd-seed.service not found"; return 1; }
        # In the initramfs the seed goes first, before udev's coldplug (as the
        # non-systemd hook does at pre-trigger): measured under QEMU TCG, node
        # took 13-22 s to reach JavaScript while competing with coldplug on one
        # vCPU. In the real root the unit stays after the trigger, so a guest
        # without virtio-rng never holds up coldplug for the device timeout.
        inst_dir "$systemdsystemunitdir"
        sed -e 's/^After=systemd-modules-load.service systemd-udev-trigger.service dev-hwrng.device$/After=systemd-modules-load.service\nBefore=systemd-udev-trigger.service/' \
            "$unit" > "$initdir$systemdsystemunitdir/vrngd-seed.service"
        grep -q '^Before=systemd-udev-trigger.service$' "$initdir$systemdsystemunitdir/vrngd-seed.service" ||
            dwarn "90vrngd: vrngd-seed.service ordering line not found; the seed runs after udev's coldplug"
        # No /var in the initramfs: seed from the device only, no seed file.
        inst_simple "$moddir/initrd.conf" "$systemdsystemunitdir/vrngd-seed.service.d/initrd.conf"
        $SYSTEMCTL -q --root "$initdir" add-wants sysinit.target vrngd-seed.service
    else
        inst_hook pre-trigger 10 "$moddir/vrngd-seed-hook.sh"
    fi
}
