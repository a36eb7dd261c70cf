/* fec.c — systematic Cauchy Reed–Solomon over GF(2^8) on ISA-L kernels.
 *
 * Encoding: per k, the generator matrix (gf_gen_cauchy1_matrix, 255 rows)
 * and the ISA-L multiply tables of each parity row, built on first use and
 * kept in a small LRU of k values. Rows requested as one ascending run
 * (the common case) are encoded straight from those tables; other row sets
 * gather their row tables into a scratch buffer first.
 *
 * Decoding: with e data rows missing, the e lowest-numbered distinct parity
 * rows received are chosen (a canonical choice, so a repeated loss pattern
 * hits the cache whatever order the symbols came in). With M the missing
 * columns, S the present ones and P the chosen parity rows, the parity
 * equations read A·d_M + B·d_S = p with A = G[P][M] (e×e), B = G[P][S], so
 *     d_M = A⁻¹·B·d_S + A⁻¹·p,
 * i.e. the e×k decode matrix D = [A⁻¹B | A⁻¹] applied to the sources
 * [d_S ascending, p ascending]. A⁻¹ comes from a Gauss–Jordan elimination
 * in GF(2^8) (multiplication table built from ISA-L's gf_mul/gf_inv);
 * D's tables (ec_init_tables) are cached per (k, M, P) in a bounded LRU.
 */
#include "fec.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "error.h"

#define KCACHE 4       /* k values whose generator/encode tables are kept */
#define DCACHE 32      /* cached decode tables (LRU) */
#define MAXE 127       /* e <= min(k, 255 - k) <= 127 */
#define TBL 32         /* bytes of ISA-L tables per matrix coefficient */

/* Per-k generator matrix and lazily built parity-row encode tables. */
struct kent {
	unsigned k;            /* 0: slot unused */
	uint64_t tick;         /* last use, for LRU */
	uint8_t *gen;          /* 255 × k, row-major */
	uint8_t *ptbl;         /* (255 - k) × 32k: tables of parity row k + i */
	size_t gen_cap, ptbl_cap;
	uint64_t ready[4];     /* bit r: tables of row r built */
};

/* Cached decode tables for one (k, missing set, parity set). */
struct dent {
	unsigned k, e;         /* k == 0: slot unused */
	uint64_t hash, tick;
	uint64_t miss[4];      /* bitmap of missing data rows */
	uint64_t par[4];       /* bitmap of chosen parity rows */
	uint8_t *tbl;          /* 32 × e × k */
	size_t cap;
};

struct sl_fec {
	uint64_t clock;
	struct kent kc[KCACHE];
	struct dent dc[DCACHE];
	struct sl_fec_stats st;
	uint8_t *etbl;          /* gathered encode tables for non-run row sets */
	size_t etbl_cap;
	unsigned char *src[SL_FEC_ROWS];
	unsigned char *dst[SL_FEC_ROWS];
	uint8_t a[MAXE * MAXE];         /* A, destroyed by elimination */
	uint8_t ainv[MAXE * MAXE];      /* A⁻¹ */
	uint8_t full[MAXE * SL_FEC_ROWS]; /* A⁻¹·G[P][all columns] */
	uint8_t dmat[MAXE * SL_FEC_ROWS]; /* D = [A⁻¹B | A⁻¹] */
	uint8_t mul[256][256];          /* GF(2^8) products, from gf_mul */
};

static inline bool bit_get(const uint64_t *b, unsigned i)
{
	return (b[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *b, unsigned i)
{
	b[i >> 6] |= (uint64_t)1 << (i & 63);
}

int sl_fec_new(struct sl_fec **out)
{
	if (!out)
		return SL_ERR_INVAL;
	*out = NULL;
	struct sl_fec *f = calloc(1, sizeof(*f));
	if (!f)
		return SL_ERR_NOMEM;
	/* Products via log/exp of the primitive element 2 (ISA-L's field,
	 * polynomial 0x11d, in which 2 has order 255). */
	uint8_t lg[256], ex[255];
	unsigned char x = 1;
	for (unsigned i = 0; i < 255; i++) {
		ex[i] = x;
		lg[x] = (uint8_t)i;
		x = gf_mul(x, 2);
	}
	for (unsigned a = 1; a < 256; a++)
		for (unsigned b = 1; b < 256; b++)
			f->mul[a][b] = ex[(lg[a] + lg[b]) % 255];
	*out = f;
	return SL_OK;
}

void sl_fec_free(struct sl_fec *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < KCACHE; i++) {
		free(f->kc[i].gen);
		free(f->kc[i].ptbl);
	}
	for (unsigned i = 0; i < DCACHE; i++)
		free(f->dc[i].tbl);
	free(f->etbl);
	free(f);
}

void sl_fec_get_stats(const struct sl_fec *f, struct sl_fec_stats *st)
{
	if (f && st)
		*st = f->st;
}

/* Grow *buf to at least n bytes (contents not kept). */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
	if (*cap >= n)
		return SL_OK;
	uint8_t *p = malloc(n);
	if (!p)
		return SL_ERR_NOMEM;
	free(*buf);
	*buf = p;
	*cap = n;
	return SL_OK;
}

