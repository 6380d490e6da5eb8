/*
 * TEST ONLY: the measuring tool of the legacy-kernel e2e guests
 * (scripts/dev/e2e/legacy-guest.sh, test/e2e/legacy-kernels.test.ts). Built statically
 * on the host and run as one process in the guest, so that measuring costs no
 * exec(2) (on 3.10 every exec takes 128-256 bits from the input pool) and needs
 * neither a clock with sub-second resolution in busybox nor util-linux's ipcrm.
 * Every result is one line starting with "E2E-" on stdout.
 *
 *   legacy-probe drain SECONDS      a reader takes 64 bytes from /dev/random every
 *                                   50 ms (about 1.25 KiB/s) for SECONDS while a
 *                                   second process samples entropy_avail every second
 *   legacy-probe run CMD ARGS...    runs CMD, prints its wall time, exit status and
 *                                   entropy_avail before and after (read here, not by CMD)
 *   legacy-probe term PID [MS]      sends SIGTERM to PID and prints how long until it
 *                                   exited (zombie or gone), giving up after MS (5000)
 *   legacy-probe waitfile FILE PID MS  waits until FILE is not empty (or PID is gone, or
 *                                   MS passed), polling every 20 ms, and prints how long
 *   legacy-probe ipcrm KEY          removes the SysV shm segment with KEY (OpenSSL
 *                                   1.1.1 leaves key 114 once it saw /dev/random ready)
 *   legacy-probe zap                RNDZAPENTCNT: entropy_avail to 0. GUEST ONLY: refuses
 *                                   unless this is the e2e guest (pid 1 is /init and
 *                                   /e2e/legacy-probe exists); never on a host
 *   legacy-probe avail              prints entropy_avail
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long read_proc(const char *name) {
  char path[128], buf[32];
  snprintf(path, sizeof path, "/proc/sys/kernel/random/%s", name);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  return strtol(buf, NULL, 10);
}

static void sleep_ms(double ms) {
  if (ms <= 0) return;
  struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (time_t)(ms / 1e3) * 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static volatile sig_atomic_t deadline_hit = 0;
static void on_alarm(int sig) {
  (void)sig;
  deadline_hit = 1;
}

static int drain(int seconds) {
  long wakeup = read_proc("write_wakeup_threshold");
  printf("E2E-DRAIN-START seconds=%d write_wakeup_threshold=%ld read_wakeup_threshold=%ld poolsize=%ld avail=%ld\n",
         seconds, wakeup, read_proc("read_wakeup_threshold"), read_proc("poolsize"), read_proc("entropy_avail"));
  fflush(stdout);
  double t0 = now_ms();
  pid_t sampler = fork();
  if (sampler < 0) { perror("fork"); return 1; }
  if (sampler == 0) {
    for (int i = 1; i <= seconds; i++) {
      sleep_ms(t0 + i * 1000.0 - now_ms());
      printf("E2E-SAMPLE %d %ld\n", i, read_proc("entropy_avail"));
      fflush(stdout);
    }
    _exit(0);
  }
  int fd = open("/dev/random", O_RDONLY);
  if (fd < 0) { perror("/dev/random"); return 1; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: a blocked read returns EINTR at the deadline */
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)seconds);
  long requests = 0, completed = 0, bytes = 0, over1s = 0;
  double maxblock = 0, blocked_total = 0;
  unsigned char buf[64];
  double next = t0;
  while (!deadline_hit) {
    double start = now_ms();
    size_t got = 0;
    requests++;
    while (got < sizeof buf && !deadline_hit) {
      ssize_t n = read(fd, buf + got, sizeof buf - got);
      if (n > 0) { got += (size_t)n; bytes += n; }
      else if (n < 0 && errno != EINTR) { perror("read /dev/random"); return 1; }
    }
    double took = now_ms() - start;
    if (got == sizeof buf) completed++;
    if (took > maxblock) maxblock = took;
    if (took > 1000) { over1s++; blocked_total += took; }
    next += 50;
    if (next < now_ms()) next = now_ms();
    if (!deadline_hit) sleep_ms(next - now_ms());
  }
  waitpid(sampler, NULL, 0);
  printf("E2E-DRAIN requests=%ld completed=%ld bytes=%ld max_block_ms=%.0f blocks_over_1s=%ld blocked_over_1s_ms=%.0f elapsed_ms=%.0f\n",
         requests, completed, bytes, maxblock, over1s, blocked_total, now_ms() - t0);
  fflush(stdout);
  return 0;
}

