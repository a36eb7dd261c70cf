/* test_tx.c — sluice-tx's sender as a library (libtx), end to end in process:
 * tx_send() writes a transfer to a pcap: link, the capture is opened with the
 * link key and fed to the receiver's state machine (tests/rxh), which must
 * release it bit-identical. Between the two the test reads every datagram's
 * header, so the schedule itself is checked: what each pass sends, that a
 * repeat pass brings parity rows never sent before, and how a sender stops
 * when a source file changes under it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "link.h"
#include "producer.h"
#include "rxh.h"
#include "rxh_suite.h"
#include "sender.h"
#include "source.h"
#include "wire.h"


TestSuite(tx, .init = rxh_suite_up, .fini = rxh_suite_down, .timeout = 120);

/* What one capture held, datagram by datagram (headers as sl_wire_open read
 * them, a hash of each opened body, a heartbeat's `sent` field). */
struct capture {
	struct sl_wire_hdr *hdr;
	uint64_t *body;
	uint64_t *hb_sent;                      /* UINT64_MAX: not a heartbeat */
	uint8_t *hb_state;
	size_t n, cap;
	uint64_t data_syms[4], parity_syms[4]; /* per pass (0..3) */
	uint8_t *seen;                          /* per (block, row): sent already */
	uint64_t seen_blocks, repeats;
};

/* A transfer directory of `n` files and the sender's settings for it. */
static void make_dir(const struct rxh_file *f, size_t n, struct rxh_xfer *t, char *dir, size_t dl)
{
	cr_assert_eq(rxh_xfer_build(h, f, n, NULL, t), SL_OK);
	snprintf(dir, dl, "%s/T", h->dir);
	cr_assert_eq(rxh_xfer_write_dir(h, t, f, n, 2, dir), SL_OK);
}

static void cfg_for(struct tx_send_cfg *c, const char *pcap)
{
	tx_send_cfg_defaults(c);
	c->link_uri = pcap;
	c->link_key = h->link_key;
	c->rate_bps = 0;
	c->progress = 0;
	c->heartbeat_ms = 50;
	c->spool_dir = h->dir;
	c->realtime = TX_RT_OFF;
}

/* One transfer ready to send: its directory, a capture to send it to, the
 * sender's settings and its opened source; what a replay of the capture
 * read (cp), and the data of a one-file transfer (run_one). */
struct run {
	struct rxh_xfer t;
	struct tx_send_cfg cfg;
	struct tx_send_result res;
	struct tx_source *src;
	char dir[400], pcap[420];
	struct capture cp;
	uint8_t *data;
};

static void run_open(struct run *r, const struct rxh_file *f, size_t n)
{
	struct sl_diag d = { "" };

	memset(r, 0, sizeof *r);
	make_dir(f, n, &r->t, r->dir, sizeof r->dir);
	snprintf(r->pcap, sizeof r->pcap, "pcap:%s/low.pcap", h->dir);
	cfg_for(&r->cfg, r->pcap);
	cr_assert_eq(tx_source_open(r->dir, h->policy, &r->src, &d), SL_OK, "%s", d.msg);
}

static void capture_free(struct capture *cp)
{
	free(cp->hdr);
	free(cp->body);
	free(cp->hb_sent);
	free(cp->hb_state);
	free(cp->seen);
}

/* A run of one file, a.bin: n pattern bytes from seed (r->data). */
static void run_one(struct run *r, size_t n, unsigned seed)
{
	uint8_t *data = rxh_pattern(n, seed);
	struct rxh_file f[] = { { "a.bin", data, n } };

	run_open(r, f, 1);
	r->data = data;
}

static void run_close(struct run *r)
{
	tx_source_free(r->src);
	rxh_xfer_free(&r->t);
	capture_free(&r->cp);
	free(r->data);
}

/* Every datagram of the capture, opened with the link key: its header is
 * recorded, the sealed bytes go to the receiver (rx_handle) unless keep
 * (if given) says the link lost it. */
static void replay_keep(const char *pcap, struct capture *cp, int (*keep)(const struct sl_wire_hdr *));

static void replay(const char *pcap, struct capture *cp)
{
	replay_keep(pcap, cp, NULL);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t x = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	return x;
}

