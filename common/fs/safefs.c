/* safefs.c — opening, reading and writing beneath a directory (see safefs.h). */
#include "safefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>


int sl_openat_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
				.mode = (flags & O_CREAT) ? mode : 0, .resolve = SL_RESOLVE_SAFE };
	struct stat st;
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && errno == EAGAIN);
	/* O_DIRECTORY reports a symlink at the end as "not a directory": say
	 * what it is (the stat only picks the errno) */
	if (fd < 0) {
		int e = errno;
		if (e == ENOTDIR && (flags & O_DIRECTORY) &&
		    fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			e = ELOOP;
		errno = e;
		return -e;
	}
	return (int)fd;
}

int sl_mkdirs_beneath(int dirfd, const char *dirpath, struct sl_diag *d)
{
	char buf[4096];
	char *p, *slash;
	int cur, next;

	if (strlen(dirpath) >= sizeof buf)
		return sl_diag_set(d, SL_ERR_NAME, "%s: path too long", dirpath);
	strcpy(buf, dirpath);
	cur = sl_openat_beneath(dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (cur < 0) {
		errno = -cur;
		return sl_diag_errno(d, "opening the staging directory");
	}
	for (p = buf; *p; p = slash + 1) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (!*p || !strcmp(p, ".") || !strcmp(p, "..")) {
			close(cur);
			return sl_diag_set(d, SL_ERR_NAME, "%s: empty, '.' or '..' component", dirpath);
		}
		if (mkdirat(cur, p, 0755) != 0 && errno != EEXIST) {
			int r = sl_diag_errno(d, "mkdir %s", p);
			close(cur);
			return r;
		}
		next = sl_openat_beneath(cur, p, O_RDONLY | O_DIRECTORY, 0);
		close(cur);
		if (next < 0) {
			errno = -next;
			return sl_diag_errno(d, "%s: not a directory we can enter", p);
		}
		cur = next;
		if (!slash)
			break;
	}
	close(cur);
	return SL_OK;
}

int sl_mkdir_open(int parent, const char *name, mode_t mode, struct sl_diag *d)
{
	int fd;

	if (mkdirat(parent, name, mode) != 0 && errno != EEXIST)
		return sl_diag_errno(d, "cannot create %s", name);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sl_diag_errno(d, "cannot open %s", name);
	return fd;
}

int sl_create_beneath(int dirfd, const char *path, mode_t mode, int *fd, struct sl_diag *d)
{
	int f = sl_openat_beneath(dirfd, path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (f < 0) {
		errno = -f;
		return sl_diag_errno(d, "creating %s", path);
	}
	*fd = f;
	return SL_OK;
}

int sl_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SL_ERR_IO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SL_OK;
}

int sl_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return SL_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return SL_OK;
}

/* The plain way, where copy_file_range cannot: slices of at most cap. */
static int copy_plain(int in, int out, uint64_t *at, uint64_t want, uint8_t *buf, size_t cap)
{
	ssize_t k;

	do
		k = pread(in, buf, want > cap ? cap : (size_t)want, (off_t)*at);
	while (k < 0 && errno == EINTR);
	if (k <= 0)
		return k == 0 ? SL_ERR_CLOSED : SL_ERR_IO;
	if (sl_pwrite_all(out, buf, (size_t)k, *at))
		return SL_ERR_IO;
	*at += (uint64_t)k;
	return SL_OK;
}

