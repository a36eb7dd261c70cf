/* hasher.c — SHA-256 of staged files on a thread of its own (see rx.h).
 *
 * One thread per sluice-rx, started after the sandbox is applied, so it
 * inherits Landlock and seccomp (the filter allows clone with CLONE_THREAD
 * only). Transfers whose files are written in
 * place (direct.c) are registered with it; it follows each one's hash
 * frontier: while chunk x->hx->chunk is marked written (by the writer thread,
 * writer.c, or at tree open: x->written) it reads the chunk back
 * from the files (page cache) and feeds it to the hash of the file it
 * belongs to, comparing each file's digest with the manifest as its last
 * byte goes in. The receive thread never waits for hashing (it only sets
 * done[] and kicks), so recvmmsg keeps draining; it learns of a mismatch
 * through rx_hasher_status() and waits for the end only at release.
 *
 * Ownership: what the hasher keeps of a transfer is struct rx_hx (x->hx),
 * known only here; while a transfer is registered it belongs to the thread
 * (read by the receive thread under the mutex only); written[] is
 * set once per chunk, 0 -> 1, with release/acquire atomics (cleared only
 * after a failed sync, when hashing starts over).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx.h"
#include "pool.h"
#include "safefs.h"

#define MAXJOBS 256

/* The hasher's state of one transfer (x->hx): made by rx_hasher_add,
 * reset by rx_hasher_reset, freed by rx_hasher_forget (x not registered).
 * While x is registered it belongs to the thread; the receive thread reads
 * err, why and all under the mutex. */
struct rx_hx {
	uint64_t chunk;             /* hash frontier: next chunk to hash */
	uint64_t pos;               /* ... as a stream offset */
	size_t file;                /* file being hashed */
	int fd;                     /* descriptor of file fd_idx (-1: none) */
	size_t fd_idx;
	struct sl_sha256 *ctx;
	int all;                    /* every file hashed and matched */
	int err;                    /* hashing failed: an error, the reason in why */
	char why[600];
};

struct rx_hasher {
	struct sl_pool *thread;     /* the hashing thread (one helper) */
	pthread_mutex_t mu;
	pthread_cond_t work;        /* new chunks or jobs, or stop */
	pthread_cond_t progress;    /* a chunk was hashed / a job went idle */
	struct rx_xfer *jobs[MAXJOBS];
	unsigned njobs;
	struct rx_xfer *busy;       /* job being worked on (mutex released) */
	int stop;
	uint8_t *buf;
	size_t cap;
};

static uint64_t chunk_len(const struct rx_xfer *x, uint64_t idx)
{
	uint64_t off = idx * x->hdr.chunk_size;
	return x->hdr.total_bytes - off < x->hdr.chunk_size ? x->hdr.total_bytes - off
							      : x->hdr.chunk_size;
}

static int ready(const struct rx_xfer *x)
{
	if (x->hx->err || x->hx->all)
		return 0;
	if (x->hx->chunk == x->hdr.nchunks)
		return 1; /* only trailing empty files left */
	return rx_done_get(x->written, x->hx->chunk);
}