/* The generator entry for k, building it (and evicting the least recently
 * used k) if needed. With `enc`, also make sure the parity table area exists. */
static int kent_get(struct sl_fec *f, unsigned k, bool enc, struct kent **out)
{
	struct kent *e = NULL, *lru = &f->kc[0];
	for (unsigned i = 0; i < KCACHE; i++) {
		if (f->kc[i].k == k) {
			e = &f->kc[i];
			break;
		}
		if (f->kc[i].tick < lru->tick)
			lru = &f->kc[i];
	}
	if (!e) {
		e = lru;
		/* Buffers are kept across k values and replaced only to grow. */
		e->k = 0;
		int rc = reserve(&e->gen, &e->gen_cap, (size_t)SL_FEC_ROWS * k);
		if (rc)
			return rc;
		gf_gen_cauchy1_matrix(e->gen, SL_FEC_ROWS, (int)k);
		memset(e->ready, 0, sizeof(e->ready));
		e->k = k;
	}
	size_t need = (size_t)TBL * k * (SL_FEC_ROWS - k);
	if (enc && e->ptbl_cap < need) {
		memset(e->ready, 0, sizeof(e->ready));
		int rc = reserve(&e->ptbl, &e->ptbl_cap, need);
		if (rc)
			return rc;
	}
	e->tick = ++f->clock;
	*out = e;
	return SL_OK;
}

static inline uint8_t *ptbl_row(const struct kent *e, unsigned r)
{
	return e->ptbl + (size_t)(r - e->k) * TBL * e->k;
}

int sl_fec_encode(struct sl_fec *f, unsigned k, size_t len,
		  const uint8_t *const *data,
		  unsigned n, const unsigned *rows, uint8_t *const *out)
{
	if (!f || k < 1 || k >= SL_FEC_ROWS || len < 1 || len > INT_MAX)
		return SL_ERR_INVAL;
	if (n > SL_FEC_ROWS - k || !data || (n && (!rows || !out)))
		return SL_ERR_INVAL;
	uint64_t seen[4] = {0};
	bool run = true;
	for (unsigned i = 0; i < n; i++) {
		if (rows[i] < k || rows[i] >= SL_FEC_ROWS || bit_get(seen, rows[i]) || !out[i])
			return SL_ERR_INVAL;
		bit_set(seen, rows[i]);
		run = run && rows[i] == rows[0] + i;
	}
	for (unsigned i = 0; i < k; i++)
		if (!data[i])
			return SL_ERR_INVAL;
	if (n == 0)
		return SL_OK;

	struct kent *e;
	int rc = kent_get(f, k, true, &e);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		unsigned r = rows[i];
		if (!bit_get(e->ready, r)) {
			ec_init_tables((int)k, 1, e->gen + (size_t)r * k, ptbl_row(e, r));
			bit_set(e->ready, r);
		}
	}
	uint8_t *tbl;
	if (run) {
		tbl = ptbl_row(e, rows[0]);
	} else {
		size_t row_bytes = (size_t)TBL * k;
		rc = reserve(&f->etbl, &f->etbl_cap, row_bytes * n);
		if (rc)
			return rc;
		for (unsigned i = 0; i < n; i++)
			memcpy(f->etbl + row_bytes * i, ptbl_row(e, rows[i]), row_bytes);
		tbl = f->etbl;
	}
	for (unsigned i = 0; i < k; i++)
		f->src[i] = (unsigned char *)data[i];
	for (unsigned i = 0; i < n; i++)
		f->dst[i] = out[i];
	ec_encode_data((int)len, (int)k, (int)n, tbl, f->src, f->dst);
	return SL_OK;
}

