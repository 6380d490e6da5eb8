/*
 * repeat.c - the repeat memory (src/core/repeat-memory.ts) in C, for the
 * daemon's feed path (issue 16: in JS it was 57 % of the pipeline's CPU).
 *
 * The same algorithm, bit for bit: the same rolling hash of every 16-byte
 * window, the same exact check against this block and the one before (byte by
 * byte confirmed), the same anchors (top 7 bits of hash * 0x85ebca6b zero), the
 * same slot/tag mixes and the same two open-addressed 2^21-slot tables taking
 * turns every HISTORY_BLOCKS blocks. So the header comment of repeat-memory.ts,
 * its false-positive and miss analysis included, is this file's too, and
 * test/native/repeat-agreement.test.ts holds both to the same verdicts on random
 * data, exact and shifted replays, replays after 70,000 blocks and across the
 * table swap.
 *
 * JS: repeatCreate(blockBytes) → an opaque handle (an external; freed by the
 * GC's finaliser), repeatSeen(handle, data, offset) → boolean. The long tables
 * are calloc'ed on the first anchor (mmap'ed zero pages: an idle daemon touches
 * none of them); at a swap the old table is emptied with memset, as the JS one is
 * with fill(0).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addon.h"

#define WINDOW 16
#define HISTORY_BLOCKS 65536u
#define ANCHOR_BITS 7
#define LONG_TABLE_BITS 21
#define SHORT_TABLE_BITS 14
#define HASH_BASE 0x01000193u
#define MAX_BLOCK_BYTES 65536

/*
 * The exact table: one table for the previous block and the one being judged,
 * two ways per slot (block n uses way n & 1, tagged with its stamp n), so that a
 * window's probe of the previous block and its insertion into this one touch the
 * same cache line. A way whose stamp is neither is empty. Same contents as the
 * JS reference's two WindowTables (every hit confirmed byte by byte), so the
 * same verdicts; only the layout differs.
 */
struct way {
	uint32_t stamp, hash, start;
};

struct short_slot {
	struct way w[2];
};

struct repeat_memory {
	uint32_t block_bytes, windows;
	uint32_t base_pow;
	uint8_t *history; /* previous block at [0, B), the block judged at [B, 2B) */
	struct short_slot *table;
	uint32_t stamp; /* of the next block; >= 2, so stamp - 1 >= 1 and 0 is never live */
	uint32_t *long_current, *long_previous;
	uint32_t long_blocks;
	uint32_t *anchor_slots, *anchor_tags;
	uint32_t anchors;
};

static inline uint32_t short_slot_of(uint32_t hash)
{
	return (hash * 0x9e3779b1u) >> (32 - SHORT_TABLE_BITS);
}

/*
 * Stamps restart at 2 every ~2^32 blocks (10 TB): called when the next block's
 * stamp would be STAMP_WRAP. The previous block's stamp is then STAMP_WRAP - 1,
 * odd, so its windows are in way 1, where stamp 1 (odd too) keeps them: they get
 * stamp 1, every other way stamp 0 (empty), and the next block is stamp 2.
 */
#define STAMP_WRAP 0xfffffff0u
static void table_restamp(struct repeat_memory *m)
{
	uint32_t s;

	for (s = 0; s < (1u << SHORT_TABLE_BITS); s++) {
		m->table[s].w[0].stamp = 0;
		m->table[s].w[1].stamp = m->table[s].w[1].stamp == STAMP_WRAP - 1 ? 1 : 0;
	}
	m->stamp = 2;
}

static inline uint32_t rotl(uint32_t v, int r)
{
	return (v << r) | (v >> (32 - r));
}

static inline uint32_t fmix(uint32_t v)
{
	v ^= v >> 16;
	v *= 0x85ebca6bu;
	v ^= v >> 13;
	v *= 0xc2b2ae35u;
	return v ^ (v >> 16);
}

