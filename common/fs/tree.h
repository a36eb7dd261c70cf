/* tree.h — walking a directory tree without following
 * symbolic links.
 *
 * Contract: sl_tree_walk() visits every entry below dirfd depth-first, in
 * bytewise name order within a directory, calling fn with the path relative
 * to dirfd ('/'-separated, raw bytes as on disk) and its lstat. Directories
 * are visited before their contents; symlinks are reported, never followed.
 * A directory that cannot be opened or read is reported to fn with err != 0
 * (errno) and not descended into. fn returns 0 to continue, non-zero to stop
 * (that value is returned). Paths longer than 4095 bytes or deeper than 64
 * levels are reported with err = ENAMETOOLONG.
 *
 * sl_tree_walk_flags(..., SL_WALK_NO_STAT_FILES, ...) saves a system call per
 * file for callers that open and fstat the files anyway: an entry whose
 * directory entry says "regular file" (d_type) is reported with st_mode
 * S_IFREG and every other field of st zero. Other entries, and every entry
 * on filesystems that give no d_type, get their lstat.
 *
 * Opening a path beneath a directory, and removing a tree, are in safefs.h.
 */
#ifndef SL_TREE_H
#define SL_TREE_H

#include <sys/stat.h>

typedef int (*sl_tree_fn)(void *ctx, const char *path, const struct stat *st, int err);

#define SL_WALK_NO_STAT_FILES 1u

int sl_tree_walk(int dirfd, sl_tree_fn fn, void *ctx);
int sl_tree_walk_flags(int dirfd, unsigned flags, sl_tree_fn fn, void *ctx);

#endif