/* dst[0..n-1] ^= c·src[0..n-1], with t the product row of c. */
static inline void row_axpy(uint8_t *restrict dst, const uint8_t *restrict src,
			    const uint8_t *restrict t, unsigned n)
{
	for (unsigned j = 0; j < n; j++)
		dst[j] ^= t[src[j]];
}

static inline void row_scale(uint8_t *restrict row, const uint8_t *restrict t, unsigned n)
{
	for (unsigned j = 0; j < n; j++)
		row[j] = t[row[j]];
}

/* Gauss–Jordan inversion of the e×e matrix f->a into f->ainv (f->a is
 * destroyed). Returns false if singular (impossible for a Cauchy matrix,
 * whose square sub-matrices are all invertible; checked anyway). */
static bool invert(struct sl_fec *f, unsigned e)
{
	uint8_t *a = f->a, *v = f->ainv;
	bool swapped = false;
	memset(v, 0, (size_t)e * e);
	for (unsigned i = 0; i < e; i++)
		v[i * e + i] = 1;
	for (unsigned c = 0; c < e; c++) {
		unsigned p = c;
		while (p < e && a[p * e + c] == 0)
			p++;
		if (p == e)
			return false;
		if (p != c) {
			swapped = true;
			for (unsigned j = 0; j < e; j++) {
				uint8_t t = a[p * e + j];
				a[p * e + j] = a[c * e + j];
				a[c * e + j] = t;
				t = v[p * e + j];
				v[p * e + j] = v[c * e + j];
				v[c * e + j] = t;
			}
		}
		/* Columns < c of A's rows are already reduced; without row
		 * swaps, the inverse's row c is still zero beyond column c. */
		unsigned vn = swapped ? e : c + 1;
		uint8_t *ac = a + c * e, *vc = v + c * e;
		const uint8_t *s = f->mul[gf_inv(ac[c])];
		row_scale(ac + c, s, e - c);
		row_scale(vc, s, vn);
		for (unsigned r = 0; r < e; r++) {
			uint8_t m = a[r * e + c];
			if (r == c || m == 0)
				continue;
			row_axpy(a + r * e + c, ac + c, f->mul[m], e - c);
			row_axpy(v + r * e, vc, f->mul[m], vn);
		}
	}
	return true;
}

