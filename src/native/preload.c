/*
 * vrngd-preload.so: lets the one-shot seeder (`vrngd seed`) start before the
 * kernel's crng is initialised. Loaded with LD_PRELOAD by the launcher
 * (scripts/vrngd: /usr/sbin/vrngd, also in the initramfs, and the npm bin) for
 * `vrngd seed` only, never for the daemon (`vrngd run`) or anything else; its
 * callers set nothing (docs/seeding.md). See getrandom(2), random(4).
 *
 * THE PROBLEM. Node blocks before it runs any JavaScript until the kernel's crng
 * is ready: node::InitializeOncePerProcess seeds OpenSSL's DRBG, and OpenSSL asks
 * the kernel with a *blocking* getrandom -- glibc's getentropy() in Node 18+
 * (OpenSSL 3), syscall(SYS_getrandom, buf, n, 0) in Node 16 (OpenSSL 1.1.1).
 * In a guest whose only good entropy source is virtio-rng and whose kernel does
 * not credit it by itself, the program that would seed the kernel therefore
 * waits for the kernel to be seeded: a deadlock that only the kernel's own
 * jitter entropy (5.4+) or interrupt noise eventually breaks.
 *
 * WHAT THIS LIBRARY DOES. It interposes getrandom(), getentropy() and
 * syscall(SYS_getrandom, ...) in this process. A call that asked to block is
 * first retried with GRND_NONBLOCK -- once the crng is ready that returns exactly
 * what the blocking call would have, so nothing changes on a seeded kernel.
 * Only while the crng is not ready (EAGAIN) is the call answered with
 * GRND_INSECURE (Linux 5.6+), or, where the kernel lacks GRND_INSECURE (EINVAL),
 * with a read(2) of /dev/urandom, which never blocks on any kernel. Calls that
 * already carry GRND_NONBLOCK pass through untouched: that is how vrngd asks the
 * kernel "is the crng ready?" (binding.crngReady), so that answer stays true.
 *
 * For OpenSSL 1.1.1 on kernels without getrandom (2.6.32, 3.10): after ENOSYS,
 * OpenSSL's wait_random_seeded() select()s on /dev/random, without a timeout,
 * until the input pool holds read_wakeup_threshold (64) bits, unless a SysV
 * shared-memory segment with key 114 says some earlier OpenSSL process already
 * saw that. This library answers that one lookup (shmget(114, 1, 0), no
 * IPC_CREAT) for this process only with a dummy id, so OpenSSL goes straight to
 * /dev/urandom. Nothing system-wide is created: other processes still wait.
 *
 * WHY THIS IS SAFE -- it only weakens this process's own user-space CSPRNG
 * (OpenSSL's DRBG, V8's Math.random and hash seeds) during the seconds before
 * the kernel is ready, and the seeder never relies on that CSPRNG:
 *   - vrngd seed makes no keys, tokens, nonces or random temporary names; it
 *     never calls crypto.random*, crypto.randomUUID, Math.random for anything
 *     that matters, and opens no TLS connection.
 *   - Every byte it gives the kernel comes from /dev/hwrng (after the FIPS
 *     140-2 tests) or from a seed file. The fresh seed file it writes is read
 *     with read(2) from /dev/urandom, and only after binding.crngReady()
 *     (getrandom with GRND_NONBLOCK, untouched here) said the crng is ready:
 *     the kernel's CSPRNG, not this process's.
 *   - Hash-flooding protection (V8's hash seed) guards against attacker-chosen
 *     keys; the seeder parses only its own argv and a few procfs numbers.
 *   - GRND_INSECURE is the kernel's own interface for exactly this case:
 *     "randomness that need not be cryptographically secure" at early boot.
 * The daemon must never be started with this library: it runs for the whole
 * uptime and its process CSPRNG could stay weakly seeded (OpenSSL reseeds, but
 * there is no reason to risk it). So the library also checks for itself: it is
 * active only in a process whose command line has an argument that is exactly
 * "seed" (`node vrngd.js seed ...`, `vrngd seed ...`). Anywhere else -- `vrngd
 * run` started with a stray LD_PRELOAD, the seeder's `dd` reader children, any
 * other program -- every interposed call goes straight to glibc unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <unistd.h>

#include "syscalls.h"

#define VRNGD_GRND_NONBLOCK 0x0001
#define VRNGD_GRND_RANDOM 0x0002
#define VRNGD_GRND_INSECURE 0x0004
/* OPENSSL_RAND_SEED_DEVRANDOM_SHM_ID (OpenSSL 1.1.1d+ and 3.x, Linux). */
#define OPENSSL_SEEDED_SHM_KEY 114

