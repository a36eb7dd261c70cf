/* chunker.h — the stream of a transfer, cut into chunks and compressed.
 *
 * Contract: chunks are produced in order, each as a complete block payload
 * (32-byte block record + stored bytes, PROTOCOL.md §5.1). Files are read
 * in manifest order and re-hashed as they are read; a file whose size or
 * SHA-256 differs from the manifest stops the chunker with SL_ERR_HASH and
 * a message naming the file ("changed since it was hashed"). Compression
 * happens here once: the caller keeps the payloads for later passes.
 *
 * Reading ahead: sl_chunker_prefetch() names the buffer of the next chunks
 * before they are read; their file reads start at once (through the
 * sl_uio, up to 64 file pieces in flight) and sl_chunker_read() then waits
 * for them and hashes in order. Errors are reported as and when a plain
 * in-order read would meet them.
 */
#ifndef SL_TX_CHUNKER_H
#define SL_TX_CHUNKER_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>
#include "error.h"
#include "source.h"
#include "uring_io.h"

struct sl_chunker;

/* uio: how files are read (plain or io_uring, see uring_io.h), used by the
 * thread that reads chunks only; NULL: plain pread, a private one. */
int sl_chunker_new(const struct sl_source *src, uint32_t chunk_size, int level,
		   struct sl_uio *uio, struct sl_chunker **out, struct sl_diag *d);
void sl_chunker_free(struct sl_chunker *c);

/* Produce chunk `index` (must be the next one) into out, which has room for
 * SL_BLOCK_REC + chunk_size bytes; *len receives the payload length. */
int sl_chunker_next(struct sl_chunker *c, uint64_t index, uint8_t *out, size_t *len,
		    struct sl_diag *d);

/* The same in two steps, so compression can run on other threads:
 * sl_chunker_read() reads and hashes chunk `index` (the next one) into
 * out + SL_BLOCK_REC and gives its raw length; sl_chunk_pack() (any thread,
 * with its own context from sl_chunk_cctx() and a chunk_size buffer)
 * compresses it in place and writes the record, returning 1 when stored
 * raw; sl_chunker_account() adds the result to the totals. */
int sl_chunker_read(struct sl_chunker *c, uint64_t index, uint8_t *out, size_t *want,
		    struct sl_diag *d);
/* Chunk `index` (the next without a buffer; at most 256 ahead of the next
 * read) will be read into out + SL_BLOCK_REC: start reading it. The buffer
 * must stay until sl_chunker_read() of it or sl_chunker_free(). */
int sl_chunker_prefetch(struct sl_chunker *c, uint64_t index, uint8_t *out);
int sl_chunk_pack(ZSTD_CCtx *cctx, uint8_t *zbuf, uint64_t index, uint32_t chunk_size,
		  uint8_t *out, size_t want, size_t *len);
ZSTD_CCtx *sl_chunk_cctx(int level);
void sl_chunker_account(struct sl_chunker *c, size_t stored, int raw);

/* After the last chunk: check that every file was read and matched
 * (including zero-length files at the end). */
int sl_chunker_finish(struct sl_chunker *c, struct sl_diag *d);

/* Totals so far: raw bytes read, stored bytes produced, chunks stored raw. */
void sl_chunker_totals(const struct sl_chunker *c, uint64_t *raw, uint64_t *stored,
		       uint64_t *raw_chunks);

#endif
