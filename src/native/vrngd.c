/*
 * vrngd.c - the whole native addon: the few kernel calls Node cannot make.
 * Stateless: TypeScript opens and owns every fd; nothing here opens, closes or
 * remembers one (except the sd_notify socket, created and closed per call).
 * See random(4), ioctl(2), poll(2), getrandom(2), sd_notify(3).
 * Helpers return 0 or -errno; throw_errno() is the one place errors cross to JS.
 */
#include <errno.h>
#include <limits.h>
#include <linux/random.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>
#include <node_api.h>

#ifndef RNDRESEEDCRNG /* not in 2.6.32/3.10/el7 headers; value from 4.17 uapi */
#define RNDRESEEDCRNG _IO('R', 0x07)
#endif
#ifndef SYS_getrandom
#if defined(__x86_64__)
#define SYS_getrandom 318
#elif defined(__i386__)
#define SYS_getrandom 355
#else
#define SYS_getrandom 278
#endif
#endif
#define GRND_NONBLOCK_FLAG 1

/* Largest payload one RNDADDENTROPY may carry: one FIPS block. Callers inject
 * in much smaller steps; the bound keeps the stack buffer fixed. */
#define MAX_ADD_BYTES 2500
#define MAX_POLL_MS 60000
#define MAX_NOTIFY_BYTES 4096

#define CALL(env, call)                                                      \
	do {                                                                 \
		if ((call) != napi_ok) {                                     \
			bool pending_;                                       \
			napi_is_exception_pending((env), &pending_);         \
			if (!pending_)                                       \
				napi_throw_error((env), NULL, #call " failed"); \
			return NULL;                                         \
		}                                                            \
	} while (0)

static napi_value make_errno_error(napi_env env, const char *syscall_name, int err)
{
	char msg[160];
	napi_value message, error, value;

	snprintf(msg, sizeof(msg), "%s: %s", syscall_name, strerror(err));
	if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message) != napi_ok ||
	    napi_create_error(env, NULL, message, &error) != napi_ok)
		return NULL;
	if (napi_create_int32(env, -err, &value) == napi_ok)
		napi_set_named_property(env, error, "errno", value);
	if (napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &value) == napi_ok)
		napi_set_named_property(env, error, "syscall", value);
	return error;
}

static napi_value throw_errno(napi_env env, const char *syscall_name, int err)
{
	napi_value error = make_errno_error(env, syscall_name, err);
	if (error)
		napi_throw(env, error);
	return NULL;
}

static napi_value usage(napi_env env, const char *text)
{
	napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", text);
	return NULL;
}

/* Reads argument i as an int32 that is a whole number; false when it is not. */
static bool arg_int(napi_env env, napi_value v, int64_t min, int64_t max, int32_t *out)
{
	napi_valuetype t;
	double d;

	if (napi_typeof(env, v, &t) != napi_ok || t != napi_number)
		return false;
	if (napi_get_value_double(env, v, &d) != napi_ok)
		return false;
	if (d != d || d < (double)min || d > (double)max || d != (double)(int64_t)d)
		return false;
	*out = (int32_t)d;
	return true;
}

static napi_value get_entropy_count(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	int32_t fd;
	int count;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || !arg_int(env, argv[0], 0, INT_MAX, &fd))
		return usage(env, "Usage: getEntropyCount(fd)");
	if (ioctl(fd, RNDGETENTCNT, &count) < 0)
		return throw_errno(env, "ioctl(RNDGETENTCNT)", errno);
	CALL(env, napi_create_int32(env, count, &result));
	return result;
}

static napi_value add_entropy(napi_env env, napi_callback_info info)
{
	size_t argc = 3, length;
	napi_value argv[3];
	bool is_typed;
	napi_typedarray_type type;
	void *data;
	int32_t fd, bits;
	struct {
		int entropy_count;
		int buf_size;
		uint8_t buf[MAX_ADD_BYTES];
	} req;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || !arg_int(env, argv[0], 0, INT_MAX, &fd))
		return usage(env, "Usage: addEntropy(fd, data, entropyBits)");
	CALL(env, napi_is_typedarray(env, argv[1], &is_typed));
	if (!is_typed)
		return usage(env, "Usage: addEntropy(fd, data, entropyBits): data must be a Uint8Array");
	CALL(env, napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL));
	if (type != napi_uint8_array)
		return usage(env, "Usage: addEntropy(fd, data, entropyBits): data must be a Uint8Array");
	if (length == 0 || length > MAX_ADD_BYTES) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "addEntropy: data must hold 1 to 2500 bytes");
		return NULL;
	}
	if (!arg_int(env, argv[2], INT32_MIN, INT32_MAX, &bits))
		return usage(env, "Usage: addEntropy(fd, data, entropyBits): entropyBits must be an integer");
	if (bits < 0 || (int64_t)bits > 8 * (int64_t)length) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "addEntropy: entropyBits must be 0 to 8 x data length");
		return NULL;
	}
	req.entropy_count = bits;
	req.buf_size = (int)length;
	memcpy(req.buf, data, length);
	if (ioctl(fd, RNDADDENTROPY, &req) < 0) {
		int err = errno;
		memset(&req, 0, sizeof(req));
		return throw_errno(env, "ioctl(RNDADDENTROPY)", err);
	}
	memset(&req, 0, sizeof(req)); /* do not leave entropy on the stack */
	return NULL;
}