int sl_copy_bytes(int in, int out, uint64_t len, void *buf, size_t cap, const atomic_int *cancel,
		  uint64_t *copied)
{
	uint8_t own[65536];
	uint64_t at = 0;
	bool plain = false;
	int r = SL_OK;

	if (!buf || !cap) {
		buf = own;
		cap = sizeof own;
	}
	while (at < len && !r) {
		uint64_t want = len - at > (64u << 20) ? (64u << 20) : len - at;
		loff_t i = (loff_t)at, o = (loff_t)at;
		ssize_t k;
		if (cancel && atomic_load(cancel)) {
			r = SL_ERR_AGAIN;
			break;
		}
		if (plain) {
			r = copy_plain(in, out, &at, want, buf, cap);
			continue;
		}
		k = copy_file_range(in, &i, out, &o, (size_t)want, 0);
		if (k < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
			plain = true;
		else if (k < 0 && errno != EINTR)
			r = SL_ERR_IO;
		else if (k == 0)
			r = SL_ERR_CLOSED;
		else if (k > 0)
			at += (uint64_t)k;
	}
	if (copied)
		*copied = at;
	return r == SL_ERR_CLOSED ? SL_OK : r; /* in ended */
}

void sl_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The one exclusive create: path beneath dirfd made with O_EXCL, data
 * written and fsync'd; with `exact` the mode is set as given (fchmod: not
 * umask'd). On failure nothing is left under path (errno kept). `shown`
 * names it in messages. */
static int write_new(int dirfd, const char *path, const char *shown, const void *data, size_t len,
		     mode_t mode, bool exact, struct sl_diag *d)
{
	int fd = sl_openat_beneath(dirfd, path, O_WRONLY | O_CREAT | O_EXCL, mode), r = SL_OK, e;

	if (fd < 0) {
		errno = -fd;
		if (errno == EEXIST)
			return sl_diag_set(d, SL_ERR_EXISTS, "%s already exists (not overwritten)", shown);
		return sl_diag_errno(d, "creating %s", shown);
	}
	if ((exact && fchmod(fd, mode) != 0) || sl_pwrite_all(fd, data, len, 0) || fsync(fd) != 0)
		r = sl_diag_errno(d, "writing %s", shown);
	if (close(fd) != 0 && !r)
		r = sl_diag_errno(d, "writing %s (close)", shown);
	if (r) {
		e = errno;
		unlinkat(dirfd, path, 0);
		errno = e;
	}
	return r;
}

/* The one temp+rename: `name` (one component) in dirfd replaced by a file
 * written as .NAME.tmp (a stale one removed first), fsync'd, renamed over
 * it, and the directory fsync'd. */
static int replace(int dirfd, const char *name, const char *shown, const void *data, size_t len,
		   mode_t mode, bool exact, struct sl_diag *d)
{
	char tmp[NAME_MAX + 1];
	int r;

	if (strchr(name, '/'))
		return sl_diag_set(d, SL_ERR_NAME, "%s: not a single name", shown);
	if (snprintf(tmp, sizeof tmp, ".%s.tmp", name) >= (int)sizeof tmp)
		return sl_diag_set(d, SL_ERR_NAME, "%s: name too long", shown);
	unlinkat(dirfd, tmp, 0);
	r = write_new(dirfd, tmp, shown, data, len, mode, exact, d);
	if (r)
		return r == SL_ERR_EXISTS ? sl_diag_set(d, SL_ERR_IO, "%s: its temporary file %s was made again "
							 "meanwhile (another writer?)", shown, tmp) : r;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = sl_diag_errno(d, "renaming %s to %s", tmp, shown);
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* The rename is durable only once the directory is. */
	if (sl_fsync_dir(dirfd, ".") != SL_OK)
		return sl_diag_errno(d, "%s is written, but syncing its directory failed (a crash may lose it)",
				     shown);
	return SL_OK;
}

int sl_write_file_beneath(int dirfd, const char *path, const void *data, size_t len,
			  mode_t mode, struct sl_diag *d)
{
	return write_new(dirfd, path, path, data, len, mode, false, d);
}

int sl_write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
			 mode_t mode, struct sl_diag *d)
{
	return replace(dirfd, name, name, data, len, mode, false, d);
}

int sl_read_fd(int fd, const char *what, uint64_t cap, uint8_t **data, size_t *len, struct sl_diag *d)
{
	struct stat st;
	uint8_t *buf, more;
	ssize_t extra;

	if (fstat(fd, &st) != 0)
		return sl_diag_errno(d, "%s", what);
	if (!S_ISREG(st.st_mode))
		return sl_diag_set(d, SL_ERR_INVAL, "%s: not a regular file", what);
	if ((uint64_t)st.st_size > cap)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%s: %lld bytes, more than the limit of %llu", what,
				   (long long)st.st_size, (unsigned long long)cap);
	if (!(buf = malloc((size_t)st.st_size + 1)))
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", what);
	if (sl_pread_all(fd, buf, (size_t)st.st_size, 0)) {
		int e = errno;
		struct stat now;
		free(buf);
		if (fstat(fd, &now) == 0 && now.st_size < st.st_size)
			return sl_diag_set(d, SL_ERR_IO, "%s: shrank while being read", what);
		errno = e;
		return sl_diag_errno(d, "reading %s", what);
	}
	/* One byte more says whether it grew meanwhile (it would be cut). */
	do
		extra = pread(fd, &more, 1, st.st_size);
	while (extra < 0 && errno == EINTR);
	if (extra != 0) {
		free(buf);
		return extra > 0 ? sl_diag_set(d, SL_ERR_IO, "%s: grew while being read", what)
				 : sl_diag_errno(d, "reading %s", what);
	}
	buf[st.st_size] = 0;
	*data = buf;
	*len = (size_t)st.st_size;
	return SL_OK;
}

