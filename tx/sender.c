/* sender.c — the transmit schedule of PROTOCOL.md §6 (see sender.h). */
#include "sender.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "link.h"
#include "pace.h"
#include "producer.h"
#include "tx_progress.h"
#include "proto.h"
#include "sha256.h"

#define BATCH 32
/* Pacing steps per burst. A sender keeps the rate while it wakes late by
 * less than (burst - 2 steps) / rate: 3/4 of the burst's line time with
 * eighths (through a 64 KiB queue at 490 Mbit/s, 1.3-4.6% of the line
 * time went unused against 2.4-5.4% with quarters; sixteenths cost 30%
 * more system time for no clear gain). */
#define SL_TX_STEPS_PER_BURST 8
#define SL_TX_RT_PRIO 10           /* SCHED_FIFO priority with --realtime */
#define SL_TX_HB_EARLY 0.875       /* heartbeat slots at this part of the interval's line time */

/* The sending thread: it seals only the few datagrams it makes itself
 * (preamble, transfer headers and heartbeats, in the control slots the
 * producer numbered), paces, and hands the producer's sealed datagrams to
 * the link where they lie. */
struct sender {
	const struct tx_send_cfg *cfg;
	const struct tx_source *src;
	struct sl_link *link;
	struct sl_wire_tx *wire;  /* the session; the producer's workers seal with clones */
	struct sl_pacer pacer;
	struct tx_progress prog;
	size_t dgsize;
	size_t wire_per_dg;
	unsigned pace_step;       /* datagrams per pacer wait */

	/* the batch: datagrams where they lie (a group's buffer, or own) */
	uint8_t *own;             /* BATCH datagrams: the preamble's, the aborted heartbeats' */
	struct iovec iov[BATCH];
	unsigned nbatch;

	/* schedule */
	uint32_t chunk_size;
	uint64_t nchunks;
	uint32_t catalog_blocks;
	uint32_t piece;           /* catalog bytes per block */
	unsigned hb_every;        /* heartbeat slots (producer.h), 0: none */
	struct sl_xfer_hdr xh;
	unsigned pass;
	uint64_t blocks_sent;     /* in this pass */
	uint64_t next_hb_ns;

	uint64_t start_ns;
	struct tx_send_result *res;
	struct sl_diag *d;
};

static int flush(struct sender *s)
{
	unsigned done = 0;

	if (s->nbatch == 0)
		return SL_OK;
	/* Pace in steps (see tx_send): the pacer wakes with one step's tokens
	 * and the rest of the bucket keeps what builds up while a sleep
	 * overshoots, so the average rate holds while wake-ups are late by
	 * less than about 3/4 of the burst's line time. */
	while (done < s->nbatch) {
		unsigned step = s->nbatch - done, sent = 0;
		if (s->cfg->rate_bps) {
			if (step > s->pace_step)
				step = s->pace_step;
			sl_pacer_wait(&s->pacer, step * s->wire_per_dg);
		}
		while (sent < step) {
			int n = sl_link_send(s->link, s->iov + done + sent, step - sent, s->d);
			if (n < 0)
				return n;
			if (n == 0)
				return sl_diag_set(s->d, SL_ERR_IO, "link accepted no datagrams");
			sent += (unsigned)n;
		}
		done += step;
	}
	s->res->datagrams += s->nbatch;
	s->res->wire_bytes += s->nbatch * s->wire_per_dg;
	s->nbatch = 0;
	return SL_OK;
}

/* Add one sealed datagram to the batch; a full batch goes out, and then
 * the progress bar and the stop flag are looked at. */
static int queue(struct sender *s, uint8_t *dg)
{
	uint64_t now;
	int r;

	s->iov[s->nbatch].iov_base = dg;
	s->iov[s->nbatch].iov_len = s->dgsize;
	if (++s->nbatch < BATCH)
		return SL_OK;
	r = flush(s);
	if (r)
		return r;
	now = sl_now_ns();
	if (s->cfg->progress) {
		uint64_t nb = s->catalog_blocks + s->nchunks;
		uint64_t done = nb ? (uint64_t)((double)s->src->total_bytes *
						(double)s->blocks_sent / (double)nb) : 0;
		tx_progress_update(&s->prog, done, s->pass + 1, s->cfg->first_pass + s->cfg->passes, now);
	}
	if (s->cfg->stop && *s->cfg->stop)
		return SL_ERR_AGAIN;
	return SL_OK;
}

static unsigned parity_for(const struct sender *s, unsigned k, int catalog)
{
	return tx_parity_for(s->cfg->overhead, k, s->cfg->kmax, catalog);
}

