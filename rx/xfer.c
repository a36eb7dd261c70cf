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


static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void rx_xfer_free(struct rx_xfer *x)
{
	if (!x)
		return;
	rx_tree_close(x);
	free(x->dirty);
	free(x->dirtyl);
	for (size_t i = 0; i < x->nhf; i++)
		free(x->hf[i].path);
	free(x->hf);
	sl_sha256_free(x->hctx);
	close_fd(&x->dirfd);
	close_fd(&x->stream_fd);
	close_fd(&x->done_fd);
	close_fd(&x->spool_fd);
	close_fd(&x->spool_idx_fd);
	if (x->win) {
		/* the caller evicted; free buffers */
	}
	free(x->done);
	free(x->catalog);
	free(x->cat_done);
	free(x->pend);
	free(x->spool);
	sl_manifest_free(x->manifest);
	free(x);
}

static void free_window(struct rx_ctx *c, struct rx_xfer *x)
{
	if (!x->win)
		return;
	for (unsigned i = 0; i < c->cfg->window; i++) {
		free(x->win[i].data);
		free(x->win[i].par);
	}
	free(x->win);
	x->win = NULL;
}

/* ---- spool ---- */

static long spool_find(const struct rx_xfer *x, uint64_t block)
{
	size_t lo = 0, hi = x->nspool;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->spool[mid].block < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nspool && x->spool[lo].block == block ? (long)lo : -1 - (long)lo;
}

const struct rx_spooled *rx_xfer_spooled(const struct rx_xfer *x, uint64_t block)
{
	long i = spool_find(x, block);
	return i >= 0 ? &x->spool[i] : NULL;
}

static struct rx_spooled *spool_entry(struct rx_xfer *x, uint64_t block, uint16_t k)
{
	long i = spool_find(x, block);
	size_t at;

	if (i >= 0)
		return &x->spool[i];
	at = (size_t)(-1 - i);
	if (x->nspool == x->spoolcap) {
		size_t ncap = x->spoolcap ? x->spoolcap * 2 : 64;
		struct rx_spooled *p = realloc(x->spool, ncap * sizeof *p);
		if (!p)
			return NULL;
		x->spool = p;
		x->spoolcap = ncap;
	}
	memmove(&x->spool[at + 1], &x->spool[at], (x->nspool - at) * sizeof *x->spool);
	memset(&x->spool[at], 0, sizeof *x->spool);
	x->spool[at].block = block;
	x->spool[at].k = k;
	x->nspool++;
	return &x->spool[at];
}

static void spool_forget(struct rx_xfer *x, uint64_t block)
{
	long i = spool_find(x, block);
	if (i < 0)
		return;
	memmove(&x->spool[i], &x->spool[i + 1], (x->nspool - (size_t)i - 1) * sizeof *x->spool);
	x->nspool--;
}

static int open_spool(struct rx_xfer *x)
{
	if (x->spool_fd < 0)
		x->spool_fd = openat(x->dirfd, "spool", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x->spool_idx_fd < 0)
		x->spool_idx_fd = openat(x->dirfd, "spool.idx",
					 O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	return x->spool_fd >= 0 && x->spool_idx_fd >= 0 ? SL_OK : SL_ERR_IO;
}

int rx_xfer_spool_symbol(struct rx_ctx *c, struct rx_xfer *x, uint64_t block, uint16_t k,
			 uint16_t row, const uint8_t *sym)
{
	uint8_t rec[12];
	struct rx_spooled *e;
	uint64_t off = (block * 255 + row) * (uint64_t)x->symsize;

	if (open_spool(x)) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot open the symbol spool: %s", x->hex,
		       strerror(errno));
		return SL_ERR_IO;
	}
	e = spool_entry(x, block, k);
	if (!e)
		return SL_ERR_NOMEM;
	if (e->k != k)
		return SL_ERR_PARSE;
	if (sl_pwrite_all(x->spool_fd, sym, x->symsize, off))
		return SL_ERR_IO;
	sl_put_be64(rec, block);
	sl_put_be16(rec + 8, row);
	sl_put_be16(rec + 10, k);
	if (write(x->spool_idx_fd, rec, sizeof rec) != (ssize_t)sizeof rec)
		return SL_ERR_IO;
	e->rows[row / 8] |= (uint8_t)(1u << (row % 8));
	return SL_OK;
}

