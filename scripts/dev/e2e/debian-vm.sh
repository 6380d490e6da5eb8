#!/usr/bin/env bash
# A Debian bookworm VM for the service e2e suites (test/e2e/systemd-vm.test.ts,
# test/e2e/sysv-vm.test.ts): one root image with both inits in it -- systemd 252
# (booted with init=/lib/systemd/systemd) and sysvinit-core (/sbin/init, the
# default) -- plus cryptsetup, cloud-init and rng-tools5 (the rngd that vrngd
# replaces). It boots the Debian 13 6.12 kernel of fetch-kernel.sh (its modules
# are copied into the image) through a tiny busybox initramfs that loads
# virtio_blk and ext4 and switches to /dev/vda.
#
#   debian-vm.sh image            build (or reuse) the cached image; prints its path
#   debian-vm.sh boot NAME PAYLOAD LOG [qemu-opt...] -- [kernel params...]
#       boots a sparse copy of the image with PAYLOAD (a directory) as a
#       second disk labelled E2E; the image's e2e-runner mounts it on /e2e and runs
#       /e2e/run.sh at every boot (systemd: e2e-runner.service; SysV: rc script),
#       which prints to the console and reboots or powers off. LOG: serial console.
#       A third, blank 64 MB disk (/dev/vdc) is there for the encrypted-/var case.
#       The overlay and that disk persist across boots of one NAME, so a test can
#       boot the same guest again with other kernel parameters.
#   debian-vm.sh clean NAME       drops NAME's overlay and spare disk
#
# Cache: $VRNGD_E2E_CACHE/debian-vm/KEY/ where KEY hashes the recipe below, the
# package list and the kernel release, so a change to either builds a new image. Timings go to stderr.
# Env: VRNGD_E2E_BOOT_TIMEOUT (seconds, default 900), VRNGD_E2E_VM_MEM (MB, 1280).
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
here="$(cd "$(dirname "$0")" && pwd)"
suite=bookworm
pkgs=systemd,udev,sysvinit-core,initscripts,kmod,procps,e2fsprogs,cryptsetup,cloud-init,rng-tools5,iproute2,xz-utils

kver="$(bash "$here/fetch-kernel.sh")"
kroot="$cache/kernel"
key="$( (sed -n '/^# ---- image recipe/,/^# ---- end of recipe/p' "$0"; echo "$kver $suite $pkgs") | sha256sum | cut -c1-16)"
dir="$cache/debian-vm/$key"
img="$dir/root.raw"
# the initramfs has its own key: the function that builds it
initrd="$dir/initrd-$(sed -n '/^build_initrd() {/,/^}/p' "$0" | sha256sum | cut -c1-12).img"

mirror() {
  local m
  m="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [ -n "$m" ] || m="$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$m" ] || { echo "debian-vm: no Debian mirror found in /etc/apt sources" >&2; exit 69; }
  echo "$m"
}

