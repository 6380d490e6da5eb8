/*
 * vrngd.c - the native addon: the few kernel calls Node cannot make. The random
 * device's ioctls (RNDGETENTCNT, RNDADDENTROPY, RNDRESEEDCRNG), getrandom(2) for
 * crng readiness, poll(2) on a worker thread with a wake pipe, flock(2), and one
 * unix datagram per call (sd_notify, syslog); RDRAND/RDSEED are in rdrand.c,
 * poll in poll.c, the vmgenid read of /dev/mem in physmem.c.
 * No state between calls. TypeScript opens and closes every fd it passes in;
 * the addon creates fds in two places only: makeWakePipe returns a pipe that
 * TypeScript then owns and closes, and sendDatagram opens its socket and closes
 * it before returning. See random(4), ioctl(2), poll(2), getrandom(2), flock(2),
 * sd_notify(3). Every napi_* call is checked (CALL, addon.h); a failed syscall
 * reaches JS as an Error with errno and syscall (vrngd_throw_errno).
 */
#include <errno.h>
#include <limits.h>
#include <linux/random.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>
#include "addon.h"
#include "syscalls.h"

#ifndef RNDRESEEDCRNG /* not in 2.6.32/3.10/el7 headers; value from 4.17 uapi */
#define RNDRESEEDCRNG _IO('R', 0x07)
#endif
#define GRND_NONBLOCK_FLAG 1

/* Largest payload one RNDADDENTROPY may carry: one FIPS block. Callers inject
 * in much smaller steps; the bound keeps the stack buffer fixed. */
#define MAX_NOTIFY_BYTES 4096

static napi_value get_entropy_count(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	int32_t fd;
	int count;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd))
		return vrngd_usage(env, "Usage: getEntropyCount(fd)");
	if (ioctl(fd, RNDGETENTCNT, &count) < 0)
		return vrngd_throw_errno(env, "ioctl(RNDGETENTCNT)", errno);
	CALL(env, napi_create_int32(env, count, &result));
	return result;
}

static napi_value add_entropy(napi_env env, napi_callback_info info)
{
	size_t argc = 3, length;
	napi_value argv[3];
	void *data;
	int32_t fd, bits;
	int err;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd))
		return vrngd_usage(env, "Usage: addEntropy(fd, data, entropyBits)");
	if (!vrngd_arg_typed(env, argv[1], napi_uint8_array, &data, &length))
		return vrngd_usage(env, "Usage: addEntropy(fd, data, entropyBits): data must be a Uint8Array");
	if (length == 0 || length > MAX_ADD_BYTES)
		return vrngd_out_of_range(env, "addEntropy: data must hold 1 to 2500 bytes");
	if (!vrngd_arg_int(env, argv[2], INT32_MIN, INT32_MAX, &bits))
		return vrngd_usage(env, "Usage: addEntropy(fd, data, entropyBits): entropyBits must be an integer");
	if (bits < 0 || (int64_t)bits > 8 * (int64_t)length)
		return vrngd_out_of_range(env, "addEntropy: entropyBits must be 0 to 8 x data length");
	err = vrngd_add_entropy(fd, data, length, bits, 0);
	if (err)
		return vrngd_throw_errno(env, "ioctl(RNDADDENTROPY)", err);
	return NULL;
}

/* true: crng ready; false: EAGAIN (not yet); null: no getrandom (ENOSYS, 2.6.32/3.10). */
static napi_value crng_ready(napi_env env, napi_callback_info info)
{
	unsigned char byte;
	long rc;
	napi_value result;

	(void)info;
	do
		rc = syscall(SYS_getrandom, &byte, 1, GRND_NONBLOCK_FLAG);
	while (rc < 0 && errno == EINTR);
	byte = 0;
	if (rc >= 0) {
		CALL(env, napi_get_boolean(env, true, &result));
	} else if (errno == EAGAIN) {
		CALL(env, napi_get_boolean(env, false, &result));
	} else if (errno == ENOSYS) {
		CALL(env, napi_get_null(env, &result));
	} else {
		return vrngd_throw_errno(env, "getrandom", errno);
	}
	return result;
}

