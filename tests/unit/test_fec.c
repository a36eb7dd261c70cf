/* Unit tests for the Reed–Solomon codec (common/fec/fec.c).
 *
 * Random cases draw from a xorshift PRNG; the seed is taken from
 * $SL_TEST_SEED if set, else from the clock, and every failure message
 * names it, so a failing case can be replayed exactly.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fec.h"

static uint64_t rng_state, seed;

static void seed_rng(void)
{
	const char *s = getenv("SL_TEST_SEED");
	if (s && *s) {
		seed = strtoull(s, NULL, 0);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
	}
	if (!seed)
		seed = 1;
	rng_state = seed;
}

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A block under test: k data rows, and parity rows k..254 on demand. */
struct blk {
	unsigned k;
	size_t len;
	uint8_t *orig[SL_FEC_ROWS];  /* reference copy of every row */
	uint8_t *work[SL_FEC_ROWS];  /* data buffers handed to decode */
	uint8_t present[SL_FEC_ROWS];
};

/* Allocate rows at an odd offset so nothing relies on alignment. */
static uint8_t *row_alloc(size_t len)
{
	uint8_t *p = malloc(len + 1);
	cr_assert_not_null(p);
	return p + 1;
}

static void row_free(uint8_t *p)
{
	if (p)
		free(p - 1);
}

static void blk_init(struct blk *b, struct sl_fec *f, unsigned k, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->k = k;
	b->len = len;
	for (unsigned r = 0; r < SL_FEC_ROWS; r++) {
		b->orig[r] = row_alloc(len);
		if (r < k) {
			for (size_t i = 0; i < len; i++)
				b->orig[r][i] = (uint8_t)rnd();
			b->work[r] = row_alloc(len);
			memcpy(b->work[r], b->orig[r], len);
			b->present[r] = 1;
		}
	}
	unsigned n = SL_FEC_ROWS - k, rows[SL_FEC_ROWS];
	for (unsigned i = 0; i < n; i++)
		rows[i] = k + i;
	int rc = sl_fec_encode(f, k, len, (const uint8_t *const *)b->orig, n, rows, b->orig + k);
	cr_assert_eq(rc, SL_OK, "encode k=%u len=%zu: %d (seed %llu)", k, len, rc,
		     (unsigned long long)seed);
}

static void blk_free(struct blk *b)
{
	for (unsigned r = 0; r < SL_FEC_ROWS; r++) {
		row_free(b->orig[r]);
		row_free(b->work[r]);
	}
}

/* Lose data row i: its buffer gets a canary pattern. */
static void blk_lose(struct blk *b, unsigned i)
{
	b->present[i] = 0;
	memset(b->work[i], 0xA5, b->len);
}

static void blk_restore(struct blk *b)
{
	for (unsigned i = 0; i < b->k; i++) {
		memcpy(b->work[i], b->orig[i], b->len);
		b->present[i] = 1;
	}
}

static int blk_decode(struct sl_fec *f, struct blk *b, unsigned np, const unsigned *prow)
{
	const uint8_t *psym[4 * SL_FEC_ROWS];
	for (unsigned j = 0; j < np; j++)
		psym[j] = prow[j] < SL_FEC_ROWS && prow[j] >= b->k ? b->orig[prow[j]] : b->orig[0];
	return sl_fec_decode(f, b->k, b->len, b->work, b->present, np, prow, psym);
}

static void blk_expect_all(const struct blk *b, const char *what)
{
	for (unsigned i = 0; i < b->k; i++)
		cr_assert(memcmp(b->work[i], b->orig[i], b->len) == 0,
			  "%s: k=%u len=%zu row %u differs (seed %llu)", what, b->k, b->len, i,
			  (unsigned long long)seed);
}

/* After a failed decode: present rows intact, lost rows still hold the canary. */
static void blk_expect_untouched(const struct blk *b, const char *what)
{
	for (unsigned i = 0; i < b->k; i++) {
		if (b->present[i]) {
			cr_assert(memcmp(b->work[i], b->orig[i], b->len) == 0,
				  "%s: present row %u modified (seed %llu)", what, i,
				  (unsigned long long)seed);
		} else {
			for (size_t j = 0; j < b->len; j++)
				cr_assert_eq(b->work[i][j], 0xA5,
					     "%s: lost row %u written on failure (seed %llu)", what, i,
					     (unsigned long long)seed);
		}
	}
}

