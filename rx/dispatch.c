/* dispatch.c — what sluice-rx does with each datagram, and on each tick.
 *
 * Order of work for a datagram: open it (size, fixed fields, tag: a failure
 * is counted and nothing else happens), account it to its session, then by
 * type: heartbeat → session state; transfer header → transfer state; symbol
 * → its transfer's block window, decode, placement. Periodic work: checkpoint
 * staged data (asked of the writer thread, writer.c, once files are written
 * in place), pick up what the writer failed to write, time out silent
 * transfers, write the status file; the disk (storage.c: the end of a
 * disk-full episode, held-up releases).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "rx.h"

static struct rx_session *session_of(struct rx_ctx *c, const struct sl_wire_hdr *h, uint64_t now)
{
	struct rx_session *victim = &c->sessions[0];

	for (unsigned i = 0; i < RX_MAX_SESSIONS; i++) {
		struct rx_session *s = &c->sessions[i];
		if (s->used && s->id == h->session)
			return s;
		if (!s->used || s->last_ns < victim->last_ns)
			victim = s;
	}
	memset(victim, 0, sizeof *victim);
	victim->used = 1;
	victim->id = h->session;
	victim->first_packet = h->packet;
	victim->max_packet = h->packet;
	victim->suite = h->suite;
	victim->symsize = h->symsize;
	rx_log_limited(c, SL_LOG_INFO, now, "new session %016llx (%s, %u-byte symbols), first packet %llu",
		       (unsigned long long)h->session, sl_suite_name((enum sl_suite)h->suite), h->symsize,
		       (unsigned long long)h->packet);
	return victim;
}

static void log_drop(struct rx_ctx *c, const char *what, int err, uint64_t now)
{
	/* At most one line a second, with the count since the last one. */
	c->drops_since_log++;
	if (now - c->last_drop_log_ns < 1000000000ull)
		return;
	sl_log(c->log, SL_LOG_WARN, "dropped datagrams: %llu since last report (latest: %s: %s); "
	       "totals: %llu authentication failures, %llu malformed, %llu unsupported",
	       (unsigned long long)c->drops_since_log, what, sl_strerror(err),
	       (unsigned long long)c->st.auth_fail, (unsigned long long)c->st.malformed,
	       (unsigned long long)c->st.unsupported);
	c->drops_since_log = 0;
	c->last_drop_log_ns = now;
}

static void on_heartbeat(struct rx_ctx *c, struct rx_session *s, const struct sl_wire_hdr *h,
			 const uint8_t *body, uint64_t now)
{
	struct sl_heartbeat hb;
	static const uint8_t zero[16];

	if (sl_heartbeat_decode(body, h->paylen, &hb) != SL_OK) {
		c->st.malformed++;
		return;
	}
	if (!s->have_hb)
		rx_log_limited(c, SL_LOG_INFO, now, "session %016llx: sender %s, k=%u m=%u D=%u, %u-byte "
			       "symbols", (unsigned long long)s->id, hb.sender, hb.kmax, hb.m, hb.interleave,
			       hb.symsize);
	if (hb.symsize > c->cfg->max_symsize && !s->have_hb)
		rx_log_limited(c, SL_LOG_ERR, now, "sender %s uses %u-byte symbols, above this receiver's "
			       "--max-symbol-size %u: its data cannot be received", hb.sender, hb.symsize,
			       c->cfg->max_symsize);
	s->hb = hb;
	s->have_hb = 1;
	s->last_hb_ns = now;
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x->session == s->id)
			rx_window_follow(c, x, hb.interleave, now);
	if (memcmp(hb.xfer, zero, 16) == 0)
		return;
	if (hb.state == SL_HB_DONE || hb.state == SL_HB_ABORTED ||
	    (hb.state == SL_HB_PASS_DONE && hb.pass + 1 >= hb.passes)) {
		int known = 0;
		for (struct rx_xfer *x = c->xfers; x; x = x->next) {
			if (memcmp(x->id, hb.xfer, 16) != 0)
				continue;
			known = 1;
			/* Only the session sending it may say it is done sending. */
			if (x->state == RX_X_ACTIVE && !x->tail_deadline_ns && x->session == s->id)
				x->tail_deadline_ns = now + c->cfg->tail_grace_ns;
		}
		if (!known && !s->unseen_reported) {
			/* The sender says it sent a transfer of which nothing arrived:
			 * lost on the link, or withheld. Say so once per session. */
			char hex[33], why[160];
			sodium_bin2hex(hex, sizeof hex, hb.xfer, 16);
			snprintf(why, sizeof why, "sender %s reports sending sequence %llu, but nothing of it "
				 "arrived (lost on the link, or withheld)", hb.sender,
				 (unsigned long long)hb.xfer_sequence);
			rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: %s", hex, why);
			rx_audit_limited(c, now, "unseen", hex, NULL, why);
			s->unseen_reported = 1;
		}
	}
}

