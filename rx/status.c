/* status.c — sluice-rx's status file and Prometheus metrics.
 *
 * Every second (and at exit) rx rewrites, atomically:
 *   STATE/status       line-based key/value text read by `sluice status`
 *                      (format in sluice-rx(8), "STATUS FILE");
 *   STATE/metrics.prom Prometheus text exposition format, for the node
 *                      exporter's textfile collector or any scraper; every
 *                      metric is described in sluice-rx(8), METRICS.
 * The audit log's hash chain is verified again here once a minute (and at
 * the first write), against the head sluice-rx holds, for
 * sluice_rx_audit_chain_ok.
 * With the disk full, both are written with the reserve's room (storage.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "rx.h"
#include "safefs.h"
#include "timefmt.h"

static const char *hb_state_name(uint8_t s)
{
	switch (s) {
	case SL_HB_IDLE: return "idle";
	case SL_HB_SENDING: return "sending";
	case SL_HB_PASS_DONE: return "pass-done";
	case SL_HB_DONE: return "done";
	case SL_HB_ABORTED: return "aborted";
	}
	return "unknown";
}

/* A transfer's state for the status file: its job on a thread (finish.c)
 * first, "releasing" or "verifying" (its kept catalog, to become active). */
static const char *xstate_name(const struct rx_xfer *x)
{
	if (x->rjob)
		return x->rjob->kind == RX_RJ_RELEASE ? "releasing" : "verifying";
	switch (x->state) {
	case RX_X_ACTIVE: return "receiving";
	case RX_X_DORMANT: return "waiting";
	case RX_X_REJECTED: return "rejected";
	case RX_X_RELEASED: return "released";
	}
	return "unknown";
}

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->p)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (!np)
			return;
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* One unlabelled metric in the text exposition format: its HELP and TYPE
 * lines, then its value. */
static void metric(struct buf *m, const char *type, const char *name, const char *help, uint64_t v)
{
	put(m, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, (unsigned long long)v);
}

static void gauge(struct buf *m, const char *name, const char *help, uint64_t v)
{
	metric(m, "gauge", name, help, v);
}

static void counter(struct buf *m, const char *name, const char *help, uint64_t v)
{
	metric(m, "counter", name, help, v);
}

/* The block windows (window.c): slots in memory now, and what they did. */
static void put_window(const struct rx_ctx *c, struct buf *s, struct buf *m)
{
	unsigned long long slots = 0;

	for (const struct rx_xfer *x = c->xfers; x; x = x->next)
		slots += x->nwin;
	put(s, "window slots=%llu spooled=%llu grown=%llu short=%llu\n", slots,
	    (unsigned long long)c->st.spooled, (unsigned long long)c->st.window_grown,
	    (unsigned long long)c->st.window_short);
	gauge(m, "sluice_rx_window_slots", "Block slots in memory over the active transfers.", slots);
	counter(m, "sluice_rx_spooled_symbols_total",
		"Symbols spooled to disk: their block left the window undecoded.", c->st.spooled);
	put(m, "# HELP sluice_rx_window_events_total Windows grown to a sender's interleave, or held short by --window-memory.\n"
		"# TYPE sluice_rx_window_events_total counter\n"
		"sluice_rx_window_events_total{event=\"grown\"} %llu\n"
		"sluice_rx_window_events_total{event=\"short\"} %llu\n",
	    (unsigned long long)c->st.window_grown,
	    (unsigned long long)c->st.window_short);
	put(m, "# HELP sluice_rx_blocks_total Blocks decoded: placed, or inconsistent (what they decoded to "
		"does not fit the transfer; dropped, a repeat pass brings them again).\n"
		"# TYPE sluice_rx_blocks_total counter\n"
		"sluice_rx_blocks_total{outcome=\"placed\"} %llu\n"
		"sluice_rx_blocks_total{outcome=\"inconsistent\"} %llu\n",
	    (unsigned long long)c->st.blocks_decoded, (unsigned long long)c->st.blocks_inconsistent);
}

