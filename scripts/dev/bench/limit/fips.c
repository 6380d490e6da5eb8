/* The bench's "limit" row: a plain scalar C implementation of the same FIPS 140-2
 * block tests as rngtest and vrngd check (bench code only, never shipped). Reads
 * stdin or a file, takes the first 32-bit word as the continuous-test bootstrap,
 * tests every whole 2,500-byte block and prints the counts with rngtest's labels
 * (prefix "limit: ") so the bench can compare them, plus the CPU time of the
 * tests alone.
 *
 * Monobit by popcount of 64-bit words, poker from a byte histogram split into
 * nibbles once per block, runs by a (run state, byte) table built at start-up by
 * running fips.c's own bit loop over every state and byte (one lookup and four
 * 64-bit adds of packed counters per byte). A change-mask walk with
 * count-leading-zeros (x ^ (x >> 1), one step per run) measured 4x slower here
 * random data ends ~10,000 runs per block and each step mispredicts. rng-tools' fips.c quirks are kept: the run bucket
 * is picked by the bit that starts after a change, the last run by its own bit,
 * rlength starts at -1 (a phantom run in runs[-1], which in fips.c's struct is
 * poker[15]), the continuous test on native little-endian 32-bit words.
 *
 *   cc -O2 -march=native -o fips-limit fips.c && ./fips-limit [FILE] < input
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define BLOCK 2500
static unsigned char buf[1 << 20];

static uint32_t last32;
static int last_bit;
static unsigned long blocks_ok, blocks_bad, fail[5];


/* run state: bit 5 = the current run's bit, bits 0..4 = rlength + 1 (rlength -1..25, saturated) */
struct entry { uint64_t lanes[4]; };
static struct entry table[64][256];
static unsigned char next_state[64][256];

static void build_table(void) {
  for (int s = 0; s < 64; s++) {
    if ((s & 31) > 26) continue;
    for (int b = 0; b < 256; b++) {
      int lastb = s >> 5, rl = (s & 31) - 1, lanes[16] = {0};
      for (int j = 7; j >= 0; j--) {
        int bit = (b >> j) & 1;
        if (bit != lastb) {
          lanes[1 + (rl < 5 ? rl : 5) + 6 * bit]++;
          if (rl >= 25) lanes[13]++;
          rl = 0;
          lastb = bit;
        } else if (rl < 25) rl++;
        else rl = 25; /* saturated: 26+ bits, the same buckets and verdicts */
      }
      for (int k = 0; k < 14; k++) table[s][b].lanes[k >> 2] += (uint64_t)lanes[k] << (16 * (k & 3));
      next_state[s][b] = (unsigned char)((lastb << 5) | (rl + 1));
    }
  }
}

static int test_block(const unsigned char *p) {
  int result = 0;
  uint32_t counts[256] = {0};
  int runs[13] = {0}; /* runs[0] is fips.c's runs[-1] (poker[15]) */
  int ones = 0, longrun = 0;
  for (int i = 0; i < BLOCK; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    if (w == last32) result |= 0x10;
    last32 = w;
  }
  for (int i = 0; i < BLOCK; i++) counts[p[i]]++;
  /* runs: a (run state, byte) table made by running fips.c's bit loop on every
   * state and byte once (build_table); per byte one lookup and four 64-bit adds
   * of packed 16-bit run counters (a block has at most 20,000 runs) */
  uint64_t acc[4] = {0, 0, 0, 0};
  int s = (last_bit << 5) | 0; /* rlength -1 */
  for (int i = 0; i < BLOCK; i++) {
    const struct entry *e = &table[s][p[i]];
    acc[0] += e->lanes[0];
    acc[1] += e->lanes[1];
    acc[2] += e->lanes[2];
    acc[3] += e->lanes[3];
    s = next_state[s][p[i]];
  }
  for (int i = 0; i < BLOCK; i += 8) {
    uint64_t w = 0;
    memcpy(&w, p + i, i + 8 <= BLOCK ? 8 : 4);
    ones += __builtin_popcountll(w);
  }
  for (int k = 0; k < 13; k++) runs[k] = (int)((acc[k >> 2] >> (16 * (k & 3))) & 0xffff);
  longrun = (int)((acc[3] >> 16 * 1) & 0xffff) != 0;
  {
    int cur = s >> 5, rl = (s & 31) - 1;
    runs[1 + (rl < 5 ? rl : 5) + 6 * cur]++;
    if (rl >= 25) longrun = 1;
    last_bit = cur;
  }
  int poker[16] = {0};
  for (int h = 0; h < 16; h++)
    for (int l = 0; l < 16; l++) {
      uint32_t n = counts[h << 4 | l];
      poker[h] += n;
      poker[l] += n;
    }
  poker[15] += runs[0];
  long sum = 0;
  for (int n = 0; n < 16; n++) sum += (long)poker[n] * poker[n];
  static const int rmin[6] = {2315, 1114, 527, 240, 103, 103};
  static const int rmax[6] = {2685, 1386, 723, 384, 209, 209};
  if (ones >= 10275 || ones <= 9725) result |= 0x01;
  if (sum > 1576928 || sum < 1563176) result |= 0x02;
  for (int k = 0; k < 12; k++)
    if (runs[1 + k] < rmin[k % 6] || runs[1 + k] > rmax[k % 6]) result |= 0x04;
  if (longrun) result |= 0x08;
  return result;
}

int main(int argc, char **argv) {
  build_table();
  int fd = argc > 1 ? open(argv[1], O_RDONLY) : 0;
  if (fd < 0) { perror(argv[1]); return 66; }
  size_t have = 0;
  unsigned long long bytes = 0;
  int boot = 0;
  double cpu = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n < 0) { perror("read"); return 74; }
    bytes += (unsigned long long)n;
    have += (size_t)n;
    size_t at = 0;
    if (!boot && have >= 4) { memcpy(&last32, buf, 4); at = 4; boot = 1; }
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (; boot && at + BLOCK <= have; at += BLOCK) {
      int r = test_block(buf + at);
      if (r) {
        blocks_bad++;
        for (int k = 0; k < 5; k++) if (r & (1 << k)) fail[k]++;
      } else blocks_ok++;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    cpu += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    memmove(buf, buf + at, have - at);
    have -= at;
    if (n == 0) break;
  }
  printf("limit: bits received from input: %llu\n", bytes * 8);
  printf("limit: FIPS 140-2 successes: %lu\n", blocks_ok);
  printf("limit: FIPS 140-2 failures: %lu\n", blocks_bad);
  static const char *names[5] = {"Monobit", "Poker", "Runs", "Long run", "Continuous run"};
  for (int k = 0; k < 5; k++) printf("limit: FIPS 140-2(2001-10-10) %s: %lu\n", names[k], fail[k]);
  printf("limit: tests CPU seconds: %.6f\n", cpu);
  return blocks_ok > 0 && blocks_bad == 0 ? 0 : 1;
}
