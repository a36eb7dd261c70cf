/* producer.c — reading, compression and FEC in a thread of their own (see producer.h). */
#include "producer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunker.h"
#include "fec.h"
#include "proto.h"
#include "safefs.h"

#define NSLOTS 3

struct blockref {
	uint64_t spool_off;
	uint32_t len;
};

struct sl_producer {
	struct sl_producer_cfg cfg;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sl_group slots[NSLOTS];
	unsigned wr, rd, filled;
	int stop;
	struct sl_diag err;
	int errcode;

	struct sl_fec *fec;
	struct sl_chunker *chunker;
	int spool_fd;
	uint64_t spool_end;
	struct blockref *refs;
	unsigned pmax;               /* parity buffers per block */
	uint64_t raw, stored;
};

unsigned sl_parity_for(double overhead, unsigned k, unsigned kmax, int catalog)
{
	unsigned m = catalog ? k : (unsigned)ceil(k * overhead - 1e-9);
	if (!catalog && k < kmax) {
		/* A short block (a chunk that compressed well) would get less
		 * protection from the same percentage: keep its chance of failing
		 * near a full block's by scaling parity with sqrt(k / kmax). */
		unsigned full = (unsigned)ceil(kmax * overhead - 1e-9);
		unsigned floor_m = (unsigned)ceil(full * sqrt((double)k / kmax) - 1e-9);
		if (m < floor_m)
			m = floor_m;
	}
	if (m < 1)
		m = 1;
	if (k + m > 255)
		m = 255 - k;
	return m;
}

/* ---- the ring ---- */

static struct sl_group *acquire(struct sl_producer *p)
{
	struct sl_group *g = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->filled == NSLOTS && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->stop)
		g = &p->slots[p->wr];
	pthread_mutex_unlock(&p->mu);
	return g;
}

