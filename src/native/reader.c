/*
 * reader.c - vrngd-reader: the child that does the blocking read(2) of a device,
 * FIFO or file for src/sources/child-reader.ts, so no such read ever runs inside
 * the daemon. Replaces dd(1), whose flags differ across coreutils (RHEL 6's 8.4
 * has no status=none), and which was orphaned, blocked forever, when its parent
 * was SIGKILLed. This one asks the kernel for SIGKILL when its parent dies
 * (prctl(2) PR_SET_PDEATHSIG; a /dev/hwrng wait is killable), checks the parent
 * did not die before that, and leads its own process group so a terminal's ^C
 * reaches the daemon, which decides. Plain open/read/write/prctl: glibc 2.12.
 *
 * Usage: vrngd-reader PATH CHUNK COUNT PARENT_PID
 * Reads COUNT blocks of CHUNK bytes (each one filled by as many read(2) calls as
 * it takes, like dd iflag=fullblock) and writes them to stdout; a short last
 * block at end of file ends it with status 0. Errors: one line on stderr,
 * "vrngd-reader: PATH: <call>: <strerror>", status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_CHUNK 65536

static int fail(const char *path, const char *call)
{
	fprintf(stderr, "vrngd-reader: %s: %s: %s\n", path, call, strerror(errno));
	return 1;
}

static long number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	static char buf[MAX_CHUNK];
	long chunk, count, parent, i;
	int fd;

	if (argc != 5 || (chunk = number(argv[2], MAX_CHUNK)) < 0 || (count = number(argv[3], 1L << 30)) < 0 ||
	    (parent = number(argv[4], 1L << 30)) < 0) {
		fprintf(stderr, "usage: vrngd-reader PATH CHUNK COUNT PARENT_PID\n");
		return 64;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return fail(argv[1], "prctl");
	if (getppid() != (pid_t)parent) /* the parent died before prctl took effect */
		return 1;
	if (setpgid(0, 0) < 0)
		return fail(argv[1], "setpgid");
	do
		fd = open(argv[1], O_RDONLY | O_NOCTTY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return fail(argv[1], "open");
	for (i = 0; i < count; i++) {
		size_t have = 0, off = 0;
		while (have < (size_t)chunk) {
			ssize_t n = read(fd, buf + have, (size_t)chunk - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return fail(argv[1], "read");
			if (n == 0)
				break;
			have += (size_t)n;
		}
		while (off < have) {
			ssize_t n = write(STDOUT_FILENO, buf + off, have - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return fail(argv[1], "write");
			off += (size_t)n;
		}
		if (have < (size_t)chunk)
			break;
	}
	return 0;
}