static int run(char **argv) {
  long before = read_proc("entropy_avail");
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 1; }
  if (pid == 0) {
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  double took = now_ms() - t0;
  long after = read_proc("entropy_avail");
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("E2E-RUN exit=%d ms=%.0f avail_before=%ld avail_after=%ld\n", code, took, before, after);
  fflush(stdout);
  return 0;
}

/* 'Z' (zombie: it has exited, its parent has not reaped it), 0 when gone, else its state. */
static char proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : '?';
}

static int term(pid_t pid, double limit) {
  char state = proc_state(pid);
  if (state == 0 || state == 'Z') {
    printf("E2E-TERM pid=%d error=not-running\n", (int)pid);
    return 0;
  }
  double t0 = now_ms();
  if (kill(pid, SIGTERM) < 0) { perror("kill"); return 1; }
  for (;;) {
    state = proc_state(pid);
    double took = now_ms() - t0;
    if (state == 0 || state == 'Z') {
      printf("E2E-TERM pid=%d ms=%.0f\n", (int)pid, took);
      break;
    }
    if (took > limit) {
      printf("E2E-TERM pid=%d ms=timeout state=%c\n", (int)pid, state);
      kill(pid, SIGKILL);
      break;
    }
    sleep_ms(5);
  }
  fflush(stdout);
  return 0;
}

static int waitfile(const char *file, pid_t pid, double limit) {
  double t0 = now_ms();
  const char *result = "timeout";
  for (;;) {
    struct stat st;
    if (stat(file, &st) == 0 && st.st_size > 0) { result = "present"; break; }
    char state = proc_state(pid);
    if (state == 0 || state == 'Z') { result = "exited"; break; }
    if (now_ms() - t0 > limit) break;
    sleep_ms(20);
  }
  printf("E2E-WAITFILE %s ms=%.0f\n", result, now_ms() - t0);
  fflush(stdout);
  return 0;
}

static int ipcrm(key_t key) {
  int id = shmget(key, 0, 0);
  if (id < 0) {
    printf("E2E-IPCRM key=%d present=no\n", (int)key);
  } else if (shmctl(id, IPC_RMID, NULL) < 0) {
    perror("shmctl IPC_RMID");
    return 1;
  } else {
    printf("E2E-IPCRM key=%d present=yes removed=yes\n", (int)key);
  }
  fflush(stdout);
  return 0;
}

static int zap(void) {
  char cmd[64] = {0};
  int fd = open("/proc/1/cmdline", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, cmd, sizeof cmd - 1);
  if (fd >= 0) close(fd);
  /* busybox sh runs /init as "/bin/sh\0/init" */
  int is_guest = n > 0 && access("/e2e/legacy-probe", X_OK) == 0 &&
                 (strcmp(cmd, "/init") == 0 || (strlen(cmd) + 1 < (size_t)n && strcmp(cmd + strlen(cmd) + 1, "/init") == 0));
  if (!is_guest) {
    fprintf(stderr, "legacy-probe zap: refused: not the e2e guest (pid 1 is not /init)\n");
    return 77;
  }
  int rfd = open("/dev/random", O_RDONLY);
  if (rfd < 0 || ioctl(rfd, RNDZAPENTCNT, NULL) < 0) { perror("RNDZAPENTCNT"); return 1; }
  close(rfd);
  printf("E2E-ZAP avail=%ld\n", read_proc("entropy_avail"));
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 3 && strcmp(argv[1], "drain") == 0) return drain(atoi(argv[2]));
  if (argc >= 3 && strcmp(argv[1], "run") == 0) return run(argv + 2);
  if (argc >= 3 && strcmp(argv[1], "term") == 0) return term((pid_t)atoi(argv[2]), argc >= 4 ? atof(argv[3]) : 5000);
  if (argc >= 5 && strcmp(argv[1], "waitfile") == 0) return waitfile(argv[2], (pid_t)atoi(argv[3]), atof(argv[4]));
  if (argc >= 3 && strcmp(argv[1], "ipcrm") == 0) return ipcrm((key_t)atoi(argv[2]));
  if (argc >= 2 && strcmp(argv[1], "zap") == 0) return zap();
  if (argc >= 2 && strcmp(argv[1], "avail") == 0) {
    printf("E2E-AVAIL %ld\n", read_proc("entropy_avail"));
    return 0;
  }
  fprintf(stderr, "usage: legacy-probe drain SECONDS | run CMD... | term PID [MS] | waitfile FILE PID MS | ipcrm KEY | zap | avail\n");
  return 64;
}