void tx_heartbeat_fill(const struct tx_send_cfg *cfg, uint64_t sent, uint8_t state,
		       struct sl_heartbeat *hb)
{
	memset(hb, 0, sizeof *hb);
	hb->time_ns = sl_realtime_ns();
	hb->interval_ms = cfg->heartbeat_ms;
	hb->rate_bps = cfg->rate_bps;
	hb->sent = sent;
	hb->kmax = cfg->kmax;
	hb->symsize = cfg->symsize;
	hb->interleave = (uint16_t)cfg->interleave;
	hb->state = state;
	hb->level = (uint8_t)cfg->level;
	sl_heartbeat_set_sender(hb);
}

/* A heartbeat numbered `packet` (the datagrams sent before it). */
static void fill_heartbeat(struct sender *s, struct sl_heartbeat *hb, uint8_t state, uint64_t packet)
{
	tx_heartbeat_fill(s->cfg, packet, state, hb);
	hb->m = (uint16_t)parity_for(s, s->cfg->kmax, 0);
	hb->pass = (uint16_t)s->pass;
	hb->passes = (uint16_t)(s->cfg->first_pass + s->cfg->passes);
	memcpy(hb->xfer, s->src->id, 16);
	hb->xfer_sequence = s->src->sequence;
	hb->blocks_total = s->catalog_blocks + s->nchunks;
	hb->blocks_sent = s->blocks_sent > hb->blocks_total ? hb->blocks_total : s->blocks_sent;
}

/* Seal one datagram of the sender's own making into out. */
static int seal(struct sender *s, struct sl_wire_hdr *h, const uint8_t *body, uint64_t packet,
		uint8_t *out)
{
	int r = sl_wire_seal_at(s->wire, packet, h, body, out);
	if (r)
		return sl_diag_set(s->d, r, "sealing datagram %llu failed: %s",
				   (unsigned long long)packet, sl_strerror(r));
	return SL_OK;
}

static int seal_heartbeat(struct sender *s, uint8_t state, uint64_t packet, uint8_t *out)
{
	struct sl_heartbeat hb;
	uint8_t body[SL_HB_BODY];
	struct sl_wire_hdr h = { .type = SL_T_HEARTBEAT, .paylen = SL_HB_BODY };

	fill_heartbeat(s, &hb, state, packet);
	sl_heartbeat_encode(&hb, body);
	memcpy(h.xfer, s->src->id, 16);
	h.pass = (uint16_t)s->pass;
	s->next_hb_ns = sl_now_ns() + (uint64_t)s->cfg->heartbeat_ms * 1000000ull;
	return seal(s, &h, body, packet, out);
}

static int seal_xfer(struct sender *s, uint64_t packet, uint8_t *out)
{
	uint8_t body[SL_XFER_BODY];
	struct sl_wire_hdr h = { .type = SL_T_XFER, .paylen = SL_XFER_BODY };

	s->xh.pass = (uint16_t)s->pass;
	sl_xfer_hdr_encode(&s->xh, body);
	memcpy(h.xfer, s->src->id, 16);
	h.pass = (uint16_t)s->pass;
	return seal(s, &h, body, packet, out);
}

/* Fill a control slot (producer.h) when it is sent. */
static int seal_ctl(struct sender *s, int kind, uint64_t packet, uint8_t *out)
{
	if (kind == TX_CTL_XFER_OR_HB) /* a heartbeat when one is due */
		kind = sl_now_ns() >= s->next_hb_ns ? TX_CTL_HB : TX_CTL_XFER;
	switch (kind) {
	case TX_CTL_HB:
		return seal_heartbeat(s, SL_HB_SENDING, packet, out);
	case TX_CTL_XFER:
		return seal_xfer(s, packet, out);
	case TX_CTL_HB_PASS_DONE:
		return seal_heartbeat(s, SL_HB_PASS_DONE, packet, out);
	case TX_CTL_HB_DONE:
		return seal_heartbeat(s, SL_HB_DONE, packet, out);
	}
	return sl_diag_set(s->d, SL_ERR_INVAL, "unknown control slot %d", kind);
}

/* Put one event of the producer on the wire, in its order: sealed symbols
 * where they lie, control slots filled now; then everything queued goes
 * out, as the buffers go back to the producer. */
static int send_event(struct sender *s, const struct tx_group *g)
{
	unsigned c = 0;
	int r;

	for (unsigned i = 0; i < g->ndg; i++) {
		uint8_t *dg = g->dg + (size_t)i * s->dgsize;
		if (c < g->nctl && g->ctl[c].at == i) {
			r = seal_ctl(s, g->ctl[c++].kind, g->first_packet + i, dg);
			if (r)
				return r;
		}
		r = queue(s, dg);
		if (r)
			return r;
	}
	if (g->ev == TX_EV_GROUP)
		s->blocks_sent += g->count;
	return flush(s);
}

