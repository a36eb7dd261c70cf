/* uring_io.c — file I/O through io_uring or pread/pwrite (see uring_io.h). */
#include "uring_io.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXREG 16

struct sl_uio {
	enum sl_uio_mode mode;
	unsigned flags;
	unsigned depth;
	struct io_uring ring;
	int ring_ok;
	int ready;                  /* registered (and enabled when restricted) */
	unsigned inflight;          /* ops queued or in the kernel */
	unsigned unsubmitted;       /* SQEs not yet given to the kernel */
	struct iovec reg[MAXREG];
	unsigned nreg;
	int err_pending;            /* a failed op not reported yet */
	struct sl_diag err;
	int errcode;
};

int sl_uio_mode_parse(const char *s, enum sl_uio_mode *m, struct sl_diag *d)
{
	if (!strcmp(s, "plain"))
		*m = SL_UIO_PLAIN;
	else if (!strcmp(s, "uring"))
		*m = SL_UIO_URING;
	else
		return sl_diag_set(d, SL_ERR_INVAL, "--file-io: '%s' is not plain or uring", s);
	return SL_OK;
}

const char *sl_uio_mode_name(enum sl_uio_mode m)
{
	return m == SL_UIO_URING ? "uring" : "plain";
}

enum sl_uio_mode sl_uio_mode_of(const struct sl_uio *u)
{
	return u->mode;
}

unsigned sl_uio_inflight(const struct sl_uio *u)
{
	return u->inflight;
}

int sl_uio_new(enum sl_uio_mode mode, unsigned depth, unsigned flags, struct sl_uio **out,
	       struct sl_diag *d)
{
	struct sl_uio *u = calloc(1, sizeof *u);
	int r;

	*out = NULL;
	if (!u)
		return SL_ERR_NOMEM;
	u->mode = mode;
	u->flags = flags;
	u->depth = depth ? depth : 1;
	if (mode == SL_UIO_URING) {
		unsigned setup = (flags & SL_UIO_RESTRICTED) ? IORING_SETUP_R_DISABLED : 0;
		r = io_uring_queue_init(u->depth, &u->ring, setup);
		if (r < 0) {
			free(u);
			return sl_diag_set(d, SL_ERR_IO, "io_uring_queue_init(%u): %s", depth, strerror(-r));
		}
		u->ring_ok = 1;
	}
	*out = u;
	return SL_OK;
}

int sl_uio_register(struct sl_uio *u, const struct iovec *bufs, unsigned n, struct sl_diag *d)
{
	int r;

	if (d)
		d->msg[0] = '\0';
	if (u->ready || n > MAXREG)
		return sl_diag_set(d, SL_ERR_INVAL, "io_uring buffers: registered twice or too many (%u)", n);
	u->ready = 1;
	if (u->mode != SL_UIO_URING)
		return SL_OK;
	if (n) {
		r = io_uring_register_buffers(&u->ring, bufs, n);
		if (r == 0) {
			memcpy(u->reg, bufs, n * sizeof *bufs);
			u->nreg = n;
		} else if (r == -ENOMEM || r == -EPERM || r == -EFAULT) {
			/* Over RLIMIT_MEMLOCK, typically: go on with plain READ/WRITE. */
			sl_diag_set(d, SL_OK, "io_uring: cannot register %u buffers (%s; see ulimit -l); "
				    "using unregistered reads and writes", n, strerror(-r));
		} else {
			return sl_diag_set(d, SL_ERR_IO, "io_uring_register_buffers: %s", strerror(-r));
		}
	}
	if (u->flags & SL_UIO_RESTRICTED) {
		struct io_uring_restriction res[5];
		static const uint8_t ops[4] = { IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
						IORING_OP_READ, IORING_OP_WRITE };
		memset(res, 0, sizeof res);
		for (unsigned i = 0; i < 4; i++) {
			res[i].opcode = IORING_RESTRICTION_SQE_OP;
			res[i].sqe_op = ops[i];
		}
		res[4].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
		res[4].sqe_flags = IOSQE_ASYNC;
		/* liburing 2.3 (Debian 12) declares io_uring_register_restrictions()
		 * and io_uring_enable_rings() but does not export them: the raw
		 * register call, which it does export, does the same. */
		r = io_uring_register(u->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, 5);
		if (r < 0)
			return sl_diag_set(d, SL_ERR_IO, "io_uring_register_restrictions: %s", strerror(-r));
		r = io_uring_register(u->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		if (r < 0)
			return sl_diag_set(d, SL_ERR_IO, "io_uring_enable_rings: %s", strerror(-r));
	}
	return SL_OK;
}

static int find_fixed(const struct sl_uio *u, const uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < u->nreg; i++) {
		const uint8_t *b = u->reg[i].iov_base;
		if (buf >= b && len <= u->reg[i].iov_len && (size_t)(buf - b) <= u->reg[i].iov_len - len)
			return (int)i;
	}
	return -1;
}

int sl_uio_op_error(const struct sl_uio_op *op, struct sl_diag *d)
{
	return sl_diag_set(d, SL_ERR_IO, "%s: %s at offset %llu: %s", op->name ? op->name : "file",
			   op->write ? "writing" : "reading", (unsigned long long)(op->off + op->done),
			   strerror(op->err));
}

