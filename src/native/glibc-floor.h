/*
 * glibc-floor.h: keeps every native file vrngd ships loadable on RHEL 6's glibc
 * (2.12). binding.gyp's target_defaults force-include it (-include) into every
 * C file of every target, so a new target gets it without asking.
 *
 * A program built here (glibc 2.36) binds each libc function to the newest
 * version of it, and ld.so refuses to load a file that names a version its glibc
 * does not have ("version `GLIBC_2.14' not found"). For the few functions whose
 * default version is newer than 2.12 on x86_64, the .symver directives below bind
 * the references -- also the ones the compiler makes itself, such as a memcpy for
 * a struct copy -- to the original GLIBC_2.2.5 version, which every x86_64 glibc
 * still carries:
 *   memcpy   2.14 made memcpy@@GLIBC_2.14 (overlap-unsafe); the 2.2.5 one is a
 *            memmove, correct for every call.
 *   dl*      2.34 moved libdl into libc (dlsym@@GLIBC_2.34). The 2.2.5 versions
 *            live in libdl.so.2 on older glibc and in libc.so.6 as compat symbols
 *            since; binding.gyp links libdl.so.2 by name so that it is loaded
 *            where they live.
 * Functions that have no 2.12-era version at all (getrandom 2.25, stat 2.33,
 * reallocarray 2.26, explicit_bzero 2.25, ...) cannot be pinned: do not call them;
 * use syscall(2) or the older interface. test/packaging/symbol-versions.test.ts
 * reads every shipped ELF file and fails on any version above its package's floor.
 */
#ifndef VRNGD_GLIBC_FLOOR_H
#define VRNGD_GLIBC_FLOOR_H
#include <features.h>
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver memcpy,memcpy@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlclose,dlclose@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
#endif
#endif
