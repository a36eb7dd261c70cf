/* safefs.h — creating files inside a directory without ever leaving it.
 *
 * Contract: every path is relative to a directory descriptor and resolved
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): no "..", no absolute path, no symlink anywhere, no mount
 * crossing. Files are created O_EXCL (never reused or truncated). These are
 * the only ways rx creates anything under its staging and release trees.
 */
#ifndef SL_SAFEFS_H
#define SL_SAFEFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

/* openat2 with the resolve flags above. Returns fd or -errno. */
int sl_openat_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* Make every directory of `dirpath` (a '/'-separated relative path) that
 * does not exist yet, mode 0755. */
int sl_mkdirs_beneath(int dirfd, const char *dirpath, struct sl_diag *d);

/* Create `path` exclusively (its parent must exist) for writing. */
int sl_create_beneath(int dirfd, const char *path, mode_t mode, int *fd, struct sl_diag *d);

/* Write a whole small file exclusively and fsync it. */
int sl_write_file_beneath(int dirfd, const char *path, const void *data, size_t len,
			  mode_t mode, struct sl_diag *d);

/* Write a small file atomically: temp name, fsync, rename over `name`, fsync
 * the directory. SL_OK means the new contents are durable under `name`; an
 * error after the rename (directory sync) leaves them in place, not durable. */
int sl_write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
			 mode_t mode, struct sl_diag *d);

/* Read a whole small regular file (no symlinks) of at most cap bytes. */
int sl_read_file_beneath(int dirfd, const char *path, size_t cap, uint8_t **data,
			 size_t *len, struct sl_diag *d);

/* Remove `name` in dirfd and everything below it, never following symlinks.
 * A missing name is not an error. */
int sl_remove_tree(int dirfd, const char *name, struct sl_diag *d);

/* fsync a directory descriptor (or path relative to dirfd, "." for itself).
 * SL_ERR_IO with errno set on failure. */
int sl_fsync_dir(int dirfd, const char *path);

/* Write all of buf at offset, retrying short writes. */
int sl_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Read exactly len bytes at offset (SL_ERR_IO on short read). */
int sl_pread_all(int fd, void *buf, size_t len, uint64_t off);

#endif
