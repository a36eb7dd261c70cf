/* uring_io.h — file reads and writes through io_uring or pread/pwrite.
 *
 * Contract. One sl_uio serves one thread. sl_uio_queue() takes an operation
 * (read or write of len bytes at off on fd) that lives in the caller's
 * memory until it completes; sl_uio_wait() completes a given operation
 * (and whatever finished before it), sl_uio_drain() all of them. Memory
 * registered with sl_uio_register() (before the first operation) is used
 * with READ_FIXED/WRITE_FIXED; other memory with plain READ/WRITE.
 *
 * Both modes behave the same: in plain mode sl_uio_queue() does the
 * pread/pwrite at once; in uring mode operations run in the kernel while
 * the caller goes on. Short transfers are continued until len bytes are
 * done; a read that meets end of file completes with done < len (not an
 * error: the caller decides); a failed operation completes with err set
 * (a positive errno) and the wait reports it in *d naming op->name and
 * the offset. A write that makes no progress fails with EIO.
 *
 * SL_UIO_RESTRICTED (uring): the ring is created disabled, limited to the
 * four opcodes above with io_uring_register_restrictions() and enabled by
 * sl_uio_register(), so it can be set up before a seccomp sandbox that
 * allows io_uring_enter only. SL_UIO_ASYNC (uring): every operation goes
 * to the kernel's worker threads (IOSQE_ASYNC) instead of being tried
 * inline, so page-cache copies overlap the caller's own work.
 */
#ifndef SL_URING_IO_H
#define SL_URING_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "error.h"

enum sl_uio_mode { SL_UIO_PLAIN = 0, SL_UIO_URING = 1 };

#define SL_UIO_RESTRICTED 1u
#define SL_UIO_ASYNC 2u

struct sl_uio_op {
	/* set by the caller */
	int fd;
	int write;            /* 0: read into buf, 1: write from buf */
	uint8_t *buf;
	size_t len;
	uint64_t off;
	const char *name;     /* for messages: the file */
	/* set by sl_uio */
	size_t done;          /* bytes transferred */
	int err;              /* 0 or a positive errno */
	int state;            /* 0 idle, 1 in flight, 2 complete */
	int fixed;            /* registered buffer index, -1 none */
};

struct sl_uio;

/* "plain" or "uring"; SL_ERR_INVAL with a message otherwise. */
int sl_uio_mode_parse(const char *s, enum sl_uio_mode *m, struct sl_diag *d);
const char *sl_uio_mode_name(enum sl_uio_mode m);

/* depth: operations in flight at most (uring ring size; >= 1). */
int sl_uio_new(enum sl_uio_mode mode, unsigned depth, unsigned flags, struct sl_uio **out,
	       struct sl_diag *d);
/* Waits for everything in flight, then frees. NULL is fine. */
void sl_uio_free(struct sl_uio *u);
enum sl_uio_mode sl_uio_mode_of(const struct sl_uio *u);

/* Register n buffers (at most 16). Once, before the first operation; in
 * restricted mode this also enables the ring (call it with n = 0 if there
 * is nothing to register). */
int sl_uio_register(struct sl_uio *u, const struct iovec *bufs, unsigned n, struct sl_diag *d);

/* Start op (fd, write, buf, len, off, name set). In uring mode the
 * submission may be batched until the next wait; sl_uio_submit() pushes
 * what is queued to the kernel now. */
int sl_uio_queue(struct sl_uio *u, struct sl_uio_op *op, struct sl_diag *d);
int sl_uio_submit(struct sl_uio *u, struct sl_diag *d);
/* Until op is complete; returns 0, or the op's error as SL_ERR_IO with *d
 * set ("NAME: reading at offset N: reason"). */
int sl_uio_wait(struct sl_uio *u, struct sl_uio_op *op, struct sl_diag *d);
/* Until nothing is in flight; the first failed op's error, as above. */
int sl_uio_drain(struct sl_uio *u, struct sl_diag *d);
/* Operations queued or in flight. */
unsigned sl_uio_inflight(const struct sl_uio *u);

/* The message for a failed op, as sl_uio_wait() gives it. */
int sl_uio_op_error(const struct sl_uio_op *op, struct sl_diag *d);

#endif