int rx_xfer_spool_load(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s)
{
	const struct rx_spooled *e = rx_xfer_spooled(x, s->block);
	uint8_t *sym;
	int r = SL_OK;

	if (!e || e->k != s->k || open_spool(x))
		return SL_ERR_IO;
	sym = malloc(x->symsize);
	if (!sym)
		return SL_ERR_NOMEM;
	for (unsigned row = 0; row < 255 && r == SL_OK; row++) {
		if (!(e->rows[row / 8] >> (row % 8) & 1))
			continue;
		if (sl_pread_all(x->spool_fd, sym, x->symsize, (s->block * 255 + row) * (uint64_t)x->symsize)) {
			r = SL_ERR_IO;
			break;
		}
		/* A block can become decodable from spooled rows alone (this
		 * happens only if it was spooled with k rows, which eviction
		 * avoids); rx_slot_add handles it either way. */
		if (rx_slot_add(c, x, s, (uint16_t)row, sym) == 1) {
			free(sym);
			rx_xfer_block_done(c, x, s);
			return SL_ERR_AGAIN;
		}
	}
	free(sym);
	return r;
}

static void spool_discard(struct rx_xfer *x)
{
	close_fd(&x->spool_fd);
	close_fd(&x->spool_idx_fd);
	unlinkat(x->dirfd, "spool", 0);
	unlinkat(x->dirfd, "spool.idx", 0);
	x->nspool = 0;
}