/* A transfer header from session s: checked before anything is created for
 * it; the layout it declares is remembered per session (layout.c decides
 * whether the transfer is staged with it). */
static void on_xfer(struct rx_ctx *c, struct rx_session *s, const struct sl_wire_hdr *h,
		    const uint8_t *body, uint64_t now)
{
	struct sl_xfer_hdr xh;
	struct rx_xfer *x;
	int r;

	if (sl_xfer_hdr_decode(body, h->paylen, &xh) != SL_OK) {
		c->st.malformed++;
		return;
	}
	memcpy(s->hdr_xfer, h->xfer, 16);
	memcpy(s->hdr_layout, xh.layout, 16);
	s->have_hdr_layout = 1;
	x = rx_xfer_find(c, h->xfer);
	if (!(x && x->state == RX_X_RELEASED)) {
		r = rx_xfer_check_header(c, &xh, h->symsize);
		if (r) {
			if (r == SL_ERR_TOOBIG)
				c->st.quota_header++;
			else
				c->st.malformed++;
			rx_log_limited(c, SL_LOG_WARN, now, "transfer header refused (session %016llx): %s: "
				       "%llu bytes, catalog %u bytes (limits: policy max-bytes %llu, "
				       "--max-staging %llu, --max-catalog %llu)", (unsigned long long)h->session,
				       sl_strerror(r), (unsigned long long)xh.total_bytes, xh.catalog_len,
				       (unsigned long long)c->policy->limits.max_total_bytes,
				       (unsigned long long)c->cfg->max_staging,
				       (unsigned long long)c->cfg->max_catalog);
			return;
		}
	}
	x = rx_xfer_get(c, h->xfer, now);
	if (!x)
		return; /* counted as quota_header, or out of memory */
	if (x->state == RX_X_RELEASED) {
		c->st.ignored++;
		if (h->session != x->session) {
			/* Sent again after its release: recorded once per session, rate-limited. */
			char why[96];
			x->session = h->session;
			c->st.replays++;
			rx_log_limited(c, SL_LOG_WARN, now, "transfer %s was already released; session %016llx "
				       "sends it again: ignored", x->hex, (unsigned long long)h->session);
			snprintf(why, sizeof why, "transfer id already released; session %016llx ignored",
				 (unsigned long long)h->session);
			rx_audit_limited(c, now, "replay", x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL,
					 why);
		}
		return;
	}
	if (x->state == RX_X_REJECTED) {
		if (h->session == x->reject_session) {
			c->st.ignored++;
			return;
		}
		/* A new session sends it again (perhaps with more signatures). */
		rx_xfer_forget(c, x);
		x = rx_xfer_get(c, h->xfer, now);
		if (!x)
			return;
	}
	r = rx_xfer_set_header(c, x, &xh, h->symsize, now);
	if (r == SL_ERR_AGAIN || r == SL_ERR_EXISTS) {
		c->st.hdr_conflict++;
		rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: header of session %016llx ignored: %s",
			       x->hex, (unsigned long long)h->session, r == SL_ERR_EXISTS
			       ? "its manifest differs from the verified one"
			       : "another block layout is being received (held while it is live)");
		return;
	}
	if (r != SL_OK) {
		if (r != SL_ERR_HASH)
			c->st.malformed++;
		return;
	}
	x->session = h->session;
	if (x->state == RX_X_DORMANT && x->timed_out_reported)
		sl_log(c->log, SL_LOG_INFO, "transfer %s: sender is back (pass %u of %u); resuming",
		       x->hex, xh.pass + 1, xh.passes);
	x->last_ns = now;
	if (x->tail_deadline_ns && xh.pass + 1 < xh.passes)
		x->tail_deadline_ns = 0;
	if (x->catalog_ok && x->ndone == x->hdr.nchunks && x->state != RX_X_RELEASED)
		rx_release(c, x); /* also a release the disk held up */
}

