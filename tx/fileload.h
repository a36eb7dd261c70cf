/* fileload.h — many small files read whole, a batch at a time, through io_uring.
 *
 * Contract. tx_fileload_batch() opens each file of the batch beneath dirfd
 * (openat2 with the resolve flags of safefs.h: no "..", no symlink, no mount
 * crossed), checks that it is a regular file of the expected size (statx),
 * reads it into its buffer asking one byte more, and closes it: three
 * io_uring submissions for the whole batch instead of four system calls a
 * file. Each file's `ok` says whether all of that went as expected (a
 * regular file, `size` bytes read, end of file right after them). It is a
 * fast path only: it gives no reasons and no message, and a file that is
 * not ok may have been read in part; the caller reads such a file again its
 * ordinary way, which finds the reason and says it. Nothing is hashed here.
 *
 * One loader serves one thread. tx_fileload_new() returns SL_ERR_UNSUPPORTED
 * where io_uring cannot be set up (an old kernel, a sandbox that forbids
 * it): the caller then reads every file its ordinary way.
 */
#ifndef TX_FILELOAD_H
#define TX_FILELOAD_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define TX_FILELOAD_BATCH 32   /* files in one batch at most */

struct tx_fileload_item {
	const char *path;      /* beneath dirfd */
	uint8_t *buf;          /* room for size bytes */
	size_t size;           /* what it must hold (> 0) */
	int ok;                /* out: 1 read whole and as expected */
};

struct tx_fileload;

int tx_fileload_new(struct tx_fileload **out, struct sl_diag *d);
void tx_fileload_free(struct tx_fileload *fl);

/* Load n (<= TX_FILELOAD_BATCH) files; sets every item's ok. */
void tx_fileload_batch(struct tx_fileload *fl, int dirfd, struct tx_fileload_item *v, unsigned n);

#endif
