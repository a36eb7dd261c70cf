/* Unit tests for opening and reading beneath a directory (common/fs/safefs.c):
 * the one opener every side uses (openat2: no symlink, no escape, no mount
 * crossed), whole-file reads, and the CLI's path-based reads and writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashfiles.h"
#include "safefs.h"
#include "sha256.h"
#include "tmpdir_suite.h"

static char mounted[128];

static void ln(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", tmp, rel);
	cr_assert_eq(symlink(target, p), 0, "%s", p);
}

static void teardown(void)
{
	if (mounted[0])
		umount2(mounted, MNT_DETACH);
	tmp_teardown();
}

TestSuite(safefs, .init = tmp_setup, .fini = teardown);

/* fsync as libsluice sees it in this program: the real one, except that
 * with dir_fsync_fails set a directory's fails with EIO (a disk going bad
 * between the file's sync and the rename's). */
static int dir_fsync_fails;

int fsync(int fd)
{
	struct stat st;
	if (dir_fsync_fails && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

/* Returns -errno and leaves errno set too, so both ways of reading it work. */
static void expect_refused(const char *path, int flags, int e)
{
	errno = 0;
	int fd = sl_openat_beneath(tmp_fd, path, flags, 0);
	if (fd >= 0)
		close(fd);
	cr_assert_eq(fd, -e, "%s: got %d (%s), expected -%d", path, fd, strerror(errno), e);
	cr_assert_eq(errno, e, "%s: errno %d", path, errno);
}

Test(safefs, open_refuses_a_symlink_in_any_component)
{
	tmpdir_mkdir(tmp_fd, "a");
	tmpdir_put(tmp_fd, "a/f", "x", 0644);
	ln("a", "la");
	ln("f", "a/lf");
	ln("/etc", "abs");
	expect_refused("la/f", O_RDONLY, ELOOP);
	expect_refused("a/lf", O_RDONLY, ELOOP);
	expect_refused("la", O_RDONLY | O_DIRECTORY, ELOOP);
	expect_refused("abs/passwd", O_RDONLY, ELOOP);
	int fd = sl_openat_beneath(tmp_fd, "a/f", O_RDONLY, 0);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* ".." may not climb out; one that stays inside resolves (openat2's rule:
 * the component-by-component opener tx used before refused every ".."). */
Test(safefs, open_stays_beneath)
{
	tmpdir_mkdir(tmp_fd, "a");
	tmpdir_put(tmp_fd, "a/f", "x", 0644);
	expect_refused("../etc/passwd", O_RDONLY, EXDEV);
	expect_refused("a/../../etc/passwd", O_RDONLY, EXDEV);
	expect_refused("/etc/passwd", O_RDONLY, EXDEV);
	expect_refused("", O_RDONLY, ENOENT);
	int fd = sl_openat_beneath(tmp_fd, "a/../a/f", O_RDONLY, 0);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	close(fd);
	fd = sl_openat_beneath(tmp_fd, ".", O_RDONLY | O_DIRECTORY, 0);
	cr_assert_geq(fd, 0, "%s", strerror(-fd));
	close(fd);
}

/* A mount inside the tree is not crossed, by rx (as always) nor now by tx's
 * hashing, whose opener used to cross it. Needs a private mount namespace. */
Test(safefs, open_and_hashing_refuse_to_cross_a_mount)
{
	char *m = mounted;
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		cr_skip_test("no private mount namespace here (%s)", strerror(errno));
	tmpdir_mkdir(tmp_fd, "m");
	snprintf(m, sizeof mounted, "%s/m", tmp);
	if (mount("sluice-test", m, "tmpfs", 0, "size=1m") != 0) {
		m[0] = '\0';
		cr_skip_test("cannot mount a tmpfs (%s)", strerror(errno));
	}
	close(tmp_fd); /* opened in the old namespace: it would not see the mount */
	tmp_fd = open(tmp, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(tmp_fd, 0);
	tmpdir_put(tmp_fd, "m/f", "under the mount", 0644);
	expect_refused("m/f", O_RDONLY, EXDEV);
	expect_refused("m", O_RDONLY | O_DIRECTORY, EXDEV);

	struct sl_hash_job job = { .path = "m/f" };
	cr_assert_eq(sl_hash_files(tmp_fd, &job, 1, 1, NULL, NULL), SL_OK);
	cr_assert_neq(job.err, SL_OK, "hashed a file across a mount point");
	cr_assert(strstr(job.msg, "below a mount point inside the tree"), "%s", job.msg);
}

Test(safefs, read_beneath_takes_a_regular_file_within_the_cap)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_diag d;
	tmpdir_mkdir(tmp_fd, "a");
	tmpdir_put(tmp_fd, "a/f", "twelve bytes", 0644);
	ln("f", "a/lf");

	cr_assert_eq(sl_read_file_beneath(tmp_fd, "a/f", 12, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(len, 12);
	cr_assert_eq(buf[12], 0);
	cr_assert_str_eq((char *)buf, "twelve bytes");
	free(buf);

	cr_assert_eq(sl_read_file_beneath(tmp_fd, "a/f", 11, &buf, &len, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, "a/f: 12 bytes, more than the limit of 11"), "%s", d.msg);
	/* not a regular file: SL_ERR_INVAL (rx's reader said SL_ERR_TOOBIG) */
	cr_assert_eq(sl_read_file_beneath(tmp_fd, "a", 1 << 20, &buf, &len, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "a: not a regular file"), "%s", d.msg);
	cr_assert_eq(sl_read_file_beneath(tmp_fd, "a/missing", 100, &buf, &len, &d), SL_ERR_NOTFOUND);
	cr_assert_eq(sl_read_file_beneath(tmp_fd, "a/lf", 100, &buf, &len, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, strerror(ELOOP)), "%s", d.msg);
}

/* The one whole-file reader (configuration files, the ledger, tx's
 * manifest): from the start without moving the offset, within the cap, and
 * a file that grows while read is refused rather than cut short. */
Test(safefs, read_fd_reads_all_from_the_start_or_refuses)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_diag d;
	int fd, pipefd[2];

	tmpdir_put(tmp_fd, "conf", "link = a\n", 0644);
	fd = openat(tmp_fd, "conf", O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 9);
	cr_assert_eq(sl_read_fd(fd, "conf", 64, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(len, 9);
	cr_assert_str_eq((char *)buf, "link = a\n");
	free(buf);
	cr_assert_eq(lseek(fd, 0, SEEK_CUR), 9, "the offset moved");
	cr_assert_eq(sl_read_fd(fd, "conf", 8, &buf, &len, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, "conf: 9 bytes, more than the limit of 8"), "%s", d.msg);
	cr_assert_eq(fcntl(fd, F_GETFD), 0, "fd was closed");
	close(fd);

	cr_assert_eq(pipe(pipefd), 0);
	cr_assert_eq(sl_read_fd(pipefd[0], "pipe", 64, &buf, &len, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "pipe: not a regular file"), "%s", d.msg);
	close(pipefd[0]);
	close(pipefd[1]);

	/* /proc files say size 0 and then have bytes: what a file growing
	 * after the fstat looks like. Its first 0 bytes are not its contents. */
	fd = open("/proc/self/status", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sl_read_fd(fd, "status", 1 << 20, &buf, &len, &d), SL_ERR_IO, "read %zu bytes", len);
	cr_assert(strstr(d.msg, "status: grew while being read"), "%s", d.msg);
	close(fd);
	cr_assert_eq(sl_read_file("/proc/self/status", 1 << 20, &buf, &len, &d), SL_ERR_IO);
}

/* The CLI's reads follow a symlink the operator named; writes never write
 * through one, and give exactly the mode asked for whatever the umask. */
Test(safefs, path_read_and_write)
{
	char p[256], l[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_diag d;
	struct stat st;

	tmpdir_put(tmp_fd, "f", "old", 0644);
	ln("f", "lf");
	snprintf(l, sizeof l, "%s/lf", tmp);
	cr_assert_eq(sl_read_file(l, 100, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq((char *)buf, "old");
	free(buf);

	umask(077);
	snprintf(p, sizeof p, "%s/f", tmp);
	cr_assert_eq(sl_write_file(p, "new", 3, 0644, true, &d), SL_ERR_EXISTS);
	cr_assert_eq(sl_write_file(l, "new", 3, 0644, true, &d), SL_ERR_EXISTS);
	cr_assert_eq(sl_write_file(p, "newer", 5, 0644, false, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_read_file(p, 100, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq((char *)buf, "newer");
	free(buf);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	snprintf(p, sizeof p, "%s/g", tmp);
	cr_assert_eq(sl_write_file(p, "g", 1, 0640, true, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
}

/* Every write path: the new bytes under the name, no temporary file left,
 * and a directory that could not be synced reported (the file is there but
 * may not survive a crash), whether the path or the descriptor way. */
Test(safefs, writes_report_a_failed_directory_sync)
{
	char p[256], q[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_diag d;
	struct stat st;

	snprintf(p, sizeof p, "%s/out", tmp);
	cr_assert_eq(sl_write_file(p, "one", 3, 0600, false, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_write_file_atomic(tmp_fd, "state", "s1", 2, 0600, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_write_file_beneath(tmp_fd, "new", "n", 1, 0600, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_write_file_beneath(tmp_fd, "new", "n", 1, 0600, &d), SL_ERR_EXISTS);
	cr_assert_eq(sl_write_file_atomic(tmp_fd, "a/b", "x", 1, 0600, &d), SL_ERR_NAME);
	snprintf(q, sizeof q, "%s/", tmp);
	cr_assert_eq(sl_write_file(q, "x", 1, 0600, false, &d), SL_ERR_NAME);

	dir_fsync_fails = 1;
	cr_assert_eq(sl_write_file(p, "two", 3, 0600, false, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "out is written, but syncing its directory failed"), "%s", d.msg);
	cr_assert_eq(sl_write_file_atomic(tmp_fd, "state", "s2", 2, 0600, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "state is written, but syncing its directory failed"), "%s", d.msg);
	snprintf(q, sizeof q, "%s/excl", tmp);
	cr_assert_eq(sl_write_file(q, "e", 1, 0600, true, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, strerror(EIO)), "%s", d.msg);
	dir_fsync_fails = 0;

	cr_assert_eq(sl_read_file(p, 100, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq((char *)buf, "two");
	free(buf);
	cr_assert_eq(sl_read_file_beneath(tmp_fd, "state", 100, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq((char *)buf, "s2");
	free(buf);
	cr_assert_eq(fstatat(tmp_fd, ".out.tmp", &st, 0), -1, "temporary file left");
	cr_assert_eq(fstatat(tmp_fd, ".state.tmp", &st, 0), -1, "temporary file left");
}

struct reads {
	unsigned calls;
	uint64_t bytes;
};

static void count_read(void *ctx, uint64_t n)
{
	struct reads *r = ctx;
	r->calls++;
	r->bytes += n;
}

/* The one file digest (rx's base copies, sl_hash_files): from the offset to
 * the end, through the caller's context and buffer or its own; a short read
 * that reaches the expected size ends it, any other size reads on. */
Test(safefs, sha256_fd_hashes_to_the_end)
{
	char text[1000];
	uint8_t want[32], got[32];
	uint8_t buf[64];
	uint64_t n = 0;
	struct reads r = { 0 };
	struct sl_sha256 *ctx;
	struct sl_diag d;
	int fd;

	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)('a' + i % 26);
	fd = openat(tmp_fd, "f", O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof text), (ssize_t)sizeof text);
	sl_sha256(text, sizeof text, want);

	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(sl_sha256_fd(fd, NULL, NULL, 0, UINT64_MAX, got, &n, count_read, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(n, sizeof text);
	cr_assert_arr_eq(got, want, 32);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.bytes, sizeof text);

	/* the caller's context (used before) and a small buffer; a wrong
	 * expectation does not stop it early */
	cr_assert_eq(sl_sha256_new(&ctx), SL_OK);
	cr_assert_eq(sl_sha256_update(ctx, "junk", 4), SL_OK);
	r = (struct reads){ 0 };
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(sl_sha256_fd(fd, ctx, buf, sizeof buf, 500, got, &n, count_read, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(n, sizeof text);
	cr_assert_arr_eq(got, want, 32);
	cr_assert_eq(r.calls, 16, "%u reads", r.calls); /* 15 full, one short of 40 */
	cr_assert_eq(r.bytes, sizeof text);

	/* from the offset on */
	sl_sha256(text + 10, sizeof text - 10, want);
	cr_assert_eq(lseek(fd, 10, SEEK_SET), 10);
	cr_assert_eq(sl_sha256_fd(fd, ctx, NULL, 0, UINT64_MAX, got, &n, NULL, NULL, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(n, sizeof text - 10);
	cr_assert_arr_eq(got, want, 32);
	sl_sha256_free(ctx);
	close(fd);

	fd = openat(tmp_fd, "f", O_WRONLY);
	errno = 0;
	cr_assert_eq(sl_sha256_fd(fd, NULL, NULL, 0, UINT64_MAX, got, &n, NULL, NULL, &d), SL_ERR_IO);
	cr_assert_eq(errno, EBADF, "errno %d", errno);
	close(fd);
}

/* rx's STATE/xfer and tx's spool folders: made if missing, opened, never
 * through a symlink, and a file in the way is said. */
Test(safefs, mkdir_open_makes_or_opens_a_directory)
{
	struct sl_diag d;
	struct stat st;
	int fd;

	umask(022);
	fd = sl_mkdir_open(tmp_fd, "new", 0750, &d);
	cr_assert_geq(fd, 0, "%s", d.msg);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0750);
	close(fd);
	fd = sl_mkdir_open(tmp_fd, "new", 0700, &d); /* there already: opened as it is */
	cr_assert_geq(fd, 0, "%s", d.msg);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0750);
	close(fd);

	ln("new", "link");
	cr_assert_eq(sl_mkdir_open(tmp_fd, "link", 0700, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "cannot open link") && strstr(d.msg, strerror(ENOTDIR)), "%s", d.msg);
	tmpdir_put(tmp_fd, "file", "x", 0644);
	cr_assert_eq(sl_mkdir_open(tmp_fd, "file", 0700, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "cannot open file") && strstr(d.msg, strerror(ENOTDIR)), "%s", d.msg);
	cr_assert_eq(sl_mkdir_open(tmp_fd, "no/such", 0700, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "cannot create no/such") && strstr(d.msg, strerror(ENOENT)), "%s", d.msg);
}

/* A file of n bytes of a pattern at rel, opened for reading and writing. */
static int patterned(int dfd, const char *rel, size_t n)
{
	int fd = dfd < 0 ? memfd_create(rel, MFD_CLOEXEC) : openat(dfd, rel, O_RDWR | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0, "%s: %s", rel, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		char c = (char)(i * 7 + i / 251);
		cr_assert_eq(write(fd, &c, 1), 1);
	}
	return fd;
}

static void same_bytes(int a, int b, uint64_t n)
{
	uint8_t x[4096], y[4096];
	for (uint64_t at = 0; at < n; at += sizeof x) {
		size_t k = n - at < sizeof x ? (size_t)(n - at) : sizeof x;
		cr_assert_eq(pread(a, x, k, (off_t)at), (ssize_t)k);
		cr_assert_eq(pread(b, y, k, (off_t)at), (ssize_t)k);
		cr_assert_arr_eq(x, y, k, "differ in the 4 KiB at %llu", (unsigned long long)at);
	}
}

/* The one byte copier (rx's base copies, copy-inside): copy_file_range on
 * one filesystem, a plain copy from another (a memfd is on its own), from
 * offset 0 whatever the descriptors' offsets, up to len or the source's
 * end, and stopped before it starts when cancelled. */
Test(safefs, copy_bytes_copies_a_range)
{
	enum { N = 300000 };
	uint8_t small[7];
	uint64_t n = 0;
	atomic_int cancel = 0;
	struct stat st;
	int in = patterned(tmp_fd, "in", N), mem = patterned(-1, "mem", N), out;

	out = openat(tmp_fd, "out1", O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_eq(sl_copy_bytes(in, out, UINT64_MAX, NULL, 0, &cancel, &n), SL_OK, "%s", strerror(errno));
	cr_assert_eq(n, N);
	same_bytes(in, out, N);
	cr_assert_eq(lseek(out, 0, SEEK_CUR), 0, "the offset moved");
	close(out);

	out = openat(tmp_fd, "out2", O_RDWR | O_CREAT | O_EXCL, 0600);
	cr_assert_eq(sl_copy_bytes(mem, out, 100000, small, sizeof small, NULL, &n), SL_OK, "%s", strerror(errno));
	cr_assert_eq(n, 100000);
	cr_assert_eq(fstat(out, &st), 0);
	cr_assert_eq(st.st_size, 100000);
	same_bytes(mem, out, 100000);
	close(out);

	out = openat(tmp_fd, "out3", O_RDWR | O_CREAT | O_EXCL, 0600);
	cancel = 1;
	cr_assert_eq(sl_copy_bytes(in, out, N, NULL, 0, &cancel, &n), SL_ERR_AGAIN);
	cr_assert_eq(n, 0);
	close(out);
	out = openat(tmp_fd, "in", O_RDONLY);
	cr_assert_eq(sl_copy_bytes(in, out, N, NULL, 0, NULL, &n), SL_ERR_IO, "wrote into a read-only descriptor");
	close(out);
	close(in);
	close(mem);
}
