/* producer.c — reading, compression, FEC and sealing in threads of their own (see producer.h). */
#include "producer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "chunker.h"
#include "cpus.h"
#include "pool.h"
#include "fec.h"
#include "proto.h"
#include "safefs.h"
#include "sha256.h"

#define NSLOTS 3

struct blockref {
	uint64_t spool_off;
	uint32_t len;
};

#define MAX_HELPERS 3

struct tx_producer;

/* The producer thread (workers[0]) and helper threads share the
 * compression, FEC and sealing of each group, one block at a time. */
struct worker {
	struct tx_producer *p;
	struct sl_fec *fec;
	ZSTD_CCtx *cctx;
	uint8_t *zbuf;
	struct sl_wire_tx *wire;     /* a sealer of the session, this worker's own */
	uint8_t *par;                /* a block's parity rows (rows_max symbols), sealed from here */
	struct sl_sha256 *sha;       /* hashing the small files it loads, */
	struct tx_fileload *fl;      /* and reading them through io_uring (NULL: plainly) */
	uint64_t stored, raw_chunks;
};

/* The two stages of a group on the workers: compression and the rows of
 * each block (then, once every block's rows are known, the send order is
 * laid out), FEC and sealing into the datagrams' places. */
enum stage { ST_ROWS, ST_SEAL };

struct tx_producer {
	struct tx_producer_cfg cfg;
	struct sl_pool *thread;      /* the producer thread ("tx-producer"), running run() */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tx_group slots[NSLOTS];
	unsigned wr, rd, filled;
	int stop;
	struct sl_diag err;
	int errcode;

	struct tx_chunker *chunker;
	struct sl_uio *uio;          /* the chunker's file reads */
	uint64_t ahead;              /* next chunk whose read has not started */
	int spool_fd;
	uint64_t spool_end;
	struct blockref *refs;
	unsigned rows_max;           /* most rows a block sends in one pass */
	unsigned dg_max, ctl_max;    /* datagrams and control slots a group's buffers hold */
	size_t dgsize;
	uint64_t raw, stored;

	/* the schedule's numbering (producer thread; next_packet also atomic
	 * for tx_producer_take_packets) */
	uint64_t next_packet;
	unsigned since_xfer, since_hb;

	/* the worker pool: workers[i] is sl_pool's worker i (0: this thread) */
	struct worker workers[1 + MAX_HELPERS];
	struct sl_pool *pool;
	unsigned nhelpers;
	unsigned job_next;
	int job_err, pool_init;
	enum stage job_stage;
	struct tx_group *job_g;
	unsigned *job_lens;
	const size_t *job_want;
	unsigned job_vp;
};

unsigned tx_parity_for(double overhead, unsigned k, unsigned kmax, int catalog)
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

static struct tx_group *acquire(struct tx_producer *p)
{
	struct tx_group *g = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->filled == NSLOTS && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->stop)
		g = &p->slots[p->wr];
	pthread_mutex_unlock(&p->mu);
	return g;
}