static void shuffle(unsigned *v, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rnd_below(i), t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static struct sl_fec *fec;

static void setup(void)
{
	seed_rng();
	cr_assert_eq(sl_fec_new(&fec), SL_OK);
}

static void teardown(void)
{
	sl_fec_free(fec);
	fec = NULL;
}

TestSuite(fec, .init = setup, .fini = teardown);

/* The code is the one FEC.md specifies: parity row r, column j is
 * 1/(r XOR j) in GF(2^8) mod x^8+x^4+x^3+x^2+1, computed here without ISA-L
 * tables: bitwise multiplication and inversion by exponentiation. */
static uint8_t gmul(uint8_t a, uint8_t b)
{
	unsigned p = 0, x = a;
	for (; b; b >>= 1) {
		if (b & 1)
			p ^= x;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	return (uint8_t)p;
}

static uint8_t ginv(uint8_t a)
{
	uint8_t r = 1; /* a^254 */
	for (int i = 0; i < 254; i++)
		r = gmul(r, a);
	return r;
}

Test(fec, encode_matches_spec)
{
	static const unsigned ks[] = {1, 2, 5, 64, 128, 200, 254};
	for (unsigned t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		struct blk b;
		unsigned k = ks[t];
		blk_init(&b, fec, k, 37);
		for (unsigned r = k; r < SL_FEC_ROWS; r += 1 + rnd_below(7)) {
			for (size_t x = 0; x < b.len; x++) {
				uint8_t want = 0;
				for (unsigned j = 0; j < k; j++)
					want ^= gmul(ginv((uint8_t)(r ^ j)), b.orig[j][x]);
				cr_assert_eq(b.orig[r][x], want, "k=%u row %u byte %zu (seed %llu)", k,
					     r, x, (unsigned long long)seed);
			}
		}
		blk_free(&b);
	}
}

Test(fec, encode_any_row_order_and_subset)
{
	unsigned k = 40;
	size_t len = 333;
	struct blk b;
	blk_init(&b, fec, k, len);
	unsigned rows[SL_FEC_ROWS], n = 30;
	uint8_t *out[SL_FEC_ROWS];
	for (unsigned t = 0; t < 20; t++) {
		/* n distinct random parity rows in random order */
		unsigned all[SL_FEC_ROWS];
		for (unsigned i = 0; i < SL_FEC_ROWS - k; i++)
			all[i] = k + i;
		shuffle(all, SL_FEC_ROWS - k);
		memcpy(rows, all, n * sizeof(unsigned));
		for (unsigned i = 0; i < n; i++)
			out[i] = row_alloc(len);
		cr_assert_eq(sl_fec_encode(fec, k, len, (const uint8_t *const *)b.orig, n, rows, out),
			     SL_OK);
		for (unsigned i = 0; i < n; i++) {
			cr_assert(memcmp(out[i], b.orig[rows[i]], len) == 0,
				  "row %u (seed %llu)", rows[i], (unsigned long long)seed);
			row_free(out[i]);
		}
	}
	/* one row at a time gives the same bytes as the batch */
	for (unsigned r = k; r < SL_FEC_ROWS; r += 17) {
		uint8_t *o = row_alloc(len);
		cr_assert_eq(sl_fec_encode(fec, k, len, (const uint8_t *const *)b.orig, 1, &r, &o),
			     SL_OK);
		cr_assert(memcmp(o, b.orig[r], len) == 0, "row %u", r);
		row_free(o);
	}
	blk_free(&b);
}

/* Many (k, m, len) with random erasures of data and parity, always leaving
 * at least k rows: must recover exactly the original data. */
Test(fec, round_trips_random_erasures, .timeout = 60)
{
	static const unsigned ks[] = {1, 2, 3, 7, 16, 32, 64, 100, 128, 200, 254};
	static const unsigned ms[] = {1, 2, 4, 8, 16, 32, 55, 127};
	static const size_t lens[] = {1, 15, 16, 31, 32, 33, 64, 100, 1400, 8195};
	for (unsigned ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
		for (unsigned mi = 0; mi < sizeof(ms) / sizeof(ms[0]); mi++) {
			unsigned k = ks[ki], m = ms[mi];
			if (k + m > SL_FEC_ROWS)
				continue;
			size_t len = lens[rnd_below(sizeof(lens) / sizeof(lens[0]))];
			struct blk b;
			blk_init(&b, fec, k, len);
			for (unsigned trial = 0; trial < 4; trial++) {
				/* parity rows first..first+m-1 sent; lose some of everything */
				unsigned first = k + rnd_below(SL_FEC_ROWS - k - m + 1);
				unsigned idx[SL_FEC_ROWS + 1], n = k + m;
				for (unsigned i = 0; i < n; i++)
					idx[i] = i < k ? i : first + (i - k);
				shuffle(idx, n);
				unsigned lose = rnd_below(m + 1);
				unsigned prow[SL_FEC_ROWS], np = 0;
				for (unsigned i = 0; i < n; i++) {
					if (i < lose) {
						if (idx[i] < k)
							blk_lose(&b, idx[i]);
					} else if (idx[i] >= k) {
						prow[np++] = idx[i];
					}
				}
				int rc = blk_decode(fec, &b, np, prow);
				cr_assert_eq(rc, SL_OK, "k=%u m=%u len=%zu lost=%u: %d (seed %llu)", k,
					     m, len, lose, rc, (unsigned long long)seed);
				blk_expect_all(&b, "random erasures");
				blk_restore(&b);
			}
			blk_free(&b);
		}
	}
}

static const unsigned km[][2] = {{1, 1}, {4, 2}, {32, 4}, {64, 8}, {128, 16},
				 {128, 32}, {200, 55}, {127, 128}};

Test(fec, exactly_m_data_lost_recovers)
{
	for (unsigned t = 0; t < sizeof(km) / sizeof(km[0]); t++) {
		unsigned k = km[t][0], m = km[t][1];
		struct blk b;
		blk_init(&b, fec, k, 1400);
		unsigned idx[SL_FEC_ROWS], prow[SL_FEC_ROWS];
		for (unsigned i = 0; i < k; i++)
			idx[i] = i;
		shuffle(idx, k);
		unsigned e = m < k ? m : k;
		for (unsigned i = 0; i < e; i++)
			blk_lose(&b, idx[i]);
		for (unsigned j = 0; j < m; j++)
			prow[j] = k + j;
		shuffle(prow, m);
		cr_assert_eq(blk_decode(fec, &b, m, prow), SL_OK, "k=%u m=%u (seed %llu)", k, m,
			     (unsigned long long)seed);
		blk_expect_all(&b, "exactly m lost");
		blk_free(&b);
	}
}

Test(fec, m_plus_one_lost_fails_and_leaves_buffers)
{
	for (unsigned t = 0; t < sizeof(km) / sizeof(km[0]); t++) {
		unsigned k = km[t][0], m = km[t][1];
		if (m + 1 > k)
			continue;
		struct blk b;
		blk_init(&b, fec, k, 1400);
		unsigned idx[SL_FEC_ROWS], prow[SL_FEC_ROWS];
		for (unsigned i = 0; i < k; i++)
			idx[i] = i;
		shuffle(idx, k);
		for (unsigned i = 0; i < m + 1; i++)
			blk_lose(&b, idx[i]);
		for (unsigned j = 0; j < m; j++)
			prow[j] = k + j;
		cr_assert_eq(blk_decode(fec, &b, m, prow), SL_ERR_DECODE, "k=%u m=%u", k, m);
		blk_expect_untouched(&b, "m+1 lost");
		/* and with no parity at all */
		cr_assert_eq(blk_decode(fec, &b, 0, NULL), SL_ERR_DECODE);
		blk_expect_untouched(&b, "no parity");
		blk_free(&b);
	}
	struct sl_fec_stats st;
	sl_fec_get_stats(fec, &st);
	cr_assert_eq(st.decodes, 0);
	cr_assert_eq(st.inversions, 0);
}

Test(fec, parity_only_reception)
{
	static const unsigned ks[] = {1, 3, 50, 100, 127};
	for (unsigned t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		unsigned k = ks[t];
		struct blk b;
		blk_init(&b, fec, k, 1000 + t);
		for (unsigned i = 0; i < k; i++)
			blk_lose(&b, i);
		/* k parity rows from anywhere in [k, 255) */
		unsigned all[SL_FEC_ROWS];
		for (unsigned i = 0; i < SL_FEC_ROWS - k; i++)
			all[i] = k + i;
		shuffle(all, SL_FEC_ROWS - k);
		cr_assert_eq(blk_decode(fec, &b, k, all), SL_OK, "k=%u (seed %llu)", k,
			     (unsigned long long)seed);
		blk_expect_all(&b, "parity only");
		blk_free(&b);
	}
}

/* Pass 1 sends rows k..k+m-1, pass 2 (a new encoder, as after a sender
 * restart) rows k+m..k+2m-1; neither pass alone repairs the block, the
 * union does. */
Test(fec, passes_mixed)
{
	unsigned k = 128, m = 16;
	size_t len = 1400;
	struct blk b;
	blk_init(&b, fec, k, len);
	struct sl_fec *f2;
	cr_assert_eq(sl_fec_new(&f2), SL_OK);
	unsigned rows2[SL_FEC_ROWS];
	uint8_t *out2[SL_FEC_ROWS];
	for (unsigned j = 0; j < m; j++) {
		rows2[j] = k + m + j;
		out2[j] = row_alloc(len);
	}
	cr_assert_eq(sl_fec_encode(f2, k, len, (const uint8_t *const *)b.orig, m, rows2, out2),
		     SL_OK);
	sl_fec_free(f2);

	unsigned idx[SL_FEC_ROWS];
	for (unsigned i = 0; i < k; i++)
		idx[i] = i;
	shuffle(idx, k);
	unsigned lost = m + m / 4; /* more than one pass can repair */
	for (unsigned i = 0; i < lost; i++)
		blk_lose(&b, idx[i]);
	/* pass 1 lost half its parity, pass 2 lost a quarter of its parity */
	unsigned prow[SL_FEC_ROWS];
	const uint8_t *psym[SL_FEC_ROWS];
	unsigned np = 0;
	for (unsigned j = 0; j < m; j += 2) {
		prow[np] = k + j;
		psym[np++] = b.orig[k + j];
	}
	unsigned np1 = np;
	for (unsigned j = 0; j < m; j++) {
		if (j % 4 == 3)
			continue;
		prow[np] = rows2[j];
		psym[np++] = out2[j];
	}
	cr_assert_geq(np, lost);
	/* pass 1 alone fails, untouched */
	cr_assert_eq(sl_fec_decode(fec, k, len, b.work, b.present, np1, prow, psym),
		     SL_ERR_DECODE);
	blk_expect_untouched(&b, "pass 1 alone");
	/* pass 2 alone fails, untouched */
	cr_assert_eq(sl_fec_decode(fec, k, len, b.work, b.present, np - np1, prow + np1,
				   psym + np1), SL_ERR_DECODE);
	blk_expect_untouched(&b, "pass 2 alone");
	/* the union decodes */
	cr_assert_eq(sl_fec_decode(fec, k, len, b.work, b.present, np, prow, psym), SL_OK,
		     "seed %llu", (unsigned long long)seed);
	blk_expect_all(&b, "passes mixed");
	for (unsigned j = 0; j < m; j++)
		row_free(out2[j]);
	blk_free(&b);
}

Test(fec, duplicates_and_out_of_range_rows_ignored)
{
	unsigned k = 64;
	size_t len = 512;
	struct blk b;
	blk_init(&b, fec, k, len);
	uint8_t *junk = row_alloc(len);
	memset(junk, 0x3c, len);
	blk_lose(&b, 3);
	blk_lose(&b, 40);
	blk_lose(&b, 63);
	/* row 70 three times (later copies are junk), plus rows that are not
	 * parity rows of this block: only 2 distinct parity rows -> failure */
	unsigned prow[] = {70, 70, 5, 255, 1000, 70, 90};
	const uint8_t *psym[] = {b.orig[70], junk, junk, junk, junk, junk, b.orig[90]};
	cr_assert_eq(sl_fec_decode(fec, k, len, b.work, b.present, 7, prow, psym),
		     SL_ERR_DECODE);
	blk_expect_untouched(&b, "duplicates only");
	/* a third distinct row: decodes, using the first copy of each row */
	unsigned prow2[] = {70, 70, 5, 255, 1000, 70, 90, 90, 200};
	const uint8_t *psym2[] = {b.orig[70], junk, junk, junk, junk, junk, b.orig[90], junk,
				  b.orig[200]};
	cr_assert_eq(sl_fec_decode(fec, k, len, b.work, b.present, 9, prow2, psym2), SL_OK);
	blk_expect_all(&b, "duplicates");
	row_free(junk);
	blk_free(&b);
}

Test(fec, k1_and_k254)
{
	struct blk b;
	/* k = 1: every one of the 254 parity rows alone restores the row */
	blk_init(&b, fec, 1, 300);
	for (unsigned r = 1; r < SL_FEC_ROWS; r++) {
		blk_lose(&b, 0);
		cr_assert_eq(blk_decode(fec, &b, 1, &r), SL_OK, "row %u", r);
		blk_expect_all(&b, "k=1");
	}
	blk_free(&b);
	/* k = 254: one parity row (254) repairs any single loss */
	blk_init(&b, fec, 254, 1400);
	unsigned r = 254;
	for (unsigned t = 0; t < 8; t++) {
		blk_lose(&b, rnd_below(254));
		cr_assert_eq(blk_decode(fec, &b, 1, &r), SL_OK, "seed %llu",
			     (unsigned long long)seed);
		blk_expect_all(&b, "k=254");
		blk_restore(&b);
	}
	blk_lose(&b, 0);
	blk_lose(&b, 253);
	cr_assert_eq(blk_decode(fec, &b, 1, &r), SL_ERR_DECODE);
	blk_expect_untouched(&b, "k=254, two lost");
	blk_free(&b);
}

Test(fec, invalid_arguments_rejected)
{
	uint8_t buf[4][16] = {{0}};
	const uint8_t *data[4] = {buf[0], buf[1], buf[2], buf[3]};
	uint8_t *w[4] = {buf[0], buf[1], buf[2], buf[3]};
	uint8_t *out[2] = {buf[2], buf[3]};
	uint8_t present[2] = {1, 0};
	unsigned rows[2] = {2, 3};

	cr_assert_eq(sl_fec_new(NULL), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(NULL, 2, 16, data, 2, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 0, 16, data, 2, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 255, 16, data, 0, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, UINT_MAX, 16, data, 0, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 0, data, 2, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, (size_t)1 << 40, data, 2, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, NULL, 2, rows, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, NULL, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, rows, NULL), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 254, rows, out), SL_ERR_INVAL);
	unsigned low[2] = {1, 2}, high[2] = {2, 255}, dup[2] = {3, 3};
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, low, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, high, out), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, dup, out), SL_ERR_INVAL);
	const uint8_t *nulldata[2] = {buf[0], NULL};
	cr_assert_eq(sl_fec_encode(fec, 2, 16, nulldata, 2, rows, out), SL_ERR_INVAL);
	uint8_t *nullout[2] = {buf[2], NULL};
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, rows, nullout), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_encode(fec, 2, 16, data, 2, rows, out), SL_OK);

	const uint8_t *psym[1] = {buf[2]};
	unsigned prow[1] = {2};
	cr_assert_eq(sl_fec_decode(NULL, 2, 16, w, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 0, 16, w, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 255, 16, w, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, UINT_MAX, 16, w, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 0, w, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 16, NULL, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 16, w, NULL, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 16, w, present, 1, NULL, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 16, w, present, 1, prow, NULL), SL_ERR_INVAL);
	const uint8_t *nullsym[1] = {NULL};
	cr_assert_eq(sl_fec_decode(fec, 2, 16, w, present, 1, prow, nullsym), SL_ERR_INVAL);
	uint8_t *nullw[2] = {buf[0], NULL};
	cr_assert_eq(sl_fec_decode(fec, 2, 16, nullw, present, 1, prow, psym), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_decode(fec, 2, 16, w, present, 1, prow, psym), SL_OK);

	sl_fec_free(NULL); /* harmless */
}