#define EXPORT __attribute__((visibility("default")))

typedef long (*syscall_fn)(long, ...);

/* Set once, before main(), by the constructor below; 0 means "pass everything through". */
static int active;

/* glibc calls ELF constructors with (argc, argv, envp). */
__attribute__((constructor)) static void vrngd_preload_init(int argc, char **argv, char **envp)
{
	int i;

	(void)envp;
	for (i = 1; argv && i < argc; i++)
		if (argv[i] && strcmp(argv[i], "seed") == 0)
			active = 1;
}

/* glibc's syscall(), not ours: calling `syscall` here would recurse into the interposer. */
static syscall_fn next_syscall(void)
{
	static syscall_fn next;

	if (!next)
		next = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	return next;
}

static long raw_getrandom(void *buf, size_t len, unsigned int flags)
{
	syscall_fn next = next_syscall();

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(SYS_getrandom, buf, len, flags);
}

/* read(2) from /dev/urandom until len bytes or an error; never blocks. */
static long urandom_fill(void *buf, size_t len)
{
	size_t done = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return done > 0 ? (long)done : -1;
}

/*
 * The one policy: never block. Returns bytes or -1 with errno, like the syscall.
 * Calls that already asked not to block are passed through unchanged.
 */
static long nonblocking_getrandom(void *buf, size_t len, unsigned int flags)
{
	long rc;
	int saved;

	if (!active || (flags & (VRNGD_GRND_NONBLOCK | VRNGD_GRND_INSECURE)))
		return raw_getrandom(buf, len, flags);
	do
		rc = raw_getrandom(buf, len, flags | VRNGD_GRND_NONBLOCK);
	while (rc < 0 && errno == EINTR);
	if (rc >= 0 || errno != EAGAIN)
		return rc; /* ready (same bytes as the blocking call), or ENOSYS/EFAULT */
	do
		rc = raw_getrandom(buf, len, VRNGD_GRND_INSECURE);
	while (rc < 0 && errno == EINTR);
	if (rc >= 0 || errno != EINVAL)
		return rc;
	/* 3.17-5.5: no GRND_INSECURE; /dev/urandom does not block there. */
	saved = errno;
	rc = urandom_fill(buf, len);
	if (rc < 0)
		errno = saved;
	return rc;
}

EXPORT ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	return (ssize_t)nonblocking_getrandom(buf, len, flags);
}

EXPORT int getentropy(void *buf, size_t len)
{
	size_t done = 0;

	if (len > 256) {
		errno = EIO;
		return -1;
	}
	while (done < len) {
		/* inactive, this is glibc's getentropy(): a loop of blocking getrandom calls */
		long rc = nonblocking_getrandom((char *)buf + done, len - done, 0);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)rc;
	}
	return 0;
}

EXPORT long syscall(long number, ...)
{
	syscall_fn next;
	long a[6];
	va_list ap;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_getrandom)
		return nonblocking_getrandom((void *)a[0], (size_t)a[1], (unsigned int)a[2]);
	next = next_syscall();
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

typedef int (*shmget_fn)(key_t, size_t, int);

EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	static shmget_fn next;
	int id;

	if (!next)
		next = (shmget_fn)dlsym(RTLD_NEXT, "shmget");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	id = next(key, size, shmflg);
	/* OpenSSL's "has /dev/random been readable?" lookup: answer yes, for this process only. */
	if (active && id == -1 && key == OPENSSL_SEEDED_SHM_KEY && !(shmflg & IPC_CREAT))
		return 0x7fffffff;
	return id;
}
