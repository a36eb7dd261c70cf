/* flood.c — test harness: a compromised low side flooding sluice-rx.
 *
 * Usage: flood --out udp://127.0.0.1:PORT --key LINKKEY [--random N] [--keyed M]
 *              [--real-xfer HEX] [--must-drop-only] [--rate RATE]
 *              [--max-seconds S] [--seed S]
 *
 * Sends N datagrams of random bytes (default 10^6) and M datagrams sealed
 * with the link key (default 10^5) that no honest sender sends, all
 * interleaved in a random order drawn from --seed, paced at RATE bit/s of
 * wire time (default 400M; 0: unpaced), and stops after S seconds (default
 * 60) in any case. Only loopback destinations (udp://127.x.x.x) are accepted.
 *
 * The classes (share of M in parentheses). "must drop": a receiver that
 * follows common/PROTOCOL.md can use nothing in it (or, for 2^62 bytes in
 * 96-byte chunks, cannot hold its state); "may use": well-formed, a
 * receiver may spend state on it (within whatever quotas it keeps):
 *   random      N: random bytes of random length; header-shaped ones with a
 *               wrong tag, the unkeyed suite, or a size that does not match   must drop
 *   session     (10%) a preamble from a new session id every time           may use
 *   hdr-absurd  (20%) a transfer header of a new transfer id whose fields
 *               contradict each other or PROTOCOL.md §4: catalog_len over
 *               any limit, nchunks != ceil(total_bytes / chunk_size) (also
 *               where that sum wraps 64 bits), kmax 0 or over 254,
 *               chunk_size not kmax*symsize-32, catalog_blocks that do not
 *               fit catalog_len, pass >= passes, 2^62 bytes in 96-byte chunks  must drop
 *   hdr-huge    (5%)  consistent headers of 6 made-up transfers of 2^40 to
 *               2^50 bytes in 254 x 8900-byte blocks                          may use
 *   sym-unknown (20%) symbols of transfer ids never announced                 must drop
 *   sym-real    (15%) symbols naming --real-xfer (or a made-up id) that cannot
 *               belong to it: a block 2^40 past its start, k over its kmax
 *               (128), a symbol size it does not use, a row or k outside
 *               PROTOCOL.md §2.3 under a valid tag                            must drop
 *   sym-huge    (20%) random rows of random blocks of the hdr-huge transfers  may use
 *   hb-done     (10%) heartbeats saying "done" for random transfer ids, half
 *               of them from a new session each                               may use
 * With --must-drop-only the M keyed datagrams are all of the must-drop
 * classes, in the same proportions among themselves: a receiver must count
 * every datagram of such a flood under some drop reason.
 * Output: one line per class ("flood: CLASS COUNT must-drop|may-use"), then
 *   flood: sent T datagrams (must drop D, may use U) in S s[, stopped by --max-seconds]
 * Exit status 0 when everything asked for was sent, 3 when the time ran
 * out first, 1 on an error, 2 on usage.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "bytes.h"
#include "link.h"
#include "pace.h"
#include "proto.h"
#include "splitmix.h"
#include "units.h"
#include "wire.h"

#define BATCH 32
#define NHUGE 6
#define REAL_KMAX 128        /* sluice-tx's default --block */

enum cls { C_RANDOM, C_SESSION, C_HDR_ABSURD, C_HDR_HUGE, C_SYM_UNKNOWN, C_SYM_REAL, C_SYM_HUGE,
	   C_HB_DONE, NCLASS };
static const struct { const char *name; int may_use; unsigned share; } cls_info[NCLASS] = {
	[C_RANDOM] = { "random", 0, 0 },       [C_SESSION] = { "session", 1, 10 },
	[C_HDR_ABSURD] = { "hdr-absurd", 0, 20 }, [C_HDR_HUGE] = { "hdr-huge", 1, 5 },
	[C_SYM_UNKNOWN] = { "sym-unknown", 0, 20 }, [C_SYM_REAL] = { "sym-real", 0, 15 },
	[C_SYM_HUGE] = { "sym-huge", 1, 20 },   [C_HB_DONE] = { "hb-done", 1, 10 },
};

/* The long-lived sessions, by symbol size. */
enum { S_HUGE, S_REAL, S_SMALL, S_TINY, NSESS };
static const uint16_t sess_symsize[NSESS] = { 8900, 1396, 512, 128 };