/* b whole again, then data rows from, from + 7, ... lost (five). */
static void lose_five(struct blk *b, unsigned from)
{
	blk_restore(b);
	for (unsigned i = 0; i < 5; i++)
		blk_lose(b, from + i * 7);
}

/* The codec's counters after the step named what. */
static void expect_stats(const struct sl_fec *f, uint64_t decodes, uint64_t hits, uint64_t inversions,
			 const char *what)
{
	struct sl_fec_stats st;
	sl_fec_get_stats(f, &st);
	cr_assert(st.decodes == decodes && st.cache_hits == hits && st.inversions == inversions,
		  "%s: decodes %llu, cache hits %llu, inversions %llu; expected %llu, %llu, %llu", what,
		  (unsigned long long)st.decodes, (unsigned long long)st.cache_hits,
		  (unsigned long long)st.inversions, (unsigned long long)decodes, (unsigned long long)hits,
		  (unsigned long long)inversions);
}

Test(fec, cache_hit_on_repeated_pattern)
{
	unsigned k = 128, m = 16;
	struct blk b;
	blk_init(&b, fec, k, 1400);
	unsigned prow[SL_FEC_ROWS], prow2[SL_FEC_ROWS];
	for (unsigned j = 0; j < m; j++)
		prow[j] = k + j;

	lose_five(&b, 0);
	cr_assert_eq(blk_decode(fec, &b, m, prow), SL_OK);
	blk_expect_all(&b, "first");
	expect_stats(fec, 1, 0, 1, "first");

	/* same loss pattern, parity received in another order: a hit */
	lose_five(&b, 0);
	shuffle(prow, m);
	cr_assert_eq(blk_decode(fec, &b, m, prow), SL_OK);
	blk_expect_all(&b, "repeat");
	expect_stats(fec, 2, 1, 1, "repeat");

	/* another pattern: a miss */
	lose_five(&b, 1);
	cr_assert_eq(blk_decode(fec, &b, m, prow), SL_OK);
	blk_expect_all(&b, "other");
	expect_stats(fec, 3, 1, 2, "other");

	/* same loss pattern, other parity rows: a miss, and right */
	lose_five(&b, 1);
	for (unsigned j = 0; j < 5; j++)
		prow2[j] = k + 60 + j;
	cr_assert_eq(blk_decode(fec, &b, 5, prow2), SL_OK);
	blk_expect_all(&b, "other parity rows");
	expect_stats(fec, 4, 1, 3, "other parity rows");

	/* nothing lost: nothing to do, nothing counted */
	blk_restore(&b);
	cr_assert_eq(blk_decode(fec, &b, m, prow), SL_OK);
	expect_stats(fec, 4, 1, 3, "nothing lost");
	blk_free(&b);
}

