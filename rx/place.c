/* place.c — a decoded block goes where it belongs: a catalog piece into
 * STATE/xfer/<id>/catalog.part, chunk bytes into the staged stream or, once
 * the catalog is verified, to the writer thread for their files (direct.c,
 * writer.c; spilled into the stream when its queue is full); then the done
 * map (durable only after the bytes are: rx_xfer_checkpoint). The last
 * catalog piece starts its verification on a thread (verify.c), whose
 * verdict rx_catalog_verified finishes. A write that fails
 * (disk full, I/O error: storage.c) leaves the block not done, to come again
 * with a repeat pass; it is never held against the sender. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pace.h"
#include "rx.h"
#include "safefs.h"

static int place_catalog_piece(struct rx_ctx *c, struct rx_xfer *x, uint64_t block,
			       const struct sl_block_rec *rec, const uint8_t *bytes)
{
	uint64_t piece = sl_catalog_piece(x->hdr.kmax, x->symsize);
	uint64_t off = block * piece;
	uint64_t want = x->hdr.catalog_len - off < piece ? x->hdr.catalog_len - off : piece;

	if (rec->kind != SL_BLK_CATALOG || rec->index != block || rec->offset != off ||
	    rec->raw_len != want)
		return SL_ERR_PARSE;
	if (rx_quota_room(c, x, want, 1) != SL_OK)
		return SL_ERR_TOOBIG;
	if (x->cat_fd < 0)
		x->cat_fd = openat(x->dirfd, "catalog.part", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x->cat_fd < 0 || sl_pwrite_all(x->cat_fd, bytes, want, off)) {
		rx_storage_failed(c, x, "writing a catalog piece", errno);
		return SL_ERR_IO;
	}
	rx_quota_add(c, x, (int64_t)want);
	return SL_OK;
}

void rx_catalog_again(struct rx_xfer *x)
{
	memset(x->cat_done, 0, x->hdr.catalog_blocks);
	x->ncat_done = 0;
}

void rx_catalog_verified(struct rx_ctx *c, struct rx_xfer *x, int r, struct rx_vout *out, uint64_t t0)
{
	uint64_t t1;

	if (r == SL_ERR_IO || r == SL_ERR_NOMEM) { /* not a verdict: verified when it comes again */
		sl_log(c->log, SL_LOG_ERR, "transfer %s: %s; receiving the catalog again", x->hex, out->reason);
		rx_catalog_again(x);
		return;
	}
	if (!r)
		r = rx_verify_tail(c, x, out);
	if (r == SL_ERR_NOMEM) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: %s; receiving the catalog again", x->hex, out->reason);
		rx_catalog_again(x);
		return;
	}
	if (r != SL_OK) {
		rx_xfer_reject(c, x, out->reason);
		return;
	}
	close(x->cat_fd);
	x->cat_fd = -1;
	if (renameat(x->dirfd, "catalog.part", x->dirfd, "catalog") != 0 || sl_fsync_dir(x->dirfd, ".") != 0)
		rx_storage_failed(c, x, "keeping the verified catalog", errno);
	/* x->manifest holds what receiving needs; the catalog's bytes (about
	 * 116 bytes a file) are read back at release (finish.c) */
	rx_quota_vouched(c, x);
	t1 = sl_now_ns();
	if (x->state == RX_X_ACTIVE && rx_tree_open(c, x) == SL_ERR_HASH)
		return; /* rejected */
	sl_log(c->log, SL_LOG_INFO, "transfer %s: catalog of %u bytes verified in %.2f s, staging tree set "
	       "up in %.2f s", x->hex, x->hdr.catalog_len, (double)(t1 - t0) / 1e9,
	       (double)(sl_now_ns() - t1) / 1e9);
	if (x->catalog_ok && x->ndone == x->hdr.nchunks && x->state == RX_X_ACTIVE)
		rx_release(c, x); /* every chunk came while it was verified */
}

/* Every catalog piece is here: verify it on a thread (verify.c; its verdict
 * is finished by rx_catalog_verified; later if the threads are busy), or
 * here if none can be started. */
void rx_catalog_complete(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_vout *out;
	uint8_t *cat = NULL;
	size_t len = 0;
	uint64_t t0 = sl_now_ns();
	int r;

	r = rx_verify_start(c, x);
	if (r == SL_OK || r == SL_ERR_AGAIN)
		return;
	out = calloc(1, sizeof *out);
	if (!out) {
		rx_catalog_again(x);
		return;
	}
	r = x->cat_fd >= 0 && fdatasync(x->cat_fd) == 0 ? SL_OK : SL_ERR_IO;
	if (r)
		rx_storage_failed(c, x, "syncing the catalog", errno);
	else
		r = sl_read_file_beneath(x->dirfd, "catalog.part", x->hdr.catalog_len, &cat, &len, NULL);
	if (!r && len != x->hdr.catalog_len)
		r = SL_ERR_CORRUPT;
	if (r) {
		snprintf(out->reason, sizeof out->reason, "cannot read the catalog back (%s)", sl_strerror(r));
		r = SL_ERR_IO;
	} else {
		struct rx_vin in = { .policy = c->policy, .hdr = &x->hdr, .id = x->id, .hex = x->hex,
				     .catalog = cat };
		r = rx_verify_core(&in, out);
	}
	rx_catalog_verified(c, x, r, out, t0);
	sl_manifest_free(out->m);
	free(out);
	free(cat);
}