struct huge {
	uint8_t id[16];
	struct sl_xfer_hdr h;
};

struct flood {
	struct sl_link *out;
	const uint8_t *key;
	struct sl_pacer pacer;
	uint64_t rng;
	struct sl_wire_tx *sess[NSESS];
	struct huge huge[NHUGE];
	uint8_t real[16];
	uint8_t body[SL_WIRE_MAX_SYMSIZE];
	uint8_t *mem;            /* BATCH datagrams */
	struct iovec iov[BATCH];
	unsigned n;
	size_t wire;
	uint64_t left[NCLASS], sent[NCLASS];
};

static uint64_t rnd(struct flood *f)
{
	return sl_splitmix64(&f->rng);
}

static uint64_t below(struct flood *f, uint64_t n)
{
	return rnd(f) % n;
}

static void fill(struct flood *f, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd(f);
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

static int flush(struct flood *f, struct sl_diag *d)
{
	if (!f->n)
		return 0;
	sl_pacer_wait(&f->pacer, f->wire);
	if (sl_link_send(f->out, f->iov, f->n, d) != (int)f->n)
		return 1;
	f->n = 0;
	f->wire = 0;
	return 0;
}

static uint8_t *slot(struct flood *f)
{
	return f->mem + (size_t)f->n * SL_LINK_MAX_DGRAM;
}

static void queue(struct flood *f, size_t len)
{
	f->iov[f->n].iov_base = slot(f);
	f->iov[f->n].iov_len = len;
	f->wire += sl_wire_bytes_udp(len);
	f->n++;
}

/* Seal h with body (paylen bytes) under session t into the batch. */
static void seal(struct flood *f, struct sl_wire_tx *t, struct sl_wire_hdr *h, const uint8_t *body)
{
	size_t len = sl_wire_dgram_size(sess_symsize[S_TINY]);
	uint8_t *out = slot(f);

	if (sl_wire_seal(t, h, body, out) == SL_OK)
		len = sl_wire_dgram_size(h->symsize);
	else
		fill(f, out, len); /* cannot happen with paylen <= symsize; stays a datagram */
	queue(f, len);
}

/* Random bytes: garbage, or a header that passes the size checks and
 * fails the tag, names an unaccepted suite, or has the wrong length. */
static void make_random(struct flood *f)
{
	uint8_t *p = slot(f);
	uint64_t v = below(f, 10);
	uint16_t symsize = (uint16_t)(SL_WIRE_MIN_SYMSIZE + below(f, 1396 - SL_WIRE_MIN_SYMSIZE + 1));
	size_t len = sl_wire_dgram_size(symsize);

	if (v < 5) {
		len = 1 + below(f, 1472);
		fill(f, p, len);
		queue(f, len);
		return;
	}
	if (v == 9)
		len += 1 + below(f, 64); /* length and symsize disagree */
	fill(f, p, len);
	sl_put_be16(p, SL_WIRE_MAGIC);
	p[2] = SL_WIRE_VERSION;
	p[3] = (uint8_t)(1 + below(f, 4));
	p[4] = v == 8 ? SL_SUITE_NONE : (uint8_t)(1 + below(f, 2));
	sl_put_be16(p + 54, symsize);
	queue(f, len);
}

static int new_session(struct flood *f, uint16_t symsize, struct sl_wire_tx **t)
{
	struct sl_diag d;
	return sl_wire_tx_new(f->key, (enum sl_suite)(1 + below(f, 2)), symsize, t, &d);
}

static void make_session(struct flood *f)
{
	struct sl_wire_tx *t;
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE };

	if (new_session(f, sess_symsize[below(f, NSESS)], &t)) {
		make_random(f); /* sodium_malloc refused: still one datagram */
		return;
	}
	seal(f, t, &h, f->body);
	sl_wire_tx_free(t);
}

/* A header whose fields are consistent, for symsize and kmax. */
static void plain_hdr(struct flood *f, struct sl_xfer_hdr *x, uint16_t kmax, uint16_t symsize,
		      uint64_t total, uint32_t catalog_len)
{
	uint32_t piece = sl_catalog_piece(kmax, symsize);

	memset(x, 0, sizeof *x);
	fill(f, x->manifest_sha256, 32);
	fill(f, x->layout, 16);
	x->sequence = rnd(f) >> 1;
	x->chunk_size = (uint32_t)kmax * symsize - SL_BLOCK_REC;
	x->total_bytes = total;
	x->nchunks = total / x->chunk_size + (total % x->chunk_size != 0);
	x->catalog_len = catalog_len;
	x->catalog_blocks = (catalog_len + piece - 1) / piece;
	x->kmax = kmax;
	x->passes = 1;
	x->codec = 1;
	x->level = 1;
}