/* More patterns than the cache holds and more k values than the encoder
 * keeps: eviction never returns wrong data. */
Test(fec, cache_eviction_keeps_results_right, .timeout = 60)
{
	static const unsigned ks[] = {10, 20, 30, 40, 50, 60};
	struct blk bs[6];
	for (unsigned t = 0; t < 6; t++)
		blk_init(&bs[t], fec, ks[t], 200);
	for (unsigned round = 0; round < 300; round++) {
		struct blk *b = &bs[rnd_below(6)];
		unsigned e = 1 + rnd_below(8), idx[SL_FEC_ROWS], prow[SL_FEC_ROWS];
		for (unsigned i = 0; i < b->k; i++)
			idx[i] = i;
		shuffle(idx, b->k);
		for (unsigned i = 0; i < e; i++)
			blk_lose(b, idx[i]);
		unsigned first = b->k + rnd_below(4);
		for (unsigned j = 0; j < e; j++)
			prow[j] = first + j;
		cr_assert_eq(blk_decode(fec, b, e, prow), SL_OK);
		blk_expect_all(b, "eviction");
		blk_restore(b);
		/* re-encode through the k-cache and compare */
		unsigned r = b->k + rnd_below(SL_FEC_ROWS - b->k);
		uint8_t *o = row_alloc(b->len);
		cr_assert_eq(sl_fec_encode(fec, b->k, b->len, (const uint8_t *const *)b->orig, 1, &r,
					   &o), SL_OK);
		cr_assert(memcmp(o, b->orig[r], b->len) == 0, "k=%u row %u (seed %llu)", b->k, r,
			  (unsigned long long)seed);
		row_free(o);
	}
	for (unsigned t = 0; t < 6; t++)
		blk_free(&bs[t]);
}