static void replay_keep(const char *pcap, struct capture *cp, int (*keep)(const struct sl_wire_hdr *))
{
	struct sl_wire_rx_cfg rc = { .link_key = h->link_key, .max_symsize = SL_WIRE_MAX_SYMSIZE };
	struct sl_wire_rx *wr;
	struct sl_link *l;
	struct sl_diag d = { "" };
	uint8_t *buf = malloc(SL_LINK_MAX_DGRAM), *copy = malloc(SL_LINK_MAX_DGRAM);
	struct sl_dgram dg = { buf, SL_LINK_MAX_DGRAM, 0, 0 };
	int r;

	cr_assert_eq(sl_wire_rx_new(&rc, &wr, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_open_rx(pcap, NULL, &l, &d), SL_OK, "%s", d.msg);
	while ((r = sl_link_recv(l, &dg, 1, 0, &d)) > 0) {
		struct sl_wire_hdr wh;
		const uint8_t *body;
		memcpy(copy, buf, dg.len);
		cr_assert_eq(sl_wire_open(wr, copy, dg.len, &wh, &body), SL_OK);
		if (cp->n == cp->cap) {
			cp->cap = cp->cap ? cp->cap * 2 : 1024;
			cp->hdr = realloc(cp->hdr, cp->cap * sizeof *cp->hdr);
			cp->body = realloc(cp->body, cp->cap * sizeof *cp->body);
			cp->hb_sent = realloc(cp->hb_sent, cp->cap * sizeof *cp->hb_sent);
			cp->hb_state = realloc(cp->hb_state, cp->cap);
		}
		/* one session per capture: its packet numbers only increase */
		cr_assert(cp->n == 0 || wh.packet > cp->hdr[cp->n - 1].packet,
			  "datagram %zu: packet %llu after %llu", cp->n, (unsigned long long)wh.packet,
			  (unsigned long long)cp->hdr[cp->n - 1].packet);
		cp->body[cp->n] = fnv(body, wh.paylen);
		cp->hb_sent[cp->n] = UINT64_MAX;
		if (wh.type == SL_T_HEARTBEAT) {
			struct sl_heartbeat hb;
			cr_assert_eq(sl_heartbeat_decode(body, wh.paylen, &hb), SL_OK);
			cp->hb_sent[cp->n] = hb.sent;
			cp->hb_state[cp->n] = hb.state;
		}
		cp->hdr[cp->n++] = wh;
		h->now += 1000;
		if (!keep || keep(&wh))
			rx_handle(&h->c, buf, dg.len, h->now);
	}
	cr_assert_eq(r, SL_ERR_CLOSED, "%s", d.msg);
	sl_link_close(l);
	sl_wire_rx_free(wr);
	free(buf);
	free(copy);
}

/* Symbols per pass, data and parity, and (block, row) pairs sent twice. */
static void tally(struct capture *cp)
{
	uint64_t maxb = 0;

	for (size_t i = 0; i < cp->n; i++)
		if (cp->hdr[i].type == SL_T_SYMBOL && cp->hdr[i].block + 1 > maxb)
			maxb = cp->hdr[i].block + 1;
	cp->seen = calloc(maxb * 255 + 1, 1);
	cp->seen_blocks = maxb;
	for (size_t i = 0; i < cp->n; i++) {
		const struct sl_wire_hdr *w = &cp->hdr[i];
		if (w->type != SL_T_SYMBOL)
			continue;
		cr_assert_lt(w->pass, 4);
		if (w->row < w->k)
			cp->data_syms[w->pass]++;
		else
			cp->parity_syms[w->pass]++;
		if (cp->seen[w->block * 255 + w->row]++)
			cp->repeats++;
	}
}

Test(tx, sends_what_rx_releases)
{
	uint8_t *a = rxh_pattern(700000, 61), *b = rxh_pattern(1000, 62);
	struct rxh_file f[] = { { "a.bin", a, 700000 }, { "sub/b.txt", b, 1000 } };
	struct run u;
	struct sl_diag d = { "" };

	run_open(&u, f, 2);
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay(u.pcap, &u.cp);
	tally(&u.cp);
	cr_assert_eq(u.cp.n, u.res.datagrams, "the capture holds every datagram tx_send counted");
	cr_assert_gt(u.cp.data_syms[0], 0);
	cr_assert_gt(u.cp.parity_syms[0], 0, "one pass carries parity (overhead %.3f)", u.cfg.overhead);
	cr_assert_eq(u.cp.data_syms[1] + u.cp.parity_syms[1], 0, "one pass only");
	cr_assert_eq(u.cp.repeats, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, u.t.hex, "a.bin", a, 700000));
	cr_assert(rxh_released_file_is(h, u.t.hex, "sub/b.txt", b, 1000));
	run_close(&u);
	free(a);
	free(b);
}

