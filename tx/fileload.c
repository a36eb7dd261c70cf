/* fileload.c — small files in batches through io_uring (see fileload.h). */
#include "fileload.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "safefs.h"

struct tx_fileload {
	struct io_uring ring;
	int broken;            /* a submission failed: every file goes the ordinary way */
	struct open_how how;
	int fd[TX_FILELOAD_BATCH];
	struct statx stx[TX_FILELOAD_BATCH];
	struct iovec iov[TX_FILELOAD_BATCH][2];
	uint8_t extra[TX_FILELOAD_BATCH];
};

int tx_fileload_new(struct tx_fileload **out, struct sl_diag *d)
{
	struct tx_fileload *fl = calloc(1, sizeof *fl);
	int r;

	*out = NULL;
	if (!fl)
		return SL_ERR_NOMEM;
	r = io_uring_queue_init(2 * TX_FILELOAD_BATCH, &fl->ring, 0);
	if (r < 0) {
		free(fl);
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "io_uring_queue_init: %s", strerror(-r));
	}
	fl->how = (struct open_how){ .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
				     .resolve = SL_RESOLVE_SAFE };
	*out = fl;
	return SL_OK;
}

void tx_fileload_free(struct tx_fileload *fl)
{
	if (!fl)
		return;
	io_uring_queue_exit(&fl->ring);
	free(fl);
}

/* Submit what is queued and take `want` completions; each cqe's res goes
 * to res[user_data] (user_data >= n: ignored, a close). -1: nothing was
 * submitted (the ring is then not used again). */
static int run(struct tx_fileload *fl, unsigned want, int *res, unsigned n)
{
	struct io_uring_cqe *cqe;
	int r;

	for (unsigned i = 0; i < n; i++)
		res[i] = -EIO;
	if (!want)
		return 0;
	do
		r = io_uring_submit(&fl->ring);
	while (r == -EINTR);
	if (r < 0) {
		fl->broken = 1;
		return -1;
	}
	while (want) {
		r = io_uring_wait_cqe(&fl->ring, &cqe);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0) {
			fl->broken = 1; /* not expected of a ring that took the batch */
			break;
		}
		if (cqe->user_data < n)
			res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&fl->ring, cqe);
		want--;
	}
	return 0;
}

static struct io_uring_sqe *sqe_for(struct tx_fileload *fl, uint64_t tag)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&fl->ring);
	if (s)
		io_uring_sqe_set_data64(s, tag);
	return s;
}

/* Round 1: open every file. */
static void open_all(struct tx_fileload *fl, int dirfd, const struct tx_fileload_item *v, unsigned n)
{
	unsigned q = 0;
	int res[TX_FILELOAD_BATCH];

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *s = sqe_for(fl, i);
		if (!s)
			break;
		io_uring_prep_openat2(s, dirfd, v[i].path, &fl->how);
		q++;
	}
	if (run(fl, q, res, n))
		q = 0;
	for (unsigned i = 0; i < n; i++)
		fl->fd[i] = i < q && res[i] >= 0 ? res[i] : -1;
}

/* Round 2: what each opened file is, and its size. */
static void stat_all(struct tx_fileload *fl, struct tx_fileload_item *v, unsigned n)
{
	unsigned q = 0;
	int res[TX_FILELOAD_BATCH];

	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *s;
		if (fl->fd[i] < 0 || !(s = sqe_for(fl, i)))
			continue;
		io_uring_prep_statx(s, fl->fd[i], "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, &fl->stx[i]);
		q++;
	}
	run(fl, q, res, n);
	for (unsigned i = 0; i < n; i++)
		v[i].ok = !fl->broken && fl->fd[i] >= 0 && res[i] == 0 && (fl->stx[i].stx_mask & STATX_TYPE) &&
			  (fl->stx[i].stx_mask & STATX_SIZE) && S_ISREG(fl->stx[i].stx_mode) &&
			  fl->stx[i].stx_size == v[i].size;
}

/* Round 3: read the regular files of the right size (a byte more asked
 * for), close every one opened. */
static void read_close_all(struct tx_fileload *fl, struct tx_fileload_item *v, unsigned n)
{
	unsigned q = 0;
	int res[TX_FILELOAD_BATCH];

	if (fl->broken) {
		for (unsigned i = 0; i < n; i++)
			if (fl->fd[i] >= 0)
				close(fl->fd[i]);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *s;
		if (fl->fd[i] < 0)
			continue;
		if (v[i].ok && io_uring_sq_space_left(&fl->ring) >= 2) {
			fl->iov[i][0] = (struct iovec){ v[i].buf, v[i].size };
			fl->iov[i][1] = (struct iovec){ &fl->extra[i], 1 };
			s = sqe_for(fl, i);
			io_uring_prep_readv(s, fl->fd[i], fl->iov[i], 2, 0);
			s->flags |= IOSQE_IO_HARDLINK; /* the close runs whatever the read did */
			q++;
		} else {
			v[i].ok = 0;
		}
		s = sqe_for(fl, TX_FILELOAD_BATCH + i);
		if (!s) {
			close(fl->fd[i]); /* no room: not expected with 2 entries a file */
			continue;
		}
		io_uring_prep_close(s, fl->fd[i]);
		q++;
	}
	if (run(fl, q, res, n)) {
		/* nothing went: the files are still open, none was read */
		for (unsigned i = 0; i < n; i++)
			if (fl->fd[i] >= 0)
				close(fl->fd[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (v[i].ok)
			v[i].ok = res[i] >= 0 && (size_t)res[i] == v[i].size;
}

void tx_fileload_batch(struct tx_fileload *fl, int dirfd, struct tx_fileload_item *v, unsigned n)
{
	if (n > TX_FILELOAD_BATCH)
		n = TX_FILELOAD_BATCH;
	for (unsigned i = 0; i < n; i++)
		v[i].ok = 0;
	if (fl->broken)
		return;
	open_all(fl, dirfd, v, n);
	stat_all(fl, v, n);
	read_close_all(fl, v, n);
}