static void put_quota_metrics(const struct rx_ctx *c, struct buf *m)
{
	put(m, "# HELP sluice_rx_staging_bytes Disk held by staged transfers, and its quota.\n"
		"# TYPE sluice_rx_staging_bytes gauge\n"
		"sluice_rx_staging_bytes{kind=\"all\"} %llu\n"
		"sluice_rx_staging_bytes{kind=\"unvouched\"} %llu\n"
		"# HELP sluice_rx_staging_limit_bytes --max-staging and --max-unvouched.\n"
		"# TYPE sluice_rx_staging_limit_bytes gauge\n"
		"sluice_rx_staging_limit_bytes{kind=\"all\"} %llu\n"
		"sluice_rx_staging_limit_bytes{kind=\"unvouched\"} %llu\n"
		"# HELP sluice_rx_staged_transfers Transfers with staging on disk, and --max-staged.\n"
		"# TYPE sluice_rx_staged_transfers gauge\n"
		"sluice_rx_staged_transfers %u\nsluice_rx_staged_transfers_limit %u\n"
		"# HELP sluice_rx_quota_events_total What the quotas did.\n"
		"# TYPE sluice_rx_quota_events_total counter\n"
		"sluice_rx_quota_events_total{event=\"header_refused\"} %llu\n"
		"sluice_rx_quota_events_total{event=\"dropped\"} %llu\n"
		"sluice_rx_quota_events_total{event=\"evicted\"} %llu\n"
		"sluice_rx_quota_events_total{event=\"expired\"} %llu\n"
		"sluice_rx_quota_events_total{event=\"log_suppressed\"} %llu\n"
		"sluice_rx_quota_events_total{event=\"audit_suppressed\"} %llu\n",
	    (unsigned long long)c->staged_bytes, (unsigned long long)c->unvouched_bytes,
	    (unsigned long long)c->cfg->max_staging, (unsigned long long)c->cfg->max_unvouched,
	    c->nstaged, c->cfg->max_staged, (unsigned long long)c->st.quota_header,
	    (unsigned long long)c->st.quota_drops, (unsigned long long)c->st.evicted,
	    (unsigned long long)c->st.expired, (unsigned long long)c->st.log_suppressed,
	    (unsigned long long)c->st.audit_suppressed);
}

/* "storage ...": the disk of STATE (storage.c). */
/* The writer thread's queue (writer.c): bytes queued now, the most ever,
 * the bound, chunks written, batches synced; chunks handed over without a
 * copy, bytes of buffers kept for reuse; bytes spilled to the stream now,
 * the most ever, their bound, chunks spilled and moved ever; and chunks
 * refused because queue and spill were both full. */
static void put_writer(const struct rx_ctx *c, struct buf *s, struct buf *m)
{
	struct rx_writer_stats w;

	rx_writer_stats(c->writer, &w);
	put(s, "writer queued=%llu peak=%llu max=%llu written=%llu syncs=%llu full=%llu spill=%llu "
	       "spill_peak=%llu spill_max=%llu spilled=%llu moved=%llu given=%llu spare=%llu\n",
	    (unsigned long long)w.queued, (unsigned long long)w.peak, (unsigned long long)w.cap,
	    (unsigned long long)w.written, (unsigned long long)w.syncs, (unsigned long long)c->st.writer_full,
	    (unsigned long long)w.spill, (unsigned long long)w.spill_peak, (unsigned long long)w.spill_cap,
	    (unsigned long long)w.spilled, (unsigned long long)w.moved, (unsigned long long)w.given,
	    (unsigned long long)w.spare);
	gauge(m, "sluice_rx_writer_queue_bytes", "Decoded chunk bytes waiting for the writer thread.", w.queued);
	gauge(m, "sluice_rx_writer_queue_peak_bytes", "The most ever waiting.", w.peak);
	gauge(m, "sluice_rx_writer_spare_bytes",
	      "Chunk buffers written and kept for reuse (within --writer-queue).", w.spare);
	gauge(m, "sluice_rx_writer_spill_bytes", "Decoded chunk bytes spilled to the staged stream at a full "
	      "queue, not yet moved into their files (counted at the chunk size).", w.spill);
	gauge(m, "sluice_rx_writer_spill_peak_bytes", "The most ever spilled at once.", w.spill_peak);
	counter(m, "sluice_rx_writer_spilled_total", "Decoded chunks spilled to the staged stream.", w.spilled);
	counter(m, "sluice_rx_writer_full_total", "Decoded chunks dropped because the writer queue was "
		"full and the spill at --writer-spill (received again with a repeat pass).", c->st.writer_full);
}

