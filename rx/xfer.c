/* xfer.c — per-transfer staging state on disk for sluice-rx (see rx.h). */
#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "rx.h"
#include "safefs.h"
#include "units.h"

#define META_MAGIC "SLRXMETA1"
#define META_LEN (16 + 2 + SL_XFER_BODY)


void rx_xfer_free(struct rx_xfer *x)
{
	if (!x)
		return;
	rx_verify_cancel(x);
	rx_rjob_cancel(x);
	rx_tree_close(x);
	rx_tree_drop(x);
	rx_hasher_forget(x);
	sl_close_fd(&x->dirfd);
	sl_close_fd(&x->stream_fd);
	sl_close_fd(&x->done_fd);
	rx_spool_free(x);
	rx_storage_forget(x);
	sl_close_fd(&x->cat_fd);
	free(x->done);
	free(x->written);
	rx_writer_forget(x);
	free(x->cat_done);
	rx_pend_free(x);
	sl_manifest_free(x->manifest);
	free(x);
}

/* Empty every slot and free its buffers (they are sized for one layout). */
static void free_slot_buffers(struct rx_xfer *x)
{
	if (!x->win)
		return;
	for (unsigned i = 0; i < x->nwin; i++) {
		rx_slot_clear(&x->win[i]);
		free(x->win[i].data);
		free(x->win[i].par);
		x->win[i].data = x->win[i].par = NULL;
		x->win[i].parcap = 0;
	}
}

static void free_window(struct rx_xfer *x)
{
	free_slot_buffers(x);
	free(x->win);
	x->win = NULL;
	x->nwin = 0;
}

/* Staging went away (released, rejected, dropped): its bytes and directory
 * no longer count against the quotas. */
static void staging_gone(struct rx_ctx *c, struct rx_xfer *x)
{
	rx_quota_gone(c, x);
	sl_close_fd(&x->dirfd);
}



/* ---- lifecycle ---- */

/* Maps for header h, allocated before the old ones are let go: on failure
 * the transfer keeps its old header and maps. */
int rx_xfer_alloc_maps(struct rx_xfer *x, const struct sl_xfer_hdr *h)
{
	uint8_t *done = calloc(rx_done_bytes(h->nchunks), 1);
	uint8_t *written = calloc(rx_done_bytes(h->nchunks), 1);
	uint8_t *cat_done = calloc(h->catalog_blocks ? h->catalog_blocks : 1, 1);

	if (!done || !written || !cat_done) {
		free(done);
		free(written);
		free(cat_done);
		return SL_ERR_NOMEM;
	}
	rx_verify_cancel(x); /* a verdict on the old layout's catalog pieces */
	rx_rjob_cancel(x);   /* a release or re-verification of the old layout */
	free(x->done);
	free(x->written);
	free(x->cat_done);
	/* the writer let go of x (its tree is closed): what it left was for the
	 * old maps (no spilled chunk is left: it moved them before it let go) */
	rx_writer_forget(x);
	x->written = written;
	x->done = done;
	x->cat_done = cat_done;
	x->ndone = 0;
	x->ncat_done = 0;
	return SL_OK;
}

/* The done map from the done file; the spool index. */
static void load_progress(struct rx_ctx *c, struct rx_xfer *x)
{
	int fd = openat(x->dirfd, "done", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0) {
		x->ndone = rx_done_load(fd, x->done, x->hdr.nchunks);
		close(fd);
	}
	rx_spool_reload(x);
	rx_quota_add(c, x, (int64_t)(x->ndone * x->hdr.chunk_size + rx_spool_syms(x) * x->symsize));
}

/* Load what a previous run left on disk; anything inconsistent is discarded.
 * A catalog file exists only once verified (it is verified again when the
 * transfer becomes active); catalog pieces of an unverified one come again. */