/* A symbol for x while its kept catalog is verified again on a thread
 * (finish.c) before x is active: into the spool, as a block evicted
 * undecoded is, so that it counts once x is active (rx_slot_for loads it).
 * 1 if it is kept (or was already). */
static int spool_meanwhile(struct rx_ctx *c, struct rx_xfer *x, const struct sl_wire_hdr *h, const uint8_t *body)
{
	const struct rx_spooled *e = rx_xfer_spooled(x, h->block);

	if (!x->rjob || x->rjob->kind != RX_RJ_ACTIVATE || (e && e->k != h->k))
		return 0;
	if (e && (e->rows[h->row / 8] >> (h->row % 8) & 1)) {
		c->st.duplicates++;
		return 1;
	}
	return rx_xfer_spool_symbol(c, x, h->block, h->k, h->row, body) == SL_OK;
}

/* found: the transfer rx_handle looked up for this symbol before opening it
 * (the same id: the header is authenticated as it was read), or NULL when
 * it did not look. */
static void on_symbol(struct rx_ctx *c, const struct rx_session *ss, const struct sl_wire_hdr *h,
		      const uint8_t *body, uint64_t now, struct rx_xfer *const *found)
{
	struct rx_xfer *x = found ? *found : rx_xfer_find(c, h->xfer);
	struct rx_slot *s;

	if (!x) {
		/* Nothing is created for a transfer before its header arrives. */
		c->st.before_header++;
		return;
	}
	if (x->state == RX_X_RELEASED || (x->state == RX_X_REJECTED && h->session == x->reject_session)) {
		c->st.ignored++;
		return;
	}
	if (!x->have_hdr || x->state == RX_X_REJECTED) {
		c->st.before_header++;
		return;
	}
	if (ss->have_hdr_layout && !memcmp(ss->hdr_xfer, h->xfer, 16) &&
	    memcmp(ss->hdr_layout, x->hdr.layout, 16) != 0) {
		c->st.other_layout++; /* its session declared another layout */
		return;
	}
	if (h->symsize != x->symsize || h->k > x->hdr.kmax || h->k == 0 ||
	    h->block >= (uint64_t)x->hdr.catalog_blocks + x->hdr.nchunks) {
		c->st.malformed++;
		return;
	}
	x->symbols++;
	x->last_ns = now;
	x->last_sym_ns = now;
	if (x->session != h->session) {
		x->session = h->session; /* another sender: its window */
		rx_window_follow(c, x, rx_window_interleave(c, x->session), now);
	}
	if (rx_xfer_block_is_done(x, h->block)) {
		c->st.duplicates++;
		return;
	}
	if (x->state != RX_X_ACTIVE && rx_xfer_activate(c, x) != SL_OK) {
		if (!spool_meanwhile(c, x, h, body))
			c->st.ignored++;
		return;
	}
	int decoded;
	s = rx_slot_for(c, x, h->block, h->k, &decoded);
	if (!s) {
		c->st.malformed++; /* k changed for the same block: not one layout */
		return;
	}
	/* Decoded from the spool alone while the slot was set up, or now with
	 * this symbol: handed on from here, never from inside the slot's
	 * set-up (the block's end may release the transfer and free the
	 * window the slot is in). */
	if (decoded || rx_slot_add(c, x, s, h->row, body) == 1)
		rx_xfer_block_done(c, x, s);
}

