/* fileio.c — capped whole-file reads, fsync'd writes. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_fd(int fd, const char *what, uint64_t max, uint8_t **buf, size_t *len, struct sl_diag *d)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;

	if (fstat(fd, &st) != 0)
		return sl_diag_errno(d, "%s", what);
	if (!S_ISREG(st.st_mode))
		return sl_diag_set(d, SL_ERR_INVAL, "%s: not a regular file", what);
	if ((uint64_t)st.st_size > max)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%s: %lld bytes, more than the limit of %llu", what,
				   (long long)st.st_size, (unsigned long long)max);
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", what);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(b);
			return sl_diag_errno(d, "%s: read", what);
		}
		if (n == 0)
			break; /* shrank while reading: take what is there */
		got += (size_t)n;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	return SL_OK;
}

int sl_file_read(const char *path, uint64_t max, uint8_t **buf, size_t *len, struct sl_diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc;
	if (fd < 0)
		return errno == ENOENT ? sl_diag_set(d, SL_ERR_NOTFOUND, "%s: no such file", path)
				       : sl_diag_errno(d, "%s", path);
	rc = read_fd(fd, path, max, buf, len, d);
	close(fd);
	return rc;
}

int sl_file_readat(int dirfd, const char *name, uint64_t max, uint8_t **buf, size_t *len, struct sl_diag *d)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	int rc;
	if (fd < 0)
		return errno == ENOENT ? sl_diag_set(d, SL_ERR_NOTFOUND, "%s: no such file", name)
				       : sl_diag_errno(d, "%s", name);
	rc = read_fd(fd, name, max, buf, len, d);
	close(fd);
	return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return;
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(copy);
}

int sl_file_write(const char *path, const void *data, size_t len, mode_t mode, bool excl, struct sl_diag *d)
{
	char tmp[4096];
	const char *target = path;
	int fd;

	if (!excl) {
		if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
			return sl_diag_set(d, SL_ERR_INVAL, "%s: path too long", path);
		target = tmp;
	}
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return sl_diag_set(d, SL_ERR_EXISTS, "%s already exists (not overwritten)", target);
		return sl_diag_errno(d, "%s", target);
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int rc = sl_diag_errno(d, "%s: write", target);
		close(fd);
		unlink(target);
		return rc;
	}
	if (close(fd) != 0) {
		int rc = sl_diag_errno(d, "%s: close", target);
		unlink(target);
		return rc;
	}
	if (!excl && rename(tmp, path) != 0) {
		int rc = sl_diag_errno(d, "rename to %s", path);
		unlink(tmp);
		return rc;
	}
	fsync_parent(path);
	return SL_OK;
}