static void note_anchor(struct repeat_memory *m, const uint8_t *h, uint32_t at)
{
	uint32_t a = 0x9747b28cu, b = 0x2545f491u, w;
	int k;

	for (k = 0; k < WINDOW; k += 4) {
		w = (uint32_t)h[at + k] | ((uint32_t)h[at + k + 1] << 8) | ((uint32_t)h[at + k + 2] << 16) | ((uint32_t)h[at + k + 3] << 24);
		a = rotl((a ^ w) * 0xcc9e2d51u, 15);
		b = rotl((b ^ w) * 0x1b873593u, 13);
	}
	a = fmix(a);
	b = fmix(b);
	m->anchor_slots[m->anchors] = a >> (32 - LONG_TABLE_BITS);
	m->anchor_tags[m->anchors] = b == 0 ? 1 : b;
	m->anchors++;
}

/* Linear probing from slot: the slot holding tag (>= 0), or -(first empty slot) - 1. */
static int64_t long_find(const uint32_t *table, uint32_t slot, uint32_t tag)
{
	const uint32_t mask = (1u << LONG_TABLE_BITS) - 1;
	uint32_t s;

	for (s = slot;; s = (s + 1) & mask) {
		if (table[s] == tag)
			return s;
		if (table[s] == 0)
			return -(int64_t)s - 1;
	}
}

/* 1: an anchor was known; 0: none; -1: out of memory. */
static int remember_anchors(struct repeat_memory *m)
{
	uint32_t i, *cur, *prev, *t;
	bool known = false;
	int64_t s;

	if (m->anchors == 0)
		return 0;
	if (!m->long_current) {
		m->long_current = calloc((size_t)1 << LONG_TABLE_BITS, sizeof(uint32_t));
		m->long_previous = calloc((size_t)1 << LONG_TABLE_BITS, sizeof(uint32_t));
		if (!m->long_current || !m->long_previous) {
			free(m->long_current);
			free(m->long_previous);
			m->long_current = m->long_previous = NULL;
			return -1;
		}
	}
	cur = m->long_current;
	prev = m->long_previous;
	for (i = 0; i < m->anchors; i++) {
		if (long_find(prev, m->anchor_slots[i], m->anchor_tags[i]) >= 0)
			known = true;
		s = long_find(cur, m->anchor_slots[i], m->anchor_tags[i]);
		if (s >= 0)
			known = true;
		else
			cur[-s - 1] = m->anchor_tags[i];
	}
	if (++m->long_blocks >= HISTORY_BLOCKS) {
		m->long_blocks = 0;
		memset(prev, 0, ((size_t)1 << LONG_TABLE_BITS) * sizeof(uint32_t));
		t = m->long_previous;
		m->long_previous = m->long_current;
		m->long_current = t;
	}
	return known;
}

/* Whether any 16 bytes of block were seen before; remembers it either way. -1: out of memory. */
static int repeat_seen(struct repeat_memory *m, const uint8_t *block)
{
	const uint32_t B = m->block_bytes, mask = (1u << SHORT_TABLE_BITS) - 1;
	uint8_t *h = m->history;
	struct short_slot *T = m->table;
	bool repeated = false;
	uint32_t x = 0, i, start, s, s0;
	uint32_t S, P, cw, pw;
	int k, r;

	if (m->stamp == STAMP_WRAP)
		table_restamp(m);
	S = m->stamp;
	P = S - 1;
	cw = S & 1;
	pw = cw ^ 1;
	memcpy(h + B, block, B);
	m->anchors = 0;
	for (k = 0; k < WINDOW - 1; k++)
		x = x * HASH_BASE + h[B + k];
	for (i = 0; i < m->windows; i++) {
		start = B + i;
		x = x * HASH_BASE + h[start + WINDOW - 1];
		s0 = short_slot_of(x);
		/* the previous block's windows sit at [0, B-15) of history, this block's at [B, 2B-15) */
		if (!repeated)
			for (s = s0; T[s].w[pw].stamp == P; s = (s + 1) & mask)
				if (T[s].w[pw].hash == x && memcmp(h + T[s].w[pw].start, h + start, WINDOW) == 0) {
					repeated = true;
					break;
				}
		for (s = s0; T[s].w[cw].stamp == S; s = (s + 1) & mask)
			if (!repeated && T[s].w[cw].hash == x && memcmp(h + B + T[s].w[cw].start, h + start, WINDOW) == 0) {
				repeated = true; /* an equal window is in the table already */
				goto added;
			}
		T[s].w[cw].stamp = S;
		T[s].w[cw].hash = x;
		T[s].w[cw].start = i;
	added:
		if ((x * 0x85ebca6bu) >> (32 - ANCHOR_BITS) == 0)
			note_anchor(m, h, start);
		x -= (uint32_t)h[start] * m->base_pow; /* drop the outgoing byte for the next window */
	}
	r = remember_anchors(m);
	if (r < 0)
		return -1;
	if (r)
		repeated = true;
	memmove(h, h + B, B);
	m->stamp = S + 1;
	return repeated;
}

