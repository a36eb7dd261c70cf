/* direct.c — decoded chunks written straight into the release tree.
 *
 * Once a transfer's catalog is verified (manifest, signatures, policy,
 * ledger), rx creates STATE/release/<id>/data/ and its directories, and from
 * then on each decoded chunk goes into the files it covers (created when
 * their first bytes come, openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, mode
 * 0600), instead of into the sparse stream file; release then needs no
 * copy. With the writer thread (writer.c, the default) the receive thread
 * only queues the chunk (or spills it into the stream file when the queue is
 * full); the writer writes, syncs and marks it written. Chunks decoded
 * before the catalog is verified (those that come before it, and those that
 * come while it is verified on its thread, verify.c) are in the stream file;
 * when the tree opens they are spilled to the writer, which moves them into
 * the files (open_spilling): never copied on the receive thread. Without a
 * writer thread they are copied here (copy_stream).
 *
 * Hashing follows a frontier: chunk i is hashed when chunks 0..i-1 have
 * been, from memory if it is the one just decoded, else read back from the
 * files; each file's SHA-256 is compared with the manifest the moment its
 * last byte is hashed, so a bad file rejects the transfer at once, and at
 * release every file has been hashed.
 *
 * Crash safety: the marker STATE/xfer/<id>/tree is written (atomically)
 * once the tree's directories are made and, if chunks were copied into it
 * from the stream, after a syncfs (with the writer: after the done map on
 * disk is emptied, as the writer makes those chunks durable again in the
 * files); the
 * done map names a chunk only after the files it touched are synced
 * (rx_xfer_checkpoint). After a restart the tree is reopened (never created
 * again over itself) when the marker exists, and removed and rebuilt from
 * the stream file when it does not. With the marker, the stream holds only
 * chunks spilled and not yet moved, which are not in the done map: it is
 * emptied (and removed at start, xfer.c). The frontier restarts at 0 and
 * reads back what is already done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"
#include "sha256.h"

#define MARKER "tree"
#define SYNC_EACH_MAX 16  /* more files written since the last sync: one syncfs */

/* What the receive thread keeps of a tree it writes itself (x->tf, without
 * a writer thread): open files, and the files written since the last sync.
 * Made when the tree opens, freed by rx_tree_forget or rx_tree_drop. */
struct rx_tfiles {
	struct { size_t idx; int fd; } fdc[RX_FDC];
	uint8_t *dirty;             /* per file: written since the last sync */
	size_t *dirtyl, ndirty;     /* ... their list */
};

static struct rx_tfiles *tfiles_new(size_t nfiles)
{
	struct rx_tfiles *tf = calloc(1, sizeof *tf);
	size_t n = nfiles ? nfiles : 1;

	if (!tf)
		return NULL;
	tf->dirty = calloc(n, 1);
	tf->dirtyl = calloc(n, sizeof *tf->dirtyl);
	if (!tf->dirty || !tf->dirtyl) {
		free(tf->dirty);
		free(tf->dirtyl);
		free(tf);
		return NULL;
	}
	for (unsigned i = 0; i < RX_FDC; i++)
		tf->fdc[i].fd = -1;
	return tf;
}

void rx_tree_drop(struct rx_xfer *x)
{
	for (size_t i = 0; i < x->nhf; i++)
		free(x->hf[i].path);
	free(x->hf);
	x->hf = NULL;
	x->nhf = 0;
	if (!x->tf)
		return;
	for (unsigned i = 0; i < RX_FDC; i++)
		if (x->tf->fdc[i].fd >= 0)
			close(x->tf->fdc[i].fd);
	free(x->tf->dirty);
	free(x->tf->dirtyl);
	free(x->tf);
	x->tf = NULL;
}

static void fdc_close(struct rx_xfer *x)
{
	for (unsigned i = 0; x->tf && i < RX_FDC; i++) {
		if (x->tf->fdc[i].fd >= 0)
			close(x->tf->fdc[i].fd);
		x->tf->fdc[i].fd = -1;
	}
}

/* Descriptor of file i (read-write, created if missing), from a small
 * direct-mapped cache. */
