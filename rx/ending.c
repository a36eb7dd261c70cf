/* ending.c — how a staged transfer ends without a release: rejected, timed
 * out (staging kept for a repeat pass), or dropped by a quota (evicted for
 * room once the work that marked it is over, or expired); and forgotten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx.h"
#include "pace.h"
#include "safefs.h"

void rx_xfer_reject(struct rx_ctx *c, struct rx_xfer *x, const char *reason)
{
	sl_log(c->log, SL_LOG_WARN, "transfer %s REJECTED: %s", x->hex, reason);
	rx_audit(c, "rejected", x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL, reason);
	c->st.rejected++;
	rx_xfer_release_staging(c, x);
	sl_remove_tree(c->xfer_fd, x->hex, NULL);
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
	x->state = RX_X_REJECTED;
	x->reject_session = x->session;
	x->have_hdr = 0;
	x->catalog_ok = 0;
}

void rx_xfer_drop(struct rx_ctx *c, struct rx_xfer *x, const char *event, const char *why)
{
	uint64_t now = sl_now_ns();

	rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: staging removed (%s): %s", x->hex, event, why);
	rx_audit_limited(c, now, event, x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL, why);
	rx_xfer_release_staging(c, x);
	sl_remove_tree(c->xfer_fd, x->hex, NULL);
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
	sl_fsync_dir(c->xfer_fd, ".");
	rx_xfer_forget(c, x);
}

void rx_xfer_drop_evicted(struct rx_ctx *c)
{
	struct rx_xfer *x = c->nevicting ? c->xfers : NULL, *next;

	for (; x; x = next) {
		next = x->next; /* dropping x frees x alone */
		if (x->evicted) {
			rx_xfer_drop(c, x, "evicted", x->evicted);
			c->st.evicted++;
		}
	}
}

/* Missing chunks as ranges, and the files they touch. */
static void build_report(struct rx_xfer *x, char *out, size_t cap, char *summary, size_t scap)
{
	size_t o = 0;
	uint64_t missing = 0, ranges = 0, files_hit = 0;

	o += (size_t)snprintf(out + o, cap - o, "transfer %s\n", x->hex);
	if (!x->have_hdr) {
		snprintf(out + o, cap - o, "no transfer header was received\n");
		snprintf(summary, scap, "no transfer header received");
		return;
	}
	o += (size_t)snprintf(out + o, cap - o, "catalog: %s (%u of %u blocks)\n",
			      x->catalog_ok ? "verified" : "incomplete", x->ncat_done, x->hdr.catalog_blocks);
	for (uint64_t i = 0; i < x->hdr.nchunks; i++) {
		uint64_t j;
		if (rx_done_get(x->done, i))
			continue;
		for (j = i; j + 1 < x->hdr.nchunks && !rx_done_get(x->done, j + 1); j++)
			;
		missing += j - i + 1;
		ranges++;
		if (o + 100 < cap)
			o += (size_t)snprintf(out + o, cap - o, "missing blocks %llu-%llu (chunks %llu-%llu)\n",
					      (unsigned long long)(x->hdr.catalog_blocks + i),
					      (unsigned long long)(x->hdr.catalog_blocks + j),
					      (unsigned long long)i, (unsigned long long)j);
		i = j;
	}
	if (x->manifest) {
		for (size_t f = 0; f < x->manifest->nfiles; f++) {
			const struct sl_manifest_file *mf = &x->manifest->files[f];
			uint64_t a, b, hit = 0;
			if (mf->size == 0)
				continue;
			a = mf->offset / x->hdr.chunk_size;
			b = (mf->offset + mf->size - 1) / x->hdr.chunk_size;
			for (uint64_t i = a; i <= b && !hit; i++)
				hit = !rx_done_get(x->done, i);
			if (hit) {
				files_hit++;
				if (o + 100 + strlen(mf->path) < cap)
					o += (size_t)snprintf(out + o, cap - o, "incomplete file data/%s\n", mf->path);
			}
		}
	}
	snprintf(summary, scap, "%llu of %llu blocks missing in %llu range(s)%s; %llu file(s) incomplete%s",
		 (unsigned long long)(missing + x->hdr.catalog_blocks - x->ncat_done),
		 (unsigned long long)(x->hdr.nchunks + x->hdr.catalog_blocks), (unsigned long long)ranges,
		 x->catalog_ok ? "" : ", catalog incomplete", (unsigned long long)files_hit,
		 x->manifest ? "" : " (file names unknown without the catalog)");
}

void rx_xfer_timeout(struct rx_ctx *c, struct rx_xfer *x, const char *why)
{
	char *rep = malloc(1 << 16);
	char summary[512], reason[700];

	if (!rep) {
		rx_xfer_deactivate(c, x);
		return;
	}
	build_report(x, rep, 1 << 16, summary, sizeof summary); /* while the manifest is in memory */
	rx_xfer_deactivate(c, x); /* its window is in the spool: what it lacks is known */
	/* the pass count the repair code names, kept for a restart (once per timeout) */
	if (x->have_hdr && x->dirfd >= 0)
		rx_xfer_write_meta(x);
	rx_repair_code(x);
	if (x->repair[0]) {
		size_t o = strlen(rep);
		snprintf(rep + o, (1 << 16) - o, "repair code %s (sluice-tx send --repair %s TRANSFER)\n",
			 x->repair, x->repair);
		snprintf(reason, sizeof reason, "%s: %s; nothing released, a repeat pass can complete it; "
			 "repair code %s", why, summary, x->repair);
	} else {
		snprintf(reason, sizeof reason, "%s: %s; nothing released, a repeat pass can complete it",
			 why, summary);
	}
	sl_log(c->log, SL_LOG_WARN, "transfer %s timed out: %s", x->hex, reason);
	if (x->dirfd >= 0)
		sl_write_file_atomic(x->dirfd, "report", rep, strlen(rep), 0600, NULL);
	rx_audit(c, "timeout", x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL, reason);
	c->st.timeouts++;
	x->timed_out_reported = 1;
	x->tail_deadline_ns = 0;
	free(rep);
}
