#!/bin/bash
# dracut module 90vrngd: seeds the kernel's RNG from virtio-rng inside the
# initramfs with `vrngd seed`, before udev settles. Installs the node binary, the
# single-file bundle of vrngd (scripts/dev/bundle.js), the addon, the preload library
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
#   VRNGD_LAUNCHER the launcher (scripts/vrngd), installed as the initramfs's
#                 /usr/sbin/vrngd: the same file as in the real root, so `vrngd
#                 seed` gets the preload library from the launcher whoever calls
#                 it (the hook and the unit set no LD_PRELOAD); default: the
#                 source tree's $moddir/../../vrngd, then /usr/sbin/vrngd,
#                 /usr/local/sbin/vrngd
# Kernel command line: rd.vrngd=0 skips the seed, rd.vrngd.timeout=SECONDS.
# Works with dracut 004 (RHEL 6; through the executable check/install/
# installkernel scripts next to this file: module-setup.sh came in 008), 033
# (RHEL 7) and current dracut. It uses only what 004 has (inst_dir, inst_simple,
# inst_binary, inst_script, inst_hook, instmods, dracut_install) or falls back to
# it: inst_multiple (032), inst_libdir_file (019), dracut_module_included (026),
# dwarn and $SYSTEMCTL (052) are used only when the running dracut has them.

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

vrngd_launcher() {
    local l
    for l in "${VRNGD_LAUNCHER:-}" "$moddir/../../vrngd" /usr/sbin/vrngd /usr/local/sbin/vrngd; do
        [ -n "$l" ] && [ -f "$l" ] && head -n 1 "$l" | grep -q '^#!/bin/sh' && { echo "$l"; return 0; }
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

# inst_multiple (032+), else 004's dracut_install (which stops the build when a
# file is missing: these are all in every base system).
vrngd_inst_multiple() {
    if type inst_multiple >/dev/null 2>&1; then inst_multiple "$@"; else dracut_install "$@"; fi
}

# inst_libdir_file (019+), else every match in the usual library directories.
vrngd_inst_libdir_file() {
    if type inst_libdir_file >/dev/null 2>&1; then
        inst_libdir_file "$@"
        return
    fi
    local d pat f
    for d in /lib64 /usr/lib64 /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib; do
        for pat in "$@"; do
            for f in "$d"/$pat; do
                [ -e "$f" ] && inst_library "$f"
            done
        done
    done
    return 0
}

# Whether this is a systemd initramfs: dracut_module_included (026+); before
# that (004) there was no systemd module.
vrngd_systemd_initramfs() {
    type dracut_module_included >/dev/null 2>&1 && dracut_module_included "systemd"
}

vrngd_warn() {
    if type dwarn >/dev/null 2>&1; then dwarn "$@"; else dwarning "$@"; fi
}

check() {
    vrngd_libdir >/dev/null || { dinfo "90vrngd: no vrngd bundle (set VRNGD_LIBDIR)"; return 1; }
    vrngd_node >/dev/null || { dinfo "90vrngd: no node binary (set VRNGD_NODE)"; return 1; }
    vrngd_launcher >/dev/null || { dinfo "90vrngd: no vrngd launcher (set VRNGD_LAUNCHER)"; return 1; }
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
    local lib node unit launcher
    lib="$(vrngd_libdir)"
    node="$(vrngd_node)"
    launcher="$(vrngd_launcher)"
    inst_dir /usr/lib/vrngd/build/Release
    inst_dir /usr/lib/vrngd/node/bin
    inst_simple "$lib/vrngd.js" /usr/lib/vrngd/vrngd.js
    inst_simple "$lib/build/Release/vrngd.node" /usr/lib/vrngd/build/Release/vrngd.node
    inst_simple "$lib/build/Release/vrngd-preload.so" /usr/lib/vrngd/build/Release/vrngd-preload.so
    inst_simple "$lib/build/Release/vrngd-reader" /usr/lib/vrngd/build/Release/vrngd-reader
    # node and the shared libraries it links (libstdc++, libgcc_s, libm...)
    inst_binary "$node" /usr/lib/vrngd/node/bin/node
    vrngd_inst_libdir_file "libdl.so*" "librt.so*" "libpthread.so*"
    # dd: the hwrng reader child; tr: the hook's one-line result; readlink and
    # cat: the launcher (it resolves its own path, and reads the pool for `run`)
    vrngd_inst_multiple dd modprobe sh tr readlink cat
    # the compiled hwrng reader, where the build has one (it replaces dd)
    if [ -x "$lib/build/Release/vrngd-reader" ]; then
        inst_binary "$lib/build/Release/vrngd-reader" /usr/lib/vrngd/build/Release/vrngd-reader
    fi
    # the launcher of the real root: /usr/sbin/vrngd -> ../lib/vrngd/vrngd.js,
    # ../lib/vrngd/node/bin/node and ../lib/vrngd/build/Release/vrngd-preload.so,
    # the paths above; it sets LD_PRELOAD for `seed` only
    inst_script "$launcher" /usr/sbin/vrngd

    if vrngd_systemd_initramfs; then
        unit="$(vrngd_unit)" || { derror "90vrngd: vrngd-seed.service not found"; return 1; }
        # In the initramfs the seed goes first, before udev's coldplug (as the
        # non-systemd hook does at pre-trigger): measured under QEMU TCG, node
        # took 13-22 s to reach JavaScript while competing with coldplug on one
        # vCPU. In the real root the unit stays after the trigger, so a guest
        # without virtio-rng never holds up coldplug for the device timeout.
        inst_dir "$systemdsystemunitdir"
        # (the el7 unit's After=systemd-tmpfiles-setup.service is for the real
        # root's /var/lib/vrngd: in the initramfs it would only wait for local-fs)
        sed -e 's/^After=systemd-modules-load.service systemd-udev-trigger.service dev-hwrng.device$/After=systemd-modules-load.service\nBefore=systemd-udev-trigger.service/' \
            -e '/^After=systemd-tmpfiles-setup.service$/d' \
            "$unit" > "$initdir$systemdsystemunitdir/vrngd-seed.service"
        grep -q '^Before=systemd-udev-trigger.service$' "$initdir$systemdsystemunitdir/vrngd-seed.service" ||
            vrngd_warn "90vrngd: vrngd-seed.service ordering line not found; the seed runs after udev's coldplug"
        # No /var in the initramfs: seed from the device only, no seed file.
        inst_simple "$moddir/initrd.conf" "$systemdsystemunitdir/vrngd-seed.service.d/initrd.conf"
        # Enabled by the wants link itself, as `systemctl add-wants` would make it:
        # 033 has no $SYSTEMCTL, and its systemd module (98) installs
        # sysinit.target only after this one (90).
        mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
        ln -sf ../vrngd-seed.service "$initdir$systemdsystemunitdir/sysinit.target.wants/vrngd-seed.service"
    else
        inst_hook pre-trigger 10 "$moddir/vrngd-seed-hook.sh"
    fi
}