static void send_hdr(struct flood *f, struct sl_wire_tx *t, const uint8_t id[16], const struct sl_xfer_hdr *x)
{
	struct sl_wire_hdr h = { .type = SL_T_XFER, .paylen = SL_XFER_BODY };

	memcpy(h.xfer, id, 16);
	sl_xfer_hdr_encode(x, f->body);
	seal(f, t, &h, f->body);
}

static void make_hdr_absurd(struct flood *f)
{
	struct sl_xfer_hdr x;
	uint8_t id[16];
	int s = S_REAL;

	fill(f, id, 16);
	plain_hdr(f, &x, REAL_KMAX, 1396, 1 + below(f, 1ull << 32), 5000);
	switch (below(f, 8)) {
	case 0: x.catalog_len = 0xffffffffu; x.catalog_blocks = 1; break;
	case 1: x.total_bytes = (1ull << 63) + below(f, 1ull << 40); x.nchunks = 1 + below(f, 1000); break;
	case 2: x.total_bytes = UINT64_MAX; x.nchunks = 0; break; /* ceil() wraps in 64 bits */
	case 3: x.kmax = below(f, 2) ? 0 : (uint16_t)(255 + below(f, 65281)); break;
	case 4: x.chunk_size = 1 + (uint32_t)below(f, 1u << 31);
		x.nchunks = x.total_bytes / x.chunk_size + (x.total_bytes % x.chunk_size != 0); break;
	case 5: x.catalog_blocks = 2 + (uint32_t)below(f, 4999); break;
	case 6: x.passes = (uint16_t)(1 + below(f, 100)); x.pass = (uint16_t)(x.passes + below(f, 100)); break;
	default: s = S_TINY; plain_hdr(f, &x, 1, 128, 1ull << 62, 5000); break; /* 96-byte chunks */
	}
	send_hdr(f, f->sess[s], id, &x);
}

static void make_hdr_huge(struct flood *f)
{
	const struct huge *u = &f->huge[below(f, NHUGE)];
	send_hdr(f, f->sess[S_HUGE], u->id, &u->h);
}

static void make_symbol(struct flood *f, int s, const uint8_t id[16], uint64_t block, uint16_t k,
			uint16_t m, uint16_t row, uint16_t paylen)
{
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = paylen, .block = block, .row = row,
				 .k = k, .m = m };

	memcpy(h.xfer, id, 16);
	fill(f, f->body, sess_symsize[s]);
	seal(f, f->sess[s], &h, f->body);
}

static void make_sym_unknown(struct flood *f)
{
	uint8_t id[16];
	int s = (int)below(f, NSESS);
	uint16_t k = (uint16_t)(1 + below(f, 254));

	fill(f, id, 16);
	make_symbol(f, s, id, below(f, 1u << 20), k, 0, (uint16_t)below(f, 255), sess_symsize[s]);
}

static void make_sym_real(struct flood *f)
{
	const uint8_t *id = f->real;
	uint16_t S = sess_symsize[S_REAL];

	switch (below(f, 5)) {
	case 0: /* far past the last block of any transfer under 2^40 blocks */
		make_symbol(f, S_REAL, id, (1ull << 40) + below(f, 1ull << 40), REAL_KMAX, 16,
			    (uint16_t)below(f, REAL_KMAX + 16), S);
		break;
	case 1: /* more data symbols than the transfer's blocks have */
		make_symbol(f, S_REAL, id, below(f, 4), (uint16_t)(REAL_KMAX + 1 + below(f, 126)), 0,
			    (uint16_t)below(f, 255), S);
		break;
	case 2: /* a symbol size the transfer's session does not use */
		make_symbol(f, S_SMALL, id, below(f, 4), REAL_KMAX, 16, (uint16_t)below(f, 144),
			    sess_symsize[S_SMALL]);
		break;
	case 3: /* row or k outside PROTOCOL.md §2.3, under a valid tag */
		make_symbol(f, S_REAL, id, below(f, 4), below(f, 2) ? 0 : REAL_KMAX,
			    below(f, 2) ? 200 : 16, (uint16_t)(255 + below(f, 1000)), S);
		break;
	default: /* a symbol with a short body */
		make_symbol(f, S_REAL, id, below(f, 4), REAL_KMAX, 16, (uint16_t)below(f, 144),
			    (uint16_t)below(f, S));
		break;
	}
}

