/*
 * rdrand.c - the CPU's random number instructions, for the rdrand source
 * (src/sources/rdrand-source.ts): whether CPUID reports RDRAND and RDSEED, and
 * filling a buffer from one of them. x86_64 only; elsewhere both report absent.
 * No fds, no state. Part of the same addon as vrngd.c.
 */
#include <errno.h>
#include <string.h>
#include "addon.h"

/* CPUID leaf 1 ECX bit 30 = RDRAND, leaf 7 EBX bit 18 = RDSEED. */
#if defined(__x86_64__)
#include <cpuid.h>
static bool cpu_has(int seed)
{
	unsigned int a, b, c, d;

	if (!seed)
		return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 30));
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 18));
}

/* One 64-bit word; Intel's guidance: retry RDRAND 10 times, RDSEED may need more. */
static bool cpu_word(int seed, uint64_t *out)
{
	unsigned char ok;
	int tries;

	for (tries = 0; tries < (seed ? 100 : 10); tries++) {
		if (seed)
			__asm__ volatile(".byte 0x48,0x0f,0xc7,0xf8; setc %1" : "=a"(*out), "=qm"(ok) : : "cc");
		else
			__asm__ volatile(".byte 0x48,0x0f,0xc7,0xf0; setc %1" : "=a"(*out), "=qm"(ok) : : "cc");
		if (ok)
			return true;
	}
	return false;
}
#else
static bool cpu_has(int seed) { (void)seed; return false; }
static bool cpu_word(int seed, uint64_t *out) { (void)seed; *out = 0; return false; }
#endif

static napi_value cpu_rng_support(napi_env env, napi_callback_info info)
{
	napi_value result, v;

	(void)info;
	CALL(env, napi_create_object(env, &result));
	CALL(env, napi_get_boolean(env, cpu_has(0), &v));
	CALL(env, napi_set_named_property(env, result, "rdrand", v));
	CALL(env, napi_get_boolean(env, cpu_has(1), &v));
	CALL(env, napi_set_named_property(env, result, "rdseed", v));
	return result;
}

/* Fills data from RDSEED (useSeed) or RDRAND; returns the bytes filled, which is
 * short when the instruction keeps failing. ENODEV where CPUID says no. */
static napi_value read_cpu_rng(napi_env env, napi_callback_info info)
{
	size_t argc = 2, length, done = 0;
	napi_value argv[2], result;
	napi_typedarray_type type;
	napi_valuetype t;
	bool is_typed, use_seed;
	void *data;
	uint64_t word;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2)
		return vrngd_usage(env, "Usage: readCpuRng(data, useRdseed)");
	CALL(env, napi_is_typedarray(env, argv[0], &is_typed));
	CALL(env, napi_typeof(env, argv[1], &t));
	if (!is_typed || t != napi_boolean)
		return vrngd_usage(env, "Usage: readCpuRng(data, useRdseed)");
	CALL(env, napi_get_value_bool(env, argv[1], &use_seed));
	CALL(env, napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
	if (type != napi_uint8_array)
		return vrngd_usage(env, "Usage: readCpuRng(data, useRdseed): data must be a Uint8Array");
	if (!cpu_has(use_seed))
		return vrngd_throw_errno(env, use_seed ? "rdseed" : "rdrand", ENODEV);
	while (done < length && cpu_word(use_seed, &word)) {
		size_t n = length - done < 8 ? length - done : 8;
		memcpy((uint8_t *)data + done, &word, n);
		done += n;
	}
	word = 0;
	CALL(env, napi_create_uint32(env, (uint32_t)done, &result));
	return result;
}

napi_value vrngd_export_cpu_rng(napi_env env, napi_value exports)
{
	if (!vrngd_export(env, exports, "cpuRngSupport", cpu_rng_support) || !vrngd_export(env, exports, "readCpuRng", read_cpu_rng))
		return NULL;
	return exports;
}