static void load_disk_state(struct rx_ctx *c, struct rx_xfer *x)
{
	uint8_t *meta = NULL;
	size_t mlen = 0, ml = strlen(META_MAGIC);
	struct sl_xfer_hdr h;
	uint16_t symsize;
	struct stat st;

	unlinkat(x->dirfd, "catalog.part", 0);
	if (sl_read_file_beneath(x->dirfd, "meta", 4096, &meta, &mlen, NULL) != SL_OK)
		return;
	if (mlen != ml + META_LEN || memcmp(meta, META_MAGIC, ml) || memcmp(meta + ml, x->id, 16) ||
	    sl_xfer_hdr_decode(meta + ml + 18, SL_XFER_BODY, &h) != SL_OK) {
		sl_log(c->log, SL_LOG_WARN, "transfer %s: staging metadata unreadable; starting over", x->hex);
		free(meta);
		return;
	}
	symsize = sl_get_be16(meta + ml + 16);
	free(meta);
	if (rx_xfer_check_header(c, &h, symsize) != SL_OK || rx_xfer_alloc_maps(x, &h) != SL_OK)
		return;
	x->hdr = h;
	x->symsize = symsize;
	x->have_hdr = 1;
	if (fstatat(x->dirfd, "catalog", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == h.catalog_len) {
		memset(x->cat_done, 1, h.catalog_blocks);
		x->ncat_done = h.catalog_blocks;
		x->catalog_ok = 1;
	}
	/* With the tree marker, the files hold every done chunk: what the
	 * stream holds was spilled and not moved before the receiver stopped. */
	if (fstatat(x->dirfd, "tree", &st, AT_SYMLINK_NOFOLLOW) == 0)
		unlinkat(x->dirfd, "stream", 0);
	load_progress(c, x);
	rx_repair_load(x);
	x->timed_out_reported = x->repair[0] != '\0';
	/* Complete (its release was held up, or a crash came first): tried on the next tick. */
	x->release_wait = x->catalog_ok && x->ndone == h.nchunks;
	sl_log(c->log, SL_LOG_INFO, "transfer %s: resumed from disk: %llu of %llu chunks staged, "
	       "catalog %s, %zu blocks with spooled symbols", x->hex, (unsigned long long)x->ndone,
	       (unsigned long long)h.nchunks, x->catalog_ok ? "verified" : "incomplete", rx_spool_blocks(x));
}

/* Whether the ledger already holds this transfer id. */
static int already_accepted(struct rx_ctx *c, const uint8_t id[16])
{
	return sl_ledger_has_id(c->ledger, id);
}

struct rx_xfer *rx_xfer_find(struct rx_ctx *c, const uint8_t id[16])
{
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (!memcmp(x->id, id, 16))
			return x;
	return NULL;
}

/* Keep the list of known transfers bounded: forget the longest idle of those
 * that hold no staging (released or rejected ones, remembered to recognise
 * replays). Transfers with staging are bounded by --max-staged instead. */
static void trim_known(struct rx_ctx *c)
{
	unsigned n = 0;
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		n += x->dirfd < 0;
	while (n > RX_MAX_KNOWN) {
		struct rx_xfer *old = NULL;
		for (struct rx_xfer *x = c->xfers; x; x = x->next)
			if (x->dirfd < 0 && x->state != RX_X_ACTIVE && (!old || x->last_ns < old->last_ns))
				old = x;
		if (!old)
			return;
		rx_xfer_forget(c, old);
		n--;
	}
}

static struct rx_xfer *xfer_new(struct rx_ctx *c, const uint8_t id[16], uint64_t now)
{
	struct rx_xfer *x = calloc(1, sizeof *x);

	if (!x)
		return NULL;
	memcpy(x->id, id, 16);
	sodium_bin2hex(x->hex, sizeof x->hex, id, 16);
	x->dirfd = x->stream_fd = x->done_fd = x->cat_fd = -1;
	x->top_fd = x->data_fd = -1;
	x->last_ns = now;
	x->state = RX_X_DORMANT;
	x->next = c->xfers;
	c->xfers = x;
	return x;
}

struct rx_xfer *rx_xfer_get(struct rx_ctx *c, const uint8_t id[16], uint64_t now)
{
	struct rx_xfer *x = rx_xfer_find(c, id);
	char hex[33];
	int created;

	if (x)
		return x;
	trim_known(c);
	if (already_accepted(c, id)) {
		/* dispatch.c records the replay, once per sending session */
		x = xfer_new(c, id, now);
		if (x)
			x->state = RX_X_RELEASED;
		return x;
	}
	sodium_bin2hex(hex, sizeof hex, id, 16);
	created = mkdirat(c->xfer_fd, hex, 0700) == 0;
	if (created) {
		if (rx_quota_new_staging(c, NULL) != SL_OK) {
			unlinkat(c->xfer_fd, hex, AT_REMOVEDIR);
			c->st.quota_header++;
			rx_log_limited(c, SL_LOG_WARN, now, "transfer %s refused: --max-staged %u transfers "
				       "are staged and none can be evicted", hex, c->cfg->max_staged);
			return NULL;
		}
		sl_fsync_dir(c->xfer_fd, ".");
	} else if (errno != EEXIST) {
		rx_log_limited(c, SL_LOG_ERR, now, "transfer %s: cannot create staging directory: %s", hex,
			       strerror(errno));
		return NULL;
	}
	x = xfer_new(c, id, now);
	if (!x)
		return NULL;
	x->dirfd = sl_openat_beneath(c->xfer_fd, hex, O_RDONLY | O_DIRECTORY, 0);
	if (x->dirfd < 0) {
		x->dirfd = -1;
		return x;
	}
	c->nstaged++;
	if (!created)
		load_disk_state(c, x);
	return x;
}

int rx_xfer_write_meta(struct rx_xfer *x)
{
	uint8_t buf[sizeof META_MAGIC + META_LEN];
	size_t ml = strlen(META_MAGIC);

	memcpy(buf, META_MAGIC, ml);
	memcpy(buf + ml, x->id, 16);
	sl_put_be16(buf + ml + 16, x->symsize);
	sl_xfer_hdr_encode(&x->hdr, buf + ml + 18);
	return sl_write_file_atomic(x->dirfd, "meta", buf, ml + META_LEN, 0600, NULL);
}

/* The verified manifest back in memory for a transfer becoming active: its
 * kept catalog verified again on a thread (finish.c), which makes it active
 * once the verdict is in (rx_tick); SL_ERR_AGAIN meanwhile. */
static int reverify(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->rjob)
		return SL_ERR_AGAIN; /* being verified again, or released */
	if (rx_rjob_verify(c, x, RX_RJ_ACTIVATE) != SL_OK)
		return SL_ERR_IO; /* not a verdict: not active now, tried again later */
	return SL_ERR_AGAIN;
}

