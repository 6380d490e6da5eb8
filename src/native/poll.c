/*
 * poll.c - poll(2) on libuv's threadpool, so the fill mode can sleep until the
 * kernel wants entropy without blocking the event loop, and the wake pipe that
 * ends such a poll at once (a stop never waits for the timeout). The pipe's fds
 * are created here and owned, and closed, by TypeScript (kernel/random-device.ts).
 * See poll(2), pipe(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "addon.h"

/* poll(2) off the main thread. The timeout is bounded so a worker thread is
 * never parked forever; callers loop. */
struct poll_work {
	napi_async_work work;
	napi_deferred deferred;
	int fd, events, timeout_ms, wake_fd, revents, err;
};


static void poll_execute(napi_env env, void *data)
{
	struct poll_work *w = data;
	struct pollfd p[2] = {
		{ .fd = w->fd, .events = (short)w->events, .revents = 0 },
		{ .fd = w->wake_fd, .events = POLLIN, .revents = 0 },
	};
	int rc;

	(void)env;
	do
		rc = poll(p, w->wake_fd >= 0 ? 2 : 1, w->timeout_ms);
	while (rc < 0 && errno == EINTR);
	w->err = rc < 0 ? errno : 0;
	if (rc > 0 && w->wake_fd >= 0 && p[1].revents)
		w->revents = POLL_WOKEN;
	else
		w->revents = rc > 0 ? p[0].revents : 0;
}

/* Settles the promise. A napi failure here leaves it pending and surfaces as an
 * uncaught exception (there is no caller to return it to); the work is freed either way. */
static void poll_settle(napi_env env, napi_status status, struct poll_work *w)
{
	napi_value value;

	if (status != napi_ok) {
		CALL_VOID(env, napi_create_string_utf8(env, "poll cancelled", NAPI_AUTO_LENGTH, &value));
		CALL_VOID(env, napi_create_error(env, NULL, value, &value));
		CALL_VOID(env, napi_reject_deferred(env, w->deferred, value));
	} else if (w->err) {
		value = vrngd_errno_error(env, "poll", w->err);
		if (value)
			CALL_VOID(env, napi_reject_deferred(env, w->deferred, value));
	} else {
		CALL_VOID(env, napi_create_int32(env, w->revents, &value));
		CALL_VOID(env, napi_resolve_deferred(env, w->deferred, value));
	}
}

static void poll_complete(napi_env env, napi_status status, void *data)
{
	struct poll_work *w = data;

	poll_settle(env, status, w);
	vrngd_napi_ok(env, napi_delete_async_work(env, w->work), "napi_delete_async_work");
	free(w);
}

static napi_value poll_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], promise, name;
	int32_t fd, events, timeout_ms, wake_fd = -1;
	napi_valuetype t = napi_undefined;
	struct poll_work *w;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd) ||
	    !vrngd_arg_int(env, argv[1], 0, 0x7fff, &events))
		return vrngd_usage(env, "Usage: pollFd(fd, events, timeoutMs[, wakeFd])");
	if (argc >= 4)
		CALL(env, napi_typeof(env, argv[3], &t));
	if (t != napi_undefined && !vrngd_arg_int(env, argv[3], 0, INT_MAX, &wake_fd))
		return vrngd_usage(env, "Usage: pollFd(fd, events, timeoutMs[, wakeFd])");
	if (!vrngd_arg_int(env, argv[2], 0, MAX_POLL_MS, &timeout_ms))
		return vrngd_out_of_range(env, "pollFd: timeoutMs must be 0 to 60000");
	w = calloc(1, sizeof(*w));
	if (!w)
		return vrngd_throw_errno(env, "calloc", ENOMEM);
	w->fd = fd;
	w->events = events;
	w->timeout_ms = timeout_ms;
	w->wake_fd = wake_fd;
	if (!vrngd_napi_ok(env, napi_create_string_utf8(env, "vrngd.poll", NAPI_AUTO_LENGTH, &name), "napi_create_string_utf8") ||
	    !vrngd_napi_ok(env, napi_create_async_work(env, NULL, name, poll_execute, poll_complete, w, &w->work), "napi_create_async_work")) {
		free(w);
		return NULL;
	}
	/* the promise last: a failure before it leaves no deferred that nobody settles */
	if (!vrngd_napi_ok(env, napi_create_promise(env, &w->deferred, &promise), "napi_create_promise") ||
	    !vrngd_napi_ok(env, napi_queue_async_work(env, w->work), "napi_queue_async_work")) {
		vrngd_napi_ok(env, napi_delete_async_work(env, w->work), "napi_delete_async_work");
		free(w);
		return NULL;
	}
	return promise;
}

/* A non-blocking, close-on-exec pipe [readFd, writeFd] for waking a pollFd
 * early (a stop). The one place C creates fds; TypeScript owns and closes them. */
static napi_value make_wake_pipe(napi_env env, napi_callback_info info)
{
	int fds[2];
	napi_value result, v;

	(void)info;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return vrngd_throw_errno(env, "pipe2", errno);
	CALL(env, napi_create_array_with_length(env, 2, &result));
	CALL(env, napi_create_int32(env, fds[0], &v));
	CALL(env, napi_set_element(env, result, 0, v));
	CALL(env, napi_create_int32(env, fds[1], &v));
	CALL(env, napi_set_element(env, result, 1, v));
	return result;
}

napi_value vrngd_export_poll(napi_env env, napi_value exports)
{
	if (!vrngd_export(env, exports, "pollFd", poll_fd) || !vrngd_export(env, exports, "makeWakePipe", make_wake_pipe))
		return NULL;
	return exports;
}