/* Read stream bytes [off, off+len) back from the files, in order. */
static int read_back(struct rx_xfer *x, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = x->hx->file;

	while (len) {
		const struct sl_manifest_file *f;
		uint64_t at;
		size_t n;
		if (i >= x->nhf)
			return SL_ERR_INVAL;
		f = &x->hf[i];
		if (off >= f->offset + f->size) {
			i++;
			continue;
		}
		at = off - f->offset;
		n = f->size - at < len ? (size_t)(f->size - at) : len;
		if (x->hx->fd_idx != i || x->hx->fd < 0) {
			if (x->hx->fd >= 0)
				close(x->hx->fd);
			x->hx->fd = sl_openat_beneath(x->data_fd, f->path, O_RDONLY, 0);
			if (x->hx->fd < 0) {
				errno = -x->hx->fd;
				x->hx->fd = -1;
				snprintf(x->hx->why, sizeof x->hx->why, "data/%s: cannot read it back: %s",
					 f->path, strerror(errno));
				return SL_ERR_IO;
			}
			x->hx->fd_idx = i;
		}
		if (sl_pread_all(x->hx->fd, buf, n, at)) {
			snprintf(x->hx->why, sizeof x->hx->why, "data/%s: cannot read it back: %s", f->path,
				 strerror(errno));
			return SL_ERR_IO;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return SL_OK;
}

/* Feed stream bytes at the frontier to the file hashes. */
static int feed(struct rx_xfer *x, const uint8_t *p, size_t len)
{
	uint8_t dig[32];

	for (;;) {
		const struct sl_manifest_file *f;
		size_t n;
		while (x->hx->file < x->nhf && x->hf[x->hx->file].size == 0) {
			sl_sha256("", 0, dig);
			if (memcmp(dig, x->hf[x->hx->file].sha256, 32) != 0)
				goto bad;
			x->hx->file++;
		}
		if (len == 0)
			return SL_OK;
		if (x->hx->file >= x->nhf) {
			snprintf(x->hx->why, sizeof x->hx->why, "staged data runs past the last file");
			return SL_ERR_INVAL;
		}
		f = &x->hf[x->hx->file];
		n = f->offset + f->size - x->hx->pos < len ? (size_t)(f->offset + f->size - x->hx->pos) : len;
		if (!x->hx->ctx && sl_sha256_new(&x->hx->ctx))
			return SL_ERR_NOMEM;
		sl_sha256_update(x->hx->ctx, p, n);
		p += n;
		len -= n;
		x->hx->pos += n;
		if (x->hx->pos == f->offset + f->size) {
			sl_sha256_final(x->hx->ctx, dig);
			sl_sha256_free(x->hx->ctx);
			x->hx->ctx = NULL;
			if (memcmp(dig, f->sha256, 32) != 0)
				goto bad;
			x->hx->file++;
		}
	}
bad:
	snprintf(x->hx->why, sizeof x->hx->why,
		 "data/%s: SHA-256 of the received content differs from the signed manifest",
		 x->hf[x->hx->file].path);
	return SL_ERR_HASH;
}

/* One step of job x: the next chunk, or the trailing empty files. Sets
 * *all when every file has been hashed. Runs without the mutex. */
static int step(struct rx_hasher *h, struct rx_xfer *x, int *all)
{
	int r;

	*all = 0;
	if (x->hx->chunk == x->hdr.nchunks) {
		r = feed(x, NULL, 0);
		if (!r)
			*all = x->hx->file == x->nhf;
		if (!r && !*all) {
			snprintf(x->hx->why, sizeof x->hx->why, "the files end before the manifest's");
			r = SL_ERR_INVAL;
		}
	} else {
		size_t n = (size_t)chunk_len(x, x->hx->chunk);
		r = n <= h->cap ? read_back(x, x->hx->chunk * x->hdr.chunk_size, h->buf, n) : SL_ERR_TOOBIG;
		if (!r)
			r = feed(x, h->buf, n);
		if (!r)
			x->hx->chunk++;
	}
	if (r && !x->hx->why[0])
		snprintf(x->hx->why, sizeof x->hx->why, "hashing failed: %s", sl_strerror(r));
	return r;
}

static void run(void *arg, unsigned worker)
{
	struct rx_hasher *h = arg;

	(void)worker;
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		struct rx_xfer *x = NULL;
		for (unsigned i = 0; i < h->njobs && !x; i++)
			if (ready(h->jobs[i]))
				x = h->jobs[i];
		if (!x) {
			pthread_cond_wait(&h->work, &h->mu);
			continue;
		}
		int r, all;
		h->busy = x;
		pthread_mutex_unlock(&h->mu);
		r = step(h, x, &all);
		pthread_mutex_lock(&h->mu);
		x->hx->err = r;
		x->hx->all = all;
		h->busy = NULL;
		pthread_cond_broadcast(&h->progress);
	}
	pthread_mutex_unlock(&h->mu);
}

int rx_hasher_start(size_t chunkcap, struct rx_hasher **out)
{
	struct rx_hasher *h = calloc(1, sizeof *h);

	*out = NULL;
	if (!h)
		return SL_ERR_NOMEM;
	h->cap = chunkcap;
	h->buf = malloc(chunkcap);
	if (!h->buf) {
		free(h);
		return SL_ERR_NOMEM;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->progress, NULL);
	if (sl_pool_start_one("rx-hasher", run, h, &h->thread, NULL) != SL_OK) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->work);
		pthread_cond_destroy(&h->progress);
		free(h->buf);
		free(h);
		return SL_ERR_IO;
	}
	*out = h;
	return SL_OK;
}

