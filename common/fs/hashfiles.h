/* hashfiles.h — hash many files beneath a directory, in parallel.
 *
 * Contract: for each job, opens job->path beneath dirfd without following
 * symlinks (safefs.h), requires a regular file, and fills sha256, size (bytes
 * actually read), mode (0755 if any execute bit is set, else 0644), mtime
 * (the modification time of the file that was read) and its identity (dev,
 * ino, nlink: several names of one file are hard links). A job that fails gets
 * err < 0 (sl_err) and a one-line reason in msg; a file whose size changed
 * while it was read is an error. Other jobs continue.
 * `threads` 0 means one per online CPU (at most 8). `progress` (may be NULL)
 * is called from the calling thread about 5 times a second and once at the
 * end, with the bytes hashed and the jobs done so far. Returns SL_OK once every job ran (check
 * each job's err), or SL_ERR_NOMEM.
 *
 * Jobs are taken in order, one at a time, by each worker; a worker keeps the
 * directory of its last file open, so a tree listed in walk order costs one
 * open, one fstat and one or two reads per small file.
 */
#ifndef SL_HASHFILES_H
#define SL_HASHFILES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "error.h"

struct sl_hash_job {
	const char *path;      /* in: relative to dirfd */
	uint8_t sha256[32];    /* out */
	uint64_t size;         /* out */
	unsigned mode;         /* out: 0644 or 0755 */
	struct timespec mtime; /* out */
	uint64_t dev, ino;     /* out */
	uint64_t nlink;        /* out */
	int err;               /* out: SL_OK or a negative sl_err */
	char msg[160];         /* out: reason if err */
};

typedef void (*sl_hash_progress_fn)(void *ctx, uint64_t bytes_done, size_t jobs_done);

int sl_hash_files(int dirfd, struct sl_hash_job *jobs, size_t n, unsigned threads,
		  sl_hash_progress_fn progress, void *pctx);

#endif
