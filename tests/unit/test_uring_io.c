/* Unit tests for uring_io: plain and uring read and write the same bytes,
 * end of file, many operations in flight, registered and unregistered
 * memory, errors naming the file, the restricted ring. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uring_io.h"
#include "tmpdir_suite.h"

static char path[128];

static void setup(void)
{
	tmp_setup();
	snprintf(path, sizeof path, "%s/f", tmp);
}

TestSuite(uring_io, .init = setup, .fini = tmp_teardown);

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 2654435761u + seed) >> 7);
}

static struct sl_uio *open_uio(enum sl_uio_mode m, unsigned depth, unsigned flags,
			       const struct iovec *reg, unsigned nreg)
{
	struct sl_uio *u;
	struct sl_diag d = { "" };
	cr_assert_eq(sl_uio_new(m, depth, flags, &u, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_register(u, reg, nreg, &d), SL_OK, "%s", d.msg);
	cr_assert_str_empty(d.msg, "registration fell back: %s", d.msg);
	return u;
}

/* Write `n` pieces of a pattern through the module, read them back
 * through it into other memory, compare with the file read by plain read. */
static void round_trip(enum sl_uio_mode m, unsigned flags, int registered)
{
	enum { N = 48, PIECE = 65536 + 7 };
	uint8_t *src = malloc((size_t)N * PIECE), *dst = malloc((size_t)N * PIECE);
	uint8_t *check = malloc((size_t)N * PIECE);
	struct iovec reg[2] = { { src, (size_t)N * PIECE }, { dst, (size_t)N * PIECE } };
	struct sl_uio_op ops[N];
	struct sl_diag d = { "" };
	struct sl_uio *u = open_uio(m, 8, flags, reg, registered ? 2 : 0);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	cr_assert(fd >= 0);
	fill(src, (size_t)N * PIECE, (unsigned)m);
	/* out of order, more operations than the ring holds */
	for (int i = 0; i < N; i++) {
		int j = (i * 7) % N;
		ops[i] = (struct sl_uio_op){ .fd = fd, .write = 1, .buf = src + (size_t)j * PIECE,
					     .len = PIECE, .off = (uint64_t)j * PIECE, .name = "f" };
		cr_assert_eq(sl_uio_queue(u, &ops[i], &d), SL_OK, "%s", d.msg);
	}
	cr_assert_eq(sl_uio_drain(u, &d), SL_OK, "%s", d.msg);
	for (int i = 0; i < N; i++)
		cr_assert_eq(ops[i].done, PIECE);
	cr_assert_eq(pread(fd, check, (size_t)N * PIECE, 0), (ssize_t)N * PIECE);
	cr_assert(!memcmp(check, src, (size_t)N * PIECE), "file differs from what was written");
	memset(dst, 0, (size_t)N * PIECE);
	for (int i = 0; i < N; i++) {
		ops[i] = (struct sl_uio_op){ .fd = fd, .buf = dst + (size_t)i * PIECE, .len = PIECE,
					     .off = (uint64_t)i * PIECE, .name = "f" };
		cr_assert_eq(sl_uio_queue(u, &ops[i], &d), SL_OK, "%s", d.msg);
	}
	cr_assert_eq(sl_uio_submit(u, &d), SL_OK);
	/* in order, one by one, as the chunker waits */
	for (int i = 0; i < N; i++) {
		cr_assert_eq(sl_uio_wait(u, &ops[i], &d), SL_OK, "%s", d.msg);
		cr_assert_eq(ops[i].done, PIECE);
		cr_assert(!memcmp(dst + (size_t)i * PIECE, src + (size_t)i * PIECE, PIECE), "piece %d", i);
	}
	cr_assert_eq(sl_uio_inflight(u), 0);
	close(fd);
	sl_uio_free(u);
	free(src);
	free(dst);
	free(check);
}

Test(uring_io, plain_round_trip) { round_trip(SL_UIO_PLAIN, 0, 1); }
Test(uring_io, uring_registered) { round_trip(SL_UIO_URING, 0, 1); }
Test(uring_io, uring_unregistered) { round_trip(SL_UIO_URING, 0, 0); }
Test(uring_io, uring_async) { round_trip(SL_UIO_URING, SL_UIO_ASYNC, 1); }
Test(uring_io, uring_restricted) { round_trip(SL_UIO_URING, SL_UIO_RESTRICTED | SL_UIO_ASYNC, 1); }

/* A short file: a read past its end stops at the end, a read wholly past
 * it gets nothing; both modes alike, no error. */