static int file_fd(struct rx_xfer *x, size_t i)
{
	unsigned slot = (unsigned)(i % RX_FDC);
	int fd;

	if (x->tf->fdc[slot].fd >= 0 && x->tf->fdc[slot].idx == i)
		return x->tf->fdc[slot].fd;
	fd = rx_tree_file(x->data_fd, x->manifest->files[i].path);
	if (fd < 0)
		return -1;
	if (x->tf->fdc[slot].fd >= 0)
		close(x->tf->fdc[slot].fd);
	x->tf->fdc[slot].fd = fd;
	x->tf->fdc[slot].idx = i;
	return fd;
}

/* Write the pieces queued in ops[0..n) (c->uio: pwrite or io_uring) and
 * wait for them; each file's writeback starts at once, and it is dirty
 * until the next rx_tree_sync(). */
static int write_pieces(struct rx_ctx *c, struct rx_xfer *x, struct sl_uio_op *ops,
			const size_t *file, unsigned n)
{
	struct sl_diag d = { "" };
	int r = sl_uio_drain(c->uio, &d), err = EIO;

	if (r) {
		for (unsigned k = 0; k < n; k++)
			if (ops[k].err) {
				err = ops[k].err;
				break;
			}
		if (err != ENOSPC && err != EDQUOT) /* a full disk is said once per episode (storage.c) */
			rx_log_limited(c, SL_LOG_ERR, c->now, "transfer %s: staged data/%s", x->hex, d.msg);
		errno = err; /* for the caller: a full disk or another I/O error */
		return SL_ERR_IO;
	}
	for (unsigned k = 0; k < n; k++) {
		/* start writeback now so the checkpoint finds little to do */
		sync_file_range(ops[k].fd, (off64_t)ops[k].off, (off64_t)ops[k].len,
				SYNC_FILE_RANGE_WRITE);
		if (!x->tf->dirty[file[k]]) {
			x->tf->dirty[file[k]] = 1;
			x->tf->dirtyl[x->tf->ndirty++] = file[k];
		}
	}
	return SL_OK;
}

/* Write stream bytes [off, off+len) into the files. The pieces of files
 * less than RX_FDC apart are in flight together: each has its own slot in
 * the descriptor cache, so none is closed under a write. */
static int files_write(struct rx_ctx *c, struct rx_xfer *x, uint64_t off, uint8_t *buf, size_t len)
{
	const struct sl_manifest *m = x->manifest;
	size_t i = sl_manifest_file_at(m->files, m->nfiles, off), file[RX_FDC];
	struct sl_uio_op ops[RX_FDC];
	struct sl_diag d = { "" };
	unsigned n = 0;
	int r;

	while (len) {
		const struct sl_manifest_file *f;
		uint64_t at;
		size_t k;
		int fd;

		if (i >= m->nfiles)
			return SL_ERR_INVAL;
		f = &m->files[i];
		if (f->size == 0) {
			i++;
			continue;
		}
		at = off - f->offset;
		k = f->size - at < len ? (size_t)(f->size - at) : len;
		if (n && i - file[0] >= RX_FDC) {
			r = write_pieces(c, x, ops, file, n);
			if (r)
				return r;
			n = 0;
		}
		fd = file_fd(x, i);
		if (fd < 0) {
			int err = errno;
			rx_log_limited(c, SL_LOG_ERR, c->now, "transfer %s: cannot open staged data/%s: %s",
				       x->hex, f->path, strerror(err));
			sl_uio_drain(c->uio, NULL);
			errno = err;
			return SL_ERR_IO;
		}
		ops[n] = (struct sl_uio_op){ .fd = fd, .write = 1, .buf = buf, .len = k, .off = at,
					     .name = f->path };
		file[n] = i;
		r = sl_uio_queue(c->uio, &ops[n], &d);
		if (r) {
			rx_log_limited(c, SL_LOG_ERR, c->now, "transfer %s: writing staged data/%s: %s",
				       x->hex, f->path, d.msg);
			sl_uio_drain(c->uio, NULL);
			errno = EIO;
			return SL_ERR_IO;
		}
		n++;
		buf += k;
		off += k;
		len -= k;
		i++;
	}
	return write_pieces(c, x, ops, file, n);
}