static void spool_reload(struct rx_xfer *x)
{
	uint8_t rec[12];
	int fd = openat(x->dirfd, "spool.idx", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint64_t nblocks = x->hdr.catalog_blocks + x->hdr.nchunks;

	if (fd < 0)
		return;
	while (read(fd, rec, sizeof rec) == (ssize_t)sizeof rec) {
		uint64_t block = sl_get_be64(rec);
		uint16_t row = sl_get_be16(rec + 8), k = sl_get_be16(rec + 10);
		struct rx_spooled *e;
		if (block >= nblocks || row >= 255 || k < 1 || k > x->hdr.kmax ||
		    rx_xfer_block_is_done(x, block))
			continue;
		e = spool_entry(x, block, k);
		if (e && e->k == k)
			e->rows[row / 8] |= (uint8_t)(1u << (row % 8));
	}
	close(fd);
}

/* ---- lifecycle ---- */

int rx_xfer_block_is_done(const struct rx_xfer *x, uint64_t block)
{
	if (!x->have_hdr)
		return 0;
	if (block < x->hdr.catalog_blocks)
		return x->cat_done[block] != 0;
	return x->done[block - x->hdr.catalog_blocks] != 0;
}

static int alloc_maps(struct rx_ctx *c, struct rx_xfer *x)
{
	free(x->done);
	free(x->cat_done);
	free(x->catalog);
	x->done = calloc(x->hdr.nchunks ? x->hdr.nchunks : 1, 1);
	x->cat_done = calloc(x->hdr.catalog_blocks, 1);
	x->catalog = malloc(x->hdr.catalog_len);
	x->ndone = 0;
	x->ncat_done = 0;
	(void)c;
	return x->done && x->cat_done && x->catalog ? SL_OK : SL_ERR_NOMEM;
}

/* Load what a previous run left on disk; anything inconsistent is discarded. */
static void load_disk_state(struct rx_ctx *c, struct rx_xfer *x)
{
	uint8_t *meta = NULL, *cat = NULL;
	size_t mlen = 0, clen = 0;
	struct sl_xfer_hdr h;

	if (sl_read_file_beneath(x->dirfd, "meta", 4096, &meta, &mlen, NULL) != SL_OK)
		return;
	if (mlen != strlen(META_MAGIC) + META_LEN || memcmp(meta, META_MAGIC, strlen(META_MAGIC)) ||
	    memcmp(meta + strlen(META_MAGIC), x->id, 16) ||
	    sl_xfer_hdr_decode(meta + strlen(META_MAGIC) + 18, SL_XFER_BODY, &h) != SL_OK) {
		sl_log(c->log, SL_LOG_WARN, "transfer %s: staging metadata unreadable; starting over", x->hex);
		free(meta);
		return;
	}
	x->symsize = sl_get_be16(meta + strlen(META_MAGIC) + 16);
	free(meta);
	if (x->symsize < SL_WIRE_MIN_SYMSIZE || x->symsize > c->cfg->max_symsize ||
	    h.catalog_len > c->cfg->max_catalog ||
	    (uint64_t)h.chunk_size + SL_BLOCK_REC > (uint64_t)h.kmax * x->symsize)
		return;
	x->hdr = h;
	if (alloc_maps(c, x))
		return;
	x->have_hdr = 1;
	/* done map: bytes of 1 for chunks durable in the stream */
	{
		int fd = openat(x->dirfd, "done", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			ssize_t n = pread(fd, x->done, h.nchunks, 0);
			close(fd);
			for (ssize_t i = 0; i < n; i++) {
				if (x->done[i] == 1)
					x->ndone++;
				else
					x->done[i] = 0;
			}
		}
	}
	if (sl_read_file_beneath(x->dirfd, "catalog", c->cfg->max_catalog, &cat, &clen, NULL) == SL_OK &&
	    clen == h.catalog_len) {
		char why[512];
		memcpy(x->catalog, cat, clen);
		memset(x->cat_done, 1, h.catalog_blocks);
		x->ncat_done = h.catalog_blocks;
		if (rx_verify_catalog(c, x, why, sizeof why) != SL_OK) {
			free(cat);
			rx_xfer_reject(c, x, why);
			return;
		}
	}
	free(cat);
	spool_reload(x);
	sl_log(c->log, SL_LOG_INFO, "transfer %s: resumed from disk: %llu of %llu chunks staged, "
	       "catalog %s, %zu blocks with spooled symbols", x->hex, (unsigned long long)x->ndone,
	       (unsigned long long)h.nchunks, x->catalog_ok ? "verified" : "incomplete", x->nspool);
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

/* Keep the list of known transfers bounded: forget (in memory only; their
 * staging stays on disk) the longest idle ones that are not being assembled. */
static void trim_known(struct rx_ctx *c)
{
	unsigned n = 0;
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		n++;
	while (n > RX_MAX_KNOWN) {
		struct rx_xfer *old = NULL;
		for (struct rx_xfer *x = c->xfers; x; x = x->next)
			if (x->state != RX_X_ACTIVE && (!old || x->last_ns < old->last_ns))
				old = x;
		if (!old)
			return;
		rx_xfer_forget(c, old);
		n--;
	}
}

struct rx_xfer *rx_xfer_get(struct rx_ctx *c, const uint8_t id[16], uint64_t now)
{
	struct rx_xfer *x = rx_xfer_find(c, id);
	char hex[33];

	if (x)
		return x;
	trim_known(c);
	x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	memcpy(x->id, id, 16);
	sodium_bin2hex(hex, sizeof hex, id, 16);
	memcpy(x->hex, hex, 33);
	x->dirfd = x->stream_fd = x->done_fd = x->spool_fd = x->spool_idx_fd = -1;
	x->top_fd = x->data_fd = x->hfd = -1;
	for (unsigned i = 0; i < RX_FDC; i++)
		x->fdc[i].fd = -1;
	x->last_ns = now;
	x->next = c->xfers;
	c->xfers = x;

	if (already_accepted(c, id)) {
		/* dispatch.c records the replay, once per sending session */
		x->state = RX_X_RELEASED;
		return x;
	}
	if (mkdirat(c->xfer_fd, hex, 0700) != 0 && errno != EEXIST) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot create staging directory: %s", hex,
		       strerror(errno));
		x->state = RX_X_DORMANT;
		return x;
	}
	x->dirfd = sl_openat_beneath(c->xfer_fd, hex, O_RDONLY | O_DIRECTORY, 0);
	if (x->dirfd < 0) {
		x->dirfd = -1;
		x->state = RX_X_DORMANT;
		return x;
	}
	x->state = RX_X_DORMANT;
	load_disk_state(c, x);
	return x;
}

