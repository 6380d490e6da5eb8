#!/usr/bin/env bash
# Boots one of the legacy guest kernels (../shared/guest-kernels: upstream 3.10.108
# or 5.4.59, virtio-rng built in) under QEMU TCG with the legacy-guest.sh initramfs
# and a virtio-rng device fed from the host's /dev/urandom, runs the cases named in
# CASES (comma-separated, see scripts/dev/e2e/legacy-init.sh) and writes the serial
# console to LOG. The guest powers itself off when done.
# Usage: legacy-boot.sh KERNEL INITRD LOG CASES   (exit: QEMU's; 124 on timeout)
# Env: VRNGD_E2E_BOOT_TIMEOUT (seconds, default 600).
set -euo pipefail
kernel="${1:?usage: legacy-boot.sh KERNEL INITRD LOG CASES}"
initrd="${2:?usage: legacy-boot.sh KERNEL INITRD LOG CASES}"
log="${3:?usage: legacy-boot.sh KERNEL INITRD LOG CASES}"
cases="${4:?usage: legacy-boot.sh KERNEL INITRD LOG CASES}"
exec timeout --kill-after=5 "${VRNGD_E2E_BOOT_TIMEOUT:-600}" \
  qemu-system-x86_64 -machine pc,accel=tcg -m 1536 -smp 1 -no-reboot -nic none \
  -display none -monitor none -serial "file:$log" \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 loglevel=3 e2e.cases=$cases" \
  -object rng-random,filename=/dev/urandom,id=rng0 -device virtio-rng-pci,rng=rng0