static void publish(struct tx_producer *p)
{
	pthread_mutex_lock(&p->mu);
	p->wr = (p->wr + 1) % NSLOTS;
	p->filled++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* ---- packet numbers ---- */

static int take_packets(struct tx_producer *p, unsigned n, uint64_t *first)
{
	uint64_t f = __atomic_fetch_add(&p->next_packet, (uint64_t)n, __ATOMIC_RELAXED);

	if (f + n < f) /* 2^64 datagrams: a number would come round again */
		return SL_ERR_RANGE;
	*first = f;
	return SL_OK;
}

int tx_producer_take_packets(struct tx_producer *p, unsigned n, uint64_t *first)
{
	return take_packets(p, n, first);
}

/* Number the ndg datagrams of g (laid out already). */
static int number(struct tx_producer *p, struct tx_group *g)
{
	int r = take_packets(p, g->ndg, &g->first_packet);
	return r ? sl_diag_set(&p->err, r, "packet counter exhausted; restart the sender") : SL_OK;
}

/* Count one datagram of `kind` (0: a symbol) in the slot cadences. */
static void count_dg(struct tx_producer *p, int kind)
{
	p->since_xfer = kind == TX_CTL_XFER || kind == TX_CTL_XFER_OR_HB ? 1 : p->since_xfer + 1;
	p->since_hb = kind == TX_CTL_HB ? 1 : p->since_hb + 1;
}

static void add_ctl(struct tx_producer *p, struct tx_group *g, int kind)
{
	g->ctl[g->nctl].at = g->ndg++;
	g->ctl[g->nctl++].kind = (uint8_t)kind;
	count_dg(p, kind);
}

/* An event of control datagrams only: PASS_START, PASS_END, END. */
static int push_event(struct tx_producer *p, enum tx_ev ev, unsigned pass)
{
	struct tx_group *g = acquire(p);
	int r;

	if (!g)
		return SL_ERR_AGAIN;
	g->ev = ev;
	g->pass = pass;
	g->count = 0;
	g->ndg = g->nctl = 0;
	for (int i = 0; i < 3; i++)
		add_ctl(p, g, ev == TX_EV_END ? TX_CTL_HB_DONE : TX_CTL_XFER);
	if (ev == TX_EV_PASS_END)
		add_ctl(p, g, TX_CTL_HB_PASS_DONE);
	r = number(p, g);
	if (!r)
		publish(p);
	return r;
}

struct tx_group *tx_producer_next(struct tx_producer *p, struct sl_diag *d)
{
	struct tx_group *g;

	pthread_mutex_lock(&p->mu);
	while (p->filled == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	g = &p->slots[p->rd];
	pthread_mutex_unlock(&p->mu);
	if (g->ev == TX_EV_ERROR && d)
		*d = p->err;
	return g;
}

void tx_producer_release(struct tx_producer *p, struct tx_group *g)
{
	(void)g;
	pthread_mutex_lock(&p->mu);
	p->rd = (p->rd + 1) % NSLOTS;
	p->filled--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* ---- producing a group ---- */

/* Rows block b of g (k data rows, n a pass) sends in a repair pass of
 * virtual pass vp (see producer.h): 0 when the code does not list it. Rows
 * past the 255 - vp·n that no pass sent repeat earlier ones, which help only
 * where the receiver lacks them (at least (255 - k) of 255 rows): those
 * count for (255 - k) / 255 of a row. */
static unsigned repair_rows(const struct tx_producer *p, const struct tx_group *g, unsigned b,
			    unsigned k, unsigned n, unsigned vp)
{
	const struct sl_repair *r = p->cfg.repair;
	uint64_t used = (uint64_t)vp * n, fresh = used < 255 ? 255 - used : 0, rows;
	size_t lo = 0, hi = r->n;
	unsigned need;

	if (g->catalog && vp % 2)
		return 0; /* the catalog's second round of the pass: once is enough */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->e[mid].block < g->blocks[b])
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n || r->e[lo].block != g->blocks[b])
		return 0;
	need = r->e[lo].need && r->e[lo].need < k ? r->e[lo].need : k; /* 0: the whole block */
	rows = need + (need * p->cfg.repair_margin + 99) / 100 + TX_REPAIR_EXTRA;
	if (rows > fresh)
		rows = k >= 255 ? 255 : fresh + ((rows - fresh) * 255 + (254 - k)) / (255 - k);
	return rows > 255 ? 255 : (unsigned)rows;
}

/* Stage 1 for block b of the group: compress it first when `want` is set
 * (a chunk just read, SL_BLOCK_REC + raw bytes in place; lens[b] is then
 * set), then the rows of virtual pass vp. Runs on any worker, with that
 * worker's own zstd context. */
static int rows_block(struct tx_producer *p, struct worker *w, struct tx_group *g, unsigned b,
		      unsigned *lens, const size_t *want, unsigned vp)
{
	size_t S = p->cfg.symsize;
	uint8_t *data = g->data + b * (size_t)p->cfg.kmax * S;
	unsigned k, m, n;

	if (want && want[b]) {
		size_t len;
		int raw = tx_chunk_pack(w->cctx, w->zbuf, g->blocks[b] - p->cfg.catalog_blocks,
					p->cfg.chunk_size, data, want[b], &len);
		lens[b] = (unsigned)len;
		w->stored += len - SL_BLOCK_REC;
		w->raw_chunks += (unsigned)raw;
	}
	k = sl_block_k(lens[b] - SL_BLOCK_REC, (uint16_t)S);
	m = tx_parity_for(p->cfg.overhead, k, p->cfg.kmax, g->catalog);
	n = k + m;
	memset(data + lens[b], 0, k * S - lens[b]);
	g->k[b] = (uint16_t)k;
	g->m[b] = (uint16_t)m;
	g->n[b] = (uint16_t)(p->cfg.repair ? repair_rows(p, g, b, k, n, vp) : n);
	if (g->n[b] > p->rows_max)
		return SL_ERR_INVAL;
	for (unsigned j = 0; j < g->n[b]; j++)
		g->rows[b][j] = (uint16_t)(((uint64_t)vp * n + j) % 255);
	return SL_OK;
}

/* Stage 2 for block b: FEC parity for its parity rows into the worker's
 * scratch (cache-warm, aligned), then every row sealed into its datagram's
 * place, encrypted from the block or the scratch (the encryption is the
 * only copy), packet number = the datagram's position. With the worker's
 * own FEC and sealing contexts. */
static int seal_block(struct tx_producer *p, struct worker *w, struct tx_group *g, unsigned b)
{
	size_t S = p->cfg.symsize, dgs = p->dgsize;
	const uint8_t *data = g->data + b * (size_t)p->cfg.kmax * S;
	const uint8_t *dptr[255], *src[255];
	unsigned prow[255], np = 0, k = g->k[b];
	uint8_t *pout[255];
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = (uint16_t)S, .block = g->blocks[b],
				 .k = g->k[b], .m = g->m[b], .pass = (uint16_t)g->pass };
	int r;

	for (unsigned j = 0; j < g->n[b]; j++) {
		if (g->rows[b][j] >= k) {
			prow[np] = g->rows[b][j];
			pout[np] = w->par + np * S;
			src[j] = pout[np++];
		} else {
			src[j] = data + g->rows[b][j] * S;
		}
	}
	for (unsigned i = 0; i < k; i++)
		dptr[i] = data + i * S;
	if (np && (r = sl_fec_encode(w->fec, k, S, dptr, np, prow, pout)) != SL_OK)
		return r;
	memcpy(h.xfer, p->cfg.src->id, 16);
	for (unsigned j = 0; j < g->n[b]; j++) {
		h.row = g->rows[b][j];
		r = sl_wire_seal_at(w->wire, g->first_packet + g->pos[b][j], &h, src[j],
				    g->dg + g->pos[b][j] * dgs);
		if (r)
			return r;
	}
	return SL_OK;
}

