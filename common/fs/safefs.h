/* safefs.h — opening, reading, writing and removing files without leaving a
 * directory.
 *
 * Contract: a path given with a directory descriptor is resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): no escape by ".." or an absolute path, no symlink in any
 * component (ELOOP), no mount crossed (EXDEV). Files are created O_EXCL
 * (never reused or truncated). These are the only ways rx creates anything
 * under its staging and release trees, and the way tx and `sluice manifest`
 * open files inside a transfer's tree. Whole-file reads refuse anything but
 * a regular file (SL_ERR_INVAL) and anything over the cap (SL_ERR_TOOBIG),
 * return a malloc'd buffer with a NUL after the last byte (not counted in
 * *len), and fail (SL_ERR_IO) if the file shrinks or grows while being read.
 * sl_read_file()/sl_write_file() take a path as an operator typed it (for
 * the CLI's keys, manifests and signatures), following symlinks on the way.
 */
#ifndef SL_SAFEFS_H
#define SL_SAFEFS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <sys/types.h>
#include "error.h"

/* The resolve flags above, for an openat2 made another way (io_uring). */
#define SL_RESOLVE_SAFE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* openat2 with the resolve flags above (O_NOFOLLOW and O_CLOEXEC added).
 * Returns an fd, or -errno with errno set as well. */
int sl_openat_beneath(int dirfd, const char *path, int flags, mode_t mode);

/* Make every directory of `dirpath` (a '/'-separated relative path) that
 * does not exist yet, mode 0755. */
int sl_mkdirs_beneath(int dirfd, const char *dirpath, struct sl_diag *d);

/* The directory `name` in parent (one component), made with `mode` if it
 * is missing, opened without following a symlink there (a mount point is
 * fine: rx's STATE/xfer, tx's spool folders). Returns its descriptor, or
 * SL_ERR_IO ("cannot create NAME", "cannot open NAME") in diag. */
int sl_mkdir_open(int parent, const char *name, mode_t mode, struct sl_diag *d);

/* Create `path` exclusively (its parent must exist) for writing. */
int sl_create_beneath(int dirfd, const char *path, mode_t mode, int *fd, struct sl_diag *d);

/* Write a whole small file exclusively (SL_ERR_EXISTS if path exists) and
 * fsync it; the mode is umask'd; its directory is not synced (rx syncs the
 * tree it builds at the end). On failure nothing is left under path. */
int sl_write_file_beneath(int dirfd, const char *path, const void *data, size_t len,
			  mode_t mode, struct sl_diag *d);

/* Write a small file atomically: .NAME.tmp (a stale one removed first),
 * fsync, rename over `name` (a single component), fsync the directory.
 * SL_OK means the new contents are durable under `name`; an error after the
 * rename (the directory sync failed) leaves them in place, not durable. */
int sl_write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
			 mode_t mode, struct sl_diag *d);

/* Read the whole of fd, a regular file of at most cap bytes, from its start
 * (pread: fd's offset does not move, fd stays open); `what` names it in
 * messages ("WHAT: not a regular file", "reading WHAT: <errno>"). The one
 * whole-file reader: the functions below, configuration files, the ledger,
 * tx's manifest. */
int sl_read_fd(int fd, const char *what, uint64_t cap, uint8_t **data, size_t *len, struct sl_diag *d);

/* Read a whole regular file of at most cap bytes beneath dirfd.
 * SL_ERR_NOTFOUND where it does not exist. */
int sl_read_file_beneath(int dirfd, const char *path, uint64_t cap, uint8_t **data,
			 size_t *len, struct sl_diag *d);

/* The same for a path (absolute, or relative to the working directory). */
int sl_read_file(const char *path, uint64_t cap, uint8_t **data, size_t *len, struct sl_diag *d);

/* Write data to path with exactly `mode` (not umask'd), fsync'd with its
 * directory: with `excl` an existing file is refused (SL_ERR_EXISTS) as by
 * sl_write_file_beneath(); otherwise as by sl_write_file_atomic(). The
 * directory part of path is opened as typed (symlinks followed); a symlink
 * at path itself is never followed. A failed directory sync is SL_ERR_IO
 * (the file is written, perhaps not durable). */
int sl_write_file(const char *path, const void *data, size_t len, mode_t mode, bool excl,
		  struct sl_diag *d);

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
/* Copy in's bytes into out, both from offset 0 (neither descriptor's offset
 * moves), until len bytes are copied or in ends (*copied, may be NULL, says
 * how many): copy_file_range, so filesystems that can share extents do, and
 * pread/pwrite through buf[cap] (NULL: 64 KiB of its own) where they cannot
 * (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP). In slices of at most 64 MiB, with
 * *cancel (may be NULL) checked before each: SL_ERR_AGAIN once it is set.
 * SL_ERR_IO with errno on failure. The one byte copier: rx's copies from a
 * delta's base, `sluice manifest create --symlinks copy-inside`. */
int sl_copy_bytes(int in, int out, uint64_t len, void *buf, size_t cap, const atomic_int *cancel,
		  uint64_t *copied);

/* *fd closed if it is open (>= 0), and set to -1. */
void sl_close_fd(int *fd);

#endif
