/* layout.c — a transfer header: checked, then staged, or refused (see rx.h).
 *
 * A transfer is staged with one block layout at a time (the header's layout
 * id, symbol size and manifest hash). Another header for it is handled so
 * that neither a replayed capture nor a sender with the link key can make
 * the receiver lose what a verified catalog vouches for:
 *  - a different manifest, once a verified catalog names one: refused;
 *  - any difference while the staged layout is live (a symbol accepted in
 *    the last cfg.layout_hold_ns): refused, so two senders cannot make the
 *    receiver thrash between layouts;
 *  - the same manifest with another layout, once the staged one is idle:
 *    the new layout is staged and progress carries over (a chunk of the new
 *    layout counts as staged when the old chunks under it were), since
 *    staged bytes sit at their stream offsets whatever the layout;
 *  - a different manifest without a verified catalog, once idle: staging
 *    starts over (nothing in it was vouched for).
 * Window buffers are sized for one layout and freed on every change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"

/* Nothing staged was vouched for: start over with another manifest. */
static void reset_staging(struct rx_ctx *c, struct rx_xfer *x)
{
	rx_rjob_cancel(x); /* nothing of it is touched under a job (finish.c) */
	rx_xfer_drop_window(c, x);
	rx_tree_forget(c, x);
	sl_close_fd(&x->stream_fd);
	sl_close_fd(&x->done_fd);
	sl_close_fd(&x->cat_fd);
	unlinkat(x->dirfd, "stream", 0);
	unlinkat(x->dirfd, "done", 0);
	unlinkat(x->dirfd, "catalog", 0);
	unlinkat(x->dirfd, "catalog.part", 0);
	rx_quota_add(c, x, -(int64_t)x->staged_bytes);
	rx_pend_clear(x);
	x->catalog_ok = 0;
	sl_manifest_free(x->manifest);
	x->manifest = NULL;
	if (x->state == RX_X_ACTIVE) {
		x->stream_fd = openat(x->dirfd, "stream", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		x->done_fd = openat(x->dirfd, "done", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
}

/* The same manifest in another layout: carry the staged chunks over. The
 * done file is removed before the new meta is written and rewritten after,
 * so a crash in between loses progress but never mislabels it. */
static int relayout(struct rx_ctx *c, struct rx_xfer *x, const struct sl_xfer_hdr *h, uint16_t symsize)
{
	uint8_t *old = x->done, *cat_done = x->cat_done;
	struct sl_xfer_hdr oh = x->hdr;
	uint64_t n;
	int r;

	rx_rjob_cancel(x); /* its release starts over with the new layout (finish.c) */
	rx_xfer_checkpoint(c, x);
	rx_xfer_drop_window(c, x);
	rx_tree_restart_hashing(x); /* the hashing thread lets go of the old map */
	x->done = x->cat_done = NULL;
	r = rx_xfer_alloc_maps(x, h);
	if (r) {
		x->done = old;
		x->cat_done = cat_done;
		return r;
	}
	n = rx_done_convert(old, oh.chunk_size, x->done, h->chunk_size, h->total_bytes);
	if (x->catalog_ok) {
		memset(x->cat_done, 1, h->catalog_blocks);
		x->ncat_done = h->catalog_blocks;
	}
	free(old);
	free(cat_done);
	unlinkat(x->dirfd, "done", 0);
	unlinkat(x->dirfd, "catalog.part", 0);
	sl_close_fd(&x->cat_fd);
	rx_quota_add(c, x, (int64_t)(n * h->chunk_size) - (int64_t)(x->ndone * oh.chunk_size));
	x->ndone = n;
	x->hdr = *h;
	x->symsize = symsize;
	r = rx_xfer_write_meta(x);
	if (x->done_fd >= 0)
		close(x->done_fd);
	x->done_fd = openat(x->dirfd, "done", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (!r && (x->done_fd < 0 || rx_done_store(x->done_fd, x->done, h->nchunks) != SL_OK))
		r = SL_ERR_IO;
	if (x->state != RX_X_ACTIVE) {
		close(x->done_fd);
		x->done_fd = -1;
	} else if (x->catalog_ok && rx_tree_open(c, x) == SL_ERR_HASH) {
		return SL_ERR_HASH;
	}
	return r;
}

int rx_xfer_set_header(struct rx_ctx *c, struct rx_xfer *x, const struct sl_xfer_hdr *h,
		       uint16_t symsize, uint64_t now)
{
	int same_manifest, r;

	if (x->accepted)
		return SL_OK; /* in the ledger: only its release's last steps are left */
	if (x->have_hdr) {
		same_manifest = !memcmp(x->hdr.manifest_sha256, h->manifest_sha256, 32);
		if (same_manifest && x->symsize == symsize && !memcmp(x->hdr.layout, h->layout, 16)) {
			/* the most passes declared: a repair code's first new pass
			 * (repair.c, which also records it in meta at the timeout) */
			if (h->passes > x->hdr.passes)
				x->hdr.passes = h->passes;
			return SL_OK;
		}
		if (x->catalog_ok && !same_manifest)
			return SL_ERR_EXISTS;
		if (x->last_sym_ns && now - x->last_sym_ns < c->cfg->layout_hold_ns)
			return SL_ERR_AGAIN;
		if (same_manifest && x->hdr.total_bytes == h->total_bytes) {
			rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: the sender changed the block layout "
				       "(%u-byte symbols, k=%u); staged chunks carry over", x->hex, symsize,
				       h->kmax);
			r = relayout(c, x, h, symsize);
			if (r && r != SL_ERR_HASH)
				sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot record the new layout: %s", x->hex,
				       sl_strerror(r));
			return r;
		}
		rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: the sender changed the manifest before "
			       "any was verified; staging starts over", x->hex);
		reset_staging(c, x);
	}
	r = rx_xfer_alloc_maps(x, h);
	if (r)
		return r;
	x->hdr = *h;
	x->symsize = symsize;
	x->have_hdr = 1;
	if (x->dirfd >= 0 && rx_xfer_write_meta(x) != SL_OK)
		rx_storage_failed(c, x, "writing the staging metadata (a restart starts it over)", errno);
	return SL_OK;
}
