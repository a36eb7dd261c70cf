/* tree.c — walking a directory tree without following symlinks. */
#include "tree.h"
#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 64
#define WALK_PATH_MAX 4096

/* Names are kept as the d_type byte followed by the name. */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static int walk(int dfd, char *path, size_t plen, int depth, unsigned flags, sl_tree_fn fn, void *ctx)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	dir = fdopendir(dfd);
	if (!dir) {
		int e = errno;
		close(dfd);
		return fn(ctx, path, NULL, e);
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sl_grow(&names, n, &cap, sizeof *names)) {
			rc = fn(ctx, path, NULL, ENOMEM);
			goto out;
		}
		size_t dl = strlen(de->d_name);
		names[n] = malloc(dl + 2);
		if (!names[n]) {
			rc = fn(ctx, path, NULL, ENOMEM);
			goto out;
		}
		names[n][0] = (char)de->d_type;
		memcpy(names[n] + 1, de->d_name, dl + 1);
		n++;
	}
	if (errno) {
		rc = fn(ctx, path, NULL, errno);
		goto out;
	}
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n && !rc; i++) {
		const char *name = names[i] + 1;
		size_t nl = strlen(name);
		struct stat st;
		if (plen + 1 + nl >= WALK_PATH_MAX || depth >= WALK_MAX_DEPTH) {
			rc = fn(ctx, path, NULL, ENAMETOOLONG);
			continue;
		}
		size_t np = plen;
		if (plen)
			path[np++] = '/';
		memcpy(path + np, name, nl + 1);
		if ((flags & SL_WALK_NO_STAT_FILES) && names[i][0] == DT_REG) {
			memset(&st, 0, sizeof st);
			st.st_mode = S_IFREG;
			rc = fn(ctx, path, &st, 0);
		} else if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fn(ctx, path, NULL, errno);
		} else {
			rc = fn(ctx, path, &st, 0);
			if (!rc && S_ISDIR(st.st_mode)) {
				int sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub < 0)
					rc = fn(ctx, path, NULL, errno);
				else
					rc = walk(sub, path, np + nl, depth + 1, flags, fn, ctx);
			}
		}
		path[plen] = '\0';
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return rc;
}

int sl_tree_walk(int dirfd, sl_tree_fn fn, void *ctx)
{
	return sl_tree_walk_flags(dirfd, 0, fn, ctx);
}

int sl_tree_walk_flags(int dirfd, unsigned flags, sl_tree_fn fn, void *ctx)
{
	char *path = malloc(WALK_PATH_MAX);
	int dfd, rc;
	if (!path)
		return fn(ctx, "", NULL, ENOMEM);
	path[0] = '\0';
	dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		rc = fn(ctx, "", NULL, errno);
	else
		rc = walk(dfd, path, 0, 0, flags, fn, ctx);
	free(path);
	return rc;
}
