/*
 * fips.c - the FIPS 140-2 (2001-10-10) block tests in C, bit-exact with the JS
 * engine (src/core/fips.ts, the reference) and with rng-tools' fips.c, quirks
 * included: the run bucket is the one of the bit that starts after a change, the
 * block's last run is counted under its own bit, a block whose first bit differs
 * from the previous block's last bit counts a phantom run in runs[-1] (which in
 * fips.c's struct is poker[15], so it counts in the poker sum), the continuous
 * test on little-endian 32-bit words.
 *
 * Same method as fips.ts, written for C: per byte, one step of a (run state, byte)
 * table that yields the next state and an event code (the at most two runs that
 * touch the byte's edges, and the long-run verdict), counted in a small histogram;
 * a byte histogram gives poker, monobit and the runs strictly inside bytes once
 * per block. The table is built here at load, by running fips.c's own bit loop
 * over every state and byte (no shared code with fips.ts or the bench's limit),
 * once per process.
 * The two halves of a block are scanned as two independent chains and stitched.
 *
 *   fipsTestBlocks(data, blocks, last32, lastBit, masks[, stats])   synchronous
 *   fipsTestBlocksAsync(data, blocks, last32, lastBit, masks)       on libuv's pool;
 *     resolves the nanoseconds the tests took (CLOCK_MONOTONIC, by syscall: the
 *     libc clock_gettime is GLIBC_2.17, above the 2.12 floor)
 * Block k of data[0, 2500*blocks) gets its failure mask in masks[k]; last32 and
 * lastBit are the continuous-test word and last bit before block 0 (for block 0
 * of a stream: the bootstrap word and 0; else the previous block's last word and
 * its last bit). stats, when given: 14 int32 per block (ones, poker sum, runs[0..11]).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "addon.h"

#define BLOCK 2500
#define HALF 1248 /* 312 words: the second chain starts here */
#define LONG_RUN 26
#define SLOT_PHANTOM 12 /* runs[-1], i.e. poker[15] */
#define SLOT_NONE 13
#define B_NONE 12
#define CODES (14 * 13 * 2)
#define REGION 368 /* CODES rounded up */
#define STATS_PER_BLOCK 14
#define MAX_BLOCKS (1 << 20)

#define FIPS_MONOBIT 0x01
#define FIPS_POKER 0x02
#define FIPS_RUNS 0x04
#define FIPS_LONGRUN 0x08
#define FIPS_CONTINUOUS 0x10

static const int runs_min[6] = { 2315, 1114, 527, 240, 103, 103 };
static const int runs_max[6] = { 2685, 1386, 723, 384, 209, 209 };

/* state = bit << 5 | length (0..26; 0 = block start); entry = state | code << 6 */
static uint16_t step_table[64 * 256];
static uint8_t code_a[CODES], code_b[CODES], code_long[CODES];
/* runs strictly inside each byte: 12 counters as 16-bit fields, 4 per word */
static uint64_t inner[256][3];
static uint8_t lead_length[256];
static const uint8_t nibble_ones[16] = { 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4 };

static int bucket(int rlength, int bit)
{
	/* fips.c: runs[rlength + 6 * bit] for rlength < 5, else runs[5 + 6 * bit]; -1 is the phantom */
	int idx = (rlength < 5 ? rlength : 5) + 6 * bit;
	return idx < 0 ? SLOT_PHANTOM : idx;
}

static void build_tables(void)
{
	int c, len, b, j;

	for (b = 0; b < 256; b++) {
		/* inner runs and lead length: the byte alone, entered as a continuing run of its first bit */
		int last = b >> 7, rl = -1, n = 0;
		for (j = 7; j >= 0; j--) {
			int bit = (b >> j) & 1;
			if (bit != last) {
				if (n > 0)
					inner[b][bucket(rl, bit) / 4] += (uint64_t)1 << (16 * (bucket(rl, bit) % 4));
				else
					lead_length[b] = (uint8_t)(rl + 1);
				n++;
				rl = 0;
				last = bit;
			} else {
				rl++;
			}
		}
		if (n == 0)
			lead_length[b] = 8;
	}
	for (c = 0; c < 2; c++)
		for (len = 0; len <= LONG_RUN; len++)
			for (b = 0; b < 256; b++) {
				int last = c, rl = len - 1, ended = 0, a = SLOT_NONE, bb = B_NONE, lng = 0;
				int first_differs = (b >> 7) != c;
				for (j = 7; j >= 0; j--) {
					int bit = (b >> j) & 1;
					if (bit != last) {
						int idx = bucket(rl, bit);
						if (ended == 0) {
							a = idx;
							lng = rl >= LONG_RUN - 1;
						} else if (ended == 1 && first_differs) {
							bb = idx;
						}
						ended++;
						rl = 0;
						last = bit;
					} else {
						rl++;
					}
				}
				if (rl + 1 > LONG_RUN)
					rl = LONG_RUN - 1;
				{
					int code = (a * 13 + bb) * 2 + lng;
					step_table[((c << 5 | len) << 8) | b] = (uint16_t)((last << 5 | (rl + 1)) | code << 6);
				}
			}
	for (j = 0; j < CODES; j++) {
		code_long[j] = (uint8_t)(j & 1);
		code_b[j] = (uint8_t)((j >> 1) % 13 == B_NONE ? SLOT_NONE : (j >> 1) % 13);
		code_a[j] = (uint8_t)((j >> 1) / 13);
	}
}