/* The preamble (packets 0 .. preamble - 1) and the first heartbeat (the
 * number after them): the producer's numbers start above. */
static int send_preamble(struct sender *s)
{
	int r;

	for (unsigned i = 0; i <= s->cfg->preamble; i++) {
		uint8_t *out = s->own + (size_t)s->nbatch * s->dgsize;
		struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 0 };
		r = i < s->cfg->preamble ? seal(s, &h, (const uint8_t *)"", i, out)
					 : seal_heartbeat(s, SL_HB_SENDING, i, out);
		if (!r)
			r = queue(s, out);
		if (r)
			return r;
	}
	return flush(s);
}

static void layout_id(const struct sender *s, uint8_t out[16])
{
	uint8_t buf[32 + 4 + 2 + 2 + 1 + 1 + 15], h[32];
	uint8_t *p = buf;

	memcpy(p, s->src->manifest_sha256, 32);
	p += 32;
	p[0] = (uint8_t)(s->chunk_size >> 24); p[1] = (uint8_t)(s->chunk_size >> 16);
	p[2] = (uint8_t)(s->chunk_size >> 8); p[3] = (uint8_t)s->chunk_size;
	p += 4;
	p[0] = (uint8_t)(s->cfg->kmax >> 8); p[1] = (uint8_t)s->cfg->kmax;
	p[2] = (uint8_t)(s->cfg->symsize >> 8); p[3] = (uint8_t)s->cfg->symsize;
	p += 4;
	p[0] = 1; /* codec */
	p[1] = (uint8_t)s->cfg->level;
	p += 2;
	memcpy(p, "sluice-layout-1", 15);
	sl_sha256(buf, sizeof buf, h);
	memcpy(out, h, 16);
}

static int run(struct sender *s, struct tx_producer *prod)
{
	const struct tx_send_cfg *c = s->cfg;
	unsigned last = c->first_pass + c->passes;
	int r = send_preamble(s);

	for (;;) {
		struct tx_group *g;
		if (r)
			return r;
		{
			uint64_t t0 = sl_now_ns();
			g = tx_producer_next(prod, s->d);
			s->res->starved_ns += sl_now_ns() - t0;
		}
		switch (g->ev) {
		case TX_EV_PASS_START:
			s->pass = g->pass;
			s->blocks_sent = 0;
			r = send_event(s, g);
			break;
		case TX_EV_GROUP:
			r = send_event(s, g);
			break;
		case TX_EV_PASS_END:
			r = send_event(s, g);
			if (!r)
				sl_log(c->log, SL_LOG_INFO, "pass %u of %u sent", g->pass + 1, last);
			break;
		case TX_EV_END:
			s->pass = last - 1;
			r = send_event(s, g);
			tx_producer_release(prod, g);
			return r;
		case TX_EV_ERROR:
			tx_producer_release(prod, g);
			return tx_producer_error(prod);
		}
		tx_producer_release(prod, g);
	}
}

