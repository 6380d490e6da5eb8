/*
 * addon.h - what the addon's C files share: the one checking macro for napi_*
 * calls and the helpers that turn failures into JS exceptions (defined in
 * addon.c). Helpers return 0 or -errno; vrngd_throw_errno() is where a failed
 * syscall crosses to JS, as an Error with errno and syscall.
 */
#ifndef VRNGD_ADDON_H
#define VRNGD_ADDON_H

#include <stdbool.h>
#include <stdint.h>
#include <node_api.h>

/*
 * Reports a failed napi_* call: unless an exception is already pending, throws
 * "<call> failed: <napi_get_last_error_info message> (napi status N)". Returns
 * false so callers can write `if (!vrngd_napi_ok(...))`.
 */
bool vrngd_napi_ok(napi_env env, napi_status status, const char *call);

/* Evaluates a napi_* call; on failure reports it and returns NULL from the caller. */
#define CALL(env, call)                                         \
	do {                                                    \
		if (!vrngd_napi_ok((env), (call), #call))       \
			return NULL;                            \
	} while (0)

/* The same for callbacks that return nothing (async work completion). */
#define CALL_VOID(env, call)                                    \
	do {                                                    \
		if (!vrngd_napi_ok((env), (call), #call))       \
			return;                                 \
	} while (0)

/* Throws Error("<syscall>: <strerror>") with errno (negative) and syscall; returns NULL. */
napi_value vrngd_throw_errno(napi_env env, const char *syscall_name, int err);
/* Throws TypeError ERR_INVALID_ARG_TYPE with the usage line; returns NULL. */
napi_value vrngd_usage(napi_env env, const char *text);
/* Reads v as a whole number in [min, max]; false when it is not one. */
bool vrngd_arg_int64(napi_env env, napi_value v, int64_t min, int64_t max, int64_t *out);
bool vrngd_arg_int(napi_env env, napi_value v, int64_t min, int64_t max, int32_t *out);
/* v's bytes and length when it is a typed array of type want; false when it is not one. */
bool vrngd_arg_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length);

/* Error("<syscall>: <strerror>") with errno (negative) and syscall; NULL after a throw. */
napi_value vrngd_errno_error(napi_env env, const char *syscall_name, int err);
/* Throws RangeError ERR_OUT_OF_RANGE; returns NULL. */
napi_value vrngd_out_of_range(napi_env env, const char *text);

/* poll.c: the longest poll timeout a caller may ask (a worker thread is never
 * parked for longer; callers loop), and what pollFd resolves when woken. */
#define MAX_POLL_MS 60000
#define POLL_WOKEN (-1)

/* Sets exports[name] to a new function running fn; false after a throw. */
bool vrngd_export(napi_env env, napi_value exports, const char *name, napi_callback fn);

/* RNDADDENTROPY's largest request, in bytes (the addon's limit, as rngd's). */
#define MAX_ADD_BYTES 2500
/*
 * One RNDADDENTROPY of data[0, length) (1..MAX_ADD_BYTES) claiming bits, through a
 * stack request that is wiped after; EINTR/EAGAIN retried up to max_retries times.
 * 0, or the errno of the refusal. inject.c.
 */
int vrngd_add_entropy(int fd, const uint8_t *data, size_t length, int bits, int max_retries);

/* Each adds its functions to exports; NULL after a throw. poll.c: pollFd,
 * makeWakePipe. rdrand.c: cpuRngSupport, readCpuRng. physmem.c: readPhys.
 * fips.c: fipsTestBlocks, fipsTestBlocksAsync. repeat.c: repeatCreate, repeatSeen.
 * inject.c: addEntropySteps. */
napi_value vrngd_export_poll(napi_env env, napi_value exports);
napi_value vrngd_export_cpu_rng(napi_env env, napi_value exports);
napi_value vrngd_export_physmem(napi_env env, napi_value exports);
napi_value vrngd_export_fips(napi_env env, napi_value exports);
napi_value vrngd_export_repeat(napi_env env, napi_value exports);
napi_value vrngd_export_inject(napi_env env, napi_value exports);

#endif