/* The receive ring (ring.c, main.c): bytes queued now, the most ever, the
 * memory its segments take, the bound, datagrams dropped when it was full. */
static void put_ring(const struct rx_ctx *c, struct buf *s, struct buf *m)
{
	struct rx_ring_stats r;

	if (!c->ring)
		return;
	rx_ring_get_stats(c->ring, &r);
	put(s, "ring queued=%llu peak=%llu memory=%llu max=%llu drops=%llu\n", (unsigned long long)r.queued,
	    (unsigned long long)r.peak, (unsigned long long)r.mem, (unsigned long long)r.cap,
	    (unsigned long long)r.drops);
	gauge(m, "sluice_rx_ring_bytes", "Received datagram bytes waiting in the receive ring.", r.queued);
	gauge(m, "sluice_rx_ring_peak_bytes", "The most ever waiting.", r.peak);
	gauge(m, "sluice_rx_ring_memory_bytes", "Memory the ring's segments take now.", r.mem);
}

static void put_storage(const struct rx_ctx *c, struct buf *s, struct buf *m)
{
	unsigned waiting = 0;
	uint64_t free_b = rx_storage_free(c);
	char since[32] = "-";
	const char *state = !c->disk.on ? "ok"
			    : c->disk.err == ENOSPC || c->disk.err == EDQUOT ? "full" : "io-error";

	for (const struct rx_xfer *x = c->xfers; x; x = x->next)
		waiting += x->release_wait != 0;
	if (c->disk.on)
		sl_time_format((int64_t)c->disk.since_wall, since, sizeof since);
	put(s, "storage state=%s since=%s episode_failures=%llu failed_nospace=%llu failed_io=%llu "
	       "episodes=%llu releases_waiting=%u release_retries=%llu free=%lld reserve=%llu\n",
	    state, since, (unsigned long long)(c->disk.on ? c->disk.fails : 0),
	    (unsigned long long)c->st.disk_full, (unsigned long long)c->st.disk_io,
	    (unsigned long long)c->st.disk_episodes, waiting, (unsigned long long)c->st.release_deferred,
	    free_b == UINT64_MAX ? -1LL : (long long)free_b, (unsigned long long)c->disk.reserve);
	put(m, "# HELP sluice_rx_storage_failures_total Writes, syncs and release steps that failed "
		"on STATE's disk (nothing staged is removed for them).\n"
		"# TYPE sluice_rx_storage_failures_total counter\n"
		"sluice_rx_storage_failures_total{kind=\"nospace\"} %llu\n"
		"sluice_rx_storage_failures_total{kind=\"io\"} %llu\n",
	    (unsigned long long)c->st.disk_full, (unsigned long long)c->st.disk_io);
	counter(m, "sluice_rx_storage_episodes_total", "Episodes of such failures (one audit entry each).",
		c->st.disk_episodes);
	gauge(m, "sluice_rx_storage_problem", "1 while writes fail (disk full or I/O errors).", c->disk.on != 0);
	gauge(m, "sluice_rx_releases_waiting", "Complete transfers whose release the disk holds up.", waiting);
	put(m, "# HELP sluice_rx_base_copied_total Files and bytes of deltas copied out of their base release.\n"
		"# TYPE sluice_rx_base_copied_total counter\n"
		"sluice_rx_base_copied_total{unit=\"files\"} %llu\nsluice_rx_base_copied_total{unit=\"bytes\"} %llu\n",
	    (unsigned long long)c->st.base_files, (unsigned long long)c->st.base_bytes);
	if (free_b != UINT64_MAX)
		put(m, "# HELP sluice_rx_storage_free_bytes Free space of STATE's filesystem, and the "
			"reserve kept for a full disk.\n# TYPE sluice_rx_storage_free_bytes gauge\n"
			"sluice_rx_storage_free_bytes{kind=\"free\"} %llu\n"
			"sluice_rx_storage_free_bytes{kind=\"reserve\"} %llu\n",
		    (unsigned long long)free_b, (unsigned long long)c->disk.reserve);
}