build_initrd() { # the smallest initramfs that mounts /dev/vda: busybox + 7 modules
  local stage m
  stage="$(mktemp -d)"
  mkdir -p "$stage"/{bin,dev,proc,sys,newroot,mod}
  cp /bin/busybox "$stage/bin/busybox"
  n=0
  # one module name per modprobe call: further names would be read as its parameters
  for m in $( (modprobe -d "$kroot" -S "$kver" --show-depends virtio_blk; modprobe -d "$kroot" -S "$kver" --show-depends ext4) | awk '$1=="insmod"{print $2}'); do
    n=$((n + 1))
    xz -dc "$m" > "$stage/mod/$(printf %02d "$n")-$(basename "$m" .xz)"
  done
  cat > "$stage/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
for m in /mod/*.ko; do /bin/busybox insmod "$m" || echo "initrd: insmod $m failed"; done
init=/sbin/init
for a in $(/bin/busybox cat /proc/cmdline); do case "$a" in init=*) init=${a#init=} ;; esac; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do /bin/busybox sleep 0.1; i=$((i + 1)); done
/bin/busybox mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; /bin/busybox poweroff -f; }
/bin/busybox umount /proc /sys
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot "$init"
EOF
  chmod +x "$stage/init"
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  rm -rf "$stage"
  mv "$initrd.tmp" "$initrd"
}

# ---- image recipe (the cache key hashes this part)
build_image() {
  local t0 rootfs
  t0=$(date +%s)
  rm -rf "$dir" && mkdir -p "$dir"
  rootfs="$dir/rootfs"
  # the image's own apt sources name the host's mirror; nothing in the tests uses them
  mmdebstrap --quiet --variant=minbase --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$rootfs" "deb $(mirror) $suite main" >&2
  echo "debian-vm: mmdebstrap $suite: $(( $(date +%s) - t0 )) s" >&2
  mkdir -p "$rootfs/usr/lib/modules"
  cp -a "$kroot/usr/lib/modules/$kver" "$rootfs/usr/lib/modules/"
  echo vrngd-e2e > "$rootfs/etc/hostname"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$rootfs/etc/fstab"
  # root without a password on the console (a debugging aid; the tests never log in)
  chroot "$rootfs" passwd -d root >/dev/null
  # cloud-init: no datasource to look for and not run at boot; the tests run one module
  printf 'datasource_list: [ None ]\n' > "$rootfs/etc/cloud/cloud.cfg.d/90-e2e.cfg"
  touch "$rootfs/etc/cloud/cloud-init.disabled"
  # the runner: mounts the E2E payload disk and runs its run.sh once per boot
  cat > "$rootfs/usr/local/sbin/e2e-runner" <<'EOF'
#!/bin/sh
mkdir -p /e2e
mount -o ro LABEL=E2E /e2e 2>/dev/null || mount -o ro /dev/vdb /e2e || { echo "E2E-RUNNER no payload" > /dev/ttyS0; exit 0; }
[ -x /e2e/run.sh ] || { echo "E2E-RUNNER no run.sh" > /dev/ttyS0; exit 0; }
/e2e/run.sh > /dev/ttyS0 2>&1 < /dev/null &
EOF
  chmod 755 "$rootfs/usr/local/sbin/e2e-runner"
  cat > "$rootfs/etc/systemd/system/e2e-runner.service" <<'EOF'
[Unit]
Description=vrngd e2e runner
After=multi-user.target
[Service]
Type=forking
ExecStart=/usr/local/sbin/e2e-runner
KillMode=none
[Install]
WantedBy=multi-user.target
EOF
  ln -s /etc/systemd/system/e2e-runner.service "$rootfs/etc/systemd/system/multi-user.target.wants/e2e-runner.service"
  cat > "$rootfs/etc/init.d/e2e-runner" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          e2e-runner
# Required-Start:    $all
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:
# Short-Description: vrngd e2e runner
### END INIT INFO
[ "$1" = start ] && exec /usr/local/sbin/e2e-runner
exit 0
EOF
  chmod 755 "$rootfs/etc/init.d/e2e-runner"
  chroot "$rootfs" update-rc.d e2e-runner defaults >/dev/null 2>&1
  # rngd is installed (and enabled) as on a host that ran it before vrngd
  chroot "$rootfs" systemctl enable rngd.service >/dev/null 2>&1 || true
  # getty on the serial console would only fight the runner for it
  chroot "$rootfs" systemctl mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1 || true
  sed -i 's/^\([^#].*:respawn:.*getty.*\)$/#\1/' "$rootfs/etc/inittab" 2>/dev/null || true
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*_Packages
  mke2fs -q -t ext4 -L root -d "$rootfs" "$img.tmp" 2560M >&2
  rm -rf "$rootfs"
  mv "$img.tmp" "$img"
  echo "debian-vm: image built in $(( $(date +%s) - t0 )) s: $img" >&2
}

# ---- end of recipe

cmd="${1:?usage: debian-vm.sh image | boot NAME PAYLOAD LOG [qemu-opt...] -- [params...]}"
shift
case "$cmd" in
  image)
    if [ ! -f "$img" ] || [ ! -f "$initrd" ]; then
      exec 9> "$cache/debian-vm.lock"; flock 9
      [ -f "$img" ] || build_image
      [ -f "$initrd" ] || build_initrd
    else
      echo "debian-vm: cached image $img" >&2
    fi
    echo "$img"
    ;;
  boot)
    name="${1:?NAME}"; payload="${2:?PAYLOAD}"; log="${3:?LOG}"; shift 3
    qopts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do qopts+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    [ -f "$img" ] && [ -f "$initrd" ] || bash "$0" image >/dev/null
    run="$cache/debian-vm/run-$name"
    # the overlay and the spare disk live on across boots of one NAME (until `clean NAME`)
    if [ ! -f "$run/root.raw" ]; then
      mkdir -p "$run"
      cp --sparse=always "$img" "$run/root.raw"
      truncate -s 64M "$run/spare.raw"
    fi
    rm -f "$run/e2e.raw"
    mke2fs -q -t ext4 -L E2E -d "$payload" "$run/e2e.raw" 256M
    t0=$(date +%s)
    rc=0
    timeout --kill-after=5 "${VRNGD_E2E_BOOT_TIMEOUT:-900}" \
      nice qemu-system-x86_64 -accel tcg -m "${VRNGD_E2E_VM_MEM:-1280}" -smp 1 \
      -display none -monitor none -serial "file:$log" \
      -kernel "$kroot/boot/vmlinuz-$kver" -initrd "$initrd" \
      -append "console=ttyS0 panic=-1 loglevel=4 rng_core.default_quality=0 random.trust_cpu=off random.trust_bootloader=off $*" \
      -drive "file=$run/root.raw,if=virtio,format=raw" \
      -drive "file=$run/e2e.raw,if=virtio,format=raw" \
      -drive "file=$run/spare.raw,if=virtio,format=raw" \
      -device virtio-rng-pci \
      "${qopts[@]}" || rc=$?
    echo "debian-vm: $name ran $(( $(date +%s) - t0 )) s (qemu exit $rc)" >&2
    exit "$rc"
    ;;
  clean) rm -rf "$cache/debian-vm/run-${1:?NAME}" ;;
  *) echo "debian-vm: unknown command $cmd" >&2; exit 64 ;;
esac
