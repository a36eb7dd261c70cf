/* donemap.h — which chunks of a transfer are durable, one bit per chunk.
 *
 * In memory a bitmap (nchunks/8 bytes: 128 KiB for 1 TB in 1 MB chunks);
 * on disk STATE/xfer/<id>/done keeps one byte per chunk (1: durable), written
 * in place, so a crash leaves every byte either old or new. The receive
 * thread sets bits; the hashing thread reads them (atomics, no lock).
 * rx_done_convert() carries progress over to another chunk size of the same
 * stream: a new chunk is done only if every old chunk it overlaps is.
 */
#ifndef SL_RX_DONEMAP_H
#define SL_RX_DONEMAP_H

#include <stddef.h>
#include <stdint.h>

static inline size_t rx_done_bytes(uint64_t nchunks)
{
	return (size_t)((nchunks + 7) / 8) + 1;
}

static inline int rx_done_get(const uint8_t *map, uint64_t i)
{
	return __atomic_load_n(&map[i / 8], __ATOMIC_ACQUIRE) >> (i % 8) & 1;
}

static inline void rx_done_set(uint8_t *map, uint64_t i)
{
	__atomic_fetch_or(&map[i / 8], (uint8_t)(1u << (i % 8)), __ATOMIC_RELEASE);
}

/* Fill map (zeroed, nchunks bits) from a done file; returns the count set. */
uint64_t rx_done_load(int fd, uint8_t *map, uint64_t nchunks);
/* Write the whole map as a done file (one byte per chunk) to fd, from 0. */
int rx_done_store(int fd, const uint8_t *map, uint64_t nchunks);
/* old: chunks of old_size over a stream of total bytes; out (zeroed) gets
 * the chunks of new_size fully covered. Returns the count set in out. */
uint64_t rx_done_convert(const uint8_t *old, uint32_t old_size, uint8_t *out, uint32_t new_size,
			 uint64_t total);

#endif
