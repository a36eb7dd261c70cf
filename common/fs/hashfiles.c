/* hashfiles.c — parallel SHA-256 over files beneath a directory fd. */
#include "hashfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpus.h"
#include "pool.h"
#include "sha256.h"
#include "safefs.h"

#define READ_BUF (1 << 18)
#define FADVISE_FROM (1 << 20) /* read-ahead hint only for files this large */

struct pool {
	int dirfd;
	struct sl_hash_job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_size_t done;
	atomic_uint_fast64_t bytes;
};

/* One per hashing thread: its read buffer, digest context and the
 * directory of its last file. */
struct worker {
	struct pool *p;
	uint8_t *buf;
	struct sl_sha256 *sha;
	int dfd;              /* open directory `dir`, or -1 */
	char *dir;
	size_t dirlen;
};

static void fail(struct sl_hash_job *j, int err, const char *why)
{
	j->err = err;
	snprintf(j->msg, sizeof j->msg, "%s", why);
}

static void fail_errno(struct sl_hash_job *j, int e)
{
	fail(j, e == ENOENT ? SL_ERR_NOTFOUND : SL_ERR_IO,
	     e == ENOENT ? "missing" : e == ELOOP ? "a symbolic link is on its path" :
	     e == ENOTDIR ? "a component of its path is not a directory" :
	     e == EXDEV ? "below a mount point inside the tree (another filesystem)" :
	     e == EACCES ? "unreadable (permission denied)" : strerror(e));
}

/* The directory of `path` (length dl), opened beneath the pool's root
 * without following symlinks; kept open for the next file in it. */
static int dir_of(struct worker *w, const char *path, size_t dl)
{
	char *copy;
	int fd;

	if (dl == 0)
		return w->p->dirfd;
	if (w->dfd >= 0 && w->dirlen == dl && !memcmp(w->dir, path, dl))
		return w->dfd;
	copy = strndup(path, dl);
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	fd = sl_openat_beneath(w->p->dirfd, copy, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		int e = errno;
		free(copy);
		errno = e;
		return -1;
	}
	if (w->dfd >= 0)
		close(w->dfd);
	free(w->dir);
	w->dfd = fd;
	w->dir = copy;
	w->dirlen = dl;
	return fd;
}

static void add_bytes(void *ctx, uint64_t n)
{
	atomic_fetch_add(&((struct pool *)ctx)->bytes, n);
}

static void run_job(struct worker *w, struct sl_hash_job *j)
{
	const char *slash = strrchr(j->path, '/');
	size_t dl = slash ? (size_t)(slash - j->path) : 0;
	struct stat st;
	int dfd, fd, r;

	j->err = SL_OK;
	j->msg[0] = '\0';
	dfd = dir_of(w, j->path, dl);
	fd = dfd < 0 ? -1 : openat(dfd, slash ? slash + 1 : j->path,
				   O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		fail_errno(j, errno);
		return;
	}
	/* O_NONBLOCK only kept a FIFO from blocking the open; reads of
	 * regular files ignore it. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fail(j, SL_ERR_INVAL, "not a regular file");
		close(fd);
		return;
	}
	if (st.st_size >= FADVISE_FROM)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* a short read at the size fstat gave is the end: small files take one read */
	r = sl_sha256_fd(fd, w->sha, w->buf, READ_BUF, (uint64_t)st.st_size, j->sha256, &j->size, add_bytes, w->p,
			 NULL);
	if (r == SL_ERR_IO)
		fail_errno(j, errno);
	else if (r)
		fail(j, r, "SHA-256 failed");
	else if (j->size != (uint64_t)st.st_size) {
		j->err = SL_ERR_IO;
		snprintf(j->msg, sizeof j->msg, "changed while being read (%lld bytes, then %llu)",
			 (long long)st.st_size, (unsigned long long)j->size);
	}
	close(fd);
	j->mode = (st.st_mode & 0111) ? 0755 : 0644;
	j->mtime = st.st_mtim;
	j->dev = (uint64_t)st.st_dev;
	j->ino = (uint64_t)st.st_ino;
	j->nlink = (uint64_t)st.st_nlink;
}

static int worker_init(struct worker *w, struct pool *p)
{
	memset(w, 0, sizeof *w);
	w->p = p;
	w->dfd = -1;
	w->buf = malloc(READ_BUF);
	if (!w->buf || sl_sha256_new(&w->sha)) {
		free(w->buf);
		return SL_ERR_NOMEM;
	}
	return SL_OK;
}

static void worker_fini(struct worker *w)
{
	if (w->dfd >= 0)
		close(w->dfd);
	free(w->dir);
	free(w->buf);
	sl_sha256_free(w->sha);
}

/* Runs jobs until none is left; with `progress`, reports between files. */
static void work(struct pool *p, sl_hash_progress_fn progress, void *pctx)
{
	struct worker w;
	bool ok = worker_init(&w, p) == SL_OK;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		if (ok)
			run_job(&w, &p->jobs[i]);
		else
			fail(&p->jobs[i], SL_ERR_NOMEM, "out of memory");
		atomic_fetch_add(&p->done, 1);
		if (progress)
			progress(pctx, atomic_load(&p->bytes), atomic_load(&p->done));
	}
	if (ok)
		worker_fini(&w);
}

static void pool_work(void *arg, unsigned worker)
{
	(void)worker;
	work(arg, NULL, NULL);
}

/* With a progress callback the calling thread reports about every 200 ms
 * (polling every 10 ms so the end is noticed at once) while the helpers
 * hash; with no helper it hashes itself and reports between files. */
static void report_while_hashing(struct pool *p, struct sl_pool *tp,
				 sl_hash_progress_fn progress, void *pctx)
{
	if (!sl_pool_helpers(tp)) {
		work(p, progress, pctx);
		return;
	}
	for (unsigned k = 0; atomic_load(&p->done) < p->n; k++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		if (k % 20 == 0)
			progress(pctx, atomic_load(&p->bytes), atomic_load(&p->done));
		nanosleep(&ts, NULL);
	}
}

int sl_hash_files(int dirfd, struct sl_hash_job *jobs, size_t n, unsigned threads,
		  sl_hash_progress_fn progress, void *pctx)
{
	struct pool p = { .dirfd = dirfd, .jobs = jobs, .n = n };
	struct sl_pool *tp = NULL;

	atomic_init(&p.next, 0);
	atomic_init(&p.done, 0);
	atomic_init(&p.bytes, 0);
	if (threads == 0)
		threads = sl_cpus_usable();
	if (threads > 8)
		threads = 8;
	if (threads > n)
		threads = n ? (unsigned)n : 1;
	/* With a progress callback the calling thread reports and `threads`
	 * helpers hash; without one the calling thread is one of the workers. */
	if (sl_pool_new(progress ? threads : threads - 1, "sl-hash", &tp, NULL) != SL_OK)
		tp = NULL; /* no memory for the pool: hash on this thread */
	sl_pool_begin(tp, pool_work, &p);
	if (progress)
		report_while_hashing(&p, tp, progress, pctx);
	else
		work(&p, NULL, NULL);
	sl_pool_end(tp);
	sl_pool_free(tp);
	if (progress)
		progress(pctx, atomic_load(&p.bytes), n);
	return SL_OK;
}