/* Take blocks of the current job until none is left. */
static void work_job(struct tx_producer *p, struct worker *w)
{
	unsigned b;

	while ((b = __atomic_fetch_add(&p->job_next, 1, __ATOMIC_RELAXED)) < p->job_g->count) {
		int r = p->job_stage == ST_ROWS
			? rows_block(p, w, p->job_g, b, p->job_lens, p->job_want, p->job_vp)
			: seal_block(p, w, p->job_g, b);
		if (r) {
			int none = 0; /* the first error wins */
			__atomic_compare_exchange_n(&p->job_err, &none, r, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		}
	}
}

static void stage_on(void *arg, unsigned worker)
{
	struct tx_producer *p = arg;

	work_job(p, &p->workers[worker]);
}

/* One stage for every block of g, on the producer thread and the helpers
 * together; the first error of any block. */
static int run_stage(struct tx_producer *p, struct tx_group *g, enum stage st)
{
	p->job_g = g;
	p->job_stage = st;
	p->job_next = 0;
	p->job_err = 0;
	if (p->nhelpers && g->count > 1)
		sl_pool_run(p->pool, stage_on, p);
	else
		work_job(p, &p->workers[0]);
	return p->job_err;
}

/* The send order of g: row j of every block, then row j + 1, a control
 * slot wherever a cadence falls due (producer.h). */
static int lay_out(struct tx_producer *p, struct tx_group *g)
{
	unsigned maxn = 0;

	g->ndg = g->nctl = 0;
	for (unsigned b = 0; b < g->count; b++)
		if (g->n[b] > maxn)
			maxn = g->n[b];
	for (unsigned j = 0; j < maxn; j++) {
		for (unsigned b = 0; b < g->count; b++) {
			if (j >= g->n[b])
				continue;
			if (g->ndg + 3 > p->dg_max || g->nctl + 2 > p->ctl_max)
				return sl_diag_set(&p->err, SL_ERR_INVAL, "a group outgrew its buffers");
			g->pos[b][j] = g->ndg++;
			count_dg(p, 0);
			if (p->cfg.hb_every && p->since_hb >= p->cfg.hb_every)
				add_ctl(p, g, TX_CTL_HB);
			if (p->since_xfer >= TX_XFER_EVERY)
				add_ctl(p, g, TX_CTL_XFER_OR_HB);
		}
	}
	return number(p, g);
}

/* Compress (want != NULL), lay out, FEC-encode and seal every block of g. */
static int encode_group(struct tx_producer *p, struct tx_group *g, unsigned *lens,
			const size_t *want, unsigned vp)
{
	int r;

	p->job_lens = lens;
	p->job_want = want;
	p->job_vp = vp;
	r = run_stage(p, g, ST_ROWS);
	if (r)
		return sl_diag_set(&p->err, r, "a block needs more rows than a group's buffers hold");
	r = lay_out(p, g);
	if (r)
		return r;
	r = run_stage(p, g, ST_SEAL);
	if (r == SL_ERR_CRYPTO)
		return sl_diag_set(&p->err, r, "sealing datagrams failed: %s", sl_strerror(r));
	if (r)
		return sl_diag_set(&p->err, r, "FEC encode failed");
	return SL_OK;
}

/* A free slot of the ring, set up for a group of `pass`; NULL when stopping. */
static struct tx_group *start_group(struct tx_producer *p, unsigned pass, int catalog)
{
	struct tx_group *g = acquire(p);
	if (g) {
		g->ev = TX_EV_GROUP;
		g->pass = pass;
		g->catalog = catalog;
		g->count = 0;
	}
	return g;
}

static int catalog_groups(struct tx_producer *p, unsigned pass, unsigned vp)
{
	const struct tx_source *src = p->cfg.src;
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;
	unsigned lens[TX_GROUP_MAX];
	struct tx_group *g = NULL;
	int r;

	for (uint32_t i = 0; i < p->cfg.catalog_blocks; i++) {
		uint64_t off = (uint64_t)i * p->cfg.piece;
		uint32_t len = (uint32_t)(src->catalog_len - off < p->cfg.piece ? src->catalog_len - off
									      : p->cfg.piece);
		struct sl_block_rec rec = { .kind = SL_BLK_CATALOG, .codec = SL_CODEC_RAW, .index = i,
					    .offset = off, .raw_len = len, .stored_len = len };
		uint8_t *q;
		if (!g && !(g = start_group(p, pass, 1)))
			return SL_ERR_AGAIN;
		q = g->data + g->count * bsz;
		sl_block_rec_encode(&rec, q);
		memcpy(q + SL_BLOCK_REC, src->catalog + off, len);
		g->blocks[g->count] = i;
		lens[g->count] = SL_BLOCK_REC + len;
		if (++g->count == p->cfg.interleave || i + 1 == p->cfg.catalog_blocks) {
			r = encode_group(p, g, lens, NULL, vp);
			if (r)
				return r;
			publish(p);
			g = NULL;
		}
	}
	return SL_OK;
}

/* After compression: account the group and keep it for later passes. */
static int spool_group(struct tx_producer *p, const struct tx_group *g, const unsigned *lens)
{
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;

	for (unsigned i = 0; i <= p->nhelpers; i++) {
		tx_chunker_account(p->chunker, p->workers[i].stored, 0);
		p->workers[i].stored = 0;
		while (p->workers[i].raw_chunks) {
			tx_chunker_account(p->chunker, 0, 1);
			p->workers[i].raw_chunks--;
		}
	}
	if (p->spool_fd < 0)
		return SL_OK;
	for (unsigned b = 0; b < g->count; b++) {
		uint64_t c = g->blocks[b] - p->cfg.catalog_blocks;
		p->refs[c].spool_off = p->spool_end;
		p->refs[c].len = lens[b];
		if (sl_pwrite_all(p->spool_fd, g->data + b * bsz, lens[b], p->spool_end))
			return sl_diag_errno(&p->err, "writing the compressed spool");
		p->spool_end += lens[b];
	}
	return SL_OK;
}

/* Start reading chunks [first, first + D) into group buffer data (chunks
 * already started are skipped). */
static int read_ahead(struct tx_producer *p, uint64_t first, uint8_t *data)
{
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;

	for (uint64_t a = p->ahead; a < p->cfg.nchunks && a - first < p->cfg.interleave; a++) {
		if (tx_chunker_prefetch(p->chunker, a, data + (a - first) * bsz))
			return sl_diag_set(&p->err, SL_ERR_INVAL, "chunk %llu cannot be read ahead",
					   (unsigned long long)a);
		p->ahead = a + 1;
	}
	return SL_OK;
}

static void load_on(void *arg, unsigned worker)
{
	struct tx_producer *p = arg;

	tx_chunker_load(p->chunker, p->workers[worker].fl, p->workers[worker].sha);
}

/* The small files read ahead so far (a group's), opened, read, hashed and
 * checked on the producer thread and the helpers together; the in-order
 * reading then only takes their results. */
static void load_files(struct tx_producer *p)
{
	if (p->nhelpers && tx_chunker_loads(p->chunker) > 1)
		sl_pool_run(p->pool, load_on, p);
}

/* The next group's buffer, if it is free already (the sender holds at
 * most one other slot): its reads can then run during this group's
 * compression, FEC and sealing. */
static uint8_t *next_free_slot(struct tx_producer *p)
{
	uint8_t *data = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->filled + 1 < NSLOTS && !p->stop)
		data = p->slots[(p->wr + 1) % NSLOTS].data;
	pthread_mutex_unlock(&p->mu);
	return data;
}