static void make_sym_huge(struct flood *f)
{
	const struct huge *u = &f->huge[below(f, NHUGE)];
	uint64_t nblocks = u->h.catalog_blocks + (u->h.nchunks < 4096 ? u->h.nchunks : 4096);

	make_symbol(f, S_HUGE, u->id, below(f, nblocks), u->h.kmax, 1, (uint16_t)below(f, 255),
		    sess_symsize[S_HUGE]);
}

static void make_hb_done(struct flood *f)
{
	struct sl_heartbeat hb = { .time_ns = rnd(f) >> 2, .interval_ms = 1000, .kmax = REAL_KMAX,
				   .m = 16, .symsize = 1396, .interleave = 16, .state = SL_HB_DONE,
				   .level = 1, .passes = 1 };
	struct sl_wire_hdr h = { .type = SL_T_HEARTBEAT, .paylen = SL_HB_BODY };
	struct sl_wire_tx *t = NULL;

	fill(f, hb.xfer, 16);
	hb.xfer_sequence = below(f, 1000000);
	hb.blocks_total = below(f, 1u << 30);
	hb.blocks_sent = hb.blocks_total;
	strcpy(hb.sender, "flood");
	memcpy(h.xfer, hb.xfer, 16);
	sl_heartbeat_encode(&hb, f->body);
	if (below(f, 2) && new_session(f, 1396, &t) == SL_OK) {
		seal(f, t, &h, f->body);
		sl_wire_tx_free(t);
		return;
	}
	seal(f, f->sess[S_REAL], &h, f->body);
}

static void make(struct flood *f, enum cls c)
{
	switch (c) {
	case C_RANDOM: make_random(f); break;
	case C_SESSION: make_session(f); break;
	case C_HDR_ABSURD: make_hdr_absurd(f); break;
	case C_HDR_HUGE: make_hdr_huge(f); break;
	case C_SYM_UNKNOWN: make_sym_unknown(f); break;
	case C_SYM_REAL: make_sym_real(f); break;
	case C_SYM_HUGE: make_sym_huge(f); break;
	default: make_hb_done(f); break;
	}
}

/* The next class: drawn with weights = what is left of each. */
static enum cls pick(struct flood *f, uint64_t left)
{
	uint64_t r = below(f, left);
	for (int c = 0; c < NCLASS; c++) {
		if (r < f->left[c])
			return (enum cls)c;
		r -= f->left[c];
	}
	return C_RANDOM;
}

static int setup(struct flood *f, uint64_t nrandom, uint64_t nkeyed, int must_only, struct sl_diag *d)
{
	uint64_t given = 0, shares = 0;

	for (int s = 0; s < NSESS; s++)
		if (sl_wire_tx_new(f->key, sl_wire_default_suite(), sess_symsize[s], &f->sess[s], d))
			return 1;
	for (int i = 0; i < NHUGE; i++) {
		fill(f, f->huge[i].id, 16);
		plain_hdr(f, &f->huge[i].h, 254, sess_symsize[S_HUGE], 1ull << (40 + 5 * (i % 3)), 16u << 20);
	}
	f->left[C_RANDOM] = nrandom;
	for (int c = 1; c < NCLASS; c++)
		shares += must_only && cls_info[c].may_use ? 0 : cls_info[c].share;
	for (int c = 1; c < NCLASS; c++) {
		f->left[c] = must_only && cls_info[c].may_use ? 0 : nkeyed * cls_info[c].share / shares;
		given += f->left[c];
	}
	f->left[C_SYM_UNKNOWN] += nkeyed - given; /* rounding */
	f->mem = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM);
	return f->mem ? 0 : sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
}

