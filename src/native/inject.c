/*
 * inject.c - the injector's steps in one N-API crossing (issue 16: one
 * RNDADDENTROPY plus one crossing per 64-B step, and RNDGETENTCNT after each,
 * were a third of the pipeline's CPU).
 *
 * addEntropySteps(fd, data, stepBytes, bitsFull, bitsLast, maxSteps, startBits,
 *                 untilBits, flags, out)
 *   Cuts data into steps of stepBytes (the last may be shorter) and makes one
 *   RNDADDENTROPY per step, claiming bitsFull for a whole step and bitsLast for a
 *   shorter last one, EINTR/EAGAIN retried up to 5 times (the injector's
 *   MAX_RETRIES). At most maxSteps steps.
 *   flags & 1 (per step): RNDGETENTCNT after every step, into out[2 + k]; before
 *     a step, stop once the count (startBits before the first) has reached
 *     untilBits (-1: no watermark). Where the kernel's credit is asymptotic
 *     (2.6.32, RHEL 7.1+, 3.13-5.17) the stop needs the real count before each
 *     step, so each is measured; only the crossing is saved.
 *   flags & 2 (stop when linear): also stop after a step whose measured rise
 *     equals its claim of >= 8 bits (a legacy kernel proving linear credit: the
 *     injector then batches).
 *   Without flag 1 (linear credit: 5.18+, 3.10) no count is read here; the caller
 *     reads RNDGETENTCNT once after the batch.
 *   out (Int32Array, >= 2 + maxSteps with flag 1, else >= 2): out[0] steps made,
 *   out[1] 0, or the errno of the RNDADDENTROPY that refused step out[0], or
 *   minus the errno of the RNDGETENTCNT after step out[0] - 1 - a failure is reported, never thrown, so the steps made
 *   before it are still accounted: the call returns that failure as an Error
 *   with errno and syscall (as addEntropy would have thrown it), or undefined.
 *   Usage errors throw, as addEntropy's do.
 * The data is copied to a stack request per step and the request wiped after
 * (vrngd_add_entropy, which addEntropy in vrngd.c makes its one call through too).
 */
#include <errno.h>
#include <limits.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include "addon.h"

#define MAX_STEP_BYTES MAX_ADD_BYTES
#define MAX_RETRIES 5
#define FLAG_PER_STEP 1
#define FLAG_STOP_WHEN_LINEAR 2

int vrngd_add_entropy(int fd, const uint8_t *data, size_t length, int bits, int max_retries)
{
	struct {
		int entropy_count;
		int buf_size;
		uint8_t buf[MAX_ADD_BYTES];
	} req;
	int attempt, err = 0;

	req.entropy_count = bits;
	req.buf_size = (int)length;
	memcpy(req.buf, data, length);
	for (attempt = 0;; attempt++) {
		if (ioctl(fd, RNDADDENTROPY, &req) == 0) {
			err = 0;
			break;
		}
		err = errno;
		if ((err != EINTR && err != EAGAIN) || attempt >= max_retries)
			break;
	}
	memset(req.buf, 0, length); /* do not leave entropy on the stack */
	__asm__ __volatile__("" : : "r"(req.buf) : "memory"); /* nor let the compiler drop that dead store */
	return err;
}

static napi_value add_entropy_steps(napi_env env, napi_callback_info info)
{
	size_t argc = 10, length, out_length, step, off = 0;
	napi_value argv[10];
	void *data, *out_data;
	int32_t fd, step_bytes, bits_full, bits_last, max_steps, start_bits, until_bits, flags, *out;
	int32_t steps = 0, count, err = 0, bits;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 10 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd) ||
	    !vrngd_arg_int(env, argv[2], 1, MAX_STEP_BYTES, &step_bytes) ||
	    !vrngd_arg_int(env, argv[3], 0, 8 * MAX_STEP_BYTES, &bits_full) ||
	    !vrngd_arg_int(env, argv[4], 0, 8 * MAX_STEP_BYTES, &bits_last) ||
	    !vrngd_arg_int(env, argv[5], 0, INT_MAX, &max_steps) ||
	    !vrngd_arg_int(env, argv[6], INT_MIN, INT_MAX, &start_bits) ||
	    !vrngd_arg_int(env, argv[7], -1, INT_MAX, &until_bits) ||
	    !vrngd_arg_int(env, argv[8], 0, 3, &flags))
		return vrngd_usage(env, "Usage: addEntropySteps(fd, data, stepBytes, bitsFull, bitsLast, maxSteps, startBits, untilBits, flags, out)");
	if (!vrngd_arg_typed(env, argv[1], napi_uint8_array, &data, &length))
		return vrngd_usage(env, "addEntropySteps: data must be a Uint8Array");
	if (!vrngd_arg_typed(env, argv[9], napi_int32_array, &out_data, &out_length))
		return vrngd_usage(env, "addEntropySteps: out must be an Int32Array");
	if (bits_full > 8 * step_bytes)
		return vrngd_out_of_range(env, "addEntropySteps: bitsFull must be 0 to 8 x stepBytes");
	if (out_length < 2 || ((flags & FLAG_PER_STEP) && out_length < 2 + (size_t)max_steps))
		return vrngd_out_of_range(env, "addEntropySteps: out is too short for maxSteps");
	if (length % (size_t)step_bytes != 0 && (size_t)bits_last > 8 * (length % (size_t)step_bytes))
		return vrngd_out_of_range(env, "addEntropySteps: bitsLast must be 0 to 8 x the last step's length");
	out = out_data;
	count = start_bits;
	while (off < length && steps < max_steps) {
		if ((flags & FLAG_PER_STEP) && until_bits >= 0 && count >= until_bits)
			break;
		step = length - off < (size_t)step_bytes ? length - off : (size_t)step_bytes;
		bits = step == (size_t)step_bytes ? bits_full : bits_last;
		err = vrngd_add_entropy(fd, (const uint8_t *)data + off, step, bits, MAX_RETRIES);
		if (err)
			break;
		off += step;
		steps++;
		if (flags & FLAG_PER_STEP) {
			int before = count;
			if (ioctl(fd, RNDGETENTCNT, &count) < 0) {
				err = -errno; /* negative: the step was made, its count is unknown */
				out[2 + steps - 1] = before;
				break;
			}
			out[2 + steps - 1] = count;
			if ((flags & FLAG_STOP_WHEN_LINEAR) && bits >= 8 && count - before == bits)
				break;
		}
	}
	out[0] = steps;
	out[1] = err;
	if (err > 0)
		return vrngd_errno_error(env, "ioctl(RNDADDENTROPY)", err);
	if (err < 0)
		return vrngd_errno_error(env, "ioctl(RNDGETENTCNT)", -err);
	return NULL;
}

napi_value vrngd_export_inject(napi_env env, napi_value exports)
{
	if (!vrngd_export(env, exports, "addEntropySteps", add_entropy_steps))
		return NULL;
	return exports;
}
