/* fec.h — systematic Cauchy Reed–Solomon erasure code over GF(2^8).
 *
 * Contract. A block has k data symbols (rows 0..k-1) of `len` bytes each.
 * Parity row r (k <= r < 255) is row r of ISA-L's Cauchy generator matrix
 * (gf_gen_cauchy1_matrix with 255 rows), so rows are stable across calls
 * and processes: a repeat pass may send rows never sent before, and any k
 * distinct rows, from any passes, recover the block. 1 <= k, k + 1 <= 255.
 *
 * Encoding uses ISA-L's ec_init_tables/ec_encode_data. Decoding never inverts
 * the k×k matrix: with e data rows missing it inverts only the e×e
 * sub-matrix formed by the e chosen parity rows and the missing columns,
 * and caches the resulting decode tables per (k, missing set, parity rows).
 *
 * A `struct sl_fec` holds caches; it is not thread-safe: use one per thread.
 * Memory is bounded (a fixed number of cached tables, LRU): 32 decode
 * tables of 32·e·k bytes and 4 per-k encode tables of 32·k·(255−k) bytes,
 * about 3 MB at k=128, e<=16 and under 20 MB in the worst case.
 *
 * Symbol length: 1 <= len <= INT_MAX, buffers of any alignment. The code
 * (field, matrix, row numbering) is specified in common/FEC.md.
 */
#ifndef SL_FEC_H
#define SL_FEC_H

#include <stddef.h>
#include <stdint.h>

#define SL_FEC_ROWS 255 /* rows 0..254: data rows 0..k-1, parity rows k..254 */

struct sl_fec;

int sl_fec_new(struct sl_fec **out);
void sl_fec_free(struct sl_fec *f);

/* Compute parity rows rows[0..n-1] (each in [k, 255), any order, no
 * duplicates) of the block whose k data symbols are data[0..k-1], into
 * out[0..n-1]. All buffers are `len` bytes. Returns 0 or SL_ERR_INVAL. */
int sl_fec_encode(struct sl_fec *f, unsigned k, size_t len,
		  const uint8_t *const *data,
		  unsigned n, const unsigned *rows, uint8_t *const *out);

/* Recover missing data rows in place.
 *   data[i] (i < k) is a buffer of `len` bytes; present[i] != 0 means it
 *   already holds data row i, otherwise it will receive the recovered row.
 *   prow[j], psym[j] (j < np) are received parity rows and their symbols;
 *   duplicate or out-of-range rows are ignored.
 * With e rows missing, the e lowest-numbered distinct parity rows given are
 * used (so a repeated loss pattern reuses cached tables whatever the order
 * of prow[]); nothing missing is a no-op returning 0.
 * Returns 0 when every data row is present afterwards, SL_ERR_DECODE when
 * fewer distinct parity rows than missing data rows were given (data[] is
 * then left unchanged: never wrong data), SL_ERR_INVAL on bad arguments. */
int sl_fec_decode(struct sl_fec *f, unsigned k, size_t len,
		  uint8_t *const *data, const uint8_t *present,
		  unsigned np, const unsigned *prow, const uint8_t *const *psym);

/* Statistics of the decode-table cache, for tests and benchmarks. */
struct sl_fec_stats {
	uint64_t decodes;      /* successful sl_fec_decode calls that recovered rows */
	uint64_t cache_hits;   /* decodes that reused cached tables */
	uint64_t inversions;   /* e×e inversions performed */
};
void sl_fec_get_stats(const struct sl_fec *f, struct sl_fec_stats *st);

/* Interleaved send order for a group of D blocks (FEC.md, "Interleaving"):
 * block b sends count[b] symbols (indices 0..count[b]-1 into whatever list
 * of rows the caller sends for it). The order is round-robin: symbol 0 of
 * every block, then symbol 1 of every block that has one, and so on, so B
 * consecutive datagrams hold at most ceil(B/D) symbols of a block while all
 * D blocks still have symbols. `count` must outlive the iterator.
 *   struct sl_fec_ilv it; sl_fec_ilv_init(&it, d, count);
 *   while (sl_fec_ilv_next(&it, &b, &s)) send(block b, its symbol s);
 * sl_fec_ilv_init returns SL_ERR_INVAL for d == 0 or count == NULL. */
struct sl_fec_ilv {
	unsigned d, round, next, rounds;
	const unsigned *count;
};
int sl_fec_ilv_init(struct sl_fec_ilv *it, unsigned d, const unsigned *count);
int sl_fec_ilv_next(struct sl_fec_ilv *it, unsigned *block, unsigned *sym); /* 1, or 0 at the end */

#endif
