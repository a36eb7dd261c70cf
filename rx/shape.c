/* shape.c — the released tree's directories, modes and times (manifest v2).
 *
 * rx_shape_dirs(): every directory the manifest lists exists under data/,
 * empty ones included (parents first: the list is sorted). rx_shape_times():
 * once every file is written and hashed, each file gets its mode and time
 * (or rx_shape_file, one file at a time, while it is open for its size
 * check: one open a file at release), then each directory its mode and
 * time, deepest first (creating entries
 * changes a directory's time, so a parent is done after its children).
 * rx_tree_file(): a file of the tree opened, created with its directories
 * if missing (the writer thread, a release job). Everything is opened
 * beneath data/ without following links. These read
 * only their arguments: a release job's thread calls them (finish.c). A version 1
 * manifest lists no directories and zero times: nothing is set then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"

int rx_shape_dirs(const struct sl_manifest *m, int data_fd, char *why, size_t wl)
{
	struct sl_diag d = { "" };

	for (size_t i = 0; i < m->ndirs; i++) {
		int r = sl_mkdirs_beneath(data_fd, m->dirs[i].path, &d);
		if (r) {
			snprintf(why, wl, "data/%s/: %s", m->dirs[i].path, d.msg);
			return r;
		}
	}
	return SL_OK;
}

static int set_times(int fd, struct timespec mtime)
{
	struct timespec t[2] = { mtime, mtime };
	return futimens(fd, t);
}

int rx_shape_file(const struct sl_manifest *m, size_t i, int fd)
{
	if (fchmod(fd, (mode_t)m->files[i].mode) != 0)
		return -1;
	return m->version < 2 ? 0 : set_times(fd, m->files[i].mtime);
}

/* The directories' modes and times (the files' are set by rx_shape_file). */
int rx_shape_times(const struct sl_manifest *m, int data_fd, char *why, size_t wl)
{
	if (m->version < 2)
		return SL_OK;
	for (size_t i = m->ndirs; i-- > 0;) {
		const struct sl_manifest_dir *dir = &m->dirs[i];
		int fd = sl_openat_beneath(data_fd, dir->path, O_RDONLY | O_DIRECTORY, 0);
		int bad = fd < 0 || fchmod(fd, (mode_t)dir->mode) != 0 || set_times(fd, dir->mtime) != 0;
		int err = errno;
		if (fd >= 0)
			close(fd);
		if (bad) {
			snprintf(why, wl, "data/%s/: setting its mode and time: %s", dir->path, strerror(err));
			return SL_ERR_IO;
		}
	}
	return SL_OK;
}

int rx_tree_file(int data_fd, const char *path)
{
	struct sl_diag d = { "" };
	int fd = sl_openat_beneath(data_fd, path, O_RDWR | O_CREAT, 0600);
	const char *slash = strrchr(path, '/');

	if (fd == -ENOENT && slash) {
		/* a version 1 manifest lists no directories: made with the file */
		char parent[4096];
		size_t n = (size_t)(slash - path);
		if (n >= sizeof parent) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(parent, path, n);
		parent[n] = '\0';
		if (sl_mkdirs_beneath(data_fd, parent, &d) != SL_OK)
			return -1;
		fd = sl_openat_beneath(data_fd, path, O_RDWR | O_CREAT, 0600);
	}
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}