/* PROTOCOL.md §6 / FEC.md: pass p sends rows (p·n + j) mod 255 of each
 * block, so every pass carries as many rows as the first, and no row of a
 * block is sent twice before all 255 were used; the receiver completes. */
Test(tx, repeat_pass_sends_new_rows)
{
	struct run u;
	struct sl_diag d = { "" };
	uint64_t *sent, early_repeats = 0;

	run_one(&u, 400000, 63);
	u.cfg.passes = 3;
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay(u.pcap, &u.cp);
	tally(&u.cp);
	for (unsigned p = 1; p < 3; p++)
		cr_assert_eq(u.cp.data_syms[p] + u.cp.parity_syms[p], u.cp.data_syms[0] + u.cp.parity_syms[0],
			     "pass %u carries as many rows as pass 0", p);
	sent = calloc(u.cp.seen_blocks, sizeof *sent);
	memset(u.cp.seen, 0, u.cp.seen_blocks * 255);
	for (size_t i = 0; i < u.cp.n; i++) {
		const struct sl_wire_hdr *w = &u.cp.hdr[i];
		if (w->type != SL_T_SYMBOL)
			continue;
		/* a row already sent, while fewer than 255 went out for the block */
		if (u.cp.seen[w->block * 255 + w->row] && sent[w->block] < 255)
			early_repeats++;
		u.cp.seen[w->block * 255 + w->row] = 1;
		sent[w->block]++;
	}
	cr_assert_eq(early_repeats, 0, "a row was repeated before all 255 were used");
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, u.t.hex, "a.bin", u.data, 400000));
	cr_assert_eq(rxh_audit_count(h, "released", u.t.hex), 1);
	free(sent);
	run_close(&u);
}

/* A source file that changes after the manifest was made stops the send
 * with a reason naming it; the receiver releases nothing. */
Test(tx, changed_source_file_stops_the_send)
{
	struct run u;
	struct sl_diag d = { "" };
	char path[460];
	FILE *fp;

	run_one(&u, 300000, 64);
	snprintf(path, sizeof path, "%s/data/a.bin", u.dir);
	fp = fopen(path, "ab");
	cr_assert_not_null(fp);
	fputs("appended after hashing", fp);
	fclose(fp);
	cr_assert_neq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK);
	cr_assert(strstr(d.msg, "a.bin") && strstr(d.msg, "changed"), "%s", d.msg);
	replay(u.pcap, &u.cp);
	rxh_settle(h);
	cr_assert_not(rxh_is_released(h, u.t.hex));
	run_close(&u);
}

/* The loss of the first pass in repair_closes_the_loop: data rows 0-2 and
 * every parity row of chunk block 0, every row of chunk block 1. */
static uint64_t lost_short, lost_whole;

static int keep_but_two_blocks(const struct sl_wire_hdr *w)
{
	if (w->type != SL_T_SYMBOL)
		return 1;
	return !(w->block == lost_whole || (w->block == lost_short && (w->row < 3 || w->row >= w->k)));
}

/* Issue 14, in process: the receiver times a transfer out and makes its
 * repair code; tx_send with that code sends only the two blocks it lists,
 * new rows of the next pass (3 + 100% + 4 for the block three rows short,
 * every row for the one of which nothing arrived), and the receiver
 * completes and releases the transfer from them. */
