/* pending.c — chunks marked done since the last checkpoint (see rx.h).
 *
 * The receive thread sets a chunk's done bit as it places the chunk (or
 * queues it for the writer); the done file says so only once the chunk's
 * bytes are durable: durable.c's checkpoint syncs them, then writes a done
 * byte for each chunk noted here, and forgets them here. This file only
 * keeps the list (struct rx_pend, x->pend, known only here: made by the
 * first rx_pend_add, freed with the transfer by rx_pend_free); it calls no
 * other file.
 */
#include <stdlib.h>

#include "rx.h"

struct rx_pend {
	uint64_t *idx;              /* the chunks, in the order they were placed */
	size_t n, cap;
	uint64_t bytes;             /* chunk bytes noted, kept or not */
};

uint64_t rx_pend_add(struct rx_xfer *x, uint64_t idx, uint64_t bytes)
{
	struct rx_pend *p = x->pend;

	if (!p && (p = x->pend = calloc(1, sizeof *p)) == NULL)
		return 0;
	(void)sl_grow(&p->idx, p->n, &p->cap, sizeof *p->idx); /* no memory: not kept */
	if (p->n < p->cap)
		p->idx[p->n++] = idx;
	p->bytes += bytes;
	return p->bytes;
}

size_t rx_pend_list(const struct rx_xfer *x, const uint64_t **idx)
{
	*idx = x->pend ? x->pend->idx : NULL;
	return x->pend ? x->pend->n : 0;
}

void rx_pend_clear(struct rx_xfer *x)
{
	if (x->pend) {
		x->pend->n = 0;
		x->pend->bytes = 0;
	}
}

void rx_pend_free(struct rx_xfer *x)
{
	if (x->pend)
		free(x->pend->idx);
	free(x->pend);
	x->pend = NULL;
}