static void short_file(enum sl_uio_mode m)
{
	uint8_t buf[8192], want[1000];
	struct iovec reg = { buf, sizeof buf };
	struct sl_uio_op a = { 0 }, b = { 0 };
	struct sl_diag d = { "" };
	struct sl_uio *u = open_uio(m, 4, 0, &reg, 1);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	fill(want, sizeof want, 3);
	cr_assert_eq(write(fd, want, sizeof want), (ssize_t)sizeof want);
	memset(buf, 0xee, sizeof buf);
	a = (struct sl_uio_op){ .fd = fd, .buf = buf, .len = 4096, .off = 100, .name = "f" };
	b = (struct sl_uio_op){ .fd = fd, .buf = buf + 4096, .len = 4096, .off = 5000, .name = "f" };
	cr_assert_eq(sl_uio_queue(u, &a, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_queue(u, &b, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_wait(u, &b, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_wait(u, &a, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(a.done, 900);
	cr_assert_eq(b.done, 0);
	cr_assert(!memcmp(buf, want + 100, 900));
	cr_assert_eq(buf[900], 0xee, "nothing written past what was read");
	close(fd);
	sl_uio_free(u);
}

Test(uring_io, plain_short_file) { short_file(SL_UIO_PLAIN); }
Test(uring_io, uring_short_file) { short_file(SL_UIO_URING); }

/* A bad descriptor: the error names the file and the offset. */
static void bad_fd(enum sl_uio_mode m, int write)
{
	uint8_t buf[512] = { 0 };
	struct sl_uio_op a = { .fd = 1000, .write = write, .buf = buf, .len = sizeof buf, .off = 4096,
			       .name = "data/some/file" };
	struct sl_uio_op ok = { 0 };
	struct sl_diag d = { "" };
	struct sl_uio *u = open_uio(m, 4, 0, NULL, 0);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ok = (struct sl_uio_op){ .fd = fd, .write = 1, .buf = buf, .len = sizeof buf, .name = "f" };
	cr_assert_eq(sl_uio_queue(u, &a, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_queue(u, &ok, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_drain(u, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "data/some/file") && strstr(d.msg, "offset 4096") &&
		  strstr(d.msg, "Bad file descriptor"), "%s", d.msg);
	cr_assert_eq(a.err, EBADF);
	cr_assert_eq(ok.done, sizeof buf, "the other operation still completed");
	cr_assert_eq(sl_uio_wait(u, &a, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, write ? "writing" : "reading"), "%s", d.msg);
	cr_assert_eq(sl_uio_drain(u, &d), SL_OK, "reported once by drain");
	close(fd);
	sl_uio_free(u);
}

Test(uring_io, plain_bad_fd) { bad_fd(SL_UIO_PLAIN, 0); }
Test(uring_io, uring_bad_fd_read) { bad_fd(SL_UIO_URING, 0); }
Test(uring_io, uring_bad_fd_write) { bad_fd(SL_UIO_URING, 1); }

/* Writing to a read-only descriptor fails the same way in both modes. */
Test(uring_io, write_to_readonly)
{
	for (int m = 0; m < 2; m++) {
		uint8_t buf[64] = { 1 };
		struct sl_uio_op a = { 0 };
		struct sl_diag d = { "" };
		struct sl_uio *u = open_uio((enum sl_uio_mode)m, 2, 0, NULL, 0);
		int fd = open(path, O_RDONLY | O_CREAT, 0600);
		a = (struct sl_uio_op){ .fd = fd, .write = 1, .buf = buf, .len = sizeof buf, .name = "ro" };
		cr_assert_eq(sl_uio_queue(u, &a, &d), SL_OK);
		cr_assert_eq(sl_uio_wait(u, &a, &d), SL_ERR_IO);
		cr_assert(strstr(d.msg, "ro: writing at offset 0: Bad file descriptor"), "%s", d.msg);
		close(fd);
		sl_uio_free(u);
	}
}

Test(uring_io, modes_and_misuse)
{
	enum sl_uio_mode m;
	struct sl_diag d = { "" };
	struct sl_uio *u;
	uint8_t b[4];
	struct sl_uio_op op = { .fd = 0, .buf = b, .len = 4, .name = "x" };

	cr_assert_eq(sl_uio_mode_parse("uring", &m, &d), SL_OK);
	cr_assert_eq(m, SL_UIO_URING);
	cr_assert_str_eq(sl_uio_mode_name(m), "uring");
	cr_assert_eq(sl_uio_mode_parse("plain", &m, &d), SL_OK);
	cr_assert_eq(m, SL_UIO_PLAIN);
	cr_assert_eq(sl_uio_mode_parse("aio", &m, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "'aio' is not plain or uring"), "%s", d.msg);
	/* a restricted ring is disabled until registered */
	cr_assert_eq(sl_uio_new(SL_UIO_URING, 2, SL_UIO_RESTRICTED, &u, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_queue(u, &op, &d), SL_ERR_INVAL);
	cr_assert_eq(sl_uio_register(u, NULL, 0, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_uio_register(u, NULL, 0, &d), SL_ERR_INVAL);
	sl_uio_free(u);
}