static uint64_t chunk_len(const struct rx_xfer *x, uint64_t idx)
{
	uint64_t off = idx * x->hdr.chunk_size;
	return x->hdr.total_bytes - off < x->hdr.chunk_size ? x->hdr.total_bytes - off
							      : x->hdr.chunk_size;
}

int rx_tree_advance(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	why[0] = '\0';
	if (!x->hasher)
		return SL_OK;
	return rx_hasher_kick(c->hasher, x, why, wl);
}

int rx_tree_place(struct rx_ctx *c, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len)
{
	return files_write(c, x, idx * x->hdr.chunk_size, (uint8_t *)buf, len);
}

int rx_tree_sync(struct rx_ctx *c, struct rx_xfer *x)
{
	int r = SL_OK;

	/* A few files: fdatasync each (syncfs would also wait for every
	 * other writer's dirty data). Many small files: one syncfs, not one
	 * journal commit per file. */
	if (x->tf->ndirty > SYNC_EACH_MAX) {
		if (syncfs(x->data_fd) != 0)
			r = SL_ERR_IO;
	} else {
		for (size_t k = 0; k < x->tf->ndirty && !r; k++) {
			int fd = file_fd(x, x->tf->dirtyl[k]);
			if (fd < 0 || fdatasync(fd) != 0)
				r = SL_ERR_IO;
		}
	}
	if (r) {
		int err = errno;
		sl_log(c->log, SL_LOG_ERR, "transfer %s: syncing staged files failed: %s", x->hex,
		       strerror(err));
		errno = err;
		return r;
	}
	for (size_t k = 0; k < x->tf->ndirty; k++)
		x->tf->dirty[x->tf->dirtyl[k]] = 0;
	x->tf->ndirty = 0;
	return SL_OK;
}

void rx_tree_close(struct rx_xfer *x)
{
	rx_base_cancel(x); /* a copy from the base writes into the tree */
	if (x->writer) {
		/* what is queued is written and made durable first (its failures
		 * stay with the writer's state of x for rx_writer_poll) */
		rx_writer_flush(x->writer, x);
		rx_writer_release(x->writer, x);
		x->writer = NULL;
	}
	if (x->hasher)
		rx_hasher_remove(x->hasher, x);
	x->hasher = NULL;
	fdc_close(x);
	if (x->data_fd >= 0)
		close(x->data_fd);
	if (x->top_fd >= 0)
		close(x->top_fd);
	x->data_fd = x->top_fd = -1;
	x->tree = 0;
}

void rx_tree_restart_hashing(struct rx_xfer *x)
{
	rx_tree_close(x);
	rx_hasher_reset(x);
}

void rx_tree_forget(struct rx_ctx *c, struct rx_xfer *x)
{
	rx_tree_close(x);
	rx_tree_drop(x);
	rx_hasher_reset(x);
	if (x->dirfd >= 0)
		unlinkat(x->dirfd, MARKER, 0);
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
}

/* Create the tree and its directories; the files are created when their
 * first bytes are written (writer.c, rx_tree_place) or, empty ones, at
 * release (finish.c): creating a million files here would hold up the
 * receive thread for seconds. */
static int create_tree(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
	if (mkdirat(c->relstage_fd, x->hex, 0755) != 0 ||
	    (x->top_fd = sl_openat_beneath(c->relstage_fd, x->hex, O_RDONLY | O_DIRECTORY, 0)) < 0 ||
	    mkdirat(x->top_fd, "data", 0755) != 0 ||
	    (x->data_fd = sl_openat_beneath(x->top_fd, "data", O_RDONLY | O_DIRECTORY, 0)) < 0) {
		if (x->top_fd < 0)
			x->top_fd = -1;
		snprintf(why, wl, "cannot create the release staging directory: %s", strerror(errno));
		return SL_ERR_IO;
	}
	if (rx_shape_dirs(x->manifest, x->data_fd, why, wl) != SL_OK)
		return SL_ERR_IO;
	return SL_OK;
}

/* The hasher and writer threads' own copy of the file table, each line a
 * deep copy (its own path): the manifest object is replaced when rx
 * re-verifies it, so the threads never read x->manifest. Freed by
 * rx_tree_drop(). */