Test(tx, repair_closes_the_loop)
{
	struct run u;
	struct rxh_xfer *tp = &u.t;
	struct capture c2 = { 0 };
	struct sl_diag d = { "" };
	struct sl_repair r;
	struct rx_xfer *x;
	char pcap2[420];
	unsigned short_rows = 0, whole_rows = 0, other = 0, n_short = 0;

	run_one(&u, 400000, 64);
	snprintf(pcap2, sizeof pcap2, "pcap:%s/low2.pcap", h->dir);
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	lost_short = tp->hdr.catalog_blocks;
	lost_whole = tp->hdr.catalog_blocks + 1;
	cr_assert_gt(tp->nblocks, lost_whole);
	replay_keep(u.pcap, &u.cp, keep_but_two_blocks);
	rxh_settle(h);
	rxh_tick(h, h->cfg.timeout_ns + 1);
	x = rx_xfer_find(&h->c, tp->id);
	cr_assert_not_null(x);
	cr_assert_not(rxh_is_released(h, tp->hex));
	cr_assert_eq(sl_repair_decode(x->repair, &r, &d), SL_OK, "'%s': %s", x->repair, d.msg);
	cr_assert_eq(r.n, 2, "%s", x->repair);
	cr_assert_eq(r.e[0].block, lost_short);
	cr_assert_eq(r.e[0].need, 3);
	cr_assert_eq(r.e[1].block, lost_whole);
	cr_assert_eq(r.e[1].need, 0);
	cr_assert_eq(r.pass, 1);

	/* what sluice-tx send --repair CODE does with it */
	cfg_for(&u.cfg, pcap2);
	u.cfg.repair = &r;
	u.cfg.first_pass = r.pass;
	u.cfg.passes = 1;
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay(pcap2, &c2);
	for (size_t i = 0; i < c2.n; i++) {
		const struct sl_wire_hdr *w = &c2.hdr[i];
		if (w->type != SL_T_SYMBOL)
			continue;
		cr_assert_eq(w->pass, 1);
		if (w->block == lost_short) {
			n_short = w->k + w->m; /* rows of a pass: these are pass 1's, none of pass 0's */
			cr_assert_geq(w->row, n_short < 255 ? n_short : 0, "row %u was sent in pass 0", w->row);
			short_rows++;
		} else if (w->block == lost_whole) {
			whole_rows++;
		} else {
			other++;
		}
	}
	cr_assert_eq(other, 0, "symbols of blocks the code does not list");
	cr_assert_eq(short_rows, 3 + 3 + TX_REPAIR_EXTRA);
	/* a block of which nothing arrived is sent whole, with the margin (and
	 * more for the rows past the fresh ones, at most 255) */
	cr_assert_geq(whole_rows, 2u * tp->k[lost_whole] + TX_REPAIR_EXTRA > 255 ? 255u
		      : 2u * tp->k[lost_whole] + TX_REPAIR_EXTRA);
	cr_assert_leq(whole_rows, 255);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, tp->hex, "a.bin", u.data, 400000));
	cr_assert_eq(rxh_audit_count(h, "released", tp->hex), 1);
	capture_free(&c2);
	run_close(&u);
}

static int keep_none(const struct sl_wire_hdr *w)
{
	(void)w;
	return 0;
}

/* Packet numbers are positions in the schedule: datagram i of the session
 * carries number i (the preamble first), none skipped, none twice; a
 * heartbeat counts the datagrams before it; a transfer header or a
 * heartbeat comes at least every 256 datagrams. */
static void check_numbering(const struct capture *cp, unsigned preamble)
{
	size_t last_ctl = 0;

	for (size_t i = 0; i < cp->n; i++) {
		const struct sl_wire_hdr *w = &cp->hdr[i];
		cr_assert_eq(w->packet, i, "datagram %zu of the capture has packet number %llu", i,
			     (unsigned long long)w->packet);
		cr_assert_eq(w->type == SL_T_PREAMBLE, i < preamble, "datagram %zu: type %u", i, w->type);
		if (w->type == SL_T_HEARTBEAT)
			cr_assert_eq(cp->hb_sent[i], w->packet, "heartbeat %zu says %llu sent before it", i,
				     (unsigned long long)cp->hb_sent[i]);
		if (w->type == SL_T_HEARTBEAT || w->type == SL_T_XFER) {
			cr_assert_leq(i - last_ctl, 256, "%zu datagrams without a transfer header or heartbeat",
				      i - last_ctl);
			last_ctl = i;
		}
	}
	/* a pass ends with three transfer headers and "pass done", the send with three "done" */
	cr_assert_geq(cp->n, 7);
	for (size_t i = cp->n - 7; i < cp->n; i++) {
		const struct sl_wire_hdr *w = &cp->hdr[i];
		size_t at = i - (cp->n - 7);
		cr_assert_eq(w->type, at < 3 ? SL_T_XFER : SL_T_HEARTBEAT, "datagram %zu of the end", at);
		if (at >= 3)
			cr_assert_eq(cp->hb_state[i], at == 3 ? SL_HB_PASS_DONE : SL_HB_DONE);
	}
}