/* A data symbol whose block is in its window already is decrypted straight
 * into its row there (the header read before the tag only chooses where;
 * every decision is taken after it, as for any datagram), the rest in place. */
static void handle_opened(struct rx_ctx *c, size_t len, int r, const struct sl_wire_hdr *hp,
			  const uint8_t *body, uint64_t now, struct rx_xfer *const *found);

void rx_handle(struct rx_ctx *c, uint8_t *dg, size_t len, uint64_t now)
{
	struct sl_wire_hdr h;
	const uint8_t *body = NULL;
	int symbol = sl_wire_peek(dg, len, &h) == SL_OK && h.type == SL_T_SYMBOL;
	struct rx_xfer *x = symbol ? rx_xfer_find(c, h.xfer) : NULL; /* once, also for on_symbol */
	uint8_t *to = x ? rx_slot_target(x, &h) : NULL;
	int r;

	if (to) {
		r = sl_wire_open_to(c->wire, dg, len, &h, to, h.symsize);
		body = to;
	} else {
		r = sl_wire_open(c->wire, dg, len, &h, &body);
	}
	handle_opened(c, len, r, &h, body, now, symbol && h.type == SL_T_SYMBOL ? &x : NULL);
}

void rx_handle_opened(struct rx_ctx *c, size_t len, int r, const struct sl_wire_hdr *hp,
		      const uint8_t *body, uint64_t now)
{
	handle_opened(c, len, r, hp, body, now, NULL);
}

static void handle_opened(struct rx_ctx *c, size_t len, int r, const struct sl_wire_hdr *hp,
			  const uint8_t *body, uint64_t now, struct rx_xfer *const *found)
{
	struct sl_wire_hdr h;
	struct rx_session *s;

	c->now = now;
	c->st.datagrams++;
	c->st.bytes += len;
	if (r) {
		if (r == SL_ERR_AUTH)
			c->st.auth_fail++;
		else if (r == SL_ERR_UNSUPPORTED)
			c->st.unsupported++;
		else
			c->st.malformed++;
		log_drop(c, r == SL_ERR_AUTH ? "tag check" : "parse", r, now);
		return;
	}
	h = *hp;
	s = session_of(c, &h, now);
	s->received++;
	s->last_ns = now;
	if (h.packet > s->max_packet)
		s->max_packet = h.packet;
	if (h.packet < s->first_packet)
		s->first_packet = h.packet;
	switch (h.type) {
	case SL_T_PREAMBLE:
		break;
	case SL_T_HEARTBEAT:
		on_heartbeat(c, s, &h, body, now);
		break;
	case SL_T_XFER:
		on_xfer(c, s, &h, body, now);
		break;
	case SL_T_SYMBOL:
		on_symbol(c, s, &h, body, now, found);
		break;
	}
	rx_xfer_drop_evicted(c); /* what a quota marked to make room for this datagram */
}

/* x is complete, released once the writer and the hasher are done with it
 * (rx_release); when the input ended, after waiting for them. */
static void release_written(struct rx_ctx *c, struct rx_xfer *x, int final)
{
	char why[64];

	if (final && x->writer && x->hasher) {
		rx_writer_flush(x->writer, x);
		(void)rx_hasher_wait(x->hasher, x, why, sizeof why); /* its verdict: at release */
	}
	rx_release(c, x);
}

