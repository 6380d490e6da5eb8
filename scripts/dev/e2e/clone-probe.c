/* TEST ONLY: the clone e2e's measuring tool in the legacy guests (test/e2e/clone.test.ts).
 *   clone-probe clocks      one line: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME (ns)
 *   clone-probe tfd         stays in the background: a CLOCK_REALTIME timerfd armed with
 *                           TFD_TIMER_CANCEL_ON_SET; prints "E2E-TFD canceled ..." each time
 *                           the kernel cancels it (CLOCK_REALTIME was set), and re-arms
 *   clone-probe vgia        the address in the VGIA object of the ACPI SSDTs (QEMU vmgenid)
 *   clone-probe guid VGIA   the 16-byte ID at VGIA + 40 (mmap of /dev/mem), hex
 *   clone-probe waitguid VGIA  returns when that ID changes (polls every 20 ms)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef TFD_TIMER_CANCEL_ON_SET
#define TFD_TIMER_CANCEL_ON_SET (1 << 1)
#endif

static long long ns(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t) != 0) return -1;
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int tfd(void) {
    int fd = timerfd_create(CLOCK_REALTIME, 0);
    if (fd < 0) { printf("E2E-TFD error=%s\n", strerror(errno)); return 1; }
    for (;;) {
        struct itimerspec its = {{0, 0}, {ns(CLOCK_REALTIME) / 1000000000LL + 10 * 365 * 86400LL, 0}};
        if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) != 0) {
            printf("E2E-TFD error=%s\n", strerror(errno));
            return 1;
        }
        printf("E2E-TFD armed realtime=%lld\n", ns(CLOCK_REALTIME));
        fflush(stdout);
        uint64_t n;
        ssize_t r = read(fd, &n, sizeof n);
        if (r < 0 && errno == ECANCELED) printf("E2E-TFD canceled realtime=%lld monotonic=%lld\n", ns(CLOCK_REALTIME), ns(CLOCK_MONOTONIC));
        else printf("E2E-TFD read=%zd errno=%d\n", r, r < 0 ? errno : 0);
        fflush(stdout);
    }
}

static int vgia(void) {
    DIR *d = opendir("/sys/firmware/acpi/tables");
    if (!d) { printf("none\n"); return 1; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "SSDT", 4) != 0) continue;
        char p[300];
        snprintf(p, sizeof p, "/sys/firmware/acpi/tables/%s", e->d_name);
        int fd = open(p, O_RDONLY);
        if (fd < 0) continue;
        static unsigned char buf[1 << 16];
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        for (ssize_t i = 0; i + 9 <= n; i++) {
            if (memcmp(buf + i, "VGIA", 4) == 0 && i > 0 && buf[i - 1] == 0x08) {
                if (buf[i + 4] == 0x0c) {
                    uint32_t a; memcpy(&a, buf + i + 5, 4);
                    printf("0x%" PRIx32 " %s\n", a, e->d_name);
                    return 0;
                }
                if (buf[i + 4] == 0x0e && i + 13 <= n) {
                    uint64_t a; memcpy(&a, buf + i + 5, 8);
                    printf("0x%" PRIx64 " %s\n", a, e->d_name);
                    return 0;
                }
            }
        }
    }
    printf("none\n");
    return 1;
}

static int guid_bytes(const char *addr, unsigned char out[16]);

static int guid(const char *addr) {
    int fd = open("/dev/mem", O_RDONLY);
    if (fd < 0) { printf("error=%s\n", strerror(errno)); return 1; }
    /* mmap, not pread: read(2) of /dev/mem stops at high_memory (EFAULT), and the
     * vmgenid buffer is in a reserved page above the end of RAM */
    unsigned long long a = strtoull(addr, NULL, 0);
    long pg = sysconf(_SC_PAGESIZE);
    unsigned long long base = a & ~(unsigned long long)(pg - 1);
    unsigned char *m = mmap(NULL, (size_t)(a - base) + 64, PROT_READ, MAP_SHARED, fd, (off_t)base);
    if (m == MAP_FAILED) { printf("error=mmap:%s\n", strerror(errno)); return 1; }
    unsigned char *b = m + (a - base);
    for (int i = 40; i < 56; i++) printf("%02x", b[i]); /* the GUID: VGIA + 40 (QEMU VMGENID_GUID_OFFSET) */
    printf("\n");
    return 0;
}

static int guid_bytes(const char *addr, unsigned char out[16]) {
    int fd = open("/dev/mem", O_RDONLY);
    if (fd < 0) return -1;
    unsigned long long a = strtoull(addr, NULL, 0);
    long pg = sysconf(_SC_PAGESIZE);
    unsigned long long base = a & ~(unsigned long long)(pg - 1);
    unsigned char *m = mmap(NULL, (size_t)(a - base) + 64, PROT_READ, MAP_SHARED, fd, (off_t)base);
    close(fd);
    if (m == MAP_FAILED) return -1;
    memcpy(out, m + (a - base) + 40, 16);
    munmap(m, (size_t)(a - base) + 64);
    return 0;
}

/* Returns once the ID differs from the one at start: the test's own trigger in a
 * restored clone, with no input from the host (so two clones run alike). */
static int waitguid(const char *addr) {
    unsigned char first[16], now[16];
    if (guid_bytes(addr, first) != 0) return 1;
    do {
        usleep(20000);
        if (guid_bytes(addr, now) != 0) return 1;
    } while (memcmp(first, now, 16) == 0);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "clocks")) {
        printf("realtime=%lld monotonic=%lld boottime=%lld\n", ns(CLOCK_REALTIME), ns(CLOCK_MONOTONIC), ns(7 /* CLOCK_BOOTTIME */));
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "tfd")) return tfd();
    if (argc >= 2 && !strcmp(argv[1], "vgia")) return vgia();
    if (argc >= 3 && !strcmp(argv[1], "guid")) return guid(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "waitguid")) return waitguid(argv[2]);
    fprintf(stderr, "usage: clone-probe clocks|tfd|vgia|guid ADDR\n");
    return 64;
}
