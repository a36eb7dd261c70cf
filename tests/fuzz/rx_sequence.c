/* rx_sequence.c — fuzz sluice-rx's state machine with keyed datagram sequences.
 *
 * The input is a program for the keyed-sequence harness (tests/rxh): each
 * operation is an opcode byte and its arguments. The fuzzer chooses sessions
 * and their symbol sizes, which prepared transfer (three layouts of one
 * manifest, and a second transfer) a datagram is about, transfer headers with
 * any field replaced, symbols of any block and row (real, or garbage with any
 * k), whole blocks with losses, heartbeats, the passing of time, receiver
 * restarts on the same STATE, and unauthenticated bytes; release jobs are
 * waited for, or left running on their threads while the sequence goes
 * on (a new session's opcode chooses). Every input starts
 * from an empty STATE (the receiver's keys, policy and codecs stay open
 * between inputs; a restart operation opens everything again).
 *
 * The input's last byte also chooses the quotas: the receiver's defaults,
 * or tight ones (one active transfer, one staged, 2000 bytes unvouched) under
 * which windows are spooled, transfers made dormant and evicted for room.
 *
 * Oracle, besides the sanitizers: whatever is released must be exactly one
 * of the prepared transfers, byte for byte, and released at most once; the
 * quotas' accounting is the transfers' sums after every operation, with no
 * transfer left marked to go.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxh.h"
#include "safefs.h"

#define NX 4
#define NS 4

struct world {
	struct rxh *h;
	struct rxh_xfer t[NX];
	uint8_t *data[2];
	size_t len[2];
};

static struct world *world;

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned u8(struct input *in)
{
	unsigned v = in->n ? in->p[0] : 0;
	if (in->n) {
		in->p++;
		in->n--;
	}
	return v;
}

static uint64_t u64(struct input *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | u8(in);
	return v;
}

/* At exit, before the libraries' own exit handlers (registered earlier, so
 * run later), stop the receiver and its hashing thread. */
static void end_world(void)
{
	if (world)
		rxh_stop(world->h);
}

static void make_world(void)
{
	static const struct rxh_opts lay[3] = { { .kmax = 8, .symsize = 256 }, { .kmax = 16, .symsize = 512 },
						{ .kmax = 4, .symsize = 1024 } };
	struct rxh_opts o;
	struct world *w = calloc(1, sizeof *w);
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;

	if (!w || rxh_new(base, &w->h) != SL_OK)
		abort();
	w->h->verbose = getenv("RXH_VERBOSE") != NULL;
	w->h->cfg.max_symsize = 1024; /* the largest the world uses: smaller buffers per start */
	w->h->cfg.window_memory = 4u << 20; /* some windows grow, some are held short */
	w->len[0] = 9000;
	w->len[1] = 700;
	for (int i = 0; i < 2; i++) {
		w->data[i] = malloc(w->len[i]);
		for (size_t j = 0; j < w->len[i]; j++)
			w->data[i][j] = (uint8_t)(j * 7 + (size_t)i * 13 + j / 251);
	}
	{
		struct rxh_file f0[] = { { "a/x.bin", w->data[0], 6000 }, { "b", w->data[0] + 6000, 3000 } };
		struct rxh_file f1[] = { { "only", w->data[1], 700 } };
		if (rxh_xfer_build(w->h, f0, 2, &lay[0], &w->t[0]) != SL_OK)
			abort();
		for (int i = 1; i < 3; i++) {
			o = lay[i];
			o.manifest_text = w->t[0].manifest;
			if (rxh_xfer_build(w->h, f0, 2, &o, &w->t[i]) != SL_OK)
				abort();
		}
		if (rxh_xfer_build(w->h, f1, 1, &lay[1], &w->t[3]) != SL_OK)
			abort();
	}
	world = w;
	atexit(end_world);
}

/* A header of t with one field replaced by the fuzzer. */
static void op_header(struct world *w, struct rxh_session *s, const struct rxh_xfer *t, struct input *in)
{
	struct sl_xfer_hdr x = t->hdr;
	unsigned which = u8(in), pass = u8(in) % 4;

	switch (which % 12) {
	case 1: x.total_bytes = u64(in); break;
	case 2: x.nchunks = u64(in); break;
	case 3: x.catalog_len = (uint32_t)u64(in); break;
	case 4: x.kmax = (uint16_t)u64(in); break;
	case 5: x.chunk_size = (uint32_t)u64(in); break;
	case 6: x.catalog_blocks = (uint32_t)u64(in); break;
	case 7: x.layout[u8(in) % 16] ^= (uint8_t)(1 + u8(in)); break;
	case 8: x.manifest_sha256[u8(in) % 32] ^= 1; break;
	case 9: x.passes = (uint16_t)u8(in); break;
	default: break;
	}
	rxh_send_hdr(w->h, s, t, &x, pass);
}