static int chunk_groups(struct tx_producer *p, unsigned pass, int produce)
{
	size_t bsz = (size_t)p->cfg.kmax * p->cfg.symsize;
	unsigned lens[TX_GROUP_MAX];
	size_t want[TX_GROUP_MAX];
	struct tx_group *g = NULL;
	int r;

	for (uint64_t c = 0; c < p->cfg.nchunks; c++) {
		uint8_t *q;
		if (!g) {
			if (!(g = start_group(p, pass, 0)))
				return SL_ERR_AGAIN;
			/* the group's chunks: start reading them all now */
			if (produce && (r = read_ahead(p, c, g->data)))
				return r;
			if (produce)
				load_files(p);
		}
		q = g->data + g->count * bsz;
		if (produce) {
			/* read and hash here, in order; the workers do the rest */
			r = tx_chunker_read(p->chunker, c, q, &want[g->count], &p->err);
			if (r)
				return r;
		} else {
			if (sl_pread_all(p->spool_fd, q, p->refs[c].len, p->refs[c].spool_off))
				return sl_diag_errno(&p->err, "reading the compressed spool");
			lens[g->count] = p->refs[c].len;
		}
		g->blocks[g->count] = p->cfg.catalog_blocks + c;
		if (++g->count == p->cfg.interleave || c + 1 == p->cfg.nchunks) {
			uint8_t *next = produce && c + 1 < p->cfg.nchunks ? next_free_slot(p) : NULL;
			if (next && (r = read_ahead(p, c + 1, next)))
				return r;
			r = encode_group(p, g, lens, produce ? want : NULL, pass);
			if (r)
				return r;
			if (produce)
				r = spool_group(p, g, lens);
			if (r)
				return r;
			publish(p);
			g = NULL;
		}
	}
	if (produce)
		return tx_chunker_finish(p->chunker, &p->err);
	return SL_OK;
}