/*
 * The tables are written once and only read after: each load of the addon (the main
 * thread, a Worker) calls this, and a load in a Worker must not rewrite them under a
 * pool thread that is testing. __atomic builtins: no libc symbol (pthread_once is
 * GLIBC_2.34 on a new glibc, above the 2.12 floor).
 */
static int tables_state; /* 0 not built, 1 being built, 2 built */

static void ensure_tables(void)
{
	int expected = 0;

	if (__atomic_load_n(&tables_state, __ATOMIC_ACQUIRE) == 2)
		return;
	if (__atomic_compare_exchange_n(&tables_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		build_tables();
		__atomic_store_n(&tables_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&tables_state, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct scratch {
	uint32_t hist[2][256];
	uint32_t events[4][REGION];
};

/* One block; returns its mask and moves *last32 and *last_bit on. */
static int test_block(struct scratch *sc, const uint8_t *p, uint32_t *last32, int *last_bit, int32_t *stats)
{
	uint32_t *h0 = sc->hist[0], *h1 = sc->hist[1];
	uint32_t *e0 = sc->events[0], *e1 = sc->events[1], *e2 = sc->events[2], *e3 = sc->events[3];
	const uint8_t *q = p + HALF;
	unsigned s1 = (unsigned)*last_bit << 5, c2 = q[0] >> 7, s2 = c2 << 5, e;
	uint32_t l1 = *last32, l2 = le32(q - 4), w;
	int repeated = 0, i, k, longrun = 0;
	int runs[14] = { 0 }, fix_sub = SLOT_NONE, fix_add = SLOT_NONE;
	uint32_t poker[16] = { 0 };
	uint64_t packed[3] = { 0, 0, 0 };
	int64_t ones = 0, poker_sum = 0;
	int mask = 0;

	memset(sc, 0, sizeof(*sc));
#define STEP(s, byte, hist, ev)                         \
	do {                                            \
		unsigned x_ = (byte);                   \
		hist[x_]++;                             \
		e = step_table[(s) << 8 | x_];          \
		ev[e >> 6]++;                           \
		s = e & 63;                             \
	} while (0)
	for (i = 0; i < HALF; i += 4) {
		uint32_t wa = le32(p + i), wb = le32(q + i);
		repeated |= (wa == l1) | (wb == l2);
		l1 = wa;
		l2 = wb;
		STEP(s1, p[i], h0, e0);
		STEP(s2, q[i], h1, e2);
		STEP(s1, p[i + 1], h0, e1);
		STEP(s2, q[i + 1], h1, e3);
		STEP(s1, p[i + 2], h0, e0);
		STEP(s2, q[i + 2], h1, e2);
		STEP(s1, p[i + 3], h0, e1);
		STEP(s2, q[i + 3], h1, e3);
	}
	/* the second half's last word (it is 1,252 bytes) */
	w = le32(p + BLOCK - 4);
	repeated |= w == l2;
	l2 = w;
	for (i = BLOCK - 4; i < BLOCK; i++)
		STEP(s2, p[i], h1, e3);
#undef STEP

	/* stitch the first half's open run (c1, r1) to the second half's first run */
	{
		unsigned c1 = s1 >> 5, r1 = s1 & 31;
		if (c1 != c2) {
			fix_add = bucket((int)r1 - 1, (int)c2);
			longrun |= r1 >= LONG_RUN;
		} else {
			unsigned uniform = c2 ? 0xff : 0, f2 = 0;
			const uint8_t *r = q;
			while (f2 < LONG_RUN && *r == uniform) {
				f2 += 8;
				r++;
			}
			if (f2 < LONG_RUN) {
				if ((unsigned)(*r >> 7) == c2)
					f2 += lead_length[*r];
				fix_sub = bucket((int)f2 - 1, (int)(1 - c2));
				fix_add = bucket((int)(r1 + f2) - 1, (int)(1 - c2));
				longrun |= r1 + f2 >= LONG_RUN;
			}
		}
	}

	for (k = 0; k < CODES; k++) {
		uint32_t n = e0[k] + e1[k] + e2[k] + e3[k];
		if (!n)
			continue;
		runs[code_a[k]] += (int)n;
		runs[code_b[k]] += (int)n;
		longrun |= code_long[k];
	}
	runs[fix_sub]--;
	runs[fix_add]++;

	/* the block's last run, under its own bit */
	{
		unsigned bit = s2 >> 5, len = s2 & 31;
		runs[bucket((int)len - 1, (int)bit)]++;
		longrun |= len >= LONG_RUN;
		*last_bit = (int)bit;
	}

	for (i = 0; i < 256; i++) {
		uint32_t n = h0[i] + h1[i];
		poker[i >> 4] += n;
		poker[i & 15] += n;
		packed[0] += n * inner[i][0];
		packed[1] += n * inner[i][1];
		packed[2] += n * inner[i][2];
	}
	for (i = 0; i < 12; i++)
		runs[i] += (int)((packed[i / 4] >> (16 * (i % 4))) & 0xffff);
	for (i = 0; i < 16; i++) {
		int64_t g = (int64_t)poker[i] + (i == 15 ? runs[SLOT_PHANTOM] : 0);
		ones += (int64_t)poker[i] * nibble_ones[i];
		poker_sum += g * g;
	}

	if (repeated)
		mask |= FIPS_CONTINUOUS;
	if (longrun)
		mask |= FIPS_LONGRUN;
	if (ones >= 10275 || ones <= 9725)
		mask |= FIPS_MONOBIT;
	if (poker_sum > 1576928 || poker_sum < 1563176)
		mask |= FIPS_POKER;
	for (i = 0; i < 12; i++)
		if (runs[i] < runs_min[i % 6] || runs[i] > runs_max[i % 6])
			mask |= FIPS_RUNS;
	if (stats) {
		stats[0] = (int32_t)ones;
		stats[1] = (int32_t)poker_sum;
		for (i = 0; i < 12; i++)
			stats[2 + i] = runs[i];
	}
	*last32 = l2;
	return mask;
}

static void test_blocks(const uint8_t *data, uint32_t blocks, uint32_t last32, int last_bit, uint8_t *masks, int32_t *stats)
{
	struct scratch sc;
	uint32_t k;

	for (k = 0; k < blocks; k++)
		masks[k] = (uint8_t)test_block(&sc, data + (size_t)k * BLOCK, &last32, &last_bit, stats ? stats + (size_t)k * STATS_PER_BLOCK : NULL);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct fips_args {
	const uint8_t *data;
	uint8_t *masks;
	int32_t *stats;
	uint32_t blocks, last32;
	int last_bit;
};

/* A typed array's bytes (a Uint8ClampedArray counts as a Uint8Array); false (after a throw) when v is not one. */
static bool typed_bytes(napi_env env, napi_value v, napi_typedarray_type want, void **bytes, size_t *length)
{
	if (vrngd_arg_typed(env, v, want, bytes, length) ||
	    (want == napi_uint8_array && vrngd_arg_typed(env, v, napi_uint8_clamped_array, bytes, length)))
		return true;
	return vrngd_usage(env, "fipsTestBlocks: data, masks must be Uint8Arrays, stats an Int32Array"), false;
}

static bool uint32_arg(napi_env env, napi_value v, uint32_t max, uint32_t *out)
{
	int64_t x;

	if (!vrngd_arg_int64(env, v, 0, max, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

#define USAGE "Usage: fipsTestBlocks(data, blocks, last32, lastBit, masks[, stats])"

/* Reads (data, blocks, last32, lastBit, masks[, stats]); false after a throw. */
static bool read_args(napi_env env, size_t argc, napi_value *argv, bool allow_stats, struct fips_args *a)
{
	void *data, *masks, *stats = NULL;
	size_t data_len, masks_len, stats_len = 0;
	uint32_t last_bit;
	napi_valuetype t = napi_undefined;

	if (argc < 5 || !uint32_arg(env, argv[1], MAX_BLOCKS, &a->blocks) || !uint32_arg(env, argv[2], UINT32_MAX, &a->last32) ||
	    !uint32_arg(env, argv[3], 1, &last_bit))
		return vrngd_usage(env, USAGE), false;
	if (!typed_bytes(env, argv[0], napi_uint8_array, &data, &data_len) || !typed_bytes(env, argv[4], napi_uint8_array, &masks, &masks_len))
		return false;
	if (allow_stats && argc >= 6 && !vrngd_napi_ok(env, napi_typeof(env, argv[5], &t), "napi_typeof"))
		return false;
	if (t != napi_undefined && !typed_bytes(env, argv[5], napi_int32_array, &stats, &stats_len))
		return false;
	if (data_len / BLOCK < a->blocks || masks_len < a->blocks || (stats && stats_len / STATS_PER_BLOCK < a->blocks))
		return vrngd_out_of_range(env, "fipsTestBlocks: data needs 2500 bytes, masks 1 and stats 14 entries per block"), false;
	a->data = data;
	a->masks = masks;
	a->stats = stats;
	a->last_bit = (int)last_bit;
	return true;
}

static napi_value fips_test_blocks(napi_env env, napi_callback_info info)
{
	size_t argc = 6;
	napi_value argv[6];
	struct fips_args a;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (!read_args(env, argc, argv, true, &a))
		return NULL;
	test_blocks(a.data, a.blocks, a.last32, a.last_bit, a.masks, a.stats);
	return NULL;
}

struct fips_work {
	napi_async_work work;
	napi_deferred deferred;
	napi_ref data_ref, masks_ref; /* the arrays stay alive while a pool thread reads and writes them */
	struct fips_args a;
	int64_t ns;
};

static void fips_execute(napi_env env, void *data)
{
	struct fips_work *w = data;
	int64_t t0 = now_ns();

	(void)env;
	test_blocks(w->a.data, w->a.blocks, w->a.last32, w->a.last_bit, w->a.masks, NULL);
	w->ns = now_ns() - t0;
}

static void fips_release(napi_env env, struct fips_work *w)
{
	if (w->data_ref)
		vrngd_napi_ok(env, napi_delete_reference(env, w->data_ref), "napi_delete_reference");
	if (w->masks_ref)
		vrngd_napi_ok(env, napi_delete_reference(env, w->masks_ref), "napi_delete_reference");
	if (w->work)
		vrngd_napi_ok(env, napi_delete_async_work(env, w->work), "napi_delete_async_work");
	free(w);
}

static void fips_complete(napi_env env, napi_status status, void *data)
{
	struct fips_work *w = data;
	napi_value value;

	if (status != napi_ok) {
		if (vrngd_napi_ok(env, napi_create_string_utf8(env, "fipsTestBlocksAsync cancelled", NAPI_AUTO_LENGTH, &value), "napi_create_string_utf8") &&
		    vrngd_napi_ok(env, napi_create_error(env, NULL, value, &value), "napi_create_error"))
			vrngd_napi_ok(env, napi_reject_deferred(env, w->deferred, value), "napi_reject_deferred");
	} else if (vrngd_napi_ok(env, napi_create_double(env, (double)(w->ns > 0 ? w->ns : 1), &value), "napi_create_double")) {
		vrngd_napi_ok(env, napi_resolve_deferred(env, w->deferred, value), "napi_resolve_deferred");
	}
	fips_release(env, w);
}

static napi_value fips_test_blocks_async(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5], promise, name;
	struct fips_work *w;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	w = calloc(1, sizeof(*w));
	if (!w)
		return vrngd_throw_errno(env, "calloc", ENOMEM);
	if (!read_args(env, argc, argv, false, &w->a) ||
	    !vrngd_napi_ok(env, napi_create_reference(env, argv[0], 1, &w->data_ref), "napi_create_reference") ||
	    !vrngd_napi_ok(env, napi_create_reference(env, argv[4], 1, &w->masks_ref), "napi_create_reference") ||
	    !vrngd_napi_ok(env, napi_create_string_utf8(env, "vrngd.fips", NAPI_AUTO_LENGTH, &name), "napi_create_string_utf8") ||
	    !vrngd_napi_ok(env, napi_create_async_work(env, NULL, name, fips_execute, fips_complete, w, &w->work), "napi_create_async_work")) {
		fips_release(env, w);
		return NULL;
	}
	/* the promise last: a failure before it leaves no deferred that nobody settles */
	if (!vrngd_napi_ok(env, napi_create_promise(env, &w->deferred, &promise), "napi_create_promise") ||
	    !vrngd_napi_ok(env, napi_queue_async_work(env, w->work), "napi_queue_async_work")) {
		fips_release(env, w);
		return NULL;
	}
	return promise;
}

napi_value vrngd_export_fips(napi_env env, napi_value exports)
{
	ensure_tables();
	if (!vrngd_export(env, exports, "fipsTestBlocks", fips_test_blocks) ||
	    !vrngd_export(env, exports, "fipsTestBlocksAsync", fips_test_blocks_async))
		return NULL;
	return exports;
}
