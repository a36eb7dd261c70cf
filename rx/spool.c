/* spool.c — symbols of blocks that left the window undecoded (see rx.h).
 *
 * STATE/xfer/<id>/spool holds them at (block*255+row)*S, spool.idx a
 * 12-byte record (block, row, k) per symbol. What this file keeps of a
 * transfer is struct rx_spool (x->sp, known only here): made with the first
 * symbol spooled or reloaded, freed by rx_spool_free (the transfer or its
 * staging goes); its entries, sorted by block, say which rows each block has
 * there. A symbol spooled counts in the staging quota (quota.c) until its
 * block is decoded or the layout goes. This file only stores and reads
 * symbols: assemble.c loads a block's rows into its slot, place.c decodes
 * the blocks whose spooled rows suffice (rx_spool_ready).
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

/* A transfer's spool (x->sp). */
struct rx_spool {
	struct rx_spooled *e;       /* sorted by block */
	size_t n, cap;
	uint64_t syms;              /* symbols in the spool file */
	int fd, idx_fd;             /* spool, spool.idx (-1: closed) */
};

/* x->sp, made if need be (NULL: no memory). */
static struct rx_spool *spool_of(struct rx_xfer *x)
{
	if (!x->sp && (x->sp = calloc(1, sizeof *x->sp)) != NULL)
		x->sp->fd = x->sp->idx_fd = -1;
	return x->sp;
}

static long spool_find(const struct rx_spool *sp, uint64_t block)
{
	size_t lo = 0, hi = sp ? sp->n : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sp->e[mid].block < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return sp && lo < sp->n && sp->e[lo].block == block ? (long)lo : -1 - (long)lo;
}

static unsigned rows_of(const struct rx_spooled *e)
{
	unsigned rows = 0;

	for (unsigned b = 0; b < 32; b++)
		rows += (unsigned)__builtin_popcount(e->rows[b]);
	return rows;
}

const struct rx_spooled *rx_xfer_spooled(const struct rx_xfer *x, uint64_t block)
{
	long i = spool_find(x->sp, block);
	return i >= 0 ? &x->sp->e[i] : NULL;
}

static struct rx_spooled *spool_entry(struct rx_xfer *x, uint64_t block, uint16_t k)
{
	struct rx_spool *sp = spool_of(x);
	long i = spool_find(sp, block);
	size_t at;

	if (!sp)
		return NULL;
	if (i >= 0)
		return &sp->e[i];
	at = (size_t)(-1 - i);
	if (sl_grow(&sp->e, sp->n, &sp->cap, sizeof *sp->e))
		return NULL;
	memmove(&sp->e[at + 1], &sp->e[at], (sp->n - at) * sizeof *sp->e);
	memset(&sp->e[at], 0, sizeof *sp->e);
	sp->e[at].block = block;
	sp->e[at].k = k;
	sp->n++;
	return &sp->e[at];
}

void rx_xfer_spool_forget(struct rx_ctx *c, struct rx_xfer *x, uint64_t block)
{
	struct rx_spool *sp = x->sp;
	long i = spool_find(sp, block);
	unsigned rows;

	if (i < 0)
		return;
	rows = rows_of(&sp->e[i]);
	if (sp->fd >= 0)
		fallocate(sp->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(block * 255 * x->symsize), (off_t)255 * x->symsize);
	sp->syms -= rows <= sp->syms ? rows : sp->syms;
	rx_quota_add(c, x, -(int64_t)rows * x->symsize);
	memmove(&sp->e[i], &sp->e[i + 1], (sp->n - (size_t)i - 1) * sizeof *sp->e);
	sp->n--;
}

static int open_spool(struct rx_xfer *x)
{
	struct rx_spool *sp = spool_of(x);

	if (!sp)
		return SL_ERR_NOMEM;
	if (sp->fd < 0)
		sp->fd = openat(x->dirfd, "spool", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sp->idx_fd < 0)
		sp->idx_fd = openat(x->dirfd, "spool.idx",
				    O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	return sp->fd >= 0 && sp->idx_fd >= 0 ? SL_OK : SL_ERR_IO;
}

int rx_xfer_spool_symbol(struct rx_ctx *c, struct rx_xfer *x, uint64_t block, uint16_t k,
			 uint16_t row, const uint8_t *sym)
{
	uint8_t rec[12];
	struct rx_spooled *e;
	uint64_t off = (block * 255 + row) * (uint64_t)x->symsize;

	int r = open_spool(x);

	if (r == SL_ERR_NOMEM)
		return r;
	if (r) {
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
	if (sl_pwrite_all(x->sp->fd, sym, x->symsize, off)) {
		rx_storage_failed(c, x, "spooling a symbol", errno);
		return SL_ERR_IO;
	}
	rx_quota_add(c, x, x->symsize);
	x->sp->syms++;
	c->st.spooled++;
	e->rows[row / 8] |= (uint8_t)(1u << (row % 8)); /* in memory it is spooled either way */
	sl_put_be64(rec, block);
	sl_put_be16(rec + 8, row);
	sl_put_be16(rec + 10, k);
	if (write(x->sp->idx_fd, rec, sizeof rec) != (ssize_t)sizeof rec) {
		struct stat st;
		int err = errno;
		/* A torn record would shift every later one: cut it off. */
		if (fstat(x->sp->idx_fd, &st) == 0)
			(void)!ftruncate(x->sp->idx_fd, st.st_size - st.st_size % (off_t)sizeof rec);
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
	    sl_pread_all(x->sp->fd, sym, x->symsize, (block * 255 + row) * (uint64_t)x->symsize))
		return SL_ERR_IO;
	return SL_OK;
}

void rx_spool_discard(struct rx_ctx *c, struct rx_xfer *x)
{
	unlinkat(x->dirfd, "spool", 0);
	unlinkat(x->dirfd, "spool.idx", 0);
	if (!x->sp)
		return;
	rx_quota_add(c, x, -(int64_t)x->sp->syms * x->symsize);
	rx_spool_free(x);
}

void rx_spool_close(struct rx_xfer *x)
{
	if (x->sp) {
		sl_close_fd(&x->sp->fd);
		sl_close_fd(&x->sp->idx_fd);
	}
}

void rx_spool_free(struct rx_xfer *x)
{
	rx_spool_close(x);
	if (x->sp)
		free(x->sp->e);
	free(x->sp);
	x->sp = NULL;
}

uint64_t rx_spool_syms(const struct rx_xfer *x)
{
	return x->sp ? x->sp->syms : 0;
}

size_t rx_spool_blocks(const struct rx_xfer *x)
{
	return x->sp ? x->sp->n : 0;
}

size_t rx_spool_ready(const struct rx_xfer *x, uint64_t **blocks)
{
	size_t n = 0;

	*blocks = NULL;
	if (!x->sp || !x->sp->n || !(*blocks = malloc(x->sp->n * sizeof **blocks)))
		return 0;
	for (size_t i = 0; i < x->sp->n; i++)
		if (rows_of(&x->sp->e[i]) >= x->sp->e[i].k)
			(*blocks)[n++] = x->sp->e[i].block;
	return n;
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
			x->sp->syms++;
		}
	}
	close(fd);
}