static int open_failed(const char *what, struct sl_diag *d)
{
	return errno == ENOENT ? sl_diag_set(d, SL_ERR_NOTFOUND, "%s: no such file", what)
			       : sl_diag_errno(d, "%s", what);
}

int sl_read_file_beneath(int dirfd, const char *path, uint64_t cap, uint8_t **data,
			 size_t *len, struct sl_diag *d)
{
	int fd = sl_openat_beneath(dirfd, path, O_RDONLY | O_NOCTTY, 0), r;

	if (fd < 0)
		return open_failed(path, d);
	r = sl_read_fd(fd, path, cap, data, len, d);
	close(fd);
	return r;
}

int sl_read_file(const char *path, uint64_t cap, uint8_t **data, size_t *len, struct sl_diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0)
		return open_failed(path, d);
	r = sl_read_fd(fd, path, cap, data, len, d);
	close(fd);
	return r;
}

int sl_write_file(const char *path, const void *data, size_t len, mode_t mode, bool excl,
		  struct sl_diag *d)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	int dfd, r;

	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return sl_diag_set(d, SL_ERR_NAME, "%s: not a file name", path);
	if (slash && slash - path >= (ptrdiff_t)sizeof dir)
		return sl_diag_set(d, SL_ERR_NAME, "%s: path too long", path);
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sl_diag_errno(d, "%s: its directory %s", path, dir);
	if (excl) {
		r = write_new(dfd, name, path, data, len, mode, true, d);
		if (!r && sl_fsync_dir(dfd, ".") != SL_OK)
			r = sl_diag_errno(d, "%s is written, but syncing its directory failed (a crash may lose it)",
					  path);
	} else {
		r = replace(dfd, name, path, data, len, mode, true, d);
	}
	close(dfd);
	return r;
}

static int remove_below(int fd, struct sl_diag *d, int depth)
{
	DIR *dp;
	struct dirent *e;
	int r = SL_OK;

	if (depth > 64)
		return sl_diag_set(d, SL_ERR_RANGE, "directory tree too deep to remove");
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return sl_diag_errno(d, "opendir");
	}
	while ((e = readdir(dp)) && !r) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(dp), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = sl_diag_errno(d, "open %s", e->d_name);
				break;
			}
			r = remove_below(sub, d, depth + 1);
			if (!r && unlinkat(dirfd(dp), e->d_name, AT_REMOVEDIR) != 0)
				r = sl_diag_errno(d, "rmdir %s", e->d_name);
		} else if (unlinkat(dirfd(dp), e->d_name, 0) != 0 && errno != ENOENT) {
			r = sl_diag_errno(d, "unlink %s", e->d_name);
		}
	}
	closedir(dp);
	return r;
}

int sl_remove_tree(int dirfd, const char *name, struct sl_diag *d)
{
	struct stat st;
	int fd, r;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SL_OK : sl_diag_errno(d, "%s", name);
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == 0 ? SL_OK : sl_diag_errno(d, "unlink %s", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sl_diag_errno(d, "open %s", name);
	r = remove_below(fd, d, 0);
	if (!r && unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
		r = sl_diag_errno(d, "rmdir %s", name);
	return r;
}

int sl_fsync_dir(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, e;
	if (fd < 0)
		return SL_ERR_IO;
	r = fsync(fd) == 0 ? SL_OK : SL_ERR_IO;
	e = errno;
	close(fd);
	errno = e; /* the caller reports fsync's error */
	return r;
}