static int write_meta(struct rx_xfer *x)
{
	uint8_t buf[sizeof META_MAGIC + META_LEN];
	size_t ml = strlen(META_MAGIC);

	memcpy(buf, META_MAGIC, ml);
	memcpy(buf + ml, x->id, 16);
	sl_put_be16(buf + ml + 16, x->symsize);
	sl_xfer_hdr_encode(&x->hdr, buf + ml + 18);
	return sl_write_file_atomic(x->dirfd, "meta", buf, ml + META_LEN, 0600, NULL);
}

static void reset_staging(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->win)
		for (unsigned i = 0; i < c->cfg->window; i++)
			rx_slot_clear(&x->win[i]);
	rx_tree_forget(c, x);
	close_fd(&x->stream_fd);
	close_fd(&x->done_fd);
	spool_discard(x);
	unlinkat(x->dirfd, "stream", 0);
	unlinkat(x->dirfd, "done", 0);
	unlinkat(x->dirfd, "catalog", 0);
	x->npend = 0;
	x->pend_bytes = 0;
	x->catalog_ok = 0;
	sl_manifest_free(x->manifest);
	x->manifest = NULL;
}

int rx_xfer_set_header(struct rx_ctx *c, struct rx_xfer *x, const struct sl_xfer_hdr *h,
		       uint16_t symsize)
{
	if (h->catalog_len > c->cfg->max_catalog)
		return SL_ERR_TOOBIG;
	if ((uint64_t)h->chunk_size + SL_BLOCK_REC > (uint64_t)h->kmax * symsize ||
	    h->chunk_size != (uint32_t)h->kmax * symsize - SL_BLOCK_REC ||
	    (uint64_t)h->catalog_blocks * sl_catalog_piece(h->kmax, symsize) < h->catalog_len ||
	    (uint64_t)(h->catalog_blocks - 1) * sl_catalog_piece(h->kmax, symsize) >= h->catalog_len)
		return SL_ERR_PARSE;
	if (x->have_hdr) {
		if (!memcmp(x->hdr.layout, h->layout, 16) && x->symsize == symsize &&
		    !memcmp(x->hdr.manifest_sha256, h->manifest_sha256, 32))
			return SL_OK;
		sl_log(c->log, SL_LOG_WARN, "transfer %s: the sender changed the block layout "
		       "(different settings or manifest); staging starts over", x->hex);
		reset_staging(c, x);
	}
	x->hdr = *h;
	x->symsize = symsize;
	if (alloc_maps(c, x))
		return SL_ERR_NOMEM;
	x->have_hdr = 1;
	if (x->dirfd >= 0 && write_meta(x) != SL_OK)
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot write staging metadata", x->hex);
	return SL_OK;
}

int rx_xfer_activate(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->state == RX_X_ACTIVE)
		return SL_OK;
	if (x->dirfd < 0 || !x->have_hdr)
		return SL_ERR_AGAIN;
	if (c->nactive >= c->cfg->max_active) {
		/* Make room: the transfer idle the longest goes dormant. */
		struct rx_xfer *old = NULL;
		for (struct rx_xfer *y = c->xfers; y; y = y->next)
			if (y->state == RX_X_ACTIVE && (!old || y->last_ns < old->last_ns))
				old = y;
		if (!old)
			return SL_ERR_AGAIN;
		rx_xfer_deactivate(c, old);
	}
	x->win = calloc(c->cfg->window, sizeof *x->win);
	if (!x->win)
		return SL_ERR_NOMEM;
	x->stream_fd = openat(x->dirfd, "stream", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	x->done_fd = openat(x->dirfd, "done", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (x->stream_fd < 0 || x->done_fd < 0) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot open staging files: %s", x->hex,
		       strerror(errno));
		close_fd(&x->stream_fd);
		close_fd(&x->done_fd);
		free_window(c, x);
		return SL_ERR_IO;
	}
	x->state = RX_X_ACTIVE;
	x->timed_out_reported = 0;
	c->nactive++;
	if (x->catalog_ok && rx_tree_open(c, x) == SL_ERR_HASH)
		return SL_ERR_HASH; /* rejected */
	return SL_OK;
}