/* Chunk idx was written by this thread: durable at the next checkpoint. */
static void pend_add(struct rx_ctx *c, struct rx_xfer *x, uint64_t idx)
{
	if (rx_pend_add(x, idx, x->hdr.chunk_size) >= (16u << 20))
		rx_xfer_checkpoint(c, x);
}

/* The writer's queue is full: chunk idx into the stream file for the writer
 * to move later (writer.c). Its copy there counts in the staging quota until
 * moved (rx_writer_take_freed, picked up in apply_fails). */
static int spill(struct rx_ctx *c, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len)
{
	int r;

	/* room for the chunk and its copy in the stream, without evicting any
	 * other transfer's staging for what is only held until moved */
	if (c->staged_bytes + 2 * (uint64_t)x->hdr.chunk_size > c->cfg->max_staging)
		return SL_ERR_TOOBIG;
	if (x->stream_fd < 0)
		x->stream_fd = openat(x->dirfd, "stream", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	r = rx_writer_spill(x->writer, x, idx, buf, len, 0);
	if (r == SL_ERR_IO)
		rx_storage_failed(c, x, "spilling a chunk into the staged stream", errno);
	if (r == SL_OK) {
		rx_quota_add(c, x, x->hdr.chunk_size);
		x->spill_quota += x->hdr.chunk_size;
	}
	return r;
}

/* Chunk idx (len bytes at buf) to the writer thread, into the tree or into
 * the stream; *r: SL_OK or SL_ERR_IO (counted). SL_ERR_AGAIN when the
 * writer refused it (queue full and spill at its cap, or no room, memory,
 * disk: counted as writer_full): not done. */
/* Hand the chunk at buf, inside *own (a block slot's buffer or c->zbuf), to
 * the writer without a copy, for a spare buffer in exchange (or none: the
 * next user takes or allocates one). */
static int give(struct rx_xfer *x, uint64_t idx, uint8_t **own, const uint8_t *buf, size_t len)
{
	return rx_writer_give(x->writer, x, idx, own, (size_t)x->hdr.kmax * x->symsize,
			      (size_t)(buf - *own), len);
}

static int place_chunk(struct rx_ctx *c, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len,
		       uint8_t **own, int *r)
{
	uint64_t off = idx * x->hdr.chunk_size;

	if (x->tree && x->writer) {
		*r = own ? give(x, idx, own, buf, len) : rx_writer_put(x->writer, x, idx, buf, len);
		if (*r == SL_ERR_AGAIN)
			*r = spill(c, x, idx, buf, len);
		if (*r != SL_OK) {
			c->st.writer_full++;
			return SL_ERR_AGAIN;
		}
	} else if (x->tree) {
		*r = rx_tree_place(c, x, idx, buf, len);
	} else {
		*r = sl_pwrite_all(x->stream_fd, buf, len, off);
		/* Start writeback now, so the checkpoint's fdatasync finds
		 * little left to write and the receive loop is not held up. */
		if (*r == SL_OK)
			sync_file_range(x->stream_fd, (off64_t)off, len, SYNC_FILE_RANGE_WRITE);
	}
	if (*r == SL_ERR_IO)
		rx_storage_failed(c, x, "writing a chunk", errno);
	if (*r == SL_OK)
		rx_quota_add(c, x, x->hdr.chunk_size);
	return SL_OK;
}

/* c->zbuf ready for a chunk of x the writer will take: a buffer the size of
 * x's block slots (so the writer's spares serve both). 0: no memory. */
static int zbuf_ready(struct rx_ctx *c, const struct rx_xfer *x)
{
	size_t cap = (size_t)x->hdr.kmax * x->symsize;

	if (c->zbuf && c->zbufcap != cap) {
		free(c->zbuf);
		c->zbuf = NULL;
	}
	c->zbufcap = cap;
	if (!c->zbuf)
		c->zbuf = rx_writer_spare(x->writer, cap);
	if (!c->zbuf)
		c->zbuf = malloc(cap);
	return c->zbuf != NULL;
}

/* The bytes of the chunk in block slot s: in the slot (raw), or
 * decompressed into c->zbuf when the writer takes them, else into
 * c->chunkbuf. *own: the buffer that may be handed over (NULL: copy it).
 * NULL: not a zstd frame of exactly rec->raw_len bytes. */
static const uint8_t *chunk_bytes(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s,
				  const struct sl_block_rec *rec, uint8_t ***own)
{
	uint8_t *dst = c->chunkbuf;
	size_t n;

	*own = NULL;
	if (rec->codec != SL_CODEC_ZSTD) {
		*own = &s->data;
		return s->data + SL_BLOCK_REC;
	}
	if (x->tree && x->writer && zbuf_ready(c, x)) {
		dst = c->zbuf;
		*own = &c->zbuf;
	}
	n = ZSTD_decompressDCtx(c->dctx, dst, rec->raw_len, s->data + SL_BLOCK_REC, rec->stored_len);
	return ZSTD_isError(n) || n != rec->raw_len ? NULL : dst;
}

/* A decoded block: place chunk bytes or catalog piece, mark it done. */
void rx_xfer_block_done(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s)
{
	struct sl_block_rec rec;
	size_t bytes = (size_t)s->k * x->symsize;
	uint64_t block = s->block;
	int cat = block < x->hdr.catalog_blocks;
	int r = sl_block_rec_decode(s->data, bytes, &rec);
	const uint8_t *placed = NULL;
	uint8_t **own = NULL;

	if (r == SL_OK && sl_block_k(rec.stored_len, x->symsize) != s->k)
		r = SL_ERR_PARSE;
	if (r == SL_OK && cat) {
		r = place_catalog_piece(c, x, block, &rec, s->data + SL_BLOCK_REC);
	} else if (r == SL_OK) {
		uint64_t idx = block - x->hdr.catalog_blocks;
		uint64_t off = idx * x->hdr.chunk_size;
		uint64_t want = x->hdr.total_bytes - off < x->hdr.chunk_size ? x->hdr.total_bytes - off
									       : x->hdr.chunk_size;
		if (rec.kind != SL_BLK_CHUNK || rec.index != idx || rec.offset != off || rec.raw_len != want) {
			r = SL_ERR_PARSE;
		} else if ((placed = chunk_bytes(c, x, s, &rec, &own)) == NULL) {
			r = SL_ERR_PARSE;
		}
		if (placed && rx_quota_room(c, x, x->hdr.chunk_size, 0) != SL_OK) {
			rx_slot_clear(s); /* no room now: a later pass brings it again */
			return;
		}
		if (placed && place_chunk(c, x, idx, placed, rec.raw_len, own, &r) != SL_OK) {
			rx_slot_clear(s); /* refused by the writer: counted, a repeat pass brings it */
			return;
		}
	}
	if (r == SL_ERR_IO) {
		rx_slot_clear(s); /* not written: not done; a repeat pass brings it again */
		return;
	}
	if (r != SL_OK) {
		c->st.blocks_inconsistent++;
		rx_log_limited(c, SL_LOG_WARN, sl_now_ns(), "transfer %s block %llu: decoded block is "
			       "inconsistent (%s); dropped", x->hex, (unsigned long long)block, sl_strerror(r));
		rx_slot_clear(s);
		return;
	}
	c->st.blocks_decoded++;
	rx_xfer_spool_forget(c, x, block);
	rx_slot_clear(s);
	if (cat) {
		x->cat_done[block] = 1;
		if (++x->ncat_done == x->hdr.catalog_blocks) {
			rx_catalog_complete(c, x); /* on a thread, or here */
			if (x->state == RX_X_REJECTED)
				return;
		}
	} else {
		uint64_t idx = block - x->hdr.catalog_blocks;
		rx_done_set(x->done, idx);
		x->ndone++;
		if (x->tree && x->writer) {
			/* queued: the writer writes it, marks it written, makes it durable */
		} else {
			if (x->tree)
				rx_done_set(x->written, idx); /* the hasher reads it, then the bytes */
			pend_add(c, x, idx);
		}
		if (x->tree) {
			char why[1024];
			int hr = rx_tree_advance(c, x, why, sizeof why);
			if (hr == SL_ERR_HASH) {
				rx_xfer_reject(c, x, why);
				return;
			}
			if (hr)
				rx_log_limited(c, SL_LOG_ERR, c->now, "transfer %s: %s (hashed again at release)",
					       x->hex, why);
		}
	}
	if (x->catalog_ok && x->ndone == x->hdr.nchunks && x->state != RX_X_RELEASED)
		rx_release(c, x);
}

void rx_xfer_spool_decode(struct rx_ctx *c, struct rx_xfer *x)
{
	uint64_t *ready = NULL;
	size_t n;

	if (x->state != RX_X_ACTIVE)
		return;
	n = rx_spool_ready(x, &ready);
	/* each looked up again: slots evicted meanwhile add to the spool */
	for (size_t i = 0; i < n && x->state == RX_X_ACTIVE; i++) {
		const struct rx_spooled *e = rx_xfer_spooled(x, ready[i]);
		struct rx_slot *s;
		int decoded;
		if (!e || rx_xfer_block_is_done(x, ready[i]))
			continue;
		s = rx_slot_for(c, x, ready[i], e->k, &decoded);
		if (s && decoded)
			rx_xfer_block_done(c, x, s); /* may release x: then it is not active */
	}
	free(ready);
}