static void repeat_free(struct repeat_memory *m)
{
	if (!m)
		return;
	free(m->history);
	free(m->table);
	free(m->long_current);
	free(m->long_previous);
	free(m->anchor_slots);
	free(m->anchor_tags);
	free(m);
}

static void finalize(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	repeat_free(data);
}

static napi_value repeat_create(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], result;
	int32_t block_bytes;
	struct repeat_memory *m;
	uint32_t k;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || !vrngd_arg_int(env, argv[0], WINDOW, MAX_BLOCK_BYTES, &block_bytes))
		return vrngd_usage(env, "Usage: repeatCreate(blockBytes): 16 to 65536");
	m = calloc(1, sizeof(*m));
	if (m) {
		m->block_bytes = (uint32_t)block_bytes;
		m->windows = m->block_bytes - WINDOW + 1;
		m->base_pow = 1;
		for (k = 1; k < WINDOW; k++)
			m->base_pow *= HASH_BASE;
		m->history = malloc(2 * (size_t)m->block_bytes);
		m->table = calloc((size_t)1 << SHORT_TABLE_BITS, sizeof(struct short_slot));
		m->stamp = 2;
		m->anchor_slots = malloc(m->windows * sizeof(uint32_t));
		m->anchor_tags = malloc(m->windows * sizeof(uint32_t));
	}
	if (!m || !m->history || !m->table || !m->anchor_slots || !m->anchor_tags) {
		repeat_free(m);
		return vrngd_throw_errno(env, "repeatCreate", ENOMEM);
	}
	if (napi_create_external(env, m, finalize, NULL, &result) != napi_ok) {
		repeat_free(m);
		vrngd_napi_ok(env, napi_generic_failure, "napi_create_external");
		return NULL;
	}
	return result;
}

static napi_value repeat_seen_js(napi_env env, napi_callback_info info)
{
	size_t argc = 3, length;
	napi_value argv[3], result;
	napi_valuetype t;
	void *data, *handle;
	int32_t offset = 0;
	struct repeat_memory *m;
	int r;

	CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2)
		return vrngd_usage(env, "Usage: repeatSeen(memory, data, offset)");
	CALL(env, napi_typeof(env, argv[0], &t));
	if (t != napi_external)
		return vrngd_usage(env, "Usage: repeatSeen(memory, data, offset): memory must come from repeatCreate");
	CALL(env, napi_get_value_external(env, argv[0], &handle));
	m = handle;
	if (!vrngd_arg_typed(env, argv[1], napi_uint8_array, &data, &length))
		return vrngd_usage(env, "Usage: repeatSeen(memory, data, offset): data must be a Uint8Array");
	if (argc >= 3 && !vrngd_arg_int(env, argv[2], 0, INT32_MAX, &offset))
		return vrngd_usage(env, "Usage: repeatSeen(memory, data, offset): offset must be a whole number");
	if ((uint64_t)offset + m->block_bytes > length)
		return vrngd_out_of_range(env, "repeatSeen: data must hold one block from offset");
	r = repeat_seen(m, (const uint8_t *)data + offset);
	if (r < 0)
		return vrngd_throw_errno(env, "repeatSeen", ENOMEM);
	CALL(env, napi_get_boolean(env, r == 1, &result));
	return result;
}

napi_value vrngd_export_repeat(napi_env env, napi_value exports)
{
	if (!vrngd_export(env, exports, "repeatCreate", repeat_create) ||
	    !vrngd_export(env, exports, "repeatSeen", repeat_seen_js))
		return NULL;
	return exports;
}
