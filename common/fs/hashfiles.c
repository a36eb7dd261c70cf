/* hashfiles.c — parallel SHA-256 over files beneath a directory fd. */
#include "hashfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "tree.h"

struct pool {
	int dirfd;
	struct sl_hash_job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_size_t done;
	atomic_uint_fast64_t bytes;
};

struct byte_ctx {
	struct pool *pool;
	uint64_t seen;
};

static void add_bytes(void *ctx, uint64_t total)
{
	struct byte_ctx *b = ctx;
	atomic_fetch_add(&b->pool->bytes, total - b->seen);
	b->seen = total;
}

static void run_job(struct pool *p, struct sl_hash_job *j)
{
	struct stat st;
	struct sl_diag d;
	struct byte_ctx bc = { p, 0 };
	int fd, rc;

	j->err = SL_OK;
	j->msg[0] = '\0';
	fd = sl_open_beneath(p->dirfd, j->path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		j->err = e == ENOENT ? SL_ERR_NOTFOUND : SL_ERR_IO;
		snprintf(j->msg, sizeof j->msg, "%s", e == ENOENT ? "missing" : e == ELOOP ? "a symbolic link is on its path" :
			 e == EACCES ? "unreadable (permission denied)" : strerror(e));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		j->err = SL_ERR_INVAL;
		snprintf(j->msg, sizeof j->msg, "not a regular file");
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, 0); /* back to blocking reads */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = sl_sha256_fd(fd, j->sha256, &j->size, add_bytes, &bc, &d);
	close(fd);
	if (rc) {
		j->err = rc;
		snprintf(j->msg, sizeof j->msg, "%.150s", d.msg);
		return;
	}
	if (j->size != (uint64_t)st.st_size) {
		j->err = SL_ERR_IO;
		snprintf(j->msg, sizeof j->msg, "changed while being read (%lld bytes, then %llu)",
			 (long long)st.st_size, (unsigned long long)j->size);
		return;
	}
	j->mode = (st.st_mode & 0111) ? 0755 : 0644;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		run_job(p, &p->jobs[i]);
		atomic_fetch_add(&p->done, 1);
	}
	return NULL;
}

int sl_hash_files(int dirfd, struct sl_hash_job *jobs, size_t n, unsigned threads,
		  sl_hash_progress_fn progress, void *pctx)
{
	struct pool p = { .dirfd = dirfd, .jobs = jobs, .n = n };
	pthread_t tids[8];
	unsigned started = 0;

	atomic_init(&p.next, 0);
	atomic_init(&p.done, 0);
	atomic_init(&p.bytes, 0);
	if (threads == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (unsigned)c : 1;
	}
	if (threads > 8)
		threads = 8;
	if (threads > n)
		threads = n ? (unsigned)n : 1;
	/* With a progress callback the calling thread reports and `threads`
	 * workers hash; without one the calling thread is one of the workers. */
	for (unsigned t = progress ? 0 : 1; t < threads; t++) {
		if (pthread_create(&tids[started], NULL, worker, &p) != 0)
			break;
		started++;
	}
	if (!progress) {
		worker(&p);
	} else {
		/* The caller's thread reports progress while workers run; with no
		 * worker thread it hashes itself and reports between files. */
		if (started == 0) {
			for (;;) {
				size_t i = atomic_fetch_add(&p.next, 1);
				if (i >= n)
					break;
				run_job(&p, &jobs[i]);
				atomic_fetch_add(&p.done, 1);
				progress(pctx, atomic_load(&p.bytes));
			}
		} else {
			while (atomic_load(&p.done) < n) {
				struct timespec ts = { 0, 200 * 1000 * 1000 };
				progress(pctx, atomic_load(&p.bytes));
				nanosleep(&ts, NULL);
			}
		}
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	if (progress)
		progress(pctx, atomic_load(&p.bytes));
	return SL_OK;
}
