/* poll.c — the helper threads' verdicts applied on the receive thread.
 *
 * verify.c and finish.c run their jobs on threads and only say when a job
 * is over; what its verdict does to the transfer is decided here, above
 * them: a complete catalog's verdict finished by place.c
 * (rx_catalog_verified: kept and the tree opened, or the transfer
 * rejected), a release's phases by release.c (rx_release), and a dormant
 * transfer's catalog verified again makes it active, its blocks decoded
 * from the spool. rx_tick and a reload (main.c) call these; a verdict can
 * place chunks and a quota mark another transfer to go meanwhile, so the
 * marked ones are dropped and the list of transfers walked again after each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pace.h"
#include "rx.h"

/* A re-verification's verdict: the manifest back in memory and x active, or
 * x rejected; an unreadable catalog is received again, a failure of the
 * disk or of memory is tried again with the next symbol. */
static void reverified(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;
	int r = j->r;

	if (j->unreadable) {
		/* Our own file went bad: receive the catalog again. */
		sl_log(c->log, SL_LOG_WARN, "transfer %s: %s; receiving it again", x->hex, j->out.reason);
		rx_rjob_cancel(x);
		unlinkat(x->dirfd, "catalog", 0);
		rx_catalog_again(x);
		x->catalog_ok = 0;
		c->unvouched_bytes += x->staged_bytes;
		return;
	}
	if (!r)
		r = rx_verify_tail(c, x, &j->out);
	if (r == SL_ERR_NOMEM || r == SL_ERR_IO) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: verifying its catalog again: %s; tried again", x->hex,
		       j->out.reason);
		rx_rjob_cancel(x);
		return;
	}
	if (r) {
		char why[sizeof j->out.reason];
		snprintf(why, sizeof why, "%s", j->out.reason);
		rx_rjob_cancel(x);
		rx_xfer_reject(c, x, why);
		return;
	}
	sl_log(c->log, SL_LOG_INFO, "transfer %s: catalog verified again in %.2f s on a thread", x->hex,
	       (double)(sl_now_ns() - j->t0) / 1e9);
	rx_rjob_cancel(x); /* done: the manifest is x's now */
	if (rx_xfer_activate(c, x) == SL_OK) {
		rx_xfer_spool_decode(c, x); /* the blocks whose rows came meanwhile */
	} else if (x->state == RX_X_DORMANT && !x->rjob) {
		/* no room now: the next symbol activates it (dormant: no manifest in memory) */
		sl_manifest_free(x->manifest);
		x->manifest = NULL;
	}
}

/* One verdict that is in applied: 1 if one was (then the list may have
 * changed: a verdict can place chunks, and a quota evict another transfer),
 * 0 if none could be; *left: a job is still at work (or waits its turn). */
static int apply_one(struct rx_ctx *c, int wait, int *left)
{
	*left = 0;
	for (struct rx_xfer *x = c->xfers; x; x = x->next) {
		struct rx_rjob *j = x->rjob;
		enum rx_rjob_phase phase;
		if (!j)
			continue;
		if (wait)
			rx_rjob_join(j);
		if (!rx_rjob_done(x)) {
			*left = 1;
			continue;
		}
		phase = j->phase;
		if (j->kind == RX_RJ_ACTIVATE)
			reverified(c, x);
		else
			rx_release(c, x);
		if (x->rjob != j || j->phase != phase)
			return 1;
		*left = 1; /* committed after an older release (rx_rjob_older) */
	}
	return 0;
}

void rx_rjob_poll(struct rx_ctx *c, int wait)
{
	int left;

	for (unsigned n = 0; n < 4 * RX_MAX_KNOWN + 64; n++) { /* each step ends a job or a phase */
		int applied = apply_one(c, wait, &left);
		rx_xfer_drop_evicted(c);
		if (!applied && !(wait && left))
			return;
	}
}

void rx_verify_poll(struct rx_ctx *c, int wait)
{
	struct rx_xfer *x;

	do {
		while ((x = rx_verify_next_done(c, wait)) != NULL) {
			struct rx_vjob *j = rx_verify_take(x);
			struct rx_vout *out;
			uint64_t t0;
			int err, r = rx_verify_result(j, &err, &out, &t0);
			if (r == SL_ERR_IO)
				rx_storage_failed(c, x, "syncing the catalog", err);
			rx_catalog_verified(c, x, r, out, t0);
			rx_verify_free(j);
			rx_xfer_drop_evicted(c);
		}
		/* complete catalogs that waited for a thread, while there is room */
		while ((x = rx_verify_next_waiting(c)) != NULL) {
			rx_catalog_complete(c, x);
			rx_xfer_drop_evicted(c);
		}
	} while (wait && c->nverify);
}