/* true: reseeded; false: unsupported (EINVAL: kernels before 4.17 and el7). */
static napi_value reseed_crng(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	int32_t fd;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd))
		return vrngd_usage(env, "Usage: reseedCrng(fd)");
	if (ioctl(fd, RNDRESEEDCRNG) < 0) {
		if (errno != EINVAL)
			return vrngd_throw_errno(env, "ioctl(RNDRESEEDCRNG)", errno);
		CALL(env, napi_get_boolean(env, false, &result));
		return result;
	}
	CALL(env, napi_get_boolean(env, true, &result));
	return result;
}

/* flock(fd, LOCK_EX|LOCK_NB): true taken, false held by another open file
 * (EWOULDBLOCK). The single-instance lock on the pid file; Node has no flock. */
static napi_value try_lock_fd(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	int32_t fd;
	int rc;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || !vrngd_arg_int(env, argv[0], 0, INT_MAX, &fd))
		return vrngd_usage(env, "Usage: tryLockFd(fd)");
	do
		rc = flock(fd, LOCK_EX | LOCK_NB);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno != EWOULDBLOCK)
		return vrngd_throw_errno(env, "flock", errno);
	CALL(env, napi_get_boolean(env, rc == 0, &result));
	return result;
}

/* One unix datagram to a path or "@abstract" socket: sd_notify(3) to
 * $NOTIFY_SOCKET, and syslog(3) lines to /dev/log. Node has no datagram unix sockets. */
static napi_value send_datagram(napi_env env, napi_callback_info info)
{
	size_t argc = 2, path_len, msg_len;
	napi_value argv[2];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	char msg[MAX_NOTIFY_BYTES + 1];
	struct sockaddr_un sa;
	socklen_t sa_len;
	int fd, err = 0;

	napi_valuetype t0 = napi_undefined, t1 = napi_undefined;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc >= 2) {
		CALL(env, napi_typeof(env, argv[0], &t0));
		CALL(env, napi_typeof(env, argv[1], &t1));
	}
	if (t0 != napi_string || t1 != napi_string)
		return vrngd_usage(env, "Usage: sendDatagram(socketPath, message)");
	CALL(env, napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &path_len));
	CALL(env, napi_get_value_string_utf8(env, argv[1], msg, sizeof(msg), &msg_len));
	if (path_len == 0 || path_len >= sizeof(sa.sun_path) || msg_len >= MAX_NOTIFY_BYTES ||
	    (path[0] != '/' && path[0] != '@'))
		return vrngd_out_of_range(env, "sendDatagram: bad socket path or message too long");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, path_len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vrngd_throw_errno(env, "socket", errno);
	if (sendto(fd, msg, msg_len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len) < 0)
		err = errno;
	close(fd);
	if (err)
		return vrngd_throw_errno(env, "sendto", err);
	return NULL;
}


#define EXPORT(name, fn)                                                       \
	do {                                                                   \
		if (!vrngd_export(env, exports, name, fn))                    \
			return NULL;                                           \
	} while (0)

static napi_value init(napi_env env, napi_value exports)
{
	napi_value constants, v;

	EXPORT("getEntropyCount", get_entropy_count);
	EXPORT("addEntropy", add_entropy);
	EXPORT("crngReady", crng_ready);
	EXPORT("reseedCrng", reseed_crng);
	EXPORT("sendDatagram", send_datagram);
	EXPORT("tryLockFd", try_lock_fd);
	if (!vrngd_export_poll(env, exports) || !vrngd_export_cpu_rng(env, exports) ||
	    !vrngd_export_physmem(env, exports) || !vrngd_export_fips(env, exports) ||
	    !vrngd_export_repeat(env, exports) || !vrngd_export_inject(env, exports))
		return NULL;
	CALL(env, napi_create_object(env, &constants));
#define CONST(name, value)                                                 \
	CALL(env, napi_create_int32(env, (value), &v));                    \
	CALL(env, napi_set_named_property(env, constants, name, v))
	CONST("POLLIN", POLLIN);
	CONST("POLLOUT", POLLOUT);
	CONST("POLLERR", POLLERR);
	CONST("POLLHUP", POLLHUP);
	CONST("MAX_ADD_BYTES", MAX_ADD_BYTES);
	CONST("MAX_POLL_MS", MAX_POLL_MS);
	CONST("POLL_WOKEN", POLL_WOKEN);
#undef CONST
	CALL(env, napi_set_named_property(env, exports, "constants", constants));
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