/* PROTOCOL.md §6: within a group of D chunk blocks, row j of every block,
 * then row j + 1; groups in block order. Pass 0 (rows = j) of the chunk
 * blocks (the catalog's second round of a pass sends other rows). */
static void check_order(const struct capture *cp, uint64_t catalog_blocks, unsigned d)
{
	const struct sl_wire_hdr *prev = NULL;
	uint64_t syms = 0;

	for (size_t i = 0; i < cp->n; i++) {
		const struct sl_wire_hdr *w = &cp->hdr[i];
		if (w->type != SL_T_SYMBOL || w->pass != 0 || w->block < catalog_blocks)
			continue;
		if (prev) {
			uint64_t g0 = (prev->block - catalog_blocks) / d, g1 = (w->block - catalog_blocks) / d;
			if (g0 == g1)
				cr_assert(w->row > prev->row || (w->row == prev->row && w->block > prev->block),
					  "block %llu row %u after block %llu row %u in one group",
					  (unsigned long long)w->block, w->row, (unsigned long long)prev->block,
					  prev->row);
			else
				cr_assert_eq(g1, g0 + 1, "group %llu after group %llu", (unsigned long long)g1,
					     (unsigned long long)g0);
		}
		prev = w;
		syms++;
	}
	cr_assert_gt(syms, 0);
}

/* Two files, one that compresses (blocks of fewer rows) and one that does
 * not, in 3 passes of groups of D = 4 blocks. */
static void numbering_files(uint8_t **a, uint8_t **b, struct rxh_file *f)
{
	*a = rxh_pattern(900000, 71);
	*b = malloc(500000);
	for (size_t i = 0; i < 500000; i++)
		(*b)[i] = (uint8_t)("sluice sends one way; "[i % 22] + (i / 4096) % 3);
	f[0] = (struct rxh_file){ "a.bin", *a, 900000 };
	f[1] = (struct rxh_file){ "b.txt", *b, 500000 };
}

/* Issue 11: the workers seal every symbol ahead of the sender, numbered by
 * its place in the schedule. Sent with one thread (XChaCha20-Poly1305) and
 * with four (AES-256-GCM), the two sessions carry the same datagrams in the
 * same order under the same numbers (bodies compared after opening), each
 * numbered exactly as its position, and the receiver releases the
 * transfer. */
Test(tx, sealed_by_workers_in_schedule_order)
{
	uint8_t *a, *b;
	struct rxh_file f[2];
	struct run u;
	struct capture one = { 0 }, four = { 0 };
	struct sl_diag d = { "" };
	char pcap1[420];

	numbering_files(&a, &b, f);
	run_open(&u, f, 2);
	snprintf(pcap1, sizeof pcap1, "pcap:%s/one.pcap", h->dir);
	u.cfg.passes = 3;
	u.cfg.interleave = 4;
	u.cfg.heartbeat_ms = 3600000; /* no heartbeat falls due: the two runs match exactly */
	u.cfg.threads = 1;
	u.cfg.suite = SL_SUITE_XCHACHA;
	u.cfg.link_uri = pcap1;
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay_keep(pcap1, &one, keep_none);
	u.cfg.threads = 4;
	u.cfg.suite = SL_SUITE_AES256GCM;
	u.cfg.link_uri = u.pcap;
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay(u.pcap, &four);
	check_numbering(&one, u.cfg.preamble);
	check_numbering(&four, u.cfg.preamble);
	check_order(&four, u.t.hdr.catalog_blocks, u.cfg.interleave);
	cr_assert_eq(one.n, four.n);
	for (size_t i = 0; i < one.n; i++) {
		const struct sl_wire_hdr *x = &one.hdr[i], *y = &four.hdr[i];
		cr_assert(x->type == y->type && x->block == y->block && x->row == y->row &&
			  x->k == y->k && x->m == y->m && x->pass == y->pass,
			  "datagram %zu differs between one thread and four", i);
		if (x->type == SL_T_SYMBOL)
			cr_assert_eq(one.body[i], four.body[i], "symbol %zu (block %llu row %u) differs", i,
				     (unsigned long long)x->block, x->row);
	}
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, u.t.hex, "a.bin", a, 900000));
	cr_assert(rxh_released_file_is(h, u.t.hex, "b.txt", b, 500000));
	capture_free(&one);
	capture_free(&four);
	run_close(&u);
	free(a);
	free(b);
}