static void complete(struct sl_uio *u, struct sl_uio_op *op)
{
	op->state = 2;
	u->inflight--;
	if (op->err && !u->err_pending) {
		u->err_pending = 1;
		u->errcode = sl_uio_op_error(op, &u->err);
	}
}

/* The plain implementation: all of it now. */
static void run_plain(struct sl_uio_op *op)
{
	while (op->done < op->len) {
		ssize_t k = op->write ? pwrite(op->fd, op->buf + op->done, op->len - op->done,
					       (off_t)(op->off + op->done))
				      : pread(op->fd, op->buf + op->done, op->len - op->done,
					      (off_t)(op->off + op->done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			op->err = errno;
			return;
		}
		if (k == 0) {
			if (op->write)
				op->err = EIO;
			return;
		}
		op->done += (size_t)k;
	}
}

/* An SQE for the rest of op. */
static int prep(struct sl_uio *u, struct sl_uio_op *op, struct sl_diag *d)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	uint8_t *p = op->buf + op->done;
	unsigned n = (unsigned)(op->len - op->done > (1u << 30) ? (1u << 30) : op->len - op->done);
	uint64_t at = op->off + op->done;

	if (!sqe) {
		int r = io_uring_submit(&u->ring);
		if (r < 0)
			return sl_diag_set(d, SL_ERR_IO, "io_uring_submit: %s", strerror(-r));
		u->unsubmitted = 0;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return sl_diag_set(d, SL_ERR_IO, "io_uring: no submission entry free");
	}
	if (op->fixed >= 0 && op->write)
		io_uring_prep_write_fixed(sqe, op->fd, p, n, at, op->fixed);
	else if (op->fixed >= 0)
		io_uring_prep_read_fixed(sqe, op->fd, p, n, at, op->fixed);
	else if (op->write)
		io_uring_prep_write(sqe, op->fd, p, n, at);
	else
		io_uring_prep_read(sqe, op->fd, p, n, at);
	if (u->flags & SL_UIO_ASYNC)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, op);
	u->unsubmitted++;
	return SL_OK;
}

/* Wait for one completion and account it. */
static int reap_one(struct sl_uio *u, struct sl_diag *d)
{
	struct io_uring_cqe *cqe;
	struct sl_uio_op *op;
	int r, res;

	do {
		if (u->unsubmitted) {
			r = io_uring_submit_and_wait(&u->ring, 1);
			if (r >= 0)
				u->unsubmitted = 0;
		} else {
			r = io_uring_wait_cqe(&u->ring, &cqe);
		}
	} while (r == -EINTR);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "io_uring: %s", strerror(-r));
	r = io_uring_peek_cqe(&u->ring, &cqe);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "io_uring: %s", strerror(-r));
	op = io_uring_cqe_get_data(cqe);
	res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	if (res == -EINTR || res == -EAGAIN)
		return prep(u, op, d);
	if (res < 0) {
		op->err = -res;
	} else if (res == 0) {
		if (op->write)
			op->err = EIO;
	} else {
		op->done += (size_t)res;
		if (op->done < op->len)
			return prep(u, op, d); /* short: the rest */
	}
	complete(u, op);
	return SL_OK;
}

int sl_uio_queue(struct sl_uio *u, struct sl_uio_op *op, struct sl_diag *d)
{
	int r;

	op->done = 0;
	op->err = 0;
	op->fixed = -1;
	if (!u->ready)
		return sl_diag_set(d, SL_ERR_INVAL, "io_uring: sl_uio_register() not called");
	op->state = 1;
	u->inflight++;
	if (u->mode == SL_UIO_PLAIN || op->len == 0) {
		if (op->len)
			run_plain(op);
		complete(u, op);
		return SL_OK;
	}
	while (u->inflight > u->depth) {
		r = reap_one(u, d);
		if (r) {
			op->state = 0;
			u->inflight--;
			return r;
		}
	}
	op->fixed = find_fixed(u, op->buf, op->len);
	r = prep(u, op, d);
	if (r) {
		op->state = 0;
		u->inflight--;
	}
	return r;
}

int sl_uio_submit(struct sl_uio *u, struct sl_diag *d)
{
	int r;

	if (u->mode != SL_UIO_URING || !u->unsubmitted)
		return SL_OK;
	do
		r = io_uring_submit(&u->ring);
	while (r == -EINTR);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "io_uring_submit: %s", strerror(-r));
	u->unsubmitted = 0;
	return SL_OK;
}

int sl_uio_wait(struct sl_uio *u, struct sl_uio_op *op, struct sl_diag *d)
{
	while (op->state == 1) {
		int r = reap_one(u, d);
		if (r)
			return r;
	}
	if (op->err) {
		u->err_pending = 0;
		return sl_uio_op_error(op, d);
	}
	return SL_OK;
}

int sl_uio_drain(struct sl_uio *u, struct sl_diag *d)
{
	while (u->inflight) {
		int r = reap_one(u, d);
		if (r)
			return r;
	}
	if (u->err_pending) {
		u->err_pending = 0;
		if (d)
			*d = u->err;
		return u->errcode;
	}
	return SL_OK;
}

void sl_uio_free(struct sl_uio *u)
{
	if (!u)
		return;
	if (u->ring_ok) {
		/* Nothing may write into the caller's buffers after this. */
		while (u->inflight && reap_one(u, NULL) == SL_OK)
			;
		io_uring_queue_exit(&u->ring);
	}
	free(u);
}