/* The schedule's numbers, the transfer header and the pacer, from cfg. */
static int plan(struct sender *s)
{
	const struct tx_send_cfg *cfg = s->cfg;
	const struct tx_source *src = s->src;
	uint64_t burst;

	if (cfg->kmax < 1 || cfg->kmax > 254 || cfg->interleave < 1 || cfg->interleave > TX_GROUP_MAX ||
	    cfg->passes < 1 || cfg->first_pass + cfg->passes > 65535 || cfg->overhead < 0 ||
	    cfg->overhead > 10 || (cfg->repair && cfg->passes != 1))
		return sl_diag_set(s->d, SL_ERR_INVAL, "invalid sender configuration");
	s->chunk_size = (uint32_t)cfg->kmax * cfg->symsize - SL_BLOCK_REC;
	s->nchunks = sl_chunks_of(src->total_bytes, s->chunk_size);
	s->piece = sl_catalog_piece(cfg->kmax, cfg->symsize);
	s->catalog_blocks = (uint32_t)((src->catalog_len + s->piece - 1) / s->piece);
	s->dgsize = sl_wire_dgram_size(cfg->symsize);
	s->wire_per_dg = sl_wire_bytes_udp(s->dgsize);

	memcpy(s->xh.manifest_sha256, src->manifest_sha256, 32);
	layout_id(s, s->xh.layout);
	s->xh.sequence = src->sequence;
	s->xh.total_bytes = src->total_bytes;
	s->xh.nchunks = s->nchunks;
	s->xh.chunk_size = s->chunk_size;
	s->xh.catalog_len = (uint32_t)src->catalog_len;
	s->xh.catalog_blocks = s->catalog_blocks;
	s->xh.kmax = cfg->kmax;
	s->xh.passes = (uint16_t)(cfg->first_pass + cfg->passes);
	s->xh.codec = 1;
	s->xh.level = (uint8_t)cfg->level;

	/* Default: 1 ms of line time, at least 48 KiB (pace.h; `sluice doctor`
	 * checks the same number against a diode's buffer). */
	burst = sl_pace_burst(cfg->rate_bps, cfg->burst_bytes, s->wire_per_dg);
	/* Steps of an eighth of the burst. The bucket holds the burst less
	 * one step: a step whose tokens were taken just before the thread
	 * was preempted reaches the wire late, together with a full bucket
	 * after it, and the two together still fit in the burst. */
	s->pace_step = (unsigned)(burst / (SL_TX_STEPS_PER_BURST * s->wire_per_dg));
	if (s->pace_step < 1)
		s->pace_step = 1;
	if (s->pace_step > BATCH)
		s->pace_step = BATCH;
	/* Heartbeat slots: a little more often than the interval at the
	 * configured rate, so they keep their interval where 256 datagrams
	 * take longer than it (unpaced: the transfer-header slots suffice). */
	if (cfg->rate_bps) {
		double every = (double)cfg->rate_bps / 8.0 / (double)s->wire_per_dg *
			       cfg->heartbeat_ms / 1000.0 * SL_TX_HB_EARLY;
		s->hb_every = every < 1 ? 1 : every > 1e9 ? 1000000000u : (unsigned)every;
	}
	if (cfg->rate_bps &&
	    sl_pacer_init(&s->pacer, cfg->rate_bps, burst - s->pace_step * s->wire_per_dg, sl_now_ns()) != 0)
		return sl_diag_set(s->d, SL_ERR_INVAL, "cannot pace at this rate and burst");
	/* Sleeps between pacing steps are a few hundred microseconds: the
	 * default 50 us timer slack would be a large part of each. */
	if (cfg->rate_bps)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	return SL_OK;
}

/* The sender's own datagram buffers, the sealing context and the link. */
static int open_sender(struct sender *s)
{
	struct sl_link_opts lo = { 0 };
	int r;

	s->own = malloc(BATCH * s->dgsize);
	if (!s->own)
		return SL_ERR_NOMEM;
	r = sl_wire_tx_new(s->cfg->link_key, s->cfg->suite, s->cfg->symsize, &s->wire, s->d);
	if (r)
		return r;
	s->res->session = sl_wire_tx_session(s->wire);
	if (s->cfg->link) {
		s->link = s->cfg->link;
		return SL_OK;
	}
	r = sl_link_open_tx(s->cfg->link_uri, &lo, &s->link, s->d);
	if (r)
		return r;
	if (sl_link_warning(s->link))
		sl_log(s->cfg->log, SL_LOG_WARN, "%s", sl_link_warning(s->link));
	return SL_OK;
}

static void producer_cfg(const struct sender *s, struct tx_producer_cfg *pc)
{
	const struct tx_send_cfg *cfg = s->cfg;

	memset(pc, 0, sizeof *pc);
	pc->src = s->src;
	pc->chunk_size = s->chunk_size;
	pc->piece = s->piece;
	pc->catalog_blocks = s->catalog_blocks;
	pc->repair = cfg->repair;
	pc->repair_margin = cfg->repair_margin;
	pc->nchunks = s->nchunks;
	pc->kmax = cfg->kmax;
	pc->symsize = cfg->symsize;
	pc->interleave = cfg->interleave;
	pc->overhead = cfg->overhead;
	pc->level = cfg->level;
	pc->first_pass = cfg->first_pass;
	pc->passes = cfg->passes;
	pc->spool_dir = cfg->spool_dir;
	pc->threads = cfg->threads;
	pc->file_io = cfg->file_io;
	pc->small_uring = cfg->small_uring;
	pc->wire = s->wire;
	pc->link_key = cfg->link_key;
	pc->first_packet = (uint64_t)cfg->preamble + 1; /* below: send_preamble's */
	pc->hb_every = s->hb_every;
}

/* After the producer's threads exist: only this one, which sleeps between
 * pacing steps, gets the real-time class (*realtime set when it did). */