/* "xfer ..." lines and progress metrics of the transfers in progress. */
static void put_xfers(const struct rx_ctx *c, struct buf *s, struct buf *m, uint64_t now)
{
	put(m, "# HELP sluice_rx_transfer_progress_ratio Fraction of a transfer's chunks staged.\n"
		"# TYPE sluice_rx_transfer_progress_ratio gauge\n");
	for (const struct rx_xfer *x = c->xfers; x; x = x->next) {
		uint64_t total = x->have_hdr ? x->hdr.nchunks : 0;
		uint64_t bytes_done = x->have_hdr ? x->ndone * x->hdr.chunk_size : 0;
		if (x->state == RX_X_RELEASED || x->state == RX_X_REJECTED)
			continue;
		if (x->have_hdr && bytes_done > x->hdr.total_bytes)
			bytes_done = x->hdr.total_bytes;
		put(s, "xfer %s state=%s catalog=%s chunks=%llu/%llu bytes=%llu/%llu idle_ms=%llu "
			"symbols=%llu files=%lld timed_out=%d staged=%llu release_held=%d%s%s\n",
		    x->hex, xstate_name(x), x->catalog_ok ? "verified" : "incomplete",
		    (unsigned long long)x->ndone, (unsigned long long)total, (unsigned long long)bytes_done,
		    (unsigned long long)(x->have_hdr ? x->hdr.total_bytes : 0),
		    (unsigned long long)((now - x->last_ns) / 1000000ull), (unsigned long long)x->symbols,
		    x->manifest ? (long long)x->manifest->nfiles : -1LL, x->timed_out_reported,
		    (unsigned long long)x->staged_bytes, x->release_wait, x->repair[0] ? " repair=" : "",
		    x->repair);
		put(m, "sluice_rx_transfer_progress_ratio{xfer=\"%s\"} %.6f\n", x->hex,
		    total ? (double)x->ndone / (double)total : 0.0);
	}
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void put_label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(b, "\\%c", *v);
		else if (*v == '\n')
			put(b, "\\n");
		else
			put(b, "%c", *v);
	}
}

/* The audit chain: verified again every minute against the head rx holds. */
static void put_audit_metrics(struct rx_ctx *c, uint64_t now, struct buf *m)
{
	struct sl_audit_head head = { 0, "" };
	struct sl_audit_state st;

	if (c->audit)
		sl_audit_get_head(c->audit, &head);
	if (c->audit && (!c->audit_checked_ns || now - c->audit_checked_ns >= 60000000000ull)) {
		c->audit_chain_ok = sl_audit_verify(c->state_fd, "audit.log", head.seq ? &head : NULL, &st,
						    NULL) == SL_OK;
		c->audit_checked_ns = now;
		if (!c->audit_chain_ok)
			sl_log(c->log, SL_LOG_ERR, "audit.log no longer verifies or no longer holds entry #%llu "
			       "(sluice status --state %s shows why)", (unsigned long long)head.seq, c->cfg->state_dir);
	}
	put(m, "# HELP sluice_rx_audit_entries Entries in the audit log (the head's number).\n"
		"# TYPE sluice_rx_audit_entries gauge\nsluice_rx_audit_entries %llu\n"
		"# HELP sluice_rx_audit_chain_ok 1 if the audit log's hash chain verified and holds the head "
		"sluice-rx wrote, at the last check (every minute); 0 if not.\n"
		"# TYPE sluice_rx_audit_chain_ok gauge\nsluice_rx_audit_chain_ok %d\n",
	    (unsigned long long)head.seq, c->audit_checked_ns ? c->audit_chain_ok : 1);
}