static int hasher_files(struct rx_xfer *x)
{
	const struct sl_manifest *m = x->manifest;

	if (x->hf)
		return SL_OK;
	x->hf = calloc(m->nfiles ? m->nfiles : 1, sizeof *x->hf);
	if (!x->hf)
		return SL_ERR_NOMEM;
	for (size_t i = 0; i < m->nfiles; i++) {
		x->hf[i] = m->files[i];
		x->hf[i].path = strdup(m->files[i].path);
		if (!x->hf[i].path) {
			x->nhf = i;
			return SL_ERR_NOMEM;
		}
	}
	x->nhf = m->nfiles;
	return SL_OK;
}

/* Chunks that went to the stream before the catalog was known, into the tree. */
static int copy_stream(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	if (!x->ndone)
		return SL_OK;
	if (x->stream_fd < 0) {
		snprintf(why, wl, "the staged stream is not open");
		return SL_ERR_IO;
	}
	for (uint64_t i = 0; i < x->hdr.nchunks; i++) {
		size_t n = (size_t)chunk_len(x, i);
		int r;
		if (!rx_done_get(x->done, i))
			continue;
		if (sl_pread_all(x->stream_fd, c->hashbuf, n, i * x->hdr.chunk_size)) {
			snprintf(why, wl, "reading the staged stream: %s", strerror(errno));
			return SL_ERR_IO;
		}
		r = rx_tree_place(c, x, i, c->hashbuf, n);
		if (r) {
			snprintf(why, wl, "copying staged chunks into the tree");
			return r;
		}
	}
	return SL_OK;
}

/* The tree with the hasher and the writer. */
static int start_hashing(struct rx_ctx *c, struct rx_xfer *x)
{
	int r = hasher_files(x);

	if (!r && c->writer)
		r = rx_writer_attach(x);
	if (!r)
		r = rx_hasher_add(c->hasher, x);
	if (r)
		return r;
	x->hasher = c->hasher;
	x->writer = c->writer;
	return SL_OK;
}

/* A new tree (create_tree done) whose chunks the writer thread writes: those
 * in the stream already (decoded before the catalog was verified) are
 * spilled to it (writer.c), not copied here, on the receive thread. Their
 * done map on disk is emptied before the marker is written: after a crash
 * the done map names only what the writer has synced into the tree. */
static int open_spilling(struct rx_ctx *c, struct rx_xfer *x)
{
	char why[200] = "";
	int r;

	if (x->ndone && (x->done_fd < 0 || ftruncate(x->done_fd, 0) != 0 || fdatasync(x->done_fd) != 0)) {
		r = SL_ERR_IO;
		snprintf(why, sizeof why, "cannot reset the done map: %s", strerror(errno));
	} else if (sl_write_file_atomic(x->dirfd, MARKER, "", 0, 0600, NULL) != SL_OK) {
		r = SL_ERR_IO;
		snprintf(why, sizeof why, "cannot write the staged tree's marker: %s", strerror(errno));
	} else {
		rx_pend_clear(x); /* the writer makes them durable again, in the files */
		memset(x->written, 0, rx_done_bytes(x->hdr.nchunks));
		r = start_hashing(c, x);
		if (r)
			snprintf(why, sizeof why, "cannot register with the hashing thread");
	}
	if (r) {
		if (r == SL_ERR_IO)
			rx_storage_failed(c, x, "creating the files in the release staging area", errno);
		sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot stage files in place (%s); using the stream "
		       "file", x->hex, why);
		rx_tree_close(x);
		unlinkat(x->dirfd, MARKER, 0);
		sl_remove_tree(c->relstage_fd, x->hex, NULL);
		return r;
	}
	for (uint64_t i = 0; x->ndone && i < x->hdr.nchunks; i++) {
		if (!rx_done_get(x->done, i))
			continue;
		if (rx_writer_spill(x->writer, x, i, NULL, (size_t)chunk_len(x, i), 1) != SL_OK) {
			/* no memory: not done, a later pass brings it */
			x->done[i / 8] &= (uint8_t)~(1u << (i % 8));
			x->ndone--;
			rx_quota_add(c, x, -(int64_t)x->hdr.chunk_size);
			continue;
		}
		rx_quota_add(c, x, x->hdr.chunk_size); /* its copy in the stream, until moved */
		x->spill_quota += x->hdr.chunk_size;
	}
	return SL_OK;
}

