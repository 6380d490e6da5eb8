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

/*
 * Executables (binding.gyp defines VRNGD_EXECUTABLE for them and links with
 * --wrap=__libc_start_main): since 2.34 crt1.o calls __libc_start_main@@GLIBC_2.34.
 * The wrapper below calls the GLIBC_2.2.5 one instead. That one, on glibc < 2.34,
 * runs the program's constructors only through the init pointer, which the new
 * crt1.o passes as NULL, so the wrapper passes its own (what libc_nonshared's
 * __libc_csu_init did for a dynamic program: _init, then .init_array; ld.so runs
 * .preinit_array and the destructors itself). Newer glibc calls a non-NULL init
 * the same way. Weak: an executable of several C files defines it once.
 */
#if defined(VRNGD_EXECUTABLE)
#include <stddef.h>
typedef void (*vrngd_init_fn)(int, char **, char **);
typedef int (*vrngd_main_fn)(int, char **, char **);
extern int vrngd_libc_start_main_2_2_5(vrngd_main_fn, int, char **, vrngd_init_fn, void (*)(void), void (*)(void), void *);
__asm__(".symver vrngd_libc_start_main_2_2_5,__libc_start_main@GLIBC_2.2.5");
extern vrngd_init_fn __init_array_start[] __attribute__((visibility("hidden")));
extern vrngd_init_fn __init_array_end[] __attribute__((visibility("hidden")));
extern void _init(void);
static void vrngd_csu_init(int argc, char **argv, char **envp)
{
	size_t i, n = (size_t)(__init_array_end - __init_array_start);

	_init();
	for (i = 0; i < n; i++)
		__init_array_start[i](argc, argv, envp);
}
int __wrap___libc_start_main(vrngd_main_fn main_fn, int argc, char **argv, vrngd_init_fn init, void (*fini)(void), void (*rtld_fini)(void), void *stack_end);
__attribute__((weak)) int __wrap___libc_start_main(vrngd_main_fn main_fn, int argc, char **argv, vrngd_init_fn init, void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	return vrngd_libc_start_main_2_2_5(main_fn, argc, argv, init ? init : vrngd_csu_init, fini, rtld_fini, stack_end);
}
#endif
#endif
#endif