Test(fec, interleave_order_round_robin)
{
	const unsigned count[5] = {10, 7, 10, 0, 3};
	struct sl_fec_ilv it;
	cr_assert_eq(sl_fec_ilv_init(&it, 5, count), SL_OK);
	unsigned seen[5][10] = {{0}}, b, s, n = 0, last_s = 0, last_b = 0;
	while (sl_fec_ilv_next(&it, &b, &s)) {
		cr_assert_lt(b, 5);
		cr_assert_lt(s, count[b]);
		seen[b][s]++;
		/* rounds in order; blocks in order within a round */
		if (n > 0)
			cr_assert(s > last_s || (s == last_s && b > last_b), "at %u: (%u,%u)", n, b, s);
		last_s = s;
		last_b = b;
		n++;
		cr_assert_leq(n, 30);
	}
	cr_assert_eq(n, 30);
	for (b = 0; b < 5; b++)
		for (s = 0; s < count[b]; s++)
			cr_assert_eq(seen[b][s], 1, "block %u symbol %u", b, s);
	cr_assert_eq(sl_fec_ilv_next(&it, &b, &s), 0, "stays at the end");
	cr_assert_eq(sl_fec_ilv_init(&it, 0, count), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_ilv_init(&it, 2, NULL), SL_ERR_INVAL);
	cr_assert_eq(sl_fec_ilv_init(NULL, 2, count), SL_ERR_INVAL);
}