int rx_xfer_activate(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->state == RX_X_ACTIVE)
		return SL_OK;
	if (x->dirfd < 0 || !x->have_hdr)
		return SL_ERR_AGAIN;
	if (x->catalog_ok && !x->manifest) {
		int r = reverify(c, x);
		if (r)
			return r; /* on a thread (SL_ERR_AGAIN), or not now */
	}
	if (c->nactive >= c->cfg->max_active) {
		/* Make room: the transfer idle the longest goes dormant. */
		struct rx_xfer *old = NULL;
		for (struct rx_xfer *y = c->xfers; y; y = y->next)
			if (y->state == RX_X_ACTIVE && !y->basejob && !y->rjob && (!old || y->last_ns < old->last_ns))
				old = y;
		if (!old)
			return SL_ERR_AGAIN;
		/* old's window goes to its spool, whose quota may evict the
		 * idlest unvouched staging: never x, which is what it is for */
		x->activating = 1;
		rx_xfer_deactivate(c, old);
		x->activating = 0;
	}
	x->nwin = rx_window_want(c, x, rx_window_interleave(c, x->session), NULL);
	x->win = calloc(x->nwin, sizeof *x->win);
	if (!x->win)
		return SL_ERR_NOMEM;
	x->stream_fd = openat(x->dirfd, "stream", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	x->done_fd = openat(x->dirfd, "done", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x->stream_fd < 0 || x->done_fd < 0) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot open staging files: %s", x->hex,
		       strerror(errno));
		sl_close_fd(&x->stream_fd);
		sl_close_fd(&x->done_fd);
		free_window(x);
		return SL_ERR_IO;
	}
	x->state = RX_X_ACTIVE;
	x->timed_out_reported = 0;
	rx_repair_clear(x); /* more is coming: the code may be out of date */
	c->nactive++;
	if (x->catalog_ok && rx_tree_open(c, x) == SL_ERR_HASH)
		return SL_ERR_HASH; /* rejected */
	return SL_OK;
}