static void run(void *arg, unsigned worker)
{
	struct tx_producer *p = arg;
	unsigned last = p->cfg.first_pass + p->cfg.passes;
	int r = SL_OK;

	(void)worker;

	for (unsigned pass = p->cfg.first_pass; pass < last && !r; pass++) {
		r = push_event(p, TX_EV_PASS_START, pass);
		if (!r)
			r = catalog_groups(p, pass, 2 * pass);
		if (!r)
			r = chunk_groups(p, pass, pass == p->cfg.first_pass);
		if (!r)
			r = catalog_groups(p, pass, 2 * pass + 1);
		if (!r)
			r = push_event(p, TX_EV_PASS_END, pass);
	}
	if (r == SL_ERR_AGAIN)
		return; /* stopped by the sender */
	{
		uint64_t rc;
		tx_chunker_totals(p->chunker, &p->raw, &p->stored, &rc);
	}
	if (r) {
		struct tx_group *g = acquire(p);
		p->errcode = r;
		if (!g)
			return;
		g->ev = TX_EV_ERROR;
		g->count = 0;
		publish(p);
		return;
	}
	push_event(p, TX_EV_END, last - 1);
	return;
}

static int worker_init(struct worker *w, struct tx_producer *p, const struct tx_producer_cfg *cfg)
{
	w->p = p;
	if (sl_fec_new(&w->fec))
		return SL_ERR_NOMEM;
	w->cctx = tx_chunk_cctx(cfg->level);
	w->zbuf = malloc(cfg->chunk_size);
	if (!w->cctx || !w->zbuf || sl_sha256_new(&w->sha) ||
	    posix_memalign((void **)&w->par, 64, (size_t)p->rows_max * cfg->symsize) != 0)
		return SL_ERR_NOMEM;
	/* no io_uring here (a kernel or sandbox without it): files read plainly */
	if (cfg->small_uring && tx_fileload_new(&w->fl, NULL) == SL_ERR_NOMEM)
		return SL_ERR_NOMEM;
	return sl_wire_tx_clone(cfg->wire, cfg->link_key, &w->wire, NULL);
}