/* Per session: heartbeat age (absent until the first heartbeat), datagrams received. */
static void put_session_metrics(const struct rx_ctx *c, uint64_t now, struct buf *m)
{
	put(m, "# HELP sluice_rx_session_heartbeat_age_seconds Time since the session's last heartbeat, "
		"labelled with what the sender said it is doing.\n"
		"# TYPE sluice_rx_session_heartbeat_age_seconds gauge\n");
	for (unsigned i = 0; i < RX_MAX_SESSIONS; i++) {
		const struct rx_session *x = &c->sessions[i];
		if (!x->used || !x->have_hb)
			continue;
		put(m, "sluice_rx_session_heartbeat_age_seconds{session=\"%016llx\",sender=\"",
		    (unsigned long long)x->id);
		put_label(m, x->hb.sender);
		put(m, "\",state=\"%s\"} %.3f\n", hb_state_name(x->hb.state),
		    (double)(now - x->last_hb_ns) / 1e9);
	}
	put(m, "# HELP sluice_rx_session_received Datagrams received in the session (with "
		"sluice_rx_session_lost_estimate: its loss ratio).\n"
		"# TYPE sluice_rx_session_received gauge\n");
	for (unsigned i = 0; i < RX_MAX_SESSIONS; i++)
		if (c->sessions[i].used)
			put(m, "sluice_rx_session_received{session=\"%016llx\"} %llu\n",
			    (unsigned long long)c->sessions[i].id, (unsigned long long)c->sessions[i].received);
}

/* The link's and the outcomes' counters. */
static uint64_t ring_drops(const struct rx_ctx *c)
{
	struct rx_ring_stats r = { 0 };

	if (c->ring)
		rx_ring_get_stats(c->ring, &r);
	return r.drops;
}

static void put_counter_metrics(const struct rx_ctx *c, const struct sl_link_stats *ls, struct buf *m)
{
	put(m, "# HELP sluice_rx_datagrams_total Datagrams received from the link.\n"
		"# TYPE sluice_rx_datagrams_total counter\nsluice_rx_datagrams_total %llu\n",
	    (unsigned long long)c->st.datagrams);
	put(m, "# HELP sluice_rx_bytes_total Bytes received from the link.\n"
		"# TYPE sluice_rx_bytes_total counter\nsluice_rx_bytes_total %llu\n",
	    (unsigned long long)c->st.bytes);
	put(m, "# HELP sluice_rx_dropped_total Datagrams dropped before use, by reason.\n"
		"# TYPE sluice_rx_dropped_total counter\n"
		"sluice_rx_dropped_total{reason=\"auth\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"malformed\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"unsupported\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"before_header\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"ignored\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"duplicate\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"other_layout\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"header_conflict\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"quota_header\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"kernel\"} %llu\n"
		"sluice_rx_dropped_total{reason=\"ring\"} %llu\n",
	    (unsigned long long)c->st.auth_fail, (unsigned long long)c->st.malformed,
	    (unsigned long long)c->st.unsupported, (unsigned long long)c->st.before_header,
	    (unsigned long long)c->st.ignored, (unsigned long long)c->st.duplicates,
	    (unsigned long long)c->st.other_layout,
	    (unsigned long long)c->st.hdr_conflict, (unsigned long long)c->st.quota_header,
	    (unsigned long long)ls->kernel_drops, (unsigned long long)ring_drops(c));
	put(m, "# HELP sluice_rx_transfers_total Transfers finished, by outcome.\n"
		"# TYPE sluice_rx_transfers_total counter\n"
		"sluice_rx_transfers_total{outcome=\"released\"} %llu\n"
		"sluice_rx_transfers_total{outcome=\"rejected\"} %llu\n"
		"sluice_rx_transfers_total{outcome=\"timeout\"} %llu\n",
	    (unsigned long long)c->st.released, (unsigned long long)c->st.rejected,
	    (unsigned long long)c->st.timeouts);
}

