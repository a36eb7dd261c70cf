/* assemble.c — in-memory block assembly and FEC decode for sluice-rx.
 *
 * Each active transfer has x->nwin slots (window.c); block b lives in slot
 * b % nwin. A symbol for a block whose slot holds another block evicts
 * that one: if it was not decoded, its symbols go to the on-disk spool so a
 * later pass can still complete it. Memory per slot: kmax*symsize of data
 * plus the parity symbols received, at most k of them.
 */
#include <stdlib.h>
#include <string.h>

#include "rx.h"

void rx_slot_clear(struct rx_slot *s)
{
	s->used = 0;
	s->nrows = 0;
	s->np = 0;
	s->k = 0;
	memset(s->rows, 0, sizeof s->rows);
	memset(s->present, 0, sizeof s->present);
}

void rx_slot_evict(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s)
{
	size_t S = x->symsize;

	if (!s->used)
		return;
	/* Spool what we hold (only symbols not already in the spool). */
	const struct rx_spooled *sp = rx_xfer_spooled(x, s->block);
	for (unsigned r = 0; r < s->k; r++)
		if (s->present[r] && !(sp && (sp->rows[r / 8] >> (r % 8) & 1)))
			if (rx_xfer_spool_symbol(c, x, s->block, s->k, (uint16_t)r, s->data + r * S))
				break;
	for (unsigned i = 0; i < s->np; i++) {
		unsigned r = s->prow[i];
		if (!(sp && (sp->rows[r / 8] >> (r % 8) & 1)))
			if (rx_xfer_spool_symbol(c, x, s->block, s->k, (uint16_t)r, s->par + i * S))
				break;
	}
	rx_slot_clear(s);
}

/* Load a block's spooled rows into its slot s: SL_OK, 1 when they alone
 * decoded it (the caller hands it on), or an error. */
static int load_spooled(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s)
{
	const struct rx_spooled *e = rx_xfer_spooled(x, s->block);
	uint8_t *sym;
	int r = SL_OK;

	if (!e || e->k != s->k || rx_xfer_spool_open(x))
		return SL_ERR_IO;
	sym = malloc(x->symsize);
	if (!sym)
		return SL_ERR_NOMEM;
	for (unsigned row = 0; row < 255 && r == SL_OK; row++) {
		if (!(e->rows[row / 8] >> (row % 8) & 1))
			continue;
		if (rx_xfer_spool_read(x, s->block, row, sym)) {
			r = SL_ERR_IO;
			break;
		}
		/* A block can become decodable from spooled rows alone (this
		 * happens only if it was spooled with k rows, which eviction
		 * avoids): say so, and the caller hands the block on. */
		if (rx_slot_add(c, x, s, (uint16_t)row, sym) == 1) {
			free(sym);
			return 1;
		}
	}
	free(sym);
	return r;
}

struct rx_slot *rx_slot_for(struct rx_ctx *c, struct rx_xfer *x, uint64_t block, uint16_t k, int *decoded)
{
	struct rx_slot *s = &x->win[block % x->nwin];
	size_t S = x->symsize;
	int r;

	*decoded = 0;
	if (s->used && s->block == block)
		return s->k == k ? s : NULL;
	if (s->used)
		rx_slot_evict(c, x, s);
	if (!s->data) { /* a spare from the writer (place.c gave it this slot's) or a new one */
		size_t cap = (size_t)x->hdr.kmax * S;
		s->data = x->writer ? rx_writer_spare(x->writer, cap) : NULL;
		if (!s->data && (s->data = malloc(cap)) == NULL)
			return NULL;
	}
	rx_slot_clear(s);
	s->used = 1;
	s->block = block;
	s->k = k;
	r = rx_xfer_spooled(x, block) ? load_spooled(c, x, s) : SL_OK;
	if (r == 1) {
		*decoded = 1; /* nothing else is done here: the caller hands it on */
	} else if (r != SL_OK) {
		/* An unreadable spool only costs those symbols. */
		rx_slot_clear(s);
		s->used = 1;
		s->block = block;
		s->k = k;
	}
	return s;
}

static int decode(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s)
{
	size_t S = x->symsize;
	uint8_t *data[255];
	const uint8_t *psym[255];
	unsigned prow[255];
	unsigned missing = 0;

	for (unsigned i = 0; i < s->k; i++) {
		data[i] = s->data + i * S;
		if (!s->present[i])
			missing++;
	}
	if (missing == 0)
		return SL_OK;
	for (unsigned i = 0; i < s->np; i++) {
		prow[i] = s->prow[i];
		psym[i] = s->par + i * S;
	}
	return sl_fec_decode(c->fec, s->k, S, data, s->present, s->np, prow, psym);
}

uint8_t *rx_slot_target(const struct rx_xfer *x, const struct sl_wire_hdr *h)
{
	const struct rx_slot *s;

	if (h->type != SL_T_SYMBOL || h->row >= h->k || x->state != RX_X_ACTIVE || !x->have_hdr ||
	    !x->nwin || x->session != h->session || h->symsize != x->symsize ||
	    rx_xfer_block_is_done(x, h->block))
		return NULL;
	s = &x->win[h->block % x->nwin];
	if (!s->used || s->block != h->block || s->k != h->k || !s->data ||
	    (s->rows[h->row / 8] >> (h->row % 8) & 1))
		return NULL;
	return s->data + (size_t)h->row * x->symsize;
}

int rx_slot_add(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s, uint16_t row,
		const uint8_t *sym)
{
	size_t S = x->symsize;

	if (s->rows[row / 8] >> (row % 8) & 1) {
		c->st.duplicates++;
		return 0;
	}
	if (row < s->k) {
		uint8_t *to = s->data + (size_t)row * S;
		if (to != sym) /* else decrypted in place already */
			memcpy(to, sym, S);
		else
			c->st.into_block++;
		s->present[row] = 1;
	} else {
		/* Parity beyond what could ever be needed is not kept. */
		unsigned have_data = s->nrows - s->np;
		if (s->np >= s->k - have_data) {
			c->st.duplicates++;
			return 0;
		}
		if (s->np == s->parcap) {
			unsigned ncap = s->parcap ? s->parcap * 2 : 16;
			uint8_t *p;
			if (ncap > s->k)
				ncap = s->k;
			p = realloc(s->par, (size_t)ncap * S);
			if (!p)
				return 0;
			s->par = p;
			s->parcap = ncap;
		}
		memcpy(s->par + (size_t)s->np * S, sym, S);
		s->prow[s->np++] = row;
	}
	s->rows[row / 8] |= (uint8_t)(1u << (row % 8));
	s->nrows++;
	if (s->nrows < s->k)
		return 0;
	if (decode(c, x, s) != SL_OK) {
		sl_log(c->log, SL_LOG_WARN, "transfer %s block %llu: decode failed with %u rows",
		       x->hex, (unsigned long long)s->block, s->nrows);
		return 0;
	}
	return 1;
}