/* workers[0] is the producer thread itself; helpers as cores allow. */
static int start_pool(struct tx_producer *p, const struct tx_producer_cfg *cfg)
{
	unsigned want = cfg->threads ? cfg->threads - 1 : sl_cpus_usable() - 1;
	int r;

	if (want > MAX_HELPERS)
		want = MAX_HELPERS;
	p->pool_init = 1;
	r = worker_init(&p->workers[0], p, cfg);
	for (unsigned i = 1; !r && i <= want; i++)
		r = worker_init(&p->workers[i], p, cfg);
	if (!r)
		r = sl_pool_new(want, "tx-worker", &p->pool, NULL);
	p->nhelpers = sl_pool_helpers(p->pool); /* fewer if the system refused threads */
	return r;
}

static void stop_pool(struct tx_producer *p)
{
	if (!p->pool_init)
		return;
	sl_pool_free(p->pool); /* joins the helpers */
	p->pool = NULL;
	for (unsigned i = 0; i <= MAX_HELPERS; i++) {
		struct worker *w = &p->workers[i];
		sl_fec_free(w->fec);
		ZSTD_freeCCtx(w->cctx);
		free(w->zbuf);
		free(w->par);
		sl_sha256_free(w->sha);
		tx_fileload_free(w->fl);
		sl_wire_tx_free(w->wire); /* wipes its key */
	}
}

/* File reads of the chunker, into the group buffers (registered). A
 * registration the memory lock limit refuses is not fatal: unregistered
 * io_uring reads (d->msg says so, the caller logs it). IOSQE_ASYNC: the
 * kernel's workers copy from the page cache while this thread hashes and
 * the helpers compress (inline submission would copy on this thread; the
 * two measured the same on a 2-core VM, within noise). */
static int open_uio(struct tx_producer *p, struct sl_diag *d)
{
	struct iovec iov[NSLOTS];
	int r = sl_uio_new(p->cfg.file_io, 64, SL_UIO_ASYNC, &p->uio, d);

	for (unsigned i = 0; i < NSLOTS; i++) {
		iov[i].iov_base = p->slots[i].data;
		iov[i].iov_len = (size_t)p->cfg.interleave * p->cfg.kmax * p->cfg.symsize;
	}
	return r ? r : sl_uio_register(p->uio, iov, NSLOTS, d);
}

/* The ring's buffers, once for the whole send. Rows a block can send in
 * one pass: chunk blocks n <= kmax + m, catalog blocks n = 2k <= kmax
 * (their pieces are half a block), a repaired block up to 255. A group's
 * datagrams: its symbols, a transfer-header slot per TX_XFER_EVERY and a
 * heartbeat slot per hb_every of them (and one of each to spare). */
