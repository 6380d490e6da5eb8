/*
 * syscalls.h - the one place vrngd.c and preload.c get SYS_getrandom from.
 * <sys/syscall.h> defines it wherever the kernel headers are 3.17 or newer; the
 * headers of the oldest build hosts (RHEL 6/7: 2.6.32, 3.10) do not, so this
 * gives the number from each architecture's syscall table (getrandom(2) came in
 * 3.17: arch/x86/entry/syscalls, arch/arm/tools/syscall.tbl,
 * include/uapi/asm-generic/unistd.h, ...). An architecture not listed fails the
 * build rather than call the wrong syscall.
 */
#ifndef VRNGD_SYSCALLS_H
#define VRNGD_SYSCALLS_H

#ifndef VRNGD_SYSCALLS_FALLBACK_ONLY /* set by test/native/syscalls.test.ts to check the table */
#include <sys/syscall.h>
#endif

#ifndef SYS_getrandom
#if defined(__x86_64__) && defined(__ILP32__) /* x32 */
#define SYS_getrandom (0x40000000 + 318)
#elif defined(__x86_64__)
#define SYS_getrandom 318
#elif defined(__i386__)
#define SYS_getrandom 355
#elif defined(__aarch64__) || defined(__riscv) || defined(__loongarch__)
#define SYS_getrandom 278 /* asm-generic */
#elif defined(__arm__)
#define SYS_getrandom 384
#elif defined(__powerpc__) || defined(__powerpc64__)
#define SYS_getrandom 359
#elif defined(__s390__) || defined(__s390x__)
#define SYS_getrandom 349
#elif defined(__sparc__)
#define SYS_getrandom 347
#elif defined(__mips__) && _MIPS_SIM == _ABIO32
#define SYS_getrandom 4353
#elif defined(__mips__) && _MIPS_SIM == _ABI64
#define SYS_getrandom 5313
#elif defined(__mips__) && _MIPS_SIM == _ABIN32
#define SYS_getrandom 6317
#else
#error "SYS_getrandom: no number for this architecture; add it to src/native/syscalls.h"
#endif
#endif

#endif
