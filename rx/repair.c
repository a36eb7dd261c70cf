/* repair.c — what a timed-out transfer lacks, as a repair code.
 *
 * rx_repair_code() fills x->repair (common/proto/repair.h) from what the
 * receiver holds once the transfer is dormant: every block not decoded yet,
 * with the distinct rows it still needs (k less the rows its spool holds;
 * "the whole block" when no row of it arrived), and the first pass whose
 * rows the receiver has not been sent (x->hdr.passes: the most passes any
 * header of the layout declared, layout.c). More blocks than a code holds: a full-pass code. The
 * code carries nothing but the transfer's 20-bit tag, that pass number,
 * block numbers and counts; sluice-tx send --repair sends those rows.
 * The code is kept in STATE/xfer/<id>/repair until the transfer is active
 * again, so a restarted receiver still shows it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"

static unsigned popcount_rows(const uint8_t rows[32])
{
	unsigned n = 0;

	for (unsigned i = 0; i < 32; i++)
		n += (unsigned)__builtin_popcount(rows[i]);
	return n;
}

/* Blocks not decoded, at most max + 1 of them (one more says "too many"). */
static size_t lacking(const struct rx_xfer *x, struct sl_repair_entry *e, size_t max)
{
	uint64_t nb = (uint64_t)x->hdr.catalog_blocks + x->hdr.nchunks;
	size_t n = 0;

	for (uint64_t b = 0; b < nb && n <= max; b++) {
		const struct rx_spooled *sp;
		unsigned have;
		if (rx_xfer_block_is_done(x, b))
			continue;
		if (n == max) {
			n++;
			break;
		}
		sp = rx_xfer_spooled(x, b);
		have = sp ? popcount_rows(sp->rows) : 0;
		e[n].block = b;
		e[n].need = !sp ? 0 : have < sp->k ? (uint16_t)(sp->k - have) : 1;
		n++;
	}
	return n;
}

void rx_repair_code(struct rx_xfer *x)
{
	struct sl_repair_entry e[SL_REPAIR_MAX_ENTRIES];
	size_t n = 0;
	int full = !x->have_hdr;

	if (x->have_hdr) {
		n = lacking(x, e, SL_REPAIR_MAX_ENTRIES);
		if (n == 0) { /* every block is in: nothing a sender can add */
			rx_repair_clear(x);
			return;
		}
		full = n > SL_REPAIR_MAX_ENTRIES;
	}
	if (sl_repair_encode(x->id, x->have_hdr ? x->hdr.passes : 0, full, e, full ? 0 : n, x->repair) < 0) {
		rx_repair_clear(x);
		return;
	}
	if (x->dirfd >= 0)
		sl_write_file_atomic(x->dirfd, "repair", x->repair, strlen(x->repair), 0600, NULL);
}

void rx_repair_clear(struct rx_xfer *x)
{
	if (!x->repair[0])
		return;
	x->repair[0] = '\0';
	if (x->dirfd >= 0)
		unlinkat(x->dirfd, "repair", 0);
}

void rx_repair_load(struct rx_xfer *x)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_repair r;

	x->repair[0] = '\0';
	if (sl_read_file_beneath(x->dirfd, "repair", SL_REPAIR_MAX_CHARS, &buf, &len, NULL) != SL_OK)
		return;
	if (len <= SL_REPAIR_MAX_CHARS) {
		memcpy(x->repair, buf, len);
		x->repair[len] = '\0';
		/* only a code it wrote itself, for this transfer */
		if (sl_repair_decode(x->repair, &r, NULL) != SL_OK || !sl_repair_matches(&r, x->id))
			x->repair[0] = '\0';
	}
	free(buf);
}