void rx_write_status(struct rx_ctx *c, uint64_t now)
{
	struct buf s = { malloc(8192), 0, 8192 }, m = { malloc(8192), 0, 8192 };
	struct sl_link_stats ls;
	char t1[32], t2[32];
	time_t wall = time(NULL);
	uint64_t up = (now - c->start_ns) / 1000000000ull;

	sl_link_get_stats(c->link, &ls);
	sl_time_format((int64_t)(wall - (time_t)up), t1, sizeof t1);
	sl_time_format((int64_t)wall, t2, sizeof t2);
	put(&s, "sluice-rx-status 1\npid %ld\nstarted %s\nupdated %s\nlink %s\n", (long)getpid(), t1, t2,
	    sl_link_describe(c->link));
	put(&s, "datagrams %llu\nbytes %llu\nauth_failures %llu\nmalformed %llu\nunsupported %llu\n"
		"before_header %llu\nignored %llu\nkernel_drops %llu\nreleased %llu\nrejected %llu\n"
		"timeouts %llu\nreplays %llu\n",
	    (unsigned long long)c->st.datagrams, (unsigned long long)c->st.bytes,
	    (unsigned long long)c->st.auth_fail, (unsigned long long)c->st.malformed,
	    (unsigned long long)c->st.unsupported, (unsigned long long)c->st.before_header,
	    (unsigned long long)c->st.ignored, (unsigned long long)ls.kernel_drops,
	    (unsigned long long)c->st.released, (unsigned long long)c->st.rejected,
	    (unsigned long long)c->st.timeouts, (unsigned long long)c->st.replays);

	put(&s, "staging bytes=%llu max=%llu unvouched=%llu unvouched_max=%llu transfers=%u "
		"transfers_max=%u keep_s=%llu\n",
	    (unsigned long long)c->staged_bytes, (unsigned long long)c->cfg->max_staging,
	    (unsigned long long)c->unvouched_bytes, (unsigned long long)c->cfg->max_unvouched,
	    c->nstaged, c->cfg->max_staged, (unsigned long long)(c->cfg->keep_incomplete_ns / 1000000000ull));
	put(&s, "duplicates %llu\n", (unsigned long long)c->st.duplicates);
	put(&s, "quota header_refused=%llu dropped=%llu evicted=%llu expired=%llu other_layout=%llu "
		"header_conflicts=%llu log_suppressed=%llu audit_suppressed=%llu\n",
	    (unsigned long long)c->st.quota_header, (unsigned long long)c->st.quota_drops,
	    (unsigned long long)c->st.evicted, (unsigned long long)c->st.expired,
	    (unsigned long long)c->st.other_layout, (unsigned long long)c->st.hdr_conflict,
	    (unsigned long long)c->st.log_suppressed, (unsigned long long)c->st.audit_suppressed);
	put_quota_metrics(c, &m);
	put_storage(c, &s, &m);
	put_window(c, &s, &m);
	put_writer(c, &s, &m);
	put_ring(c, &s, &m);
	put_audit_metrics(c, now, &m);
	put_session_metrics(c, now, &m);
	put(&m, "# HELP sluice_rx_start_time_seconds When sluice-rx started (Unix time).\n"
		"# TYPE sluice_rx_start_time_seconds gauge\nsluice_rx_start_time_seconds %lld\n",
	    (long long)(wall - (time_t)up));
	put_counter_metrics(c, &ls, &m);
	put(&m, "# HELP sluice_rx_session_lost_estimate Datagrams missing from the session's packet "
		"numbers.\n# TYPE sluice_rx_session_lost_estimate gauge\n");

	for (unsigned i = 0; i < RX_MAX_SESSIONS; i++) {
		const struct rx_session *x = &c->sessions[i];
		uint64_t span, lost;
		if (!x->used)
			continue;
		span = x->max_packet - x->first_packet + 1;
		lost = span > x->received ? span - x->received : 0;
		put(&s, "session %016llx sender=%s state=%s last_heartbeat_ms=%lld idle_ms=%llu "
			"received=%llu lost=%llu pass=%u/%u xfer_seq=%llu rate_bps=%llu\n",
		    (unsigned long long)x->id, x->have_hb ? x->hb.sender : "?",
		    x->have_hb ? hb_state_name(x->hb.state) : "unknown",
		    x->have_hb ? (long long)((now - x->last_hb_ns) / 1000000ull) : -1LL,
		    (unsigned long long)((now - x->last_ns) / 1000000ull), (unsigned long long)x->received,
		    (unsigned long long)lost, x->have_hb ? x->hb.pass + 1u : 0u, x->have_hb ? x->hb.passes : 0u,
		    (unsigned long long)(x->have_hb ? x->hb.xfer_sequence : 0),
		    (unsigned long long)(x->have_hb ? x->hb.rate_bps : 0));
		put(&m, "sluice_rx_session_lost_estimate{session=\"%016llx\"} %llu\n",
		    (unsigned long long)x->id, (unsigned long long)lost);
	}
	put_xfers(c, &s, &m, now);
	if (s.p)
		rx_state_write(c, "status", s.p, s.len);
	if (m.p)
		rx_state_write(c, "metrics.prom", m.p, m.len);
	free(s.p);
	free(m.p);
}
