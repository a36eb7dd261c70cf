/* spool.c — symbols of blocks that left the window undecoded (see rx.h).
 *
 * STATE/xfer/<id>/spool holds them at (block*255+row)*S, spool.idx a
 * 12-byte record (block, row, k) per symbol; x->spool, sorted by block,
 * says which rows each block has there. A symbol spooled counts in the
 * staging quota (quota.c) until its block is decoded or the layout goes.
 * This file only stores and reads symbols: assemble.c loads a block's rows
 * into its slot, place.c decodes the blocks whose spooled rows suffice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "rx.h"
#include "safefs.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

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
	if (sl_grow(&x->spool, x->nspool, &x->spoolcap, sizeof *x->spool))
		return NULL;
	memmove(&x->spool[at + 1], &x->spool[at], (x->nspool - at) * sizeof *x->spool);
	memset(&x->spool[at], 0, sizeof *x->spool);
	x->spool[at].block = block;
	x->spool[at].k = k;
	x->nspool++;
	return &x->spool[at];
}

void rx_xfer_spool_forget(struct rx_ctx *c, struct rx_xfer *x, uint64_t block)
{
	long i = spool_find(x, block);
	unsigned rows = 0;

	if (i < 0)
		return;
	for (unsigned b = 0; b < 32; b++)
		rows += (unsigned)__builtin_popcount(x->spool[i].rows[b]);
	if (x->spool_fd >= 0)
		fallocate(x->spool_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(block * 255 * x->symsize), (off_t)255 * x->symsize);
	x->spool_syms -= rows <= x->spool_syms ? rows : x->spool_syms;
	rx_quota_add(c, x, -(int64_t)rows * x->symsize);
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
	if (rx_quota_room(c, x, x->symsize, 0))
		return SL_ERR_TOOBIG;
	e = spool_entry(x, block, k);
	if (!e)
		return SL_ERR_NOMEM;
	if (e->k != k)
		return SL_ERR_PARSE;
	if (sl_pwrite_all(x->spool_fd, sym, x->symsize, off)) {
		rx_storage_failed(c, x, "spooling a symbol", errno);
		return SL_ERR_IO;
	}
	rx_quota_add(c, x, x->symsize);
	x->spool_syms++;
	c->st.spooled++;
	e->rows[row / 8] |= (uint8_t)(1u << (row % 8)); /* in memory it is spooled either way */
	sl_put_be64(rec, block);
	sl_put_be16(rec + 8, row);
	sl_put_be16(rec + 10, k);
	if (write(x->spool_idx_fd, rec, sizeof rec) != (ssize_t)sizeof rec) {
		struct stat st;
		int err = errno;
		/* A torn record would shift every later one: cut it off. */
		if (fstat(x->spool_idx_fd, &st) == 0)
			(void)!ftruncate(x->spool_idx_fd, st.st_size - st.st_size % (off_t)sizeof rec);
		rx_storage_failed(c, x, "recording a spooled symbol", err);
		return SL_ERR_IO;
	}
	return SL_OK;
}

int rx_xfer_spool_open(struct rx_xfer *x)
{
	return open_spool(x);
}

int rx_xfer_spool_read(struct rx_xfer *x, uint64_t block, unsigned row, uint8_t *sym)
{
	if (open_spool(x) ||
	    sl_pread_all(x->spool_fd, sym, x->symsize, (block * 255 + row) * (uint64_t)x->symsize))
		return SL_ERR_IO;
	return SL_OK;
}

void rx_spool_discard(struct rx_ctx *c, struct rx_xfer *x)
{
	close_fd(&x->spool_fd);
	close_fd(&x->spool_idx_fd);
	unlinkat(x->dirfd, "spool", 0);
	unlinkat(x->dirfd, "spool.idx", 0);
	x->nspool = 0;
	rx_quota_add(c, x, -(int64_t)x->spool_syms * x->symsize);
	x->spool_syms = 0;
}

void rx_spool_reload(struct rx_xfer *x)
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
		if (e && e->k == k && !(e->rows[row / 8] >> (row % 8) & 1)) {
			e->rows[row / 8] |= (uint8_t)(1u << (row % 8));
			x->spool_syms++;
		}
	}
	close(fd);
}
