/* donemap.c — the done map's file form and its conversion (see donemap.h). */
#include "donemap.h"

#include <string.h>
#include <unistd.h>

#include "error.h"
#include "safefs.h"

#define PIECE 65536

uint64_t rx_done_load(int fd, uint8_t *map, uint64_t nchunks)
{
	uint8_t buf[PIECE];
	uint64_t at = 0, n = 0;

	while (at < nchunks) {
		size_t want = nchunks - at < PIECE ? (size_t)(nchunks - at) : PIECE;
		ssize_t got = pread(fd, buf, want, (off_t)at);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++)
			if (buf[i] == 1) {
				rx_done_set(map, at + (uint64_t)i);
				n++;
			}
		at += (uint64_t)got;
	}
	return n;
}

int rx_done_store(int fd, const uint8_t *map, uint64_t nchunks)
{
	uint8_t buf[PIECE];

	if (ftruncate(fd, 0) != 0)
		return SL_ERR_IO;
	for (uint64_t at = 0; at < nchunks; at += PIECE) {
		size_t n = nchunks - at < PIECE ? (size_t)(nchunks - at) : PIECE;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rx_done_get(map, at + i);
		if (sl_pwrite_all(fd, buf, n, at))
			return SL_ERR_IO;
	}
	return fdatasync(fd) == 0 ? SL_OK : SL_ERR_IO;
}

uint64_t rx_done_convert(const uint8_t *old, uint32_t old_size, uint8_t *out, uint32_t new_size,
			 uint64_t total)
{
	uint64_t n_new = (total + new_size - 1) / new_size, set = 0;

	for (uint64_t j = 0; j < n_new; j++) {
		uint64_t a = j * new_size, b = a + new_size < total ? a + new_size : total;
		int all = 1;
		for (uint64_t i = a / old_size; all && i * old_size < b; i++)
			all = rx_done_get(old, i);
		if (all) {
			rx_done_set(out, j);
			set++;
		}
	}
	return set;
}