/* Many small files (each whole in a chunk, read by the workers), a few
 * directories, some empty, one over several chunks. */
#define NSMALL 500
static struct rxh_file *small_files(char (**names)[24], uint8_t ***data)
{
	struct rxh_file *f = calloc(NSMALL, sizeof *f);
	uint32_t x = 777;

	*names = calloc(NSMALL, sizeof **names);
	*data = calloc(NSMALL, sizeof **data);
	for (unsigned i = 0; i < NSMALL; i++) {
		size_t len;
		x = x * 1103515245u + 12345u;
		len = i == 250 ? 400000 : i % 41 == 3 ? 0 : 1 + (x >> 8) % 4000;
		snprintf((*names)[i], sizeof (*names)[i], "s%u/f%03u", i / 64, i);
		(*data)[i] = rxh_pattern(len ? len : 1, 500 + i);
		f[i] = (struct rxh_file){ (*names)[i], (*data)[i], len };
	}
	return f;
}

static void small_files_free(struct rxh_file *f, char (*names)[24], uint8_t **data)
{
	for (unsigned i = 0; i < NSMALL; i++)
		free(data[i]);
	free(data);
	free(names);
	free(f);
}

/* Issue 12: small files are loaded by the workers (in io_uring batches by
 * default, --file-io auto), pieces of larger ones read in order. Sent with
 * --file-io plain, auto and uring, two threads, two blocks a group: the
 * three sessions carry the same symbols, and the receiver releases every
 * file bit-identical. */
Test(tx, small_files_same_symbols_in_every_file_io_mode)
{
	char (*names)[24];
	uint8_t **data;
	struct rxh_file *f = small_files(&names, &data);
	struct run u;
	struct capture cp[3] = { { 0 } };
	struct sl_diag d = { "" };
	char pcap[3][420];
	const enum sl_uio_mode io[3] = { SL_UIO_PLAIN, SL_UIO_PLAIN, SL_UIO_URING };
	const int small[3] = { 0, 1, 1 };

	run_open(&u, f, NSMALL);
	u.cfg.interleave = 2;
	u.cfg.threads = 2;
	u.cfg.heartbeat_ms = 3600000; /* no heartbeat falls due: the runs match exactly */
	for (int m = 0; m < 3; m++) {
		snprintf(pcap[m], sizeof pcap[m], "pcap:%s/m%d.pcap", h->dir, m);
		u.cfg.link_uri = pcap[m];
		u.cfg.file_io = io[m];
		u.cfg.small_uring = small[m];
		cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "mode %d: %s", m, d.msg);
		replay_keep(pcap[m], &cp[m], m == 2 ? NULL : keep_none);
	}
	for (int m = 1; m < 3; m++) {
		cr_assert_eq(cp[m].n, cp[0].n);
		for (size_t i = 0; i < cp[0].n; i++)
			if (cp[0].hdr[i].type == SL_T_SYMBOL)
				cr_assert_eq(cp[m].body[i], cp[0].body[i], "mode %d: symbol %zu differs", m, i);
	}
	rxh_settle(h);
	for (unsigned i = 0; i < NSMALL; i++)
		cr_assert(rxh_released_file_is(h, u.t.hex, names[i], data[i], f[i].len), "%s", names[i]);
	for (int m = 0; m < 3; m++)
		capture_free(&cp[m]);
	run_close(&u);
	small_files_free(f, names, data);
}