void rx_xfer_deactivate(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->state != RX_X_ACTIVE)
		return;
	if (x->win)
		for (unsigned i = 0; i < c->cfg->window; i++)
			rx_slot_evict(c, x, &x->win[i]);
	rx_xfer_checkpoint(c, x);
	rx_tree_close(x);
	free_window(c, x);
	close_fd(&x->stream_fd);
	close_fd(&x->done_fd);
	close_fd(&x->spool_fd);
	close_fd(&x->spool_idx_fd);
	x->state = RX_X_DORMANT;
	c->nactive--;
}

int rx_xfer_checkpoint(struct rx_ctx *c, struct rx_xfer *x)
{
	uint8_t one = 1;

	if (x->npend == 0)
		return SL_OK;
	/* The chunk bytes must be durable before the map says so. */
	if (x->tree) {
		if (rx_tree_sync(c, x) != SL_OK)
			return SL_ERR_IO;
	} else if (x->stream_fd < 0) {
		return SL_OK;
	} else if (fdatasync(x->stream_fd) != 0) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s: fdatasync of staged data failed: %s", x->hex,
		       strerror(errno));
		return SL_ERR_IO;
	}
	for (size_t i = 0; i < x->npend; i++)
		if (sl_pwrite_all(x->done_fd, &one, 1, x->pend[i]))
			return SL_ERR_IO;
	fdatasync(x->done_fd);
	x->npend = 0;
	x->pend_bytes = 0;
	return SL_OK;
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

	if (r == SL_OK && sl_block_k(rec.stored_len, x->symsize) != s->k)
		r = SL_ERR_PARSE;
	if (r == SL_OK && cat) {
		uint64_t piece = sl_catalog_piece(x->hdr.kmax, x->symsize);
		uint64_t off = block * piece;
		uint64_t want = x->hdr.catalog_len - off < piece ? x->hdr.catalog_len - off : piece;
		if (rec.kind != SL_BLK_CATALOG || rec.index != block || rec.offset != off ||
		    rec.raw_len != want)
			r = SL_ERR_PARSE;
		else
			memcpy(x->catalog + off, s->data + SL_BLOCK_REC, rec.raw_len);
	} else if (r == SL_OK) {
		uint64_t idx = block - x->hdr.catalog_blocks;
		uint64_t off = idx * x->hdr.chunk_size;
		uint64_t want = x->hdr.total_bytes - off < x->hdr.chunk_size ? x->hdr.total_bytes - off
									       : x->hdr.chunk_size;
		if (rec.kind != SL_BLK_CHUNK || rec.index != idx || rec.offset != off || rec.raw_len != want) {
			r = SL_ERR_PARSE;
		} else if (rec.codec == SL_CODEC_ZSTD) {
			size_t n = ZSTD_decompressDCtx(c->dctx, c->chunkbuf, rec.raw_len,
						       s->data + SL_BLOCK_REC, rec.stored_len);
			if (ZSTD_isError(n) || n != rec.raw_len)
				r = SL_ERR_PARSE;
			else
				placed = c->chunkbuf;
		} else {
			placed = s->data + SL_BLOCK_REC;
		}
		if (placed && x->tree) {
			r = rx_tree_place(c, x, idx, placed, rec.raw_len);
		} else if (placed) {
			r = sl_pwrite_all(x->stream_fd, placed, rec.raw_len, off);
			/* Start writeback now, so the checkpoint's fdatasync finds
			 * little left to write and the receive loop is not held up. */
			if (r == SL_OK)
				sync_file_range(x->stream_fd, (off64_t)off, rec.raw_len, SYNC_FILE_RANGE_WRITE);
		}
		if (r == SL_ERR_IO)
			sl_log(c->log, SL_LOG_ERR, "transfer %s: writing staged data: %s", x->hex, strerror(errno));
	}
	if (r != SL_OK) {
		x->bad_blocks++;
		sl_log(c->log, SL_LOG_WARN, "transfer %s block %llu: decoded block is inconsistent (%s); "
		       "dropped", x->hex, (unsigned long long)block, sl_strerror(r));
		rx_slot_clear(s);
		return;
	}
	x->blocks_decoded++;
	spool_forget(x, block);
	rx_slot_clear(s);
	if (cat) {
		x->cat_done[block] = 1;
		if (++x->ncat_done == x->hdr.catalog_blocks) {
			char why[512];
			if (rx_verify_catalog(c, x, why, sizeof why) != SL_OK) {
				rx_xfer_reject(c, x, why);
				return;
			}
			if (sl_write_file_atomic(x->dirfd, "catalog", x->catalog, x->hdr.catalog_len, 0600,
						 NULL) != SL_OK)
				sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot persist the catalog", x->hex);
			/* From now on chunks are written into their files. */
			if (x->state == RX_X_ACTIVE && rx_tree_open(c, x) == SL_ERR_HASH)
				return; /* rejected */
		}
	} else {
		uint64_t idx = block - x->hdr.catalog_blocks;
		/* the hasher thread reads done[] (and then the chunk's bytes) */
		__atomic_store_n(&x->done[idx], 1, __ATOMIC_RELEASE);
		x->ndone++;
		if (x->npend == x->pendcap) {
			size_t ncap = x->pendcap ? x->pendcap * 2 : 256;
			uint64_t *p = realloc(x->pend, ncap * sizeof *p);
			if (p) {
				x->pend = p;
				x->pendcap = ncap;
			}
		}
		if (x->npend < x->pendcap)
			x->pend[x->npend++] = idx;
		x->pend_bytes += x->hdr.chunk_size;
		if (x->pend_bytes >= (16u << 20))
			rx_xfer_checkpoint(c, x);
		if (x->tree) {
			char why[1024];
			int hr = rx_tree_advance(c, x, why, sizeof why);
			if (hr == SL_ERR_HASH) {
				rx_xfer_reject(c, x, why);
				return;
			}
			if (hr)
				sl_log(c->log, SL_LOG_ERR, "transfer %s: %s", x->hex, why);
		}
	}
	if (x->catalog_ok && x->ndone == x->hdr.nchunks)
		rx_try_release(c, x);
}