/* Send everything, or until the deadline: 0 done, 3 out of time, 1 error. */
static int run(struct flood *f, uint64_t deadline_ns, struct sl_diag *d)
{
	uint64_t left = 0;

	for (int c = 0; c < NCLASS; c++)
		left += f->left[c];
	while (left) {
		enum cls c = pick(f, left);
		make(f, c);
		f->left[c]--;
		f->sent[c]++;
		left--;
		if (f->n == BATCH) {
			if (flush(f, d))
				return 1;
			if (sl_now_ns() >= deadline_ns)
				return 3;
		}
	}
	return flush(f, d);
}

static void report(const struct flood *f, double secs, int st)
{
	uint64_t total = 0, must = 0, may = 0;

	for (int c = 0; c < NCLASS; c++) {
		printf("flood: %s %llu %s\n", cls_info[c].name, (unsigned long long)f->sent[c],
		       cls_info[c].may_use ? "may-use" : "must-drop");
		total += f->sent[c];
		if (cls_info[c].may_use)
			may += f->sent[c];
		else
			must += f->sent[c];
	}
	printf("flood: sent %llu datagrams (must drop %llu, may use %llu) in %.2f s%s\n",
	       (unsigned long long)total, (unsigned long long)must, (unsigned long long)may, secs,
	       st == 3 ? ", stopped by --max-seconds" : "");
}

int main(int argc, char **argv)
{
	struct flood f = { 0 };
	const char *out = NULL, *keyp = NULL, *real = NULL;
	uint64_t nrandom = 1000000, nkeyed = 100000, rate = 400000000, max_s = 60, t0;
	struct sl_diag d = { "" };
	uint8_t *key = NULL;
	static const struct option opts[] = {
		{ "out", 1, 0, 'o' }, { "key", 1, 0, 'k' }, { "random", 1, 0, 'n' }, { "keyed", 1, 0, 'm' },
		{ "real-xfer", 1, 0, 'x' }, { "rate", 1, 0, 'r' }, { "max-seconds", 1, 0, 's' },
		{ "seed", 1, 0, 'e' }, { "must-drop-only", 0, 0, 'd' }, { 0, 0, 0, 0 }
	};
	int c, st, must_only = 0;

	f.rng = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': keyp = optarg; break;
		case 'n': nrandom = strtoull(optarg, NULL, 10); break;
		case 'm': nkeyed = strtoull(optarg, NULL, 10); break;
		case 'x': real = optarg; break;
		case 's': max_s = strtoull(optarg, NULL, 10); break;
		case 'e': f.rng = strtoull(optarg, NULL, 10); break;
		case 'd': must_only = 1; break;
		case 'r':
			if (!strcmp(optarg, "0"))
				rate = 0;
			else if (sl_parse_rate(optarg, &rate, &d)) {
				fprintf(stderr, "flood: --rate: %s\n", d.msg);
				return 2;
			}
			break;
		default: return 2;
		}
	}
	if (!out || strncmp(out, "udp://127.", 10) || !keyp || nrandom > 100000000 || nkeyed > 10000000 ||
	    max_s < 1 || max_s > 600 ||
	    (real && (strlen(real) != 32 || sodium_hex2bin(f.real, 16, real, 32, NULL, NULL, NULL)))) {
		fprintf(stderr, "usage: flood --out udp://127.x.x.x:PORT --key LINKKEY [--random N] "
				"[--keyed M] [--real-xfer HEX32] [--must-drop-only] [--rate RATE|0] "
				"[--max-seconds 1..600] [--seed S]\n");
		return 2;
	}
	if (!real)
		randombytes_buf(f.real, 16);
	if (sl_link_key_load(keyp, &key, &d) || (f.key = key, setup(&f, nrandom, nkeyed, must_only, &d)) ||
	    sl_link_open_tx(out, NULL, &f.out, &d)) {
		fprintf(stderr, "flood: %s\n", d.msg);
		return 1;
	}
	prctl(PR_SET_TIMERSLACK, 1000UL);
	t0 = sl_now_ns();
	sl_pacer_init(&f.pacer, rate, 256 << 10, t0);
	st = run(&f, t0 + max_s * 1000000000ull, &d);
	if (st == 1)
		fprintf(stderr, "flood: %s\n", d.msg);
	report(&f, (double)(sl_now_ns() - t0) / 1e9, st);
	sl_link_close(f.out);
	for (int s = 0; s < NSESS; s++)
		sl_wire_tx_free(f.sess[s]);
	sl_link_key_free(key);
	free(f.mem);
	return st;
}
