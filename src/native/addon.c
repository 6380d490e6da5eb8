/*
 * addon.c - the addon's shared helpers (declared in addon.h): checking napi_*
 * statuses with napi_get_last_error_info, and the exceptions that cross to JS
 * (errno errors, usage and range errors, whole-number arguments).
 */
#include <stdio.h>
#include <string.h>
#include "addon.h"

bool vrngd_napi_ok(napi_env env, napi_status status, const char *call)
{
	const napi_extended_error_info *info = NULL;
	char msg[256];
	bool pending = false;

	if (status == napi_ok)
		return true;
	/* first: any later napi_* call overwrites the last error */
	if (napi_get_last_error_info(env, &info) == napi_ok && info && info->error_message)
		snprintf(msg, sizeof(msg), "%s failed: %s (napi status %d)", call, info->error_message, (int)status);
	else
		snprintf(msg, sizeof(msg), "%s failed (napi status %d)", call, (int)status);
	if (napi_is_exception_pending(env, &pending) == napi_ok && !pending)
		napi_throw_error(env, "ERR_NAPI", msg);
	return false;
}

napi_value vrngd_errno_error(napi_env env, const char *syscall_name, int err)
{
	char msg[160];
	napi_value message, error, value;

	snprintf(msg, sizeof(msg), "%s: %s", syscall_name, strerror(err));
	CALL(env, napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message));
	CALL(env, napi_create_error(env, NULL, message, &error));
	CALL(env, napi_create_int32(env, -err, &value));
	CALL(env, napi_set_named_property(env, error, "errno", value));
	CALL(env, napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &value));
	CALL(env, napi_set_named_property(env, error, "syscall", value));
	return error;
}

napi_value vrngd_throw_errno(napi_env env, const char *syscall_name, int err)
{
	napi_value error = vrngd_errno_error(env, syscall_name, err);
	if (error)
		vrngd_napi_ok(env, napi_throw(env, error), "napi_throw");
	return NULL;
}

napi_value vrngd_usage(napi_env env, const char *text)
{
	vrngd_napi_ok(env, napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", text), "napi_throw_type_error");
	return NULL;
}

napi_value vrngd_out_of_range(napi_env env, const char *text)
{
	vrngd_napi_ok(env, napi_throw_range_error(env, "ERR_OUT_OF_RANGE", text), "napi_throw_range_error");
	return NULL;
}

/* A type mismatch is "not a whole number" (false), not a napi failure. */
bool vrngd_arg_int64(napi_env env, napi_value v, int64_t min, int64_t max, int64_t *out)
{
	napi_valuetype t;
	double d;

	if (!vrngd_napi_ok(env, napi_typeof(env, v, &t), "napi_typeof") || t != napi_number)
		return false;
	if (!vrngd_napi_ok(env, napi_get_value_double(env, v, &d), "napi_get_value_double"))
		return false;
	if (d != d || d < (double)min || d > (double)max || d != (double)(int64_t)d)
		return false;
	*out = (int64_t)d;
	return true;
}

bool vrngd_arg_int(napi_env env, napi_value v, int64_t min, int64_t max, int32_t *out)
{
	int64_t x;

	if (!vrngd_arg_int64(env, v, min, max, &x))
		return false;
	*out = (int32_t)x;
	return true;
}

/* Likewise: not a typed array of type `want` is false, not a napi failure. */
bool vrngd_arg_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length)
{
	bool is_typed = false;
	napi_typedarray_type type;

	if (!vrngd_napi_ok(env, napi_is_typedarray(env, v, &is_typed), "napi_is_typedarray") || !is_typed)
		return false;
	if (!vrngd_napi_ok(env, napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL), "napi_get_typedarray_info"))
		return false;
	return type == want;
}

bool vrngd_export(napi_env env, napi_value exports, const char *name, napi_callback fn)
{
	napi_value f;

	return vrngd_napi_ok(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f), "napi_create_function") &&
	       vrngd_napi_ok(env, napi_set_named_property(env, exports, name, f), "napi_set_named_property");
}
