/* hasher.c — SHA-256 of staged files on a thread of its own (see rx.h).
 *
 * One thread per sluice-rx, started after the sandbox is applied, so it
 * inherits Landlock and seccomp (the filter allows clone with CLONE_THREAD
 * only). Transfers whose files are written in
 * place (direct.c) are registered with it; it follows each one's hash
 * frontier: while chunk x->hchunk is marked written (by the writer thread,
 * writer.c, or at tree open: x->written) it reads the chunk back
 * from the files (page cache) and feeds it to the hash of the file it
 * belongs to, comparing each file's digest with the manifest as its last
 * byte goes in. The receive thread never waits for hashing (it only sets
 * done[] and kicks), so recvmmsg keeps draining; it learns of a mismatch
 * through rx_hasher_status() and waits for the end only at release.
 *
 * Ownership: while a transfer is registered, its h* fields belong to the
 * thread (read by the receive thread under the mutex only); written[] is
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
#include "safefs.h"

#define MAXJOBS 256

struct rx_hasher {
	pthread_t thread;
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
	if (x->herr || x->hashed_all)
		return 0;
	if (x->hchunk == x->hdr.nchunks)
		return 1; /* only trailing empty files left */
	return rx_done_get(x->written, x->hchunk);
}

/* Read stream bytes [off, off+len) back from the files, in order. */
static int read_back(struct rx_xfer *x, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = x->hfile;

	while (len) {
		const struct rx_hfile *f;
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
		if (x->hfd_idx != i || x->hfd < 0) {
			if (x->hfd >= 0)
				close(x->hfd);
			x->hfd = sl_openat_beneath(x->data_fd, f->path, O_RDONLY, 0);
			if (x->hfd < 0) {
				errno = -x->hfd;
				x->hfd = -1;
				snprintf(x->hwhy, sizeof x->hwhy, "data/%s: cannot read it back: %s",
					 f->path, strerror(errno));
				return SL_ERR_IO;
			}
			x->hfd_idx = i;
		}
		if (sl_pread_all(x->hfd, buf, n, at)) {
			snprintf(x->hwhy, sizeof x->hwhy, "data/%s: cannot read it back: %s", f->path,
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
		const struct rx_hfile *f;
		size_t n;
		while (x->hfile < x->nhf && x->hf[x->hfile].size == 0) {
			sl_sha256("", 0, dig);
			if (memcmp(dig, x->hf[x->hfile].sha256, 32) != 0)
				goto bad;
			x->hfile++;
		}
		if (len == 0)
			return SL_OK;
		if (x->hfile >= x->nhf) {
			snprintf(x->hwhy, sizeof x->hwhy, "staged data runs past the last file");
			return SL_ERR_INVAL;
		}
		f = &x->hf[x->hfile];
		n = f->offset + f->size - x->hpos < len ? (size_t)(f->offset + f->size - x->hpos) : len;
		if (!x->hctx && sl_sha256_new(&x->hctx))
			return SL_ERR_NOMEM;
		sl_sha256_update(x->hctx, p, n);
		p += n;
		len -= n;
		x->hpos += n;
		if (x->hpos == f->offset + f->size) {
			sl_sha256_final(x->hctx, dig);
			sl_sha256_free(x->hctx);
			x->hctx = NULL;
			if (memcmp(dig, f->sha256, 32) != 0)
				goto bad;
			x->hfile++;
		}
	}
bad:
	snprintf(x->hwhy, sizeof x->hwhy,
		 "data/%s: SHA-256 of the received content differs from the signed manifest",
		 x->hf[x->hfile].path);
	return SL_ERR_HASH;
}

/* One step of job x: the next chunk, or the trailing empty files. Sets
 * *all when every file has been hashed. Runs without the mutex. */
static int step(struct rx_hasher *h, struct rx_xfer *x, int *all)
{
	int r;

	*all = 0;
	if (x->hchunk == x->hdr.nchunks) {
		r = feed(x, NULL, 0);
		if (!r)
			*all = x->hfile == x->nhf;
		if (!r && !*all) {
			snprintf(x->hwhy, sizeof x->hwhy, "the files end before the manifest's");
			r = SL_ERR_INVAL;
		}
	} else {
		size_t n = (size_t)chunk_len(x, x->hchunk);
		r = n <= h->cap ? read_back(x, x->hchunk * x->hdr.chunk_size, h->buf, n) : SL_ERR_TOOBIG;
		if (!r)
			r = feed(x, h->buf, n);
		if (!r)
			x->hchunk++;
	}
	if (r && !x->hwhy[0])
		snprintf(x->hwhy, sizeof x->hwhy, "hashing failed: %s", sl_strerror(r));
	return r;
}

static void *run(void *arg)
{
	struct rx_hasher *h = arg;

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
		x->herr = r;
		x->hashed_all = all;
		h->busy = NULL;
		pthread_cond_broadcast(&h->progress);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
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
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
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
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->work);
	pthread_cond_destroy(&h->progress);
	free(h->buf);
	free(h);
}

int rx_hasher_add(struct rx_hasher *h, struct rx_xfer *x)
{
	int r = SL_OK;

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
	if (x->hfd >= 0)
		close(x->hfd);
	x->hfd = -1;
}

int rx_hasher_kick(struct rx_hasher *h, struct rx_xfer *x, char *why, size_t wl)
{
	int r;

	pthread_mutex_lock(&h->mu);
	r = x->herr;
	if (r)
		snprintf(why, wl, "%s", x->hwhy);
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
		if (x->herr || x->hashed_all || h->stop || !ready(x))
			break;
		pthread_cond_signal(&h->work);
		pthread_cond_wait(&h->progress, &h->mu);
	}
	r = x->herr;
	if (r)
		snprintf(why, wl, "%s", x->hwhy);
	else if (!x->hashed_all) {
		r = SL_ERR_IO;
		snprintf(why, wl, "not every file could be hashed");
	}
	pthread_mutex_unlock(&h->mu);
	return r;
}

int rx_hasher_busy(struct rx_hasher *h, struct rx_xfer *x)
{
	int b;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	b = h->busy == x || ready(x);
	pthread_mutex_unlock(&h->mu);
	return b;
}