static uint64_t key_hash(unsigned k, const uint64_t *miss, const uint64_t *par)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ k;
	for (unsigned i = 0; i < 4; i++) {
		h = (h ^ miss[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 31;
		h = (h ^ par[i]) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	return h;
}

/* Build the decode tables of (k, miss[0..e-1], par[0..e-1]) into d->tbl. */
static int build_decode(struct sl_fec *f, const struct kent *ke, unsigned e,
			const unsigned *miss, const unsigned *par,
			const uint8_t *present, struct dent *d)
{
	unsigned k = ke->k;
	for (unsigned i = 0; i < e; i++)
		for (unsigned j = 0; j < e; j++)
			f->a[i * e + j] = ke->gen[(size_t)par[i] * k + miss[j]];
	if (!invert(f, e))
		return SL_ERR_DECODE;
	f->st.inversions++;

	int rc = reserve(&d->tbl, &d->cap, (size_t)TBL * e * k);
	if (rc)
		return rc;
	/* full = A⁻¹ · G[P][0..k-1], computed by ISA-L itself (the e rows of
	 * G[P] as sources, A⁻¹'s tables in d->tbl as scratch); its missing
	 * columns must come out as the identity. */
	ec_init_tables((int)e, (int)e, f->ainv, d->tbl);
	for (unsigned l = 0; l < e; l++) {
		f->src[l] = ke->gen + (size_t)par[l] * k;
		f->dst[l] = f->full + (size_t)l * k;
	}
	ec_encode_data((int)k, (int)e, (int)e, d->tbl, f->src, f->dst);
	for (unsigned i = 0; i < e; i++)
		for (unsigned j = 0; j < e; j++)
			if (f->full[(size_t)i * k + miss[j]] != (i == j))
				return SL_ERR_DECODE;
	/* D row i: present columns in ascending order, then A⁻¹ row i. */
	for (unsigned i = 0; i < e; i++) {
		uint8_t *dr = f->dmat + (size_t)i * k;
		const uint8_t *fr = f->full + (size_t)i * k;
		unsigned c = 0;
		for (unsigned j = 0; j < k; j++)
			if (present[j])
				dr[c++] = fr[j];
		memcpy(dr + c, f->ainv + i * e, e);
	}
	ec_init_tables((int)k, (int)e, f->dmat, d->tbl);
	return SL_OK;
}

int sl_fec_decode(struct sl_fec *f, unsigned k, size_t len,
		  uint8_t *const *data, const uint8_t *present,
		  unsigned np, const unsigned *prow, const uint8_t *const *psym)
{
	if (!f || k < 1 || k >= SL_FEC_ROWS || len < 1 || len > INT_MAX)
		return SL_ERR_INVAL;
	if (!data || !present || (np && (!prow || !psym)))
		return SL_ERR_INVAL;
	unsigned miss[MAXE + 1], e = 0;
	uint64_t mbits[4] = {0};
	for (unsigned i = 0; i < k; i++) {
		if (!data[i])
			return SL_ERR_INVAL;
		if (!present[i]) {
			if (e <= MAXE)
				miss[e] = i;
			e++;
			bit_set(mbits, i);
		}
	}
	/* First occurrence of each distinct in-range parity row. */
	int where[SL_FEC_ROWS];
	uint64_t pbits[4] = {0};
	for (unsigned j = 0; j < np; j++) {
		if (!psym[j])
			return SL_ERR_INVAL;
		unsigned r = prow[j];
		if (r < k || r >= SL_FEC_ROWS || bit_get(pbits, r))
			continue;
		bit_set(pbits, r);
		where[r] = (int)j;
	}
	if (e == 0)
		return SL_OK;
	/* Choose the e lowest-numbered parity rows received. */
	unsigned par[MAXE];
	uint64_t cbits[4] = {0};
	unsigned got = 0;
	for (unsigned r = k; r < SL_FEC_ROWS && got < e; r++) {
		if (bit_get(pbits, r)) {
			par[got++] = r;
			bit_set(cbits, r);
		}
	}
	if (got < e)
		return SL_ERR_DECODE;

	uint64_t h = key_hash(k, mbits, cbits);
	struct dent *d = NULL, *lru = &f->dc[0];
	for (unsigned i = 0; i < DCACHE; i++) {
		struct dent *c = &f->dc[i];
		if (c->k == k && c->e == e && c->hash == h &&
		    !memcmp(c->miss, mbits, sizeof(mbits)) &&
		    !memcmp(c->par, cbits, sizeof(cbits))) {
			d = c;
			break;
		}
		if (c->tick < lru->tick)
			lru = c;
	}
	if (d) {
		f->st.cache_hits++;
	} else {
		struct kent *ke;
		int rc = kent_get(f, k, false, &ke);
		if (rc)
			return rc;
		d = lru;
		d->k = 0; /* invalid until fully built */
		rc = build_decode(f, ke, e, miss, par, present, d);
		if (rc)
			return rc;
		d->k = k;
		d->e = e;
		d->hash = h;
		memcpy(d->miss, mbits, sizeof(mbits));
		memcpy(d->par, cbits, sizeof(cbits));
	}
	d->tick = ++f->clock;

	unsigned s = 0;
	for (unsigned i = 0; i < k; i++)
		if (present[i])
			f->src[s++] = data[i];
	for (unsigned j = 0; j < e; j++)
		f->src[s++] = (unsigned char *)psym[where[par[j]]];
	for (unsigned j = 0; j < e; j++)
		f->dst[j] = data[miss[j]];
	ec_encode_data((int)len, (int)k, (int)e, d->tbl, f->src, f->dst);
	f->st.decodes++;
	return SL_OK;
}

int sl_fec_ilv_init(struct sl_fec_ilv *it, unsigned d, const unsigned *count)
{
	if (!it || d == 0 || !count)
		return SL_ERR_INVAL;
	it->d = d;
	it->count = count;
	it->round = 0;
	it->next = 0;
	it->rounds = 0;
	for (unsigned b = 0; b < d; b++)
		if (count[b] > it->rounds)
			it->rounds = count[b];
	return SL_OK;
}

int sl_fec_ilv_next(struct sl_fec_ilv *it, unsigned *block, unsigned *sym)
{
	while (it->round < it->rounds) {
		while (it->next < it->d) {
			unsigned b = it->next++;
			if (it->round < it->count[b]) {
				*block = b;
				*sym = it->round;
				return 1;
			}
		}
		it->next = 0;
		it->round++;
	}
	return 0;
}
