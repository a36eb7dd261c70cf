/* test_tx_producer.c — sluice-tx's producer (tx/producer.c) driven directly.
 *
 * The producer thread turns a transfer into events (producer.h): PASS_START,
 * the catalog's blocks, the chunk blocks in groups of D, the catalog again,
 * PASS_END, and at last END (or ERROR). These tests take its events one by
 * one with tx_producer_next/tx_producer_release, as the sender does, and
 * check them against the contract: which blocks each group holds and in what
 * order, how many rows each block sends (the parity formula of PROTOCOL.md
 * §6, the repair formula of producer.h) and which rows ((vp·n + j) mod 255),
 * the send order inside a group (row j of every block, then row j + 1), the
 * control slots' cadence, the packet numbers, and what the sealed datagrams
 * carry once opened with the link key (headers, file bytes, parity that the
 * FEC code computes from the data rows, also on a pass read from the
 * spool). Also: an error from the source, and a producer freed early.
 *
 * The shapes are small and exact: symbols of 128 bytes, kmax 16, overhead
 * 25% (m = 4 for a full block), so a chunk holds 2016 raw bytes and a
 * catalog block 992 catalog bytes (k = 8, m = 8). a.bin is three full chunks
 * and one of 500 bytes (k = 5, m = 3 by the square-root floor), random, so
 * no chunk compresses.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fec.h"
#include "leakcheck.h"
#include "producer.h"
#include "proto.h"
#include "repair.h"
#include "rxh.h"
#include "rxh_suite.h"
#include "source.h"
#include "wire.h"

TestSuite(tx_producer, .init = rxh_suite_up_stopped, .fini = rxh_suite_down, .timeout = 120);

#define S 128u
#define KMAX 16u
#define OVERHEAD 0.25
#define CHUNK (KMAX * S - SL_BLOCK_REC)           /* 2016 raw bytes a chunk */
#define PIECE ((KMAX / 2) * S - SL_BLOCK_REC)     /* 992 catalog bytes a catalog block */
#define LAST 500u                                  /* bytes of a.bin's last chunk */
#define ALEN (3 * CHUNK + LAST)
#define NEMPTY 24                                  /* empty files: a longer manifest, no chunk */
#define FIRST_PACKET 33u                           /* as after a preamble of 32 */

/* ---- what the producer handed out ---- */

struct blk {
	uint64_t block;
	unsigned k, m, n;
	uint16_t rows[255];
};

struct ev {
	enum tx_ev ev;
	unsigned pass, count, ndg, nctl;
	int catalog;
	uint64_t first_packet;
	size_t blk0;                 /* its first block in rec.blk */
	size_t dg0;                  /* its first datagram in rec.dg */
};

/* One datagram of the stream, in send order. */
struct dgr {
	uint8_t kind;                /* 0: a symbol, else enum tx_ctl */
	uint16_t row;
	uint64_t block;
	unsigned pass;
	size_t body;                 /* a symbol's opened body: rec.bodies + body * S */
};

struct rec {
	struct ev *ev;
	size_t nev, cev;
	struct blk *blk;
	size_t nblk, cblk;
	struct dgr *dg;
	size_t ndg, cdg;
	uint8_t *bodies;
	size_t nsym, csym;
	struct sl_diag err;          /* the diagnostic of TX_EV_ERROR */
	int errcode;
	uint64_t next_packet;
};

struct prun {
	struct rxh_xfer t;
	struct tx_source *src;
	struct sl_wire_tx *wire;
	struct sl_wire_rx *wr;
	struct tx_producer_cfg cfg;
	uint8_t *a;                  /* a.bin */
	size_t alen;
	char names[NEMPTY][40];
	char dir[400];
	struct rec rc;
};

static unsigned runs; /* transfer directories made by this test */

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * size);
	cr_assert_not_null(p);
	return p;
}

/* a.bin of alen random bytes and NEMPTY empty files with long names; the
 * producer's settings for it as tx_send makes them (sender.c, plan()). */