static int alloc_slots(struct tx_producer *p, const struct tx_producer_cfg *cfg)
{
	size_t S = cfg->symsize;
	unsigned syms, every = cfg->hb_every && cfg->hb_every < TX_XFER_EVERY ? cfg->hb_every
									       : TX_XFER_EVERY;

	p->rows_max = cfg->kmax + tx_parity_for(cfg->overhead, cfg->kmax, cfg->kmax, 0);
	if (p->rows_max > 255 || cfg->repair)
		p->rows_max = 255;
	if (p->rows_max < 2)
		p->rows_max = 2;
	syms = cfg->interleave * p->rows_max;
	p->ctl_max = 2 * (syms / every + 2);
	p->dg_max = syms + p->ctl_max;
	p->dgsize = sl_wire_dgram_size(cfg->symsize);
	for (unsigned i = 0; i < NSLOTS; i++) {
		p->slots[i].data = malloc((size_t)cfg->interleave * cfg->kmax * S);
		p->slots[i].dg = malloc((size_t)p->dg_max * p->dgsize);
		p->slots[i].ctl = malloc(p->ctl_max * sizeof *p->slots[i].ctl);
		if (!p->slots[i].data || !p->slots[i].dg || !p->slots[i].ctl)
			return SL_ERR_NOMEM;
	}
	return SL_OK;
}

int tx_producer_start(const struct tx_producer_cfg *cfg, struct tx_producer **out,
		      struct sl_diag *d)
{
	struct tx_producer *p = calloc(1, sizeof *p);
	int r;

	*out = NULL;
	if (!p)
		return SL_ERR_NOMEM;
	p->cfg = *cfg;
	p->spool_fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->next_packet = cfg->first_packet;
	if (alloc_slots(p, cfg)) {
		tx_producer_free(p);
		return SL_ERR_NOMEM;
	}
	r = start_pool(p, cfg);
	if (r) {
		tx_producer_free(p);
		return sl_diag_set(d, r, "cannot set up the compression, FEC and sealing workers");
	}
	r = open_uio(p, d);
	if (!r)
		r = tx_chunker_new(cfg->src, cfg->chunk_size, cfg->level, p->uio, &p->chunker, d);
	if (r) {
		tx_producer_free(p);
		return r;
	}
	if (cfg->passes > 1) {
		const char *dir = cfg->spool_dir ? cfg->spool_dir
						 : (getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
		p->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (p->spool_fd < 0) {
			r = sl_diag_errno(d, "cannot create the compressed spool in %s (set --spool DIR)", dir);
			tx_producer_free(p);
			return r;
		}
		p->refs = calloc(cfg->nchunks ? cfg->nchunks : 1, sizeof *p->refs);
		if (!p->refs) {
			tx_producer_free(p);
			return SL_ERR_NOMEM;
		}
	}
	if (sl_pool_start_one("tx-producer", run, p, &p->thread, NULL) != SL_OK) {
		tx_producer_free(p);
		return sl_diag_set(d, SL_ERR_IO, "cannot start the producer thread");
	}
	*out = p;
	return SL_OK;
}

void tx_producer_totals(struct tx_producer *p, uint64_t *raw, uint64_t *stored)
{
	uint64_t rc;
	if (p->chunker)
		tx_chunker_totals(p->chunker, raw, stored, &rc);
	else
		*raw = *stored = 0;
}

void tx_producer_free(struct tx_producer *p)
{
	if (!p)
		return;
	if (p->thread) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		sl_pool_free(p->thread); /* waits for run() to return */
	}
	/* reads in flight land in the slots: stop them first */
	tx_chunker_free(p->chunker);
	sl_uio_free(p->uio);
	for (unsigned i = 0; i < NSLOTS; i++) {
		free(p->slots[i].data);
		free(p->slots[i].dg);
		free(p->slots[i].ctl);
	}
	stop_pool(p);
	if (p->spool_fd >= 0)
		close(p->spool_fd);
	free(p->refs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

int tx_producer_error(const struct tx_producer *p)
{
	return p->errcode ? p->errcode : SL_ERR_IO;
}