/* A symbol with any block, row and k: real bytes or garbage. */
static void op_symbol(struct world *w, struct rxh_session *s, const struct rxh_xfer *t, struct input *in)
{
	uint64_t b = (uint64_t)(u8(in) << 8 | u8(in)) % (t->nblocks + 2);
	unsigned row = u8(in) % 255, flags = u8(in);

	if (!(flags & 1) && b < t->nblocks) {
		rxh_send_symbol(w->h, s, t, b, row);
		return;
	}
	{
		struct sl_wire_hdr wh = { .type = SL_T_SYMBOL, .block = b, .row = (uint16_t)row,
					  .k = (uint16_t)(flags >> 1), .m = 4, .paylen = s->symsize };
		uint8_t body[SL_WIRE_MAX_SYMSIZE];
		memset(body, u8(in), sizeof body);
		memcpy(wh.xfer, t->id, 16);
		rxh_deliver(w->h, s, &wh, body, s->symsize);
	}
}

static void run(struct world *w, struct input *in, struct rxh_session *ss, int *live)
{
	static const uint16_t sizes[4] = { 256, 512, 1024, 128 };
	unsigned op = u8(in), si = u8(in) % NS;
	struct rxh_session *s = &ss[si];
	const struct rxh_xfer *t = &w->t[u8(in) % NX];

	if (op % 9 != 0 && op % 9 < 5 && !live[si])
		return;
	switch (op % 9) {
	case 0:
		if (live[si])
			rxh_session_free(s);
		live[si] = rxh_session_new(w->h, sizes[u8(in) % 4], s) == SL_OK;
		/* release jobs (rx/finish.c) waited for, or left to run on their
		 * threads while the sequence goes on (picked up by ticks) */
		w->h->release_nowait = op / 9 % 2;
		break;
	case 1: op_header(w, s, t, in); break;
	case 2: op_symbol(w, s, t, in); break;
	case 3: {
		uint64_t b = u8(in) % (t->nblocks ? t->nblocks : 1);
		uint64_t skip = u8(in);
		rxh_send_block(w->h, s, t, b, skip, t->k[b] + u8(in) % 8);
		break;
	}
	case 4: /* the interleave it declares grows windows (window.c), up to 448 blocks */
		s->interleave = (uint16_t)(op / 9 * 16);
		rxh_send_hb(w->h, s, t->id, (uint8_t)(u8(in) % 6), u8(in) % 3, 1 + u8(in) % 3);
		break;
	case 5: rxh_tick(w->h, 1000000ull << (u8(in) % 20)); break;
	case 6: rxh_settle(w->h); break;
	case 7:
		if (rxh_restart(w->h) != SL_OK)
			abort();
		break;
	case 8: {
		uint8_t raw[2048];
		size_t n = u8(in) * 8;
		for (size_t i = 0; i < n; i++)
			raw[i] = (uint8_t)u8(in);
		rx_handle(&w->h->c, raw, n, w->h->now);
		rx_writer_idle(w->h->c.writer);
		rx_writer_poll(&w->h->c, NULL);
		break;
	}
	}
}

/* Released trees hold exactly a prepared transfer's bytes. */
static void check(struct world *w)
{
	for (int i = 0; i < NX; i++) {
		const struct rxh_xfer *t = &w->t[i];
		if (!rxh_is_released(w->h, t->hex))
			continue;
		if (i < 3 && (!rxh_released_file_is(w->h, t->hex, "a/x.bin", w->data[0], 6000) ||
			      !rxh_released_file_is(w->h, t->hex, "b", w->data[0] + 6000, 3000)))
			abort();
		if (i == 3 && !rxh_released_file_is(w->h, t->hex, "only", w->data[1], 700))
			abort();
		if (rxh_audit_count(w->h, "released", t->hex) > 1)
			abort();
	}
	if ((int64_t)w->h->c.staged_bytes < 0 || (int64_t)w->h->c.unvouched_bytes < 0)
		abort();
}

/* Between datagrams and ticks the quota's totals are the transfers' sums
 * and no transfer is left marked to go (quota.c, ending.c). */
static void check_quota(const struct world *w)
{
	char why[256];

	if (!rxh_quota_agrees(w->h, why, sizeof why)) {
		fprintf(stderr, "quota: %s\n", why);
		abort();
	}
}

/* The receiver's defaults (0: from STATE's free space and the policy), or
 * tight quotas. rx_setup fills the defaults into cfg: set every one each time. */
static void set_quotas(struct world *w, int tight)
{
	struct rx_cfg *cfg = &w->h->cfg;

	cfg->max_active = tight ? 1 : 4;
	cfg->max_staged = tight ? 1 : 0;
	cfg->max_unvouched = tight ? 2000 : 0;
	cfg->max_staging = tight ? 12000 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct rxh_session ss[NS];
	int live[NS] = { 0 };
	unsigned ops = 0;

	if (!world)
		make_world();
	set_quotas(world, size && (data[size - 1] & 3) == 3);
	if (rxh_wipe(world->h) != SL_OK || rxh_start(world->h) != SL_OK)
		abort();
	world->h->release_nowait = 0;
	while (in.n && ops++ < 2000) {
		run(world, &in, ss, live);
		check_quota(world);
	}
	world->h->release_nowait = 0;
	rxh_settle(world->h);
	check(world);
	check_quota(world);
	for (int i = 0; i < NS; i++)
		if (live[i])
			rxh_session_free(&ss[i]);
	return 0;
}
