/* create_tree.h — what `sluice manifest create` finds under DATA-DIR.
 *
 * Contract: ct_walk() walks the tree without following symbolic links and
 * sorts what it finds: directories (path, modification time), regular files
 * (paths only, not even stat'ed: hashing does that; ct_jobs() makes the hash
 * jobs) and symbolic links (path and target text). Every entry the format cannot carry
 * (devices, FIFOs, sockets, unreadable directories, names the manifest
 * refuses) is printed at once as "refused: DATA-DIR/PATH: REASON" and
 * counted; links are only collected, the caller decides. ct_free() releases
 * everything; a walked tree can be walked again after ct_free().
 */
#ifndef SL_TOOLS_CREATE_TREE_H
#define SL_TOOLS_CREATE_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "hashfiles.h"

struct ct_dir {
	char *path;
	struct timespec mtime;
};

struct ct_link {
	char *path;
	char *target;     /* as the link holds it */
};

struct create_tree {
	int rootfd;
	const char *root;          /* as given, for messages */
	char **files;
	size_t nfiles, capf;
	struct sl_hash_job *jobs;  /* after ct_jobs(): one per file, in order */
	size_t njobs;
	struct ct_dir *dirs;
	size_t ndirs, capd;
	struct ct_link *links;
	size_t nlinks, capl;
	size_t refused;
};

/* SL_OK, or SL_ERR_NOMEM. */
int ct_walk(struct create_tree *t);
int ct_jobs(struct create_tree *t);
void ct_free(struct create_tree *t);

/* "refused: ROOT/PATH: WHY" on stderr, counted. */
void ct_refuse(struct create_tree *t, const char *path, const char *why);
/* ROOT/PATH as printable ASCII (the manifest's percent-encoding). */
const char *ct_shown(const struct create_tree *t, const char *path, char *buf, size_t len);
/* A link target as printable ASCII (\u{XXXX} escapes). */
const char *ct_shown_target(const char *target, char *buf, size_t len);

/* After hashing: says which files have several names (hard links), as a
 * note on stderr. */
void ct_note_hard_links(const struct create_tree *t);

#endif
