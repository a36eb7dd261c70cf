/* chunker.h — the stream of a transfer, cut into chunks and compressed.
 *
 * Contract: chunks are produced in order, each as a complete block payload
 * (32-byte block record + stored bytes, PROTOCOL.md §5.1). Files are read
 * in manifest order and re-hashed as they are read; a file whose size or
 * SHA-256 differs from the manifest stops the chunker with SL_ERR_HASH and
 * a message naming the file ("changed since it was hashed"). Compression
 * happens here once: the caller keeps the payloads for later passes.
 *
 * Reading ahead: tx_chunker_prefetch() names the buffer of the next chunks
 * before they are read; their file reads start at once (through the
 * sl_uio, up to 4096 file pieces planned ahead, as many in flight as the
 * sl_uio's depth) and tx_chunker_read() then waits for them and hashes in
 * order. Errors are reported as and when a plain
 * in-order read would meet them.
 *
 * Whole files on other threads: a file that lies whole inside one chunk
 * (a small file) is not read that way but left for tx_chunker_load(), which
 * opens it, reads it with one preadv (asking a byte more, so a file that grew
 * shows it), hashes and checks it, and closes it: on any thread, several at
 * once (or in io_uring batches, fileload.h). tx_chunker_read() then only takes its result, in order, with the
 * same message an in-order read would give, and loads itself any such file
 * no batch took.
 */
#ifndef TX_CHUNKER_H
#define TX_CHUNKER_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>
#include "error.h"
#include "fileload.h"
#include "sha256.h"
#include "source.h"
#include "uring_io.h"

struct tx_chunker;

/* uio: how files are read (plain or io_uring, see uring_io.h), used by the
 * thread that reads chunks only; NULL: plain pread, a private one. */
int tx_chunker_new(const struct tx_source *src, uint32_t chunk_size, int level,
		   struct sl_uio *uio, struct tx_chunker **out, struct sl_diag *d);
void tx_chunker_free(struct tx_chunker *c);

/* Produce chunk `index` (must be the next one) into out, which has room for
 * SL_BLOCK_REC + chunk_size bytes; *len receives the payload length. */
int tx_chunker_next(struct tx_chunker *c, uint64_t index, uint8_t *out, size_t *len,
		    struct sl_diag *d);

/* The same in two steps, so compression can run on other threads:
 * tx_chunker_read() reads and hashes chunk `index` (the next one) into
 * out + SL_BLOCK_REC and gives its raw length; tx_chunk_pack() (any thread,
 * with its own context from tx_chunk_cctx() and a chunk_size buffer)
 * compresses it in place and writes the record, returning 1 when stored
 * raw; tx_chunker_account() adds the result to the totals. */
int tx_chunker_read(struct tx_chunker *c, uint64_t index, uint8_t *out, size_t *want,
		    struct sl_diag *d);
/* Chunk `index` (the next without a buffer; at most 256 ahead of the next
 * read) will be read into out + SL_BLOCK_REC: start reading it. The buffer
 * must stay until tx_chunker_read() of it or tx_chunker_free(). */
int tx_chunker_prefetch(struct tx_chunker *c, uint64_t index, uint8_t *out);
/* The whole files read ahead so far and not yet in a batch become the
 * batch; returns how many. Then tx_chunker_load() on any number of threads
 * at once (each with its own SHA-256 context; nothing else may use the
 * chunker meanwhile) takes files of the batch until none is left. */
unsigned tx_chunker_loads(struct tx_chunker *c);
/* fl (may be NULL): read them in batches through io_uring (fileload.h);
 * a file the batch did not read as expected is read again the plain way. */
void tx_chunker_load(struct tx_chunker *c, struct tx_fileload *fl, struct sl_sha256 *ctx);
int tx_chunk_pack(ZSTD_CCtx *cctx, uint8_t *zbuf, uint64_t index, uint32_t chunk_size,
		  uint8_t *out, size_t want, size_t *len);
ZSTD_CCtx *tx_chunk_cctx(int level);
void tx_chunker_account(struct tx_chunker *c, size_t stored, int raw);

/* After the last chunk: check that every file was read and matched
 * (including zero-length files at the end). */
int tx_chunker_finish(struct tx_chunker *c, struct sl_diag *d);

/* Totals so far: raw bytes read, stored bytes produced, chunks stored raw. */
void tx_chunker_totals(const struct tx_chunker *c, uint64_t *raw, uint64_t *stored,
		       uint64_t *raw_chunks);

#endif
