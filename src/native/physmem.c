/*
 * physmem.c - reading a few bytes of physical memory from an open /dev/mem fd,
 * for the clone watcher (src/kernel/vmgenid.ts reads the VM generation ID with
 * it). Opens no fds; maps and unmaps one span per call. Part of the same addon
 * as vrngd.c.
 *
 * mmap(2), not read(2): read of /dev/mem stops at high_memory (EFAULT), and the
 * vmgenid buffer lies above it, in a reserved e820 range, which
 * CONFIG_STRICT_DEVMEM still lets root map (docs/snapshots.md).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "addon.h"

/* readPhys(fd, addr, length 1..64) -> Buffer */
static napi_value read_phys(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], result;
	int32_t fd, length;
	double addr_d;
	void *out;
	struct stat st;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || !vrngd_arg_int(env, argv[0], 0, INT32_MAX, &fd) ||
	    napi_get_value_double(env, argv[1], &addr_d) != napi_ok || addr_d != addr_d || addr_d < 0 ||
	    addr_d > 9007199254740991.0 || addr_d != (double)(uint64_t)addr_d ||
	    !vrngd_arg_int(env, argv[2], 1, 64, &length))
		return vrngd_usage(env, "Usage: readPhys(fd, addr, length 1..64)");
	uint64_t addr = (uint64_t)addr_d;
	/* A regular file mapped past its end would SIGBUS: character devices only.
	 * syscall(2), not fstat(): glibc 2.33 made fstat a versioned symbol
	 * (fstat64@GLIBC_2.33) that RHEL 6/7 lack (glibc-floor.h). */
	if (syscall(SYS_fstat, fd, &st) < 0)
		return vrngd_throw_errno(env, "fstat", errno);
	if (!S_ISCHR(st.st_mode))
		return vrngd_throw_errno(env, "mmap(/dev/mem)", ENODEV);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t base = addr & ~(uint64_t)(page - 1);
	size_t span = (size_t)(addr - base) + (size_t)length;
	void *m = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t)base);
	if (m == MAP_FAILED)
		return vrngd_throw_errno(env, "mmap(/dev/mem)", errno);
	napi_status s = napi_create_buffer(env, (size_t)length, &out, &result);
	if (s == napi_ok)
		memcpy(out, (const char *)m + (addr - base), (size_t)length);
	munmap(m, span);
	if (!vrngd_napi_ok(env, s, "napi_create_buffer"))
		return NULL;
	return result;
}

napi_value vrngd_export_physmem(napi_env env, napi_value exports)
{
	return vrngd_export(env, exports, "readPhys", read_phys) ? exports : NULL;
}