/* poll(2) off the main thread. The timeout is bounded so a worker thread is
 * never parked forever; callers loop. */
struct poll_work {
	napi_async_work work;
	napi_deferred deferred;
	int fd, events, timeout_ms, wake_fd, revents, err;
};

/* Resolved instead of revents when the wake fd became readable (a stop). */
#define POLL_WOKEN (-1)

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

static void poll_complete(napi_env env, napi_status status, void *data)
{
	struct poll_work *w = data;
	napi_value value;

	if (status != napi_ok) {
		napi_value msg;
		napi_create_string_utf8(env, "poll cancelled", NAPI_AUTO_LENGTH, &msg);
		napi_create_error(env, NULL, msg, &value);
		napi_reject_deferred(env, w->deferred, value);
	} else if (w->err) {
		value = make_errno_error(env, "poll", w->err);
		napi_reject_deferred(env, w->deferred, value);
	} else {
		napi_create_int32(env, w->revents, &value);
		napi_resolve_deferred(env, w->deferred, value);
	}
	napi_delete_async_work(env, w->work);
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
	if (argc < 3 || !arg_int(env, argv[0], 0, INT_MAX, &fd) ||
	    !arg_int(env, argv[1], 0, 0x7fff, &events))
		return usage(env, "Usage: pollFd(fd, events, timeoutMs[, wakeFd])");
	if (argc >= 4)
		CALL(env, napi_typeof(env, argv[3], &t));
	if (t != napi_undefined && !arg_int(env, argv[3], 0, INT_MAX, &wake_fd))
		return usage(env, "Usage: pollFd(fd, events, timeoutMs[, wakeFd])");
	if (!arg_int(env, argv[2], 0, MAX_POLL_MS, &timeout_ms)) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pollFd: timeoutMs must be 0 to 60000");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return throw_errno(env, "calloc", ENOMEM);
	w->fd = fd;
	w->events = events;
	w->timeout_ms = timeout_ms;
	w->wake_fd = wake_fd;
	if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
	    napi_create_string_utf8(env, "vrngd.poll", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_async_work(env, NULL, name, poll_execute, poll_complete, w, &w->work) != napi_ok) {
		free(w);
		napi_throw_error(env, NULL, "pollFd: cannot create async work");
		return NULL;
	}
	if (napi_queue_async_work(env, w->work) != napi_ok) {
		napi_delete_async_work(env, w->work);
		free(w);
		napi_throw_error(env, NULL, "pollFd: cannot queue async work");
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
		return throw_errno(env, "pipe2", errno);
	CALL(env, napi_create_array_with_length(env, 2, &result));
	CALL(env, napi_create_int32(env, fds[0], &v));
	CALL(env, napi_set_element(env, result, 0, v));
	CALL(env, napi_create_int32(env, fds[1], &v));
	CALL(env, napi_set_element(env, result, 1, v));
	return result;
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
		return throw_errno(env, "getrandom", errno);
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
	if (argc < 1 || !arg_int(env, argv[0], 0, INT_MAX, &fd))
		return usage(env, "Usage: reseedCrng(fd)");
	if (ioctl(fd, RNDRESEEDCRNG) < 0) {
		if (errno != EINVAL)
			return throw_errno(env, "ioctl(RNDRESEEDCRNG)", errno);
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
	if (argc < 1 || !arg_int(env, argv[0], 0, INT_MAX, &fd))
		return usage(env, "Usage: tryLockFd(fd)");
	do
		rc = flock(fd, LOCK_EX | LOCK_NB);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno != EWOULDBLOCK)
		return throw_errno(env, "flock", errno);
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

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2 ||
	    napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &path_len) != napi_ok ||
	    napi_get_value_string_utf8(env, argv[1], msg, sizeof(msg), &msg_len) != napi_ok)
		return usage(env, "Usage: sendDatagram(socketPath, message)");
	if (path_len == 0 || path_len >= sizeof(sa.sun_path) || msg_len >= MAX_NOTIFY_BYTES ||
	    (path[0] != '/' && path[0] != '@')) {
		napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sendDatagram: bad socket path or message too long");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, path_len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return throw_errno(env, "socket", errno);
	if (sendto(fd, msg, msg_len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len) < 0)
		err = errno;
	close(fd);
	if (err)
		return throw_errno(env, "sendto", err);
	return NULL;
}