static int go_realtime(const struct tx_send_cfg *cfg, int *realtime, struct sl_diag *d)
{
	struct sched_param sp = { .sched_priority = SL_TX_RT_PRIO };
	int e;

	if (cfg->realtime == TX_RT_OFF || !cfg->rate_bps)
		return SL_OK;
	e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (!e) {
		*realtime = 1;
	} else if (cfg->realtime == TX_RT_AUTO) {
		sl_log(cfg->log, SL_LOG_INFO, "pacing from an ordinary thread (SCHED_FIFO: %s)", strerror(e));
	} else {
		return sl_diag_set(d, SL_ERR_INVAL, "--realtime: cannot switch to SCHED_FIFO: %s "
				   "(needs root or CAP_SYS_NICE, and an RLIMIT_RTPRIO of at least %d)",
				   strerror(e), SL_TX_RT_PRIO);
	}
	return SL_OK;
}

/* After run(): an interrupted or failed send tells the receiver (best
 * effort); the link is flushed and the timings recorded. */
static int finish(struct sender *s, struct tx_producer *prod, int r)
{
	struct sl_diag *d = s->d;
	int fr;

	if (r) {
		struct sl_diag ignore;
		int stopped = r == SL_ERR_AGAIN;
		uint64_t first;
		s->d = &ignore;
		s->nbatch = 0; /* what was queued stays unsent: the producer takes its buffers back */
		/* numbers above every one the producer gave out */
		if (tx_producer_take_packets(prod, 3, &first) == SL_OK)
			for (unsigned i = 0; i < 3; i++)
				if (seal_heartbeat(s, SL_HB_ABORTED, first + i, s->own + (size_t)i * s->dgsize) ||
				    queue(s, s->own + (size_t)i * s->dgsize))
					break;
		flush(s);
		s->d = d;
		if (stopped)
			sl_diag_set(d, SL_ERR_AGAIN, "interrupted; the receiver was told the transfer stopped");
	}
	fr = sl_link_flush(s->link, r ? NULL : d);
	if (!r)
		r = fr;
	s->res->seconds = (double)(sl_now_ns() - s->start_ns) / 1e9;
	if (s->cfg->rate_bps)
		s->res->unused_ns = sl_pacer_spilled_ns(&s->pacer);
	if (s->cfg->progress)
		tx_progress_end(&s->prog);
	return r;
}

int tx_send(const struct tx_send_cfg *cfg, const struct tx_source *src,
	    struct tx_send_result *res, struct sl_diag *d)
{
	struct sender s;
	struct tx_producer *prod = NULL;
	struct tx_producer_cfg pc;
	int r, realtime = 0;

	memset(res, 0, sizeof *res);
	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.src = src;
	s.res = res;
	s.d = d;
	r = plan(&s);
	if (r)
		return r;
	r = open_sender(&s);
	if (r)
		goto out;
	producer_cfg(&s, &pc);
	sl_log(cfg->log, SL_LOG_INFO, "session %016llx: %s, %s, %zu-byte datagrams, k=%u m=%u D=%u, "
	       "file reads: %s", (unsigned long long)res->session, sl_link_describe(s.link),
	       sl_suite_name(cfg->suite), s.dgsize, cfg->kmax, parity_for(&s, cfg->kmax, 0),
	       cfg->interleave, cfg->file_io == SL_UIO_PLAIN && cfg->small_uring ? "auto"
										 : sl_uio_mode_name(cfg->file_io));

	s.start_ns = sl_now_ns();
	if (d)
		d->msg[0] = '\0';
	r = tx_producer_start(&pc, &prod, d);
	if (r)
		goto out;
	if (d && d->msg[0]) { /* a warning from the start (e.g. buffers not registered) */
		sl_log(cfg->log, SL_LOG_WARN, "%s", d->msg);
		d->msg[0] = '\0';
	}
	r = go_realtime(cfg, &realtime, d);
	if (r)
		goto out;
	if (cfg->progress)
		tx_progress_start(&s.prog, src->total_bytes, s.start_ns);
	res->blocks = s.catalog_blocks + s.nchunks;
	r = run(&s, prod);
	if (!r)
		tx_producer_totals(prod, &res->raw_bytes, &res->stored_bytes);
	r = finish(&s, prod, r);
out:
	if (realtime) {
		/* Back to the ordinary class: a daemon's next send must not
		 * start its producer threads as real-time ones. */
		struct sched_param sp = { .sched_priority = 0 };
		pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
	}
	if (prod)
		tx_producer_free(prod); /* joins the thread first */
	if (s.link != cfg->link)
		sl_link_close(s.link); /* flushed by finish(); a borrowed one stays open */
	sl_wire_tx_free(s.wire);
	free(s.own);
	return r;
}
