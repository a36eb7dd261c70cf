/* durable.c — what the receive thread makes durable, and the writer
 * thread's failures applied (see rx.h).
 *
 * rx_xfer_checkpoint(): the chunks placed since the last checkpoint
 * (pending.c) are synced (the stream, the tree's files, or the writer flushed), then the
 * done map says so; a failed sync forgets them (not done: a repeat pass
 * brings them again). rx_writer_poll(): what the writer thread could not
 * write or sync is not done any more, the storage failure counted; spill
 * bytes it moved leave the staging quota. Both only call down (direct.c,
 * writer.c, storage.c, quota.c, pending.c): callers act on what they return.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"

/* The chunks written since the last checkpoint could not be made durable:
 * after a failed sync the kernel may have dropped their pages, so they are
 * not done any more (a repeat pass brings them again) and what was hashed
 * of them is hashed again. */
static void forget_pending(struct rx_ctx *c, struct rx_xfer *x)
{
	int hashing = x->hasher != NULL;
	const uint64_t *pend;
	size_t n;

	if (hashing)
		rx_tree_restart_hashing(x); /* the hasher lets go of done[] first */
	n = rx_pend_list(x, &pend);
	for (size_t i = 0; i < n; i++) {
		if (!rx_done_get(x->done, pend[i]))
			continue;
		x->done[pend[i] / 8] &= (uint8_t)~(1u << (pend[i] % 8));
		x->ndone--;
		rx_quota_add(c, x, -(int64_t)x->hdr.chunk_size);
	}
	rx_pend_clear(x);
	if (hashing)
		rx_tree_open(c, x);
}

/* The writer thread's failures for x: its chunks are not done any more (a
 * repeat pass brings them again), the storage failure is counted; after a
 * failed sync hashing starts over. 1 if there were any. */
static int apply_fails(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_wfail *f;
	size_t n;
	int lost, synced = 0;

	uint64_t freed = rx_writer_take_freed(c->writer, x);

	if (freed) { /* spilled chunks moved out of the stream */
		freed = freed < x->spill_quota ? freed : x->spill_quota;
		x->spill_quota -= freed;
		rx_quota_add(c, x, -(int64_t)freed);
	}
	if (!rx_writer_take_fails(c->writer, x, &f, &n, &lost))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == RX_WF_DONEMAP) {
			rx_storage_failed(c, x, "writing the done map", f[i].err);
			continue;
		}
		rx_storage_failed(c, x, f[i].kind == RX_WF_SYNC ? "syncing staged data" : "writing a chunk",
				  f[i].err);
		synced |= f[i].kind == RX_WF_SYNC;
		if (f[i].idx < x->hdr.nchunks && rx_done_get(x->done, f[i].idx)) {
			x->done[f[i].idx / 8] &= (uint8_t)~(1u << (f[i].idx % 8));
			x->ndone--;
			rx_quota_add(c, x, -(int64_t)x->hdr.chunk_size);
		}
	}
	free(f);
	if (lost) {
		/* not every failure was recorded: done is only what is written */
		rx_writer_flush(c->writer, x);
		for (uint64_t i = 0; i < x->hdr.nchunks; i++)
			if (rx_done_get(x->done, i) && !rx_done_get(x->written, i)) {
				x->done[i / 8] &= (uint8_t)~(1u << (i % 8));
				x->ndone--;
				rx_quota_add(c, x, -(int64_t)x->hdr.chunk_size);
			}
	}
	if (synced && x->tree) {
		rx_tree_restart_hashing(x); /* what was hashed of those pages may be gone */
		if (x->state == RX_X_ACTIVE)
			rx_tree_open(c, x);
	}
	return 1;
}

int rx_writer_poll(struct rx_ctx *c, struct rx_xfer *x)
{
	int any = 0;

	if (!c->writer || c->wpolling)
		return 0;
	if (!x && !rx_writer_failed(c->writer))
		return 0;
	c->wpolling = 1;
	if (x)
		any = apply_fails(c, x);
	else
		for (struct rx_xfer *y = c->xfers; y; y = y->next)
			any |= apply_fails(c, y);
	c->wpolling = 0;
	return any;
}

int rx_xfer_checkpoint(struct rx_ctx *c, struct rx_xfer *x)
{
	uint8_t one = 1;
	int r = SL_OK;
	const uint64_t *pend;
	size_t n;

	if (x->tree && x->writer) {
		/* everything queued written and durable, its failures applied */
		if (rx_writer_flush(x->writer, x) != SL_OK || rx_writer_poll(c, x))
			return SL_ERR_IO;
		/* chunks the receive thread placed itself (the stream copied at
		 * tree open) are synced by now too: the done map follows below */
	}
	if (rx_pend_list(x, &pend) == 0)
		return SL_OK;
	/* The chunk bytes must be durable before the map says so. */
	if (x->tree && x->writer)
		r = SL_OK;
	else if (x->tree)
		r = rx_tree_sync(c, x);
	else if (x->stream_fd < 0)
		return SL_OK;
	else if (fdatasync(x->stream_fd) != 0)
		r = SL_ERR_IO;
	if (r) {
		rx_storage_failed(c, x, "syncing staged data", errno);
		forget_pending(c, x);
		return SL_ERR_IO;
	}
	/* A done map that cannot be written stays pending: the next checkpoint writes it. */
	n = rx_pend_list(x, &pend);
	for (size_t i = 0; i < n && !r; i++)
		r = sl_pwrite_all(x->done_fd, &one, 1, pend[i]);
	if (r || fdatasync(x->done_fd) != 0) {
		rx_storage_failed(c, x, "writing the done map", errno);
		return SL_ERR_IO;
	}
	rx_pend_clear(x);
	return SL_OK;
}