void rx_hasher_stop(struct rx_hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->mu);
	sl_pool_free(h->thread);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->progress);
	free(h->buf);
	free(h);
}

void rx_hasher_reset(struct rx_xfer *x)
{
	if (!x->hx)
		return;
	sl_sha256_free(x->hx->ctx);
	if (x->hx->fd >= 0)
		close(x->hx->fd);
	memset(x->hx, 0, sizeof *x->hx);
	x->hx->fd = -1;
}

void rx_hasher_forget(struct rx_xfer *x)
{
	rx_hasher_reset(x);
	free(x->hx);
	x->hx = NULL;
}

int rx_hasher_finished(struct rx_hasher *h, const struct rx_xfer *x)
{
	int f;

	if (!x->hx)
		return 0;
	pthread_mutex_lock(&h->mu);
	f = x->hx->all || x->hx->err;
	pthread_mutex_unlock(&h->mu);
	return f;
}

int rx_hasher_add(struct rx_hasher *h, struct rx_xfer *x)
{
	int r = SL_OK;

	if (!x->hx) {
		if ((x->hx = calloc(1, sizeof *x->hx)) == NULL)
			return SL_ERR_NOMEM;
		x->hx->fd = -1;
	}
	pthread_mutex_lock(&h->mu);
	if (h->njobs == MAXJOBS)
		r = SL_ERR_TOOBIG;
	else
		h->jobs[h->njobs++] = x;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
	return r;
}

void rx_hasher_remove(struct rx_hasher *h, struct rx_xfer *x)
{
	pthread_mutex_lock(&h->mu);
	while (h->busy == x)
		pthread_cond_wait(&h->progress, &h->mu);
	for (unsigned i = 0; i < h->njobs; i++)
		if (h->jobs[i] == x) {
			h->jobs[i] = h->jobs[--h->njobs];
			break;
		}
	pthread_mutex_unlock(&h->mu);
	if (x->hx && x->hx->fd >= 0)
		close(x->hx->fd);
	if (x->hx)
		x->hx->fd = -1;
}

int rx_hasher_kick(struct rx_hasher *h, struct rx_xfer *x, char *why, size_t wl)
{
	int r;

	pthread_mutex_lock(&h->mu);
	r = x->hx->err;
	if (r)
		snprintf(why, wl, "%s", x->hx->why);
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->mu);
	return r;
}

int rx_hasher_wait(struct rx_hasher *h, struct rx_xfer *x, char *why, size_t wl)
{
	int r;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->busy == x)
			pthread_cond_wait(&h->progress, &h->mu);
		if (x->hx->err || x->hx->all || h->stop || !ready(x))
			break;
		pthread_cond_signal(&h->work);
		pthread_cond_wait(&h->progress, &h->mu);
	}
	r = x->hx->err;
	if (r)
		snprintf(why, wl, "%s", x->hx->why);
	else if (!x->hx->all) {
		r = SL_ERR_IO;
		snprintf(why, wl, "not every file could be hashed");
	}
	pthread_mutex_unlock(&h->mu);
	return r;
}

int rx_hasher_busy(struct rx_hasher *h, struct rx_xfer *x)
{
	int b;

	if (!h || !x->hx)
		return 0;
	pthread_mutex_lock(&h->mu);
	b = h->busy == x || ready(x);
	pthread_mutex_unlock(&h->mu);
	return b;
}