/* Leave memory: the window goes to the spool, the manifest is dropped (the
 * verified catalog is on disk, read again when needed: finish.c). */
void rx_xfer_deactivate(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->state != RX_X_ACTIVE)
		return;
	rx_rjob_cancel(x); /* its release: started again when it is tried again */
	if (x->win)
		for (unsigned i = 0; i < x->nwin; i++)
			rx_slot_evict(c, x, &x->win[i]);
	rx_xfer_checkpoint(c, x);
	rx_tree_close(x);
	free_window(x);
	sl_close_fd(&x->stream_fd);
	sl_close_fd(&x->done_fd);
	rx_spool_close(x);
	x->state = RX_X_DORMANT;
	c->nactive--;
	if (x->catalog_ok && !x->accepted) { /* accepted: the release's last steps need the manifest */
		sl_manifest_free(x->manifest);
		x->manifest = NULL;
	}
}

/* Drop everything of a layout in memory (window, spool, stream progress
 * stays as the caller decides). */
void rx_xfer_drop_window(struct rx_ctx *c, struct rx_xfer *x)
{
	free_slot_buffers(x);
	rx_spool_discard(c, x);
}


/* Staging is being removed for good: let go of memory, descriptors and the
 * transfer's share of the quotas (no spooling, no checkpoint). */
void rx_xfer_release_staging(struct rx_ctx *c, struct rx_xfer *x)
{
	rx_verify_cancel(x);
	rx_rjob_cancel(x);
	rx_tree_forget(c, x);
	if (c->writer) /* the spill goes with the rest of x's staging (staging_gone) */
		(void)rx_writer_take_freed(c->writer, x);
	x->spill_quota = 0;
	x->release_writer = 0;
	if (x->state == RX_X_ACTIVE) {
		free_window(x);
		c->nactive--;
		x->state = RX_X_DORMANT;
	}
	sl_close_fd(&x->stream_fd);
	sl_close_fd(&x->done_fd);
	rx_spool_free(x);
	sl_close_fd(&x->cat_fd);
	staging_gone(c, x);
	x->release_wait = 0;
	rx_pend_free(x);
	sl_manifest_free(x->manifest);
	x->manifest = NULL;
}

void rx_xfer_forget(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_xfer **pp;

	if (x->state == RX_X_ACTIVE)
		rx_xfer_deactivate(c, x);
	for (pp = &c->xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	rx_xfer_free(x);
}

int rx_xfer_check_header(struct rx_ctx *c, const struct sl_xfer_hdr *h, uint16_t symsize)
{
	uint64_t piece;

	if (symsize < SL_WIRE_MIN_SYMSIZE || symsize > c->cfg->max_symsize || h->kmax < 1 ||
	    h->kmax > 254)
		return SL_ERR_PARSE;
	if ((uint64_t)h->chunk_size + SL_BLOCK_REC != (uint64_t)h->kmax * symsize)
		return SL_ERR_PARSE;
	piece = sl_catalog_piece(h->kmax, symsize);
	if (h->catalog_len == 0 || piece == 0 || h->catalog_blocks != sl_chunks_of(h->catalog_len, piece))
		return SL_ERR_PARSE;
	if (h->nchunks != sl_chunks_of(h->total_bytes, h->chunk_size))
		return SL_ERR_PARSE;
	if (h->catalog_len > c->cfg->max_catalog || h->total_bytes > c->policy->limits.max_total_bytes ||
	    h->total_bytes > c->cfg->max_staging)
		return SL_ERR_TOOBIG;
	return SL_OK;
}
