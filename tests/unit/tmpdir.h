/* tmpdir.h — a fresh directory under /tmp for each unit test that works on
 * files, filled with small files, and removed with everything in it
 * (sl_remove_tree: no shell, no symlink followed). Every helper asserts, so
 * a test stops where its fixture could not be made. */
#ifndef SL_TEST_TMPDIR_H
#define SL_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"

/* Make /tmp/sluice-NAME-XXXXXX in dir (cap bytes); returns it opened. */
static inline int tmpdir_make(char *dir, size_t cap, const char *name)
{
	int fd;
	cr_assert_lt((size_t)snprintf(dir, cap, "/tmp/sluice-%s-XXXXXX", name), cap);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", dir, strerror(errno));
	return fd;
}

/* Close fd (when >= 0), then remove dir and all below it. */
static inline void tmpdir_remove(const char *dir, int fd)
{
	struct sl_diag d;
	if (fd >= 0)
		close(fd);
	if (dir[0] && sl_remove_tree(AT_FDCWD, dir, &d) != SL_OK)
		fprintf(stderr, "cleanup of %s failed: %s\n", dir, d.msg);
}

/* The file rel beneath dfd holds text, with exactly mode. */
static inline void tmpdir_put(int dfd, const char *rel, const char *text, mode_t mode)
{
	size_t n = strlen(text);
	int fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "%s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, text, n), (ssize_t)n, "%s", rel);
	cr_assert_eq(fchmod(fd, mode), 0, "%s", rel);
	close(fd);
}

static inline void tmpdir_mkdir(int dfd, const char *rel)
{
	cr_assert_eq(mkdirat(dfd, rel, 0755), 0, "%s: %s", rel, strerror(errno));
}

#endif
