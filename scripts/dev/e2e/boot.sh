#!/usr/bin/env bash
# Boots the fetched Debian 6.12 kernel with an initramfs under QEMU TCG (no KVM
# needed) with a virtio-rng device, and writes the serial console to LOG. The
# kernel parameters make virtio-rng worth nothing to the kernel by itself
# (rng_core.default_quality=0) and distrust the CPU and bootloader seeds, so only
# what user space credits can initialise the crng.
# Usage: boot.sh INITRD LOG [extra kernel parameters...]   (exit: QEMU's; 124 on timeout)
# Env: VRNGD_E2E_CACHE, VRNGD_E2E_BOOT_TIMEOUT (seconds, default 240),
#      VRNGD_E2E_KERNEL (another kernel image, e.g. ../shared/guest-kernels/bzImage-3.10.108;
#      default: the fetched Debian kernel).
set -euo pipefail
initrd="${1:?usage: boot.sh INITRD LOG [params...]}"
log="${2:?usage: boot.sh INITRD LOG [params...]}"
shift 2
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="${VRNGD_E2E_CACHE:-$root/test/e2e/.cache}"
if [ -n "${VRNGD_E2E_KERNEL:-}" ]; then
  kernel="$VRNGD_E2E_KERNEL"
else
  kver="$(bash "$root/scripts/dev/e2e/fetch-kernel.sh")"
  kernel="$cache/kernel/boot/vmlinuz-$kver"
fi
params="console=ttyS0 panic=-1 loglevel=6 rng_core.default_quality=0 random.trust_cpu=off random.trust_bootloader=off $*"
exec timeout --kill-after=5 "${VRNGD_E2E_BOOT_TIMEOUT:-240}" \
  qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -no-reboot \
  -display none -monitor none -serial "file:$log" \
  -kernel "$kernel" -initrd "$initrd" -append "$params" \
  -device virtio-rng-pci