int rx_tree_open(struct rx_ctx *c, struct rx_xfer *x)
{
	char why[1024] = "";
	struct stat st;
	int r, have_marker;

	if (x->tree)
		return SL_OK;
	if (!x->catalog_ok || !x->manifest || x->dirfd < 0)
		return SL_ERR_AGAIN;
	if (!x->tf && (x->tf = tfiles_new(x->manifest->nfiles)) == NULL)
		return SL_ERR_NOMEM;
	fdc_close(x);
	have_marker = fstatat(x->dirfd, MARKER, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (have_marker) {
		x->top_fd = sl_openat_beneath(c->relstage_fd, x->hex, O_RDONLY | O_DIRECTORY, 0);
		x->data_fd = x->top_fd >= 0 ? sl_openat_beneath(x->top_fd, "data", O_RDONLY | O_DIRECTORY, 0)
					    : -1;
		if (x->data_fd >= 0) {
			x->tree = 1;
			goto hash;
		}
		/* The tree went away: what was only in it must come again. */
		sl_log(c->log, SL_LOG_WARN, "transfer %s: staged files are missing; receiving them again",
		       x->hex);
		if (x->top_fd >= 0)
			close(x->top_fd);
		x->top_fd = x->data_fd = -1;
		memset(x->done, 0, rx_done_bytes(x->hdr.nchunks));
		x->ndone = 0;
		rx_pend_clear(x);
		if (x->done_fd >= 0 && ftruncate(x->done_fd, 0) != 0)
			sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot reset the done map", x->hex);
		unlinkat(x->dirfd, MARKER, 0);
	}
	rx_hasher_reset(x);
	r = create_tree(c, x, why, sizeof why);
	if (r)
		goto fail;
	x->tree = 1;
	if (c->writer)
		return open_spilling(c, x);
	r = copy_stream(c, x, why, sizeof why);
	if (r)
		goto fail;
	/* With chunks copied from the stream: those files and every directory
	 * entry durable (syncfs) before the marker, as the stream goes. With
	 * none (the catalog comes first: the usual case) the marker needs
	 * nothing under it to be durable: a tree that a crash took away is
	 * received again, directories missing after one are made again when
	 * written (rx_tree_file) and at release (rx_shape_dirs), and the done
	 * map names no chunk before a syncfs (writer.c). No syncfs here, which
	 * would hold the receive thread for as long as the filesystem's dirty
	 * data of any writer takes. */
	if ((x->ndone && (rx_tree_sync(c, x) != SL_OK || syncfs(x->top_fd) != 0 ||
			  sl_fsync_dir(c->relstage_fd, ".") != 0)) ||
	    sl_write_file_atomic(x->dirfd, MARKER, "", 0, 0600, NULL) != SL_OK) {
		r = SL_ERR_IO;
		snprintf(why, sizeof why, "cannot make the staged tree durable: %s", strerror(errno));
		goto fail;
	}
	/* The stream is not needed any more. */
	if (x->stream_fd >= 0) {
		close(x->stream_fd);
		x->stream_fd = -1;
	}
	unlinkat(x->dirfd, "stream", 0);
hash:
	/* everything done so far is in the files (the writer let go of x at
	 * close); what the stream holds was spilled and not moved before a
	 * crash: not done, not counted, a later pass brings it */
	memcpy(x->written, x->done, rx_done_bytes(x->hdr.nchunks));
	if (x->stream_fd >= 0)
		(void)!ftruncate(x->stream_fd, 0); /* failing: only disk until the staging goes */
	r = start_hashing(c, x);
	if (r) {
		snprintf(why, sizeof why, "cannot register with the hashing thread");
		goto fail;
	}
	return SL_OK;
fail:
	if (r == SL_ERR_IO)
		rx_storage_failed(c, x, "creating the files in the release staging area", errno);
	sl_log(c->log, SL_LOG_ERR, "transfer %s: cannot stage files in place (%s); using the stream file",
	       x->hex, why);
	rx_tree_close(x);
	sl_remove_tree(c->relstage_fd, x->hex, NULL);
	return r;
}