/* An active x's checkpoint this tick, and its timeout when it is due. */
static void checkpoint_or_time_out(struct rx_ctx *c, struct rx_xfer *x, uint64_t now, int final, int ckpt)
{
	int wbusy;

	if (x->state != RX_X_ACTIVE || ((x->basejob || x->release_writer) && !final) || x->rjob)
		return; /* complete: a delta copying from its base, files being written, or released */
	/* before this tick's checkpoint is queued */
	wbusy = !final && x->writer && rx_writer_busy(x->writer, x);
	if (ckpt && x->tree && x->writer && !final)
		rx_writer_checkpoint(x->writer, x); /* done by the writer thread: not waited for */
	else if (ckpt)
		rx_xfer_checkpoint(c, x);
	if (final)
		rx_xfer_timeout(c, x, "input ended before the transfer was complete");
	else if (wbusy)
		return; /* timed out once the writer has moved its spill: not waited for here */
	else if (x->tail_deadline_ns && now >= x->tail_deadline_ns)
		rx_xfer_timeout(c, x, "the sender finished its passes");
	else if (now - x->last_ns >= c->cfg->timeout_ns)
		rx_xfer_timeout(c, x, "no data for the timeout period");
}

/* Staging idle for longer than --keep-incomplete removed. */
static void expire_idle(struct rx_ctx *c, uint64_t now)
{
	struct rx_xfer *x = c->xfers, *next;

	for (; x; x = next) {
		next = x->next;
		if (!rx_quota_idle(c, x, now))
			continue;
		rx_xfer_drop(c, x, "expired", "incomplete staging idle for longer than --keep-incomplete");
		c->st.expired++;
	}
}

void rx_tick(struct rx_ctx *c, uint64_t now, int final)
{
	uint64_t outcomes;
	int ckpt = final || now - c->last_ckpt_ns >= 1000000000ull;

	c->now = now;
	rx_verify_poll(c, final); /* catalog verdicts (verify.c, applied by poll.c) */
	rx_rjob_poll(c, final); /* releases and re-verifications on threads (finish.c, poll.c) */
	rx_writer_poll(c, NULL);
	if (!final) {
		enum rx_disk_tick dt = rx_storage_tick(c, now);
		if (dt != RX_DT_WAIT) /* once a second: held-up releases tried again */
			rx_release_held(c, now, dt == RX_DT_ENDED);
	}
	rx_xfer_drop_evicted(c);
	/* The input ended: each release to its end, through the writer's and the
	 * hasher's work, a delta's copy and the release jobs (a few rounds: each
	 * can hand on to another). */
	for (int round = 0; round < (final ? 4 : 1); round++) {
		for (struct rx_xfer *x = c->xfers; x; x = x->next) {
			if (x->release_writer) /* a delta's copy from its base may start here */
				release_written(c, x, final);
			if (final)
				rx_base_wait(x); /* finish copying from the base, then release */
			if (rx_base_job_done(x)) /* a delta's copy from its base is done: release */
				rx_release(c, x);
			rx_xfer_drop_evicted(c); /* never x: room is not made by evicting its asker */
		}
		if (final)
			rx_rjob_poll(c, 1);
	}
	for (struct rx_xfer *x = c->xfers; x; x = x->next) {
		checkpoint_or_time_out(c, x, now, final, ckpt);
		rx_xfer_drop_evicted(c); /* x's window spooled: never x, the asker */
	}
	if (ckpt)
		c->last_ckpt_ns = now;
	if (now - c->last_expire_ns >= 60000000000ull) {
		expire_idle(c, now);
		c->last_expire_ns = now;
	}
	/* Once a second, and at once after an outcome, so the status file never
	 * contradicts the audit log for long. */
	outcomes = c->st.released + c->st.rejected + c->st.timeouts + c->st.evicted + c->st.expired;
	if (final || now - c->last_status_ns >= 1000000000ull || outcomes != c->status_outcomes) {
		rx_write_status(c, now);
		c->last_status_ns = now;
		c->status_outcomes = outcomes;
	}
}
