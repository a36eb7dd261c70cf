/* linkcopy.h — symbolic links inside a tree: resolved without ever leaving
 * it, and replaced by copies of their targets (`sluice manifest create
 * --symlinks copy-inside`).
 *
 * Contract: paths are relative to `rootfd` ('/'-separated, no leading '/');
 * `root_abs` is the root's absolute path with no symlink in it (realpath),
 * against which absolute link targets are judged.
 *
 * lc_resolve() follows the link at `path`, and every link met on the
 * way, one component at a time inside the tree. Refused, with the reason in
 * diag: a target that leaves the tree (an absolute target outside root_abs,
 * or ".." above the root), one that does not exist, a path through something
 * that is not a directory, more than LC_MAX_HOPS links. On success
 * *target is the target's real path (malloc'd; "" for the root itself) and
 * *st its lstat (never a symlink).
 *
 * lc_replace() puts a copy of the link's target in its place: a
 * regular file becomes a hard link to the target where the filesystem
 * allows, else a byte copy with the target's mode and modification time; a
 * directory becomes a new directory of copies of everything in it (links in
 * it resolved the same way, from where they are), with the modification
 * times of the originals. A directory that holds the link being copied,
 * directly or through other links, is a cycle and refused, as are devices,
 * FIFOs and sockets. With dry_run nothing is written and every problem is
 * reported, so a caller can refuse before changing anything; otherwise the
 * first problem stops it and the link stays as it was. The link's parent
 * directory keeps its modification time. Problems go to report(ctx, link,
 * target, why): the link (perhaps one met inside a directory being copied)
 * and its target as written. Returns SL_OK or the first problem's code.
 */
#ifndef SL_TOOLS_LINKCOPY_H
#define SL_TOOLS_LINKCOPY_H

#include <stdbool.h>
#include <sys/stat.h>
#include "error.h"

#define LC_MAX_HOPS 40

typedef void (*lc_report_fn)(void *ctx, const char *link, const char *target, const char *why);

int lc_resolve(int rootfd, const char *root_abs, const char *path, char **target, struct stat *st,
		    struct sl_diag *d);

int lc_replace(int rootfd, const char *root_abs, const char *path, bool dry_run,
		    lc_report_fn report, void *ctx);

#endif
