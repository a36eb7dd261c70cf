/* fileio.h — whole-file reads with a size cap, and careful writes.
 *
 * Contract: sl_file_read() reads a regular file (refuses anything else and
 * anything larger than max, with SL_ERR_TOOBIG) into a malloc'd buffer with a
 * NUL after the last byte (not counted in *len). sl_file_readat() does the
 * same relative to a directory fd, refusing symlinks (O_NOFOLLOW).
 * sl_file_write() writes data to path with `mode`: with `excl` it refuses an
 * existing file (SL_ERR_EXISTS); otherwise it writes a temporary file in the
 * same directory and renames it over path. Either way the data is fsync'd
 * before returning. Path "-" is not special here.
 */
#ifndef SL_FILEIO_H
#define SL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"

int sl_file_read(const char *path, uint64_t max, uint8_t **buf, size_t *len, struct sl_diag *d);
int sl_file_readat(int dirfd, const char *name, uint64_t max, uint8_t **buf, size_t *len, struct sl_diag *d);
int sl_file_write(const char *path, const void *data, size_t len, mode_t mode, bool excl, struct sl_diag *d);

#endif