static void prun_open(struct prun *u, size_t alen)
{
	struct rxh_file f[1 + NEMPTY];
	struct sl_wire_rx_cfg rc = { .link_key = h->link_key, .max_symsize = SL_WIRE_MAX_SYMSIZE };
	struct sl_diag d = { "" };

	memset(u, 0, sizeof *u);
	u->alen = alen;
	u->a = rxh_pattern(alen, 91);
	f[0] = (struct rxh_file){ "a.bin", u->a, alen };
	for (unsigned i = 0; i < NEMPTY; i++) {
		snprintf(u->names[i], sizeof u->names[i], "empty/a-rather-long-file-name-%02u.txt", i);
		f[1 + i] = (struct rxh_file){ u->names[i], (const uint8_t *)"", 0 };
	}
	cr_assert_eq(rxh_xfer_build(h, f, 1 + NEMPTY, NULL, &u->t), SL_OK);
	snprintf(u->dir, sizeof u->dir, "%s/T%u", h->dir, runs++);
	cr_assert_eq(rxh_xfer_write_dir(h, &u->t, f, 1 + NEMPTY, 2, u->dir), SL_OK);
	cr_assert_eq(tx_source_open(u->dir, h->policy, &u->src, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_wire_tx_new(h->link_key, SL_SUITE_XCHACHA, S, &u->wire, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_wire_rx_new(&rc, &u->wr, &d), SL_OK, "%s", d.msg);

	u->cfg.src = u->src;
	u->cfg.chunk_size = CHUNK;
	u->cfg.piece = sl_catalog_piece(KMAX, S);
	cr_assert_eq(u->cfg.piece, PIECE);
	u->cfg.catalog_blocks = (uint32_t)((u->src->catalog_len + PIECE - 1) / PIECE);
	u->cfg.nchunks = sl_chunks_of(u->src->total_bytes, CHUNK);
	u->cfg.kmax = KMAX;
	u->cfg.symsize = S;
	u->cfg.interleave = 2;
	u->cfg.overhead = OVERHEAD;
	u->cfg.level = 1;
	u->cfg.first_pass = 0;
	u->cfg.passes = 1;
	u->cfg.spool_dir = h->dir;
	u->cfg.threads = 2;
	u->cfg.file_io = SL_UIO_PLAIN;
	u->cfg.wire = u->wire;
	u->cfg.link_key = h->link_key;
	u->cfg.first_packet = FIRST_PACKET;
}

static void prun_close(struct prun *u)
{
	free(u->rc.ev);
	free(u->rc.blk);
	free(u->rc.dg);
	free(u->rc.bodies);
	sl_wire_rx_free(u->wr);
	sl_wire_tx_free(u->wire);
	tx_source_free(u->src);
	rxh_xfer_free(&u->t);
	free(u->a);
}

/* Open symbol datagram `at` of g (a copy) and record it; its header must
 * say what the producer's own fields say. */
static void open_symbol(struct prun *u, const struct tx_group *g, unsigned b, unsigned j, unsigned at)
{
	size_t dgs = sl_wire_dgram_size(S);
	uint8_t copy[SL_WIRE_HDR + S + SL_WIRE_TAG];
	struct sl_wire_hdr w;
	const uint8_t *body;
	struct rec *rc = &u->rc;

	cr_assert_eq(dgs, sizeof copy);
	memcpy(copy, g->dg + (size_t)at * dgs, dgs);
	cr_assert_eq(sl_wire_open(u->wr, copy, dgs, &w, &body), SL_OK, "datagram %u of a group", at);
	cr_assert(w.type == SL_T_SYMBOL && w.block == g->blocks[b] && w.row == g->rows[b][j] &&
		  w.k == g->k[b] && w.m == g->m[b] && w.pass == g->pass && w.paylen == S,
		  "block %llu row %u: the sealed header says block %llu row %u k %u m %u pass %u",
		  (unsigned long long)g->blocks[b], g->rows[b][j], (unsigned long long)w.block, w.row, w.k,
		  w.m, w.pass);
	cr_assert_eq(w.packet, g->first_packet + at, "packet numbers are positions in the schedule");
	cr_assert_eq(memcmp(w.xfer, u->src->id, 16), 0);
	rc->bodies = grow(rc->bodies, &rc->csym, rc->nsym, S);
	memcpy(rc->bodies + rc->nsym * S, body, S);
	rc->dg[rc->ndg - 1].body = rc->nsym++;
}

/* The datagrams of g in order: control slots where g->ctl says, symbols
 * everywhere else, in the order row j of every block, then row j + 1. */
static void record_datagrams(struct prun *u, const struct tx_group *g)
{
	struct rec *rc = &u->rc;
	unsigned at = 0, c = 0, maxn = 0;

	for (unsigned b = 0; b < g->count; b++)
		maxn = g->n[b] > maxn ? g->n[b] : maxn;
	for (unsigned j = 0; j <= maxn; j++) {
		for (unsigned b = 0; b <= g->count; b++) {
			while (c < g->nctl && g->ctl[c].at == at) {
				rc->dg = grow(rc->dg, &rc->cdg, rc->ndg, sizeof *rc->dg);
				rc->dg[rc->ndg++] = (struct dgr){ .kind = g->ctl[c].kind, .pass = g->pass };
				c++;
				at++;
			}
			if (j == maxn || b == g->count || j >= g->n[b])
				continue;
			cr_assert_eq(g->pos[b][j], at, "block %llu row index %u at datagram %u, not %u",
				     (unsigned long long)g->blocks[b], j, g->pos[b][j], at);
			rc->dg = grow(rc->dg, &rc->cdg, rc->ndg, sizeof *rc->dg);
			rc->dg[rc->ndg++] = (struct dgr){ .row = g->rows[b][j], .block = g->blocks[b],
							  .pass = g->pass };
			open_symbol(u, g, b, j, at++);
		}
	}
	cr_assert_eq(c, g->nctl, "every control slot in order");
	cr_assert_eq(at, g->ndg, "the event's datagrams: %u symbols and slots, ndg %u", at, g->ndg);
}

/* Record one event (checking what every event must satisfy). */
static void record(struct prun *u, const struct tx_group *g)
{
	struct rec *rc = &u->rc;
	struct ev *e;

	rc->ev = grow(rc->ev, &rc->cev, rc->nev, sizeof *rc->ev);
	e = &rc->ev[rc->nev++];
	*e = (struct ev){ .ev = g->ev, .pass = g->pass, .count = g->count, .ndg = g->ndg,
			  .nctl = g->nctl, .catalog = g->catalog, .first_packet = g->first_packet,
			  .blk0 = rc->nblk, .dg0 = rc->ndg };
	if (g->ev == TX_EV_ERROR)
		return;
	cr_assert_eq(g->first_packet, rc->next_packet, "event %zu: numbers follow on, none skipped",
		     rc->nev - 1);
	rc->next_packet += g->ndg;
	if (g->ev != TX_EV_GROUP) {
		e->count = 0;
		record_datagrams(u, g);
		return;
	}
	for (unsigned b = 0; b < g->count; b++) {
		struct blk *k;
		rc->blk = grow(rc->blk, &rc->cblk, rc->nblk, sizeof *rc->blk);
		k = &rc->blk[rc->nblk++];
		k->block = g->blocks[b];
		k->k = g->k[b];
		k->m = g->m[b];
		k->n = g->n[b];
		memcpy(k->rows, g->rows[b], sizeof k->rows);
	}
	record_datagrams(u, g);
}

/* Take every event until END or ERROR (or `max` events, then stop
 * taking); 1 when the producer ended. */
static int collect_max(struct prun *u, struct tx_producer *p, size_t max)
{
	u->rc.next_packet = u->cfg.first_packet;
	while (u->rc.nev < max) {
		struct tx_group *g = tx_producer_next(p, &u->rc.err);
		enum tx_ev ev = g->ev;
		record(u, g);
		tx_producer_release(p, g);
		if (ev == TX_EV_ERROR)
			u->rc.errcode = tx_producer_error(p);
		if (ev == TX_EV_END || ev == TX_EV_ERROR)
			return 1;
	}
	return 0;
}

/* Start, take every event, free. */
static void run_all(struct prun *u)
{
	struct tx_producer *p = NULL;
	struct sl_diag d = { "" };

	cr_assert_eq(tx_producer_start(&u->cfg, &p, &d), SL_OK, "%s", d.msg);
	cr_assert(collect_max(u, p, SIZE_MAX));
	tx_producer_free(p);
}

/* ---- expectations ---- */

/* Event i is a group of `count` blocks from `first`, of pass `pass`. */
static const struct ev *expect_group(const struct prun *u, size_t i, unsigned pass, int catalog,
				     uint64_t first, unsigned count)
{
	const struct ev *e = &u->rc.ev[i];

	cr_assert_lt(i, u->rc.nev);
	cr_assert_eq(e->ev, TX_EV_GROUP, "event %zu: %d, not a group", i, e->ev);
	cr_assert_eq(e->pass, pass, "event %zu", i);
	cr_assert_eq(e->catalog, catalog, "event %zu", i);
	cr_assert_eq(e->count, count, "event %zu: %u blocks, not %u", i, e->count, count);
	for (unsigned b = 0; b < count; b++)
		cr_assert_eq(u->rc.blk[e->blk0 + b].block, first + b, "event %zu block %u", i, b);
	return e;
}

/* Block b of event e has k data rows, m parity rows a pass, sends n rows:
 * rows (vp·(k + m) + j) mod 255, j < n. */
static void expect_rows(const struct prun *u, const struct ev *e, unsigned b, unsigned k, unsigned m,
			unsigned n, unsigned vp)
{
	const struct blk *x = &u->rc.blk[e->blk0 + b];

	cr_assert(x->k == k && x->m == m && x->n == n, "block %llu: k %u m %u n %u, expected %u %u %u",
		  (unsigned long long)x->block, x->k, x->m, x->n, k, m, n);
	for (unsigned j = 0; j < n; j++)
		cr_assert_eq(x->rows[j], (vp * (k + m) + j) % 255, "block %llu, its row %u is %u",
			     (unsigned long long)x->block, j, x->rows[j]);
}

/* Event i is a control event of `ndg` datagrams, kinds as given. */
static void expect_control(const struct prun *u, size_t i, enum tx_ev ev, unsigned pass,
			   const uint8_t *kinds, unsigned ndg)
{
	const struct ev *e = &u->rc.ev[i];

	cr_assert_lt(i, u->rc.nev);
	cr_assert_eq(e->ev, ev, "event %zu: %d, expected %d", i, e->ev, ev);
	cr_assert_eq(e->pass, pass, "event %zu", i);
	cr_assert_eq(e->ndg, ndg, "event %zu", i);
	cr_assert_eq(e->nctl, ndg, "event %zu: every datagram a control slot", i);
	for (unsigned d = 0; d < ndg; d++)
		cr_assert_eq(u->rc.dg[e->dg0 + d].kind, kinds[d], "event %zu datagram %u", i, d);
}

static const uint8_t start_kinds[3] = { TX_CTL_XFER, TX_CTL_XFER, TX_CTL_XFER };
static const uint8_t end_pass_kinds[4] = { TX_CTL_XFER, TX_CTL_XFER, TX_CTL_XFER, TX_CTL_HB_PASS_DONE };
static const uint8_t end_kinds[3] = { TX_CTL_HB_DONE, TX_CTL_HB_DONE, TX_CTL_HB_DONE };

/* Catalog block i: k data rows (its piece, record first), m = k. */
static unsigned catalog_k(const struct prun *u, uint32_t i)
{
	uint64_t off = (uint64_t)i * PIECE, len = u->src->catalog_len - off;

	return (unsigned)((SL_BLOCK_REC + (len < PIECE ? len : PIECE) + S - 1) / S);
}

/* Chunk c of a.bin: a full chunk is k = 16, m = ceil(16 · 25%) = 4; the
 * last one of 500 bytes k = ceil(532 / 128) = 5, m = max(ceil(5 · 25%) = 2,
 * ceil(4 · sqrt(5/16)) = 3) = 3. */
static void chunk_km(const struct prun *u, uint64_t c, unsigned *k, unsigned *m)
{
	uint64_t len = u->alen - c * CHUNK;

	if (len >= CHUNK) {
		*k = 16;
		*m = 4;
	} else {
		cr_assert_eq(len, LAST, "only a.bin's last chunk is short");
		*k = 5;
		*m = 3;
	}
}

/* A catalog round from event *i: every catalog block, D a group, rows of
 * virtual pass vp (2·pass, then 2·pass + 1). */
static void expect_catalog(const struct prun *u, size_t *i, unsigned pass, unsigned vp)
{
	uint32_t cb = u->cfg.catalog_blocks, D = u->cfg.interleave;

	for (uint32_t first = 0; first < cb; first += D) {
		unsigned count = cb - first < D ? cb - first : D;
		const struct ev *e = expect_group(u, (*i)++, pass, 1, first, count);
		for (unsigned b = 0; b < count; b++) {
			unsigned k = catalog_k(u, first + b);
			expect_rows(u, e, b, k, k, 2 * k, vp);
		}
	}
}

/* The chunk blocks from event *i, D a group, rows of pass `pass`. */
static void expect_chunks(const struct prun *u, size_t *i, unsigned pass)
{
	uint64_t nc = u->cfg.nchunks, cb = u->cfg.catalog_blocks;
	unsigned D = u->cfg.interleave;

	for (uint64_t first = 0; first < nc; first += D) {
		unsigned count = (unsigned)(nc - first < D ? nc - first : D);
		const struct ev *e = expect_group(u, (*i)++, pass, 0, cb + first, count);
		for (unsigned b = 0; b < count; b++) {
			unsigned k, m;
			chunk_km(u, first + b, &k, &m);
			expect_rows(u, e, b, k, m, k + m, pass);
		}
	}
}

/* A whole pass from event *i (PROTOCOL.md §6). */
static void expect_pass(const struct prun *u, size_t *i, unsigned pass)
{
	expect_control(u, (*i)++, TX_EV_PASS_START, pass, start_kinds, 3);
	expect_catalog(u, i, pass, 2 * pass);
	expect_chunks(u, i, pass);
	expect_catalog(u, i, pass, 2 * pass + 1);
	expect_control(u, (*i)++, TX_EV_PASS_END, pass, end_pass_kinds, 4);
}

/* Block b as the receiver rebuilds it: its record (raw: nothing here
 * compresses), the catalog's or a.bin's bytes, zeros to k·S; its k. */
static unsigned expected_block(const struct prun *u, uint64_t b, uint8_t *out)
{
	uint64_t cb = u->cfg.catalog_blocks;
	struct sl_block_rec rec = { .codec = SL_CODEC_RAW };
	const uint8_t *from;
	unsigned k, m;

	memset(out, 0, 255 * S);
	if (b < cb) {
		uint64_t len = u->src->catalog_len - b * PIECE;
		rec.kind = SL_BLK_CATALOG;
		rec.offset = b * PIECE;
		rec.raw_len = rec.stored_len = (uint32_t)(len < PIECE ? len : PIECE);
		from = u->src->catalog + rec.offset;
		k = catalog_k(u, (uint32_t)b);
	} else {
		uint64_t c = b - cb, len = u->alen - c * CHUNK;
		rec.kind = SL_BLK_CHUNK;
		rec.offset = c * CHUNK;
		rec.raw_len = rec.stored_len = (uint32_t)(len < CHUNK ? len : CHUNK);
		from = u->a + rec.offset;
		chunk_km(u, c, &k, &m);
	}
	rec.index = b < cb ? b : b - cb;
	sl_block_rec_encode(&rec, out);
	memcpy(out + SL_BLOCK_REC, from, rec.stored_len);
	return k;
}

/* The rows of block b that were sent (at[row]: body index, SIZE_MAX: not
 * sent) are the block's data rows, or its parity rows as FEC.md computes them. */
static void check_block(const struct prun *u, struct sl_fec *fec, uint64_t b, const size_t *at)
{
	uint8_t *blk = malloc(255 * S), *par = malloc(S);
	const uint8_t *data[255];
	unsigned k = expected_block(u, b, blk);

	for (unsigned i = 0; i < k; i++)
		data[i] = blk + (size_t)i * S;
	for (unsigned row = 0; row < 255; row++) {
		const uint8_t *want = row < k ? data[row] : par;
		uint8_t *pout[1] = { par };
		unsigned prow[1] = { row };
		if (at[row] == SIZE_MAX)
			continue;
		if (row >= k)
			cr_assert_eq(sl_fec_encode(fec, k, S, data, 1, prow, pout), SL_OK);
		cr_assert_eq(memcmp(u->rc.bodies + at[row] * S, want, S), 0, "block %llu row %u (k %u)",
			     (unsigned long long)b, row, k);
	}
	free(blk);
	free(par);
}

/* Every (block, row) of the stream: data rows carry the block as the
 * receiver rebuilds it (record, then a.bin's or the catalog's bytes),
 * parity rows what the FEC code computes from the data rows sent. No
 * (block, row) twice unless `repeats`. */
static void check_bodies(const struct prun *u, int repeats)
{
	uint64_t nb = u->cfg.catalog_blocks + u->cfg.nchunks;
	size_t *at = malloc(nb * 255 * sizeof *at);
	struct sl_fec *fec;

	cr_assert_not_null(at);
	cr_assert_eq(sl_fec_new(&fec), SL_OK);
	for (size_t i = 0; i < nb * 255; i++)
		at[i] = SIZE_MAX;
	for (size_t i = 0; i < u->rc.ndg; i++) {
		const struct dgr *g = &u->rc.dg[i];
		if (g->kind)
			continue;
		cr_assert_lt(g->block, nb);
		cr_assert(repeats || at[g->block * 255 + g->row] == SIZE_MAX, "block %llu row %u sent twice",
			  (unsigned long long)g->block, g->row);
		at[g->block * 255 + g->row] = g->body;
	}
	for (uint64_t b = 0; b < nb; b++)
		check_block(u, fec, b, at + b * 255);
	sl_fec_free(fec);
	free(at);
}

/* A control slot of kind `slot` comes after every `every` datagrams
 * (producer.h). One counter counts every datagram; a slot of a kind in
 * `resets` starts it again at 1 (the first datagram of the stream counts
 * 1). When a datagram of a kind in `triggers` (bit 0: a symbol) brings it
 * to `every`, the slot comes next, after any of the kinds in `between`. */
static void check_cadence(const struct prun *u, unsigned resets, unsigned triggers, unsigned between,
			  uint8_t slot, unsigned every)
{
	size_t last = 0, slots = 0;
	int due = 0;

	for (size_t i = 0; i < u->rc.ndg; i++) {
		uint8_t kind = u->rc.dg[i].kind;
		if (kind == slot) {
			cr_assert(due, "datagram %zu: a slot %u before it was due", i, slot);
			slots++;
			due = 0;
		} else if (!(due && (between >> kind & 1))) {
			cr_assert_not(due, "datagram %zu (kind %u): the slot %u due is missing", i, kind, slot);
		}
		if (resets >> kind & 1)
			last = i;
		else if ((triggers >> kind & 1) && i - last + 1 >= every)
			due = 1;
	}
	cr_assert_not(due);
	cr_assert_gt(slots, 1, "the run is long enough to show the cadence");
}

static unsigned count_entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	cr_assert_not_null(dp);
	while ((e = readdir(dp)))
		n += e->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* ---- the tests ---- */

/* One pass, D = 2: PASS_START (3 transfer headers), the catalog blocks
 * (k = 8, m = 8 each; rows 0..15), the four chunk blocks (16 + 4 rows,
 * the last 5 + 3), the catalog again with rows 16..31, PASS_END (3
 * headers, "pass done"), END (3 "done"); every datagram where the send
 * order puts it, sealed, numbered from 33 on; the file's bytes and the
 * parity the code computes. After END: the totals and the next numbers. */
Test(tx_producer, one_pass_in_order)
{
	struct prun u;
	struct tx_producer *p = NULL;
	struct sl_diag d = { "" };
	uint64_t raw, stored, first;
	size_t i = 0;

	prun_open(&u, ALEN);
	cr_assert_geq(u.cfg.catalog_blocks, 3, "a catalog of %zu bytes: 3 blocks or more, one group short",
		      u.src->catalog_len);
	cr_assert_eq(u.cfg.catalog_blocks % 2, 1);
	cr_assert_eq(u.cfg.nchunks, 4);
	cr_assert_eq(tx_producer_start(&u.cfg, &p, &d), SL_OK, "%s", d.msg);
	cr_assert(collect_max(&u, p, SIZE_MAX));
	expect_pass(&u, &i, 0);
	expect_control(&u, i++, TX_EV_END, 0, end_kinds, 3);
	cr_assert_eq(i, u.rc.nev, "nothing after END");
	cr_assert_eq(u.rc.nev, 1 + 2 * ((u.cfg.catalog_blocks + 1) / 2) + 2 + 1 + 1);
	for (size_t j = 0; j < u.rc.ndg; j++)
		cr_assert_neq(u.rc.dg[j].kind, TX_CTL_HB, "no heartbeat slots without hb_every");
	cr_assert_eq(u.rc.ev[0].first_packet, FIRST_PACKET);
	check_bodies(&u, 0);
	tx_producer_totals(p, &raw, &stored);
	cr_assert_eq(raw, ALEN);
	cr_assert_eq(stored, ALEN, "random data is stored raw");
	cr_assert_eq(tx_producer_take_packets(p, 3, &first), SL_OK);
	cr_assert_eq(first, u.rc.next_packet, "numbers after the schedule's last one");
	cr_assert_eq(tx_producer_take_packets(p, 1, &first), SL_OK);
	cr_assert_eq(first, u.rc.next_packet + 3);
	tx_producer_free(p);
	prun_close(&u);
}

/* D = 1 and D = 3 (a group of three chunk blocks and one of one), and D
 * larger than the transfer: the same blocks in groups of D, in order. */
Test(tx_producer, groups_of_d_blocks)
{
	const unsigned ds[3] = { 1, 3, 64 };

	for (unsigned t = 0; t < 3; t++) {
		struct prun u;
		size_t i = 0;
		prun_open(&u, ALEN);
		u.cfg.interleave = ds[t];
		u.cfg.threads = 1 + t;
		run_all(&u);
		expect_pass(&u, &i, 0);
		expect_control(&u, i++, TX_EV_END, 0, end_kinds, 3);
		cr_assert_eq(i, u.rc.nev);
		check_bodies(&u, 0);
		prun_close(&u);
	}
}

/* Three passes: pass p sends rows (p·n + j) mod 255 of each block (chunk
 * blocks: 0..19, 20..39, 40..59; the catalog's four rounds 0..15, 16..31,
 * ...), never a row twice; passes 1 and 2 read the compressed blocks back
 * from the spool, and their parity is still the block's. The spool is an
 * O_TMPFILE: nothing is left in the spool directory. */
Test(tx_producer, repeat_passes_send_new_rows)
{
	struct prun u;
	size_t i = 0;
	char spool[300];

	prun_open(&u, ALEN);
	snprintf(spool, sizeof spool, "%s/spool", h->dir);
	cr_assert_eq(mkdir(spool, 0700), 0);
	u.cfg.spool_dir = spool;
	u.cfg.passes = 3;
	run_all(&u);
	for (unsigned pass = 0; pass < 3; pass++)
		expect_pass(&u, &i, pass);
	expect_control(&u, i++, TX_EV_END, 2, end_kinds, 3);
	cr_assert_eq(i, u.rc.nev);
	check_bodies(&u, 0);
	cr_assert_eq(count_entries(spool), 0);
	prun_close(&u);
}

/* A run that starts at a later pass (sluice-tx send --first-pass) sends
 * that pass's rows: at pass 12 a chunk block's rows wrap round 255
 * (240..254, 0..4), which repeat none of pass 12's others. */
Test(tx_producer, later_first_pass_wraps_round_255)
{
	struct prun u;
	size_t i = 0;

	prun_open(&u, ALEN);
	u.cfg.first_pass = 12;
	run_all(&u);
	expect_pass(&u, &i, 12);
	expect_control(&u, i++, TX_EV_END, 12, end_kinds, 3);
	cr_assert_eq(u.rc.blk[u.rc.ev[1 + (u.cfg.catalog_blocks + 1) / 2].blk0].rows[15], 0,
		     "row 240 + 15 of the first chunk block is row 0");
	check_bodies(&u, 0);
	prun_close(&u);
}

/* A repair code's list (sl_repair), blocks ascending. */
static struct sl_repair *repair_of(const uint64_t *blocks, const uint16_t *need, size_t n)
{
	struct sl_repair *r = calloc(1, sizeof *r);

	cr_assert_not_null(r);
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		r->e[i].block = blocks[i];
		r->e[i].need = need[i];
	}
	return r;
}

/* A catalog round of a repair pass: only block `listed` sends, n rows. */
static void expect_catalog_repair(const struct prun *u, size_t *i, unsigned pass, unsigned vp,
				  uint32_t listed, unsigned n)
{
	uint32_t cb = u->cfg.catalog_blocks, D = u->cfg.interleave;

	for (uint32_t first = 0; first < cb; first += D) {
		unsigned count = cb - first < D ? cb - first : D, sends = 0;
		const struct ev *e = expect_group(u, (*i)++, pass, 1, first, count);
		for (unsigned b = 0; b < count; b++) {
			unsigned k = catalog_k(u, first + b);
			expect_rows(u, e, b, k, k, first + b == listed ? n : 0, vp);
			sends += first + b == listed ? n : 0;
		}
		cr_assert_eq(e->ndg, sends, "a group of blocks the code does not list sends nothing");
	}
}

/* The code lists catalog block 0 (whole), chunk block 1 (3 rows short)
 * and chunk block 3 (whole), for pass 1 with a 50% margin: each sends
 * need + ceil(need · 50%) + 4 rows, new ones (pass 1's: block 0 of the
 * catalog rows 32.., chunk block 1 rows 20.., chunk block 3 rows 8..); the
 * others nothing; the catalog's second round sends nothing (once is
 * enough). Then the end: PASS_END, END. */
Test(tx_producer, repair_sends_listed_blocks_new_rows)
{
	struct prun u;
	struct sl_repair *r;
	size_t i = 0;
	uint64_t cb;
	const struct ev *e;

	prun_open(&u, ALEN);
	cb = u.cfg.catalog_blocks;
	cr_assert_geq(cb, 3);
	r = repair_of((const uint64_t[]){ 0, cb + 1, cb + 3 }, (const uint16_t[]){ 0, 3, 0 }, 3);
	u.cfg.repair = r;
	u.cfg.repair_margin = 50;
	u.cfg.first_pass = 1;
	run_all(&u);
	expect_control(&u, i++, TX_EV_PASS_START, 1, start_kinds, 3);
	expect_catalog_repair(&u, &i, 1, 2, 0, 8 + 4 + TX_REPAIR_EXTRA);
	e = expect_group(&u, i++, 1, 0, cb, 2);
	expect_rows(&u, e, 0, 16, 4, 0, 1);
	expect_rows(&u, e, 1, 16, 4, 3 + 2 + TX_REPAIR_EXTRA, 1);
	e = expect_group(&u, i++, 1, 0, cb + 2, 2);
	expect_rows(&u, e, 0, 16, 4, 0, 1);
	expect_rows(&u, e, 1, 5, 3, 5 + 3 + TX_REPAIR_EXTRA, 1);
	expect_catalog_repair(&u, &i, 1, 3, UINT32_MAX, 0);
	expect_control(&u, i++, TX_EV_PASS_END, 1, end_pass_kinds, 4);
	expect_control(&u, i++, TX_EV_END, 1, end_kinds, 3);
	cr_assert_eq(i, u.rc.nev);
	cr_assert_eq(u.rc.nsym, 16 + 9 + 12);
	check_bodies(&u, 0);
	free(r);
	prun_close(&u);
}

/* At pass 12 a chunk block (n = 20) has 255 - 240 = 15 fresh rows left:
 * the 16 + 16 + 4 = 36 rows it should get count the 21 past the fresh ones
 * as (255 - 16) / 255 of a row each: 15 + ceil(21 · 255 / 239) = 38 rows
 * (240..254, then 0..22). Catalog block 0 (n = 16) has none fresh at
 * virtual pass 24: ceil(20 · 255 / 247) = 21 rows from 129. Chunk block 3,
 * one row short: 1 + 1 + 4 rows from 96. */
Test(tx_producer, repair_past_the_fresh_rows)
{
	struct prun u;
	struct sl_repair *r;
	size_t i = 0;
	uint64_t cb;
	const struct ev *e;

	prun_open(&u, ALEN);
	cb = u.cfg.catalog_blocks;
	r = repair_of((const uint64_t[]){ 0, cb, cb + 3 }, (const uint16_t[]){ 0, 0, 1 }, 3);
	u.cfg.repair = r;
	u.cfg.repair_margin = 100;
	u.cfg.first_pass = 12;
	run_all(&u);
	expect_control(&u, i++, TX_EV_PASS_START, 12, start_kinds, 3);
	expect_catalog_repair(&u, &i, 12, 24, 0, 21);
	cr_assert_eq(u.rc.blk[u.rc.ev[1].blk0].rows[0], 129);
	e = expect_group(&u, i++, 12, 0, cb, 2);
	expect_rows(&u, e, 0, 16, 4, 38, 12);
	cr_assert_eq(u.rc.blk[e->blk0].rows[37], 22);
	expect_rows(&u, e, 1, 16, 4, 0, 12);
	e = expect_group(&u, i++, 12, 0, cb + 2, 2);
	expect_rows(&u, e, 0, 16, 4, 0, 12);
	expect_rows(&u, e, 1, 5, 3, 6, 12);
	expect_catalog_repair(&u, &i, 12, 25, UINT32_MAX, 0);
	expect_control(&u, i++, TX_EV_PASS_END, 12, end_pass_kinds, 4);
	expect_control(&u, i++, TX_EV_END, 12, end_kinds, 3);
	cr_assert_eq(i, u.rc.nev);
	check_bodies(&u, 0);
	free(r);
	prun_close(&u);
}

/* Thirty full chunks, two passes, D = 4, a heartbeat slot every 37
 * datagrams: a transfer-header slot 256 datagrams after the last transfer
 * header (the schedule's own or a slot), a heartbeat slot 37 after the
 * last, across groups and passes; the blocks as ever. */
Test(tx_producer, control_slots_keep_their_cadence)
{
	struct prun u;
	size_t i = 0;

	prun_open(&u, 30 * CHUNK);
	u.cfg.passes = 2;
	u.cfg.interleave = 4;
	u.cfg.hb_every = 37;
	run_all(&u);
	for (unsigned pass = 0; pass < 2; pass++)
		expect_pass(&u, &i, pass);
	expect_control(&u, i++, TX_EV_END, 1, end_kinds, 3);
	check_cadence(&u, 1u << TX_CTL_XFER | 1u << TX_CTL_XFER_OR_HB, 1u | 1u << TX_CTL_HB,
		      1u << TX_CTL_HB, TX_CTL_XFER_OR_HB, TX_XFER_EVERY);
	check_cadence(&u, 1u << TX_CTL_HB, 1u, 0, TX_CTL_HB, 37);
	check_bodies(&u, 0);
	prun_close(&u);
}

/* A.bin changed after it was hashed: a byte flipped (the SHA-256 differs
 * when its last chunk is read: chunks 0-2 went out, D = 1), grown (its size
 * differs when it is opened: no chunk went out), removed (no chunk). The
 * producer ends with TX_EV_ERROR, the error code and a message naming the
 * file, and no PASS_END or END. */
Test(tx_producer, changed_file_stops_with_its_error)
{
	const int code[3] = { SL_ERR_HASH, SL_ERR_HASH, SL_ERR_IO };
	const char *why[3] = { "changed since it was hashed: SHA-256 differs",
			       "changed since it was hashed: size", NULL };
	const unsigned groups[3] = { 3, 0, 0 };

	for (unsigned t = 0; t < 3; t++) {
		struct prun u;
		char path[460];
		unsigned chunk_groups = 0;
		int fd;

		prun_open(&u, ALEN);
		u.cfg.interleave = 1;
		snprintf(path, sizeof path, "%s/data/a.bin", u.dir);
		if (t == 2) {
			cr_assert_eq(unlink(path), 0);
		} else {
			cr_assert_geq(fd = open(path, O_WRONLY | O_CLOEXEC | (t ? O_APPEND : 0)), 0);
			cr_assert_eq(t ? write(fd, "x", 1) : pwrite(fd, "x", 1, 100), 1);
			close(fd);
		}
		run_all(&u);
		cr_assert_eq(u.rc.ev[u.rc.nev - 1].ev, TX_EV_ERROR, "case %u", t);
		cr_assert_eq(u.rc.errcode, code[t], "case %u: %s", t, sl_strerror(u.rc.errcode));
		cr_assert(strstr(u.rc.err.msg, "a.bin"), "case %u: %s", t, u.rc.err.msg);
		cr_assert(strstr(u.rc.err.msg, why[t] ? why[t] : strerror(ENOENT)), "case %u: %s", t,
			  u.rc.err.msg);
		for (size_t e = 0; e < u.rc.nev; e++) {
			cr_assert(u.rc.ev[e].ev != TX_EV_PASS_END && u.rc.ev[e].ev != TX_EV_END);
			chunk_groups += u.rc.ev[e].ev == TX_EV_GROUP && !u.rc.ev[e].catalog;
		}
		cr_assert_eq(chunk_groups, groups[t], "case %u: %u chunk groups before the error", t,
			     chunk_groups);
		prun_close(&u);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* tx_producer_free while the producer runs: at once, with the ring full
 * (the producer waiting for a free slot), with an event taken and not
 * given back, and in the middle of a pass. Each returns within a second,
 * and leaves no thread and no file descriptor behind (nor, under ASan,
 * memory). */
Test(tx_producer, freed_while_running)
{
	unsigned tasks = count_entries("/proc/self/task"), fds = count_entries("/proc/self/fd");

	for (unsigned t = 0; t < 4; t++) {
		struct prun u;
		struct tx_producer *p = NULL;
		struct sl_diag d = { "" };
		struct timespec nap = { 0, 100000000 };
		double t0;

		prun_open(&u, 200 * CHUNK);
		u.cfg.passes = 3;
		u.cfg.interleave = 4;
		u.cfg.threads = 3;
		cr_assert_eq(tx_producer_start(&u.cfg, &p, &d), SL_OK, "%s", d.msg);
		if (t == 1)
			nanosleep(&nap, NULL);
		if (t == 2) {
			cr_assert_eq(tx_producer_next(p, &d)->ev, TX_EV_PASS_START);
			nanosleep(&nap, NULL);
		}
		if (t == 3)
			cr_assert_not(collect_max(&u, p, 10), "freed before the end");
		t0 = now_s();
		tx_producer_free(p);
		cr_assert_lt(now_s() - t0, 1.0, "case %u: freeing took %.3f s", t, now_s() - t0);
		cr_assert_eq(count_entries("/proc/self/task"), tasks, "case %u: threads left", t);
		cr_assert_eq(count_entries("/proc/self/fd"), fds, "case %u: descriptors left", t);
		prun_close(&u);
		cr_assert_not(leaked(), "case %u: memory leaked (LeakSanitizer's report above)", t);
	}
}