static void publish(struct sl_producer *p)
{
	pthread_mutex_lock(&p->mu);
	p->wr = (p->wr + 1) % NSLOTS;
	p->filled++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int push_event(struct sl_producer *p, enum sl_ev ev, unsigned pass)
{
	struct sl_group *g = acquire(p);
	if (!g)
		return SL_ERR_AGAIN;
	g->ev = ev;
	g->pass = pass;
	g->count = 0;
	publish(p);
	return SL_OK;
}

struct sl_group *sl_producer_next(struct sl_producer *p, struct sl_diag *d)
{
	struct sl_group *g;

	pthread_mutex_lock(&p->mu);
	while (p->filled == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	g = &p->slots[p->rd];
	pthread_mutex_unlock(&p->mu);
	if (g->ev == SL_EV_ERROR && d)
		*d = p->err;
	return g;
}

void sl_producer_release(struct sl_producer *p, struct sl_group *g)
{
	(void)g;
	pthread_mutex_lock(&p->mu);
	p->rd = (p->rd + 1) % NSLOTS;
	p->filled--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* ---- producing a group ---- */

/* Rows of virtual pass vp, FEC parity for them, and where each symbol is. */
static int encode_group(struct sl_producer *p, struct sl_group *g, const unsigned *lens, unsigned vp)
{
	size_t S = p->cfg.symsize;
	size_t bsz = (size_t)p->cfg.kmax * S;

	g->maxn = 0;
	for (unsigned b = 0; b < g->count; b++) {
		uint8_t *data = g->data + b * bsz;
		const uint8_t *dptr[255];
		unsigned prow[255];
		uint8_t *pout[255];
		unsigned k = sl_block_k(lens[b] - SL_BLOCK_REC, (uint16_t)S);
		unsigned m = sl_parity_for(p->cfg.overhead, k, p->cfg.kmax, g->catalog);
		unsigned n = k + m, np = 0;

		memset(data + lens[b], 0, k * S - lens[b]);
		g->k[b] = (uint16_t)k;
		g->m[b] = (uint16_t)m;
		g->n[b] = (uint16_t)n;
		for (unsigned j = 0; j < n; j++) {
			unsigned row = (unsigned)(((uint64_t)vp * n + j) % 255);
			g->rows[b][j] = (uint16_t)row;
			if (row < k) {
				g->sym[b][j] = data + (size_t)row * S;
			} else {
				if (np == p->pmax)
					return sl_diag_set(&p->err, SL_ERR_INVAL, "parity buffer too small");
				prow[np] = row;
				pout[np] = g->par + ((size_t)b * p->pmax + np) * S;
				g->sym[b][j] = pout[np];
				np++;
			}
		}
		for (unsigned i = 0; i < k; i++)
			dptr[i] = data + i * S;
		if (np) {
			int r = sl_fec_encode(p->fec, k, S, dptr, np, prow, pout);
			if (r)
				return sl_diag_set(&p->err, r, "FEC encode failed (k=%u, %u rows)", k, np);
		}
		if (n > g->maxn)
			g->maxn = n;
	}
	return SL_OK;
}

static int catalog_groups(struct sl_producer *p, unsigned pass, unsigned vp)
{
	const struct sl_source *src = p->cfg.src;
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;
	unsigned lens[SL_GROUP_MAX];
	struct sl_group *g = NULL;
	int r;

	for (uint32_t i = 0; i < p->cfg.catalog_blocks; i++) {
		uint64_t off = (uint64_t)i * p->cfg.piece;
		uint32_t len = (uint32_t)(src->catalog_len - off < p->cfg.piece ? src->catalog_len - off
									      : p->cfg.piece);
		struct sl_block_rec rec = { .kind = SL_BLK_CATALOG, .codec = SL_CODEC_RAW, .index = i,
					    .offset = off, .raw_len = len, .stored_len = len };
		uint8_t *q;
		if (!g) {
			g = acquire(p);
			if (!g)
				return SL_ERR_AGAIN;
			g->ev = SL_EV_GROUP;
			g->pass = pass;
			g->catalog = 1;
			g->count = 0;
		}
		q = g->data + g->count * bsz;
		sl_block_rec_encode(&rec, q);
		memcpy(q + SL_BLOCK_REC, src->catalog + off, len);
		g->blocks[g->count] = i;
		lens[g->count] = SL_BLOCK_REC + len;
		if (++g->count == p->cfg.interleave || i + 1 == p->cfg.catalog_blocks) {
			r = encode_group(p, g, lens, vp);
			if (r)
				return r;
			publish(p);
			g = NULL;
		}
	}
	return SL_OK;
}

static int chunk_groups(struct sl_producer *p, unsigned pass, int produce)
{
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;
	unsigned lens[SL_GROUP_MAX];
	struct sl_group *g = NULL;
	int r;

	for (uint64_t c = 0; c < p->cfg.nchunks; c++) {
		uint8_t *q;
		if (!g) {
			g = acquire(p);
			if (!g)
				return SL_ERR_AGAIN;
			g->ev = SL_EV_GROUP;
			g->pass = pass;
			g->catalog = 0;
			g->count = 0;
		}
		q = g->data + g->count * bsz;
		if (produce) {
			size_t len;
			r = sl_chunker_next(p->chunker, c, q, &len, &p->err);
			if (r)
				return r;
			if (p->spool_fd >= 0) {
				p->refs[c].spool_off = p->spool_end;
				p->refs[c].len = (uint32_t)len;
				if (sl_pwrite_all(p->spool_fd, q, len, p->spool_end))
					return sl_diag_errno(&p->err, "writing the compressed spool");
				p->spool_end += len;
			}
			lens[g->count] = (unsigned)len;
		} else {
			if (sl_pread_all(p->spool_fd, q, p->refs[c].len, p->refs[c].spool_off))
				return sl_diag_errno(&p->err, "reading the compressed spool");
			lens[g->count] = p->refs[c].len;
		}
		g->blocks[g->count] = p->cfg.catalog_blocks + c;
		if (++g->count == p->cfg.interleave || c + 1 == p->cfg.nchunks) {
			r = encode_group(p, g, lens, pass);
			if (r)
				return r;
			publish(p);
			g = NULL;
		}
	}
	if (produce)
		return sl_chunker_finish(p->chunker, &p->err);
	return SL_OK;
}

static void *run(void *arg)
{
	struct sl_producer *p = arg;
	unsigned last = p->cfg.first_pass + p->cfg.passes;
	int r = SL_OK;

	for (unsigned pass = p->cfg.first_pass; pass < last && !r; pass++) {
		r = push_event(p, SL_EV_PASS_START, pass);
		if (!r)
			r = catalog_groups(p, pass, 2 * pass);
		if (!r)
			r = chunk_groups(p, pass, pass == p->cfg.first_pass);
		if (!r)
			r = catalog_groups(p, pass, 2 * pass + 1);
		if (!r)
			r = push_event(p, SL_EV_PASS_END, pass);
	}
	if (r == SL_ERR_AGAIN)
		return NULL; /* stopped by the sender */
	{
		uint64_t rc;
		sl_chunker_totals(p->chunker, &p->raw, &p->stored, &rc);
	}
	if (r) {
		struct sl_group *g = acquire(p);
		p->errcode = r;
		if (!g)
			return NULL;
		g->ev = SL_EV_ERROR;
		g->count = 0;
		publish(p);
		return NULL;
	}
	push_event(p, SL_EV_END, last - 1);
	return NULL;
}

int sl_producer_start(const struct sl_producer_cfg *cfg, struct sl_producer **out,
		      struct sl_diag *d)
{
	struct sl_producer *p = calloc(1, sizeof *p);
	size_t S = cfg->symsize;
	int r;

	*out = NULL;
	if (!p)
		return SL_ERR_NOMEM;
	p->cfg = *cfg;
	p->spool_fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* Parity rows a block can need in one pass: chunk blocks n <= kmax + m,
	 * catalog blocks n = 2k <= kmax (their pieces are half a block). */
	p->pmax = cfg->kmax + sl_parity_for(cfg->overhead, cfg->kmax, cfg->kmax, 0);
	if (p->pmax > 255)
		p->pmax = 255;
	for (unsigned i = 0; i < NSLOTS; i++) {
		p->slots[i].data = malloc((size_t)cfg->interleave * cfg->kmax * S);
		p->slots[i].par = malloc((size_t)cfg->interleave * p->pmax * S);
		if (!p->slots[i].data || !p->slots[i].par) {
			sl_producer_free(p);
			return SL_ERR_NOMEM;
		}
	}
	r = sl_fec_new(&p->fec);
	if (r) {
		sl_producer_free(p);
		return sl_diag_set(d, r, "FEC codec");
	}
	r = sl_chunker_new(cfg->src, cfg->chunk_size, cfg->level, &p->chunker, d);
	if (r) {
		sl_producer_free(p);
		return r;
	}
	if (cfg->passes > 1) {
		const char *dir = cfg->spool_dir ? cfg->spool_dir
						 : (getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
		p->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (p->spool_fd < 0) {
			r = sl_diag_errno(d, "cannot create the compressed spool in %s (set --spool DIR)", dir);
			sl_producer_free(p);
			return r;
		}
		p->refs = calloc(cfg->nchunks ? cfg->nchunks : 1, sizeof *p->refs);
		if (!p->refs) {
			sl_producer_free(p);
			return SL_ERR_NOMEM;
		}
	}
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		sl_producer_free(p);
		return sl_diag_set(d, SL_ERR_IO, "cannot start the producer thread");
	}
	p->started = 1;
	*out = p;
	return SL_OK;
}

void sl_producer_totals(struct sl_producer *p, uint64_t *raw, uint64_t *stored)
{
	uint64_t rc;
	if (p->chunker)
		sl_chunker_totals(p->chunker, raw, stored, &rc);
	else
		*raw = *stored = 0;
}

void sl_producer_free(struct sl_producer *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	for (unsigned i = 0; i < NSLOTS; i++) {
		free(p->slots[i].data);
		free(p->slots[i].par);
	}
	sl_chunker_free(p->chunker);
	sl_fec_free(p->fec);
	if (p->spool_fd >= 0)
		close(p->spool_fd);
	free(p->refs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

int sl_producer_error(const struct sl_producer *p)
{
	return p->errcode ? p->errcode : SL_ERR_IO;
}