/* ---- endings ---- */

void rx_xfer_reject(struct rx_ctx *c, struct rx_xfer *x, const char *reason)
{
	sl_log(c->log, SL_LOG_WARN, "transfer %s REJECTED: %s", x->hex, reason);
	rx_tree_forget(c, x);
	sl_audit_append(c->audit, "rejected", x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL,
			reason, NULL);
	c->st.rejected++;
	if (x->state == RX_X_ACTIVE) {
		for (unsigned i = 0; i < c->cfg->window; i++)
			rx_slot_clear(&x->win[i]);
		free_window(c, x);
		c->nactive--;
	}
	close_fd(&x->stream_fd);
	close_fd(&x->done_fd);
	close_fd(&x->spool_fd);
	close_fd(&x->spool_idx_fd);
	close_fd(&x->dirfd);
	sl_remove_tree(c->xfer_fd, x->hex, NULL);
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
	x->state = RX_X_REJECTED;
	x->reject_session = x->session;
	x->have_hdr = 0;
	x->catalog_ok = 0;
	x->nspool = 0;
	x->npend = 0;
	sl_manifest_free(x->manifest);
	x->manifest = NULL;
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
		if (x->done[i])
			continue;
		for (j = i; j + 1 < x->hdr.nchunks && !x->done[j + 1]; j++)
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
				hit = !x->done[i];
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

	rx_xfer_deactivate(c, x);
	if (!rep)
		return;
	build_report(x, rep, 1 << 16, summary, sizeof summary);
	snprintf(reason, sizeof reason, "%s: %s; nothing released, a repeat pass can complete it",
		 why, summary);
	sl_log(c->log, SL_LOG_WARN, "transfer %s timed out: %s", x->hex, reason);
	if (x->dirfd >= 0)
		sl_write_file_atomic(x->dirfd, "report", rep, strlen(rep), 0600, NULL);
	sl_audit_append(c->audit, "timeout", x->hex, x->manifest_hex[0] ? x->manifest_hex : NULL,
			reason, NULL);
	c->st.timeouts++;
	x->timed_out_reported = 1;
	x->tail_deadline_ns = 0;
	free(rep);
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