/* RDRAND/RDSEED (x86 only). CPUID leaf 1 ECX bit 30 = RDRAND, leaf 7 EBX bit 18 = RDSEED. */
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
 * short when the instruction keeps failing. Never called where CPUID says no. */
static napi_value read_cpu_rng(napi_env env, napi_callback_info info)
{
	size_t argc = 2, length, done = 0;
	napi_value argv[2], result;
	napi_typedarray_type type;
	bool is_typed, use_seed;
	uint8_t *data;
	uint64_t word;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
	    napi_get_value_bool(env, argv[1], &use_seed) != napi_ok)
		return usage(env, "Usage: readCpuRng(data, useRdseed)");
	CALL(env, napi_get_typedarray_info(env, argv[0], &type, &length, (void **)&data, NULL, NULL));
	if (type != napi_uint8_array)
		return usage(env, "Usage: readCpuRng(data, useRdseed): data must be a Uint8Array");
	if (!cpu_has(use_seed))
		return throw_errno(env, use_seed ? "rdseed" : "rdrand", ENODEV);
	while (done < length && cpu_word(use_seed, &word)) {
		size_t n = length - done < 8 ? length - done : 8;
		memcpy(data + done, &word, n);
		done += n;
	}
	word = 0;
	CALL(env, napi_create_uint32(env, (uint32_t)done, &result));
	return result;
}

/* Copies length (1..64) bytes of physical memory at addr out of an open /dev/mem
 * fd, through mmap(2) of the page(s) holding them: read(2) of /dev/mem stops at
 * high_memory (EFAULT), and the vmgenid buffer lies above it, in a reserved e820
 * range (which CONFIG_STRICT_DEVMEM still lets root map). The clone watcher's one
 * read (src/kernel/vmgenid.ts). */
static napi_value read_phys(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], result;
	int32_t fd, length;
	double addr_d;
	void *out;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 3 || !arg_int(env, argv[0], 0, INT_MAX, &fd) || napi_get_value_double(env, argv[1], &addr_d) != napi_ok ||
	    addr_d != addr_d || addr_d < 0 || addr_d > 9007199254740991.0 || addr_d != (double)(uint64_t)addr_d ||
	    !arg_int(env, argv[2], 1, 64, &length))
		return usage(env, "Usage: readPhys(fd, addr, length 1..64)");
	uint64_t addr = (uint64_t)addr_d;
	struct stat st;
	/* a regular file mapped past its end would SIGBUS: only character devices (/dev/mem) */
	/* syscall(2), not fstat(): glibc 2.33 made fstat a symbol (fstat64@GLIBC_2.33) that
	 * RHEL 6/7 lack (glibc-floor.h); x86_64's struct stat is the kernel's */
	if (syscall(SYS_fstat, fd, &st) < 0)
		return throw_errno(env, "fstat", errno);
	if (!S_ISCHR(st.st_mode))
		return throw_errno(env, "mmap(/dev/mem)", ENODEV);
	long page = sysconf(_SC_PAGESIZE);
	uint64_t base = addr & ~(uint64_t)(page - 1);
	size_t span = (size_t)(addr - base) + (size_t)length;
	void *m = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t)base);
	if (m == MAP_FAILED)
		return throw_errno(env, "mmap(/dev/mem)", errno);
	CALL(env, napi_create_buffer(env, (size_t)length, &out, &result));
	memcpy(out, (const char *)m + (addr - base), (size_t)length);
	munmap(m, span);
	return result;
}

#define EXPORT(name, fn)                                                       \
	do {                                                                   \
		napi_value f_;                                                 \
		CALL(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f_)); \
		CALL(env, napi_set_named_property(env, exports, name, f_));   \
	} while (0)

static napi_value init(napi_env env, napi_value exports)
{
	napi_value constants, v;

	EXPORT("getEntropyCount", get_entropy_count);
	EXPORT("addEntropy", add_entropy);
	EXPORT("pollFd", poll_fd);
	EXPORT("makeWakePipe", make_wake_pipe);
	EXPORT("crngReady", crng_ready);
	EXPORT("reseedCrng", reseed_crng);
	EXPORT("sendDatagram", send_datagram);
	EXPORT("tryLockFd", try_lock_fd);
	EXPORT("cpuRngSupport", cpu_rng_support);
	EXPORT("readCpuRng", read_cpu_rng);
	EXPORT("readPhys", read_phys);
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