/* A small file removed after the manifest was signed stops the send with
 * its name and the reason (as in order, whichever worker met it); the
 * receiver releases nothing. */
Test(tx, vanished_small_file_stops_the_send)
{
	char (*names)[24];
	uint8_t **data;
	struct rxh_file *f = small_files(&names, &data);
	struct run u;
	struct sl_diag d = { "" };
	char path[460];

	run_open(&u, f, NSMALL);
	u.cfg.interleave = 2;
	u.cfg.threads = 2;
	snprintf(path, sizeof path, "%s/data/%s", u.dir, names[400]);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, names[400]) && strstr(d.msg, strerror(ENOENT)), "%s", d.msg);
	replay(u.pcap, &u.cp);
	rxh_settle(h);
	cr_assert_not(rxh_is_released(h, u.t.hex));
	run_close(&u);
	small_files_free(f, names, data);
}

/* At a low rate (here 8 Mbit/s, heartbeats every 50 ms: one per ~28
 * datagrams) the heartbeat slots keep the interval where 256 datagrams
 * would not; numbering stays exact around them. */
Test(tx, heartbeat_slots_at_a_low_rate)
{
	struct run u;
	struct sl_diag d = { "" };
	size_t last = 0, most = 0, hbs = 0;

	run_one(&u, 120000, 72);
	u.cfg.rate_bps = 8000000;
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_OK, "%s", d.msg);
	replay(u.pcap, &u.cp);
	check_numbering(&u.cp, u.cfg.preamble);
	for (size_t i = 0; i < u.cp.n; i++) {
		if (u.cp.hdr[i].type != SL_T_HEARTBEAT)
			continue;
		if (hbs++ && i - last > most)
			most = i - last;
		last = i;
	}
	cr_assert_gt(hbs, 4, "%zu heartbeats in %zu datagrams", hbs, u.cp.n);
	cr_assert_leq(most, 30, "%zu datagrams between two heartbeats", most);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, u.t.hex, "a.bin", u.data, 120000));
	run_close(&u);
}

static volatile sig_atomic_t stop_flag;

/* Set the stop flag once the capture (arg: its path) holds 300 kB, or after 5 s. */
static void *stop_soon(void *arg)
{
	struct timespec t = { 0, 5000000 };
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (stat(arg, &st) == 0 && st.st_size > 300000)
			break;
		nanosleep(&t, NULL);
	}
	stop_flag = 1;
	return NULL;
}

/* Stopped midway (the stop flag, as on SIGINT): the send ends with three
 * "aborted" heartbeats numbered above everything the producer had handed
 * out (replay checks that numbers only increase), and the datagrams before
 * them are numbered by position. */
Test(tx, stopped_send_says_aborted_after_its_last_number)
{
	struct run u;
	struct sl_diag d = { "" };
	pthread_t th;

	run_one(&u, 2000000, 73);
	u.cfg.rate_bps = 40000000; /* about 0.5 s for the whole: stopped midway */
	stop_flag = 0;
	u.cfg.stop = &stop_flag;
	cr_assert_eq(pthread_create(&th, NULL, stop_soon, u.pcap + 5), 0);
	cr_assert_eq(tx_send(&u.cfg, u.src, &u.res, &d), SL_ERR_AGAIN, "%s", d.msg);
	pthread_join(th, NULL);
	replay_keep(u.pcap, &u.cp, keep_none);
	cr_assert_gt(u.cp.n, 3 + u.cfg.preamble + 100, "%zu datagrams", u.cp.n);
	for (size_t i = 0; i < u.cp.n - 3; i++)
		cr_assert_eq(u.cp.hdr[i].packet, i, "datagram %zu has packet number %llu", i,
			     (unsigned long long)u.cp.hdr[i].packet);
	for (size_t i = u.cp.n - 3; i < u.cp.n; i++) {
		cr_assert_eq(u.cp.hdr[i].type, SL_T_HEARTBEAT);
		cr_assert_eq(u.cp.hb_state[i], SL_HB_ABORTED);
		cr_assert_eq(u.cp.hb_sent[i], u.cp.hdr[i].packet);
	}
	run_close(&u);
}