/* FEC.md's rule, end to end: D blocks of (k, m) interleaved; a burst of
 * D·m consecutive lost datagrams is survived wherever it falls, a burst
 * of D·m + 1 never is (some block loses m + 1). */
Test(fec, interleaved_burst_rule)
{
	enum { D = 4, K = 32, M = 4, N = K + M, LEN = 64 };
	struct blk b[D];
	unsigned count[D], pos_b[D * N], pos_s[D * N], n = 0, bb, ss;
	for (unsigned i = 0; i < D; i++) {
		blk_init(&b[i], fec, K, LEN);
		count[i] = N; /* symbol s is row s: data rows, then parity rows K..K+M-1 */
	}
	struct sl_fec_ilv it;
	cr_assert_eq(sl_fec_ilv_init(&it, D, count), SL_OK);
	while (sl_fec_ilv_next(&it, &bb, &ss)) {
		pos_b[n] = bb;
		pos_s[n++] = ss;
	}
	cr_assert_eq(n, D * N);
	for (unsigned burst = D * M; burst <= D * M + 1; burst++) {
		for (unsigned off = 0; off + burst <= n; off++) {
			uint8_t lost[D][N];
			memset(lost, 0, sizeof(lost));
			for (unsigned t = off; t < off + burst; t++)
				lost[pos_b[t]][pos_s[t]] = 1;
			unsigned failed = 0;
			for (unsigned i = 0; i < D; i++) {
				unsigned prow[M], np = 0;
				for (unsigned r = 0; r < K; r++)
					if (lost[i][r])
						blk_lose(&b[i], r);
				for (unsigned r = K; r < N; r++)
					if (!lost[i][r])
						prow[np++] = r;
				int rc = blk_decode(fec, &b[i], np, prow);
				if (rc == SL_OK) {
					blk_expect_all(&b[i], "interleaved burst");
				} else {
					cr_assert_eq(rc, SL_ERR_DECODE);
					blk_expect_untouched(&b[i], "interleaved burst");
					failed++;
				}
				blk_restore(&b[i]);
			}
			if (burst == D * M)
				cr_assert_eq(failed, 0, "burst %u at %u", burst, off);
			else
				cr_assert_gt(failed, 0, "burst %u at %u", burst, off);
		}
	}
	for (unsigned i = 0; i < D; i++)
		blk_free(&b[i]);
}
