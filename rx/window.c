/* window.c — how many block slots a transfer gets, and growing them.
 *
 * A sender that interleaves D blocks has about D blocks in flight at once;
 * a window smaller than that evicts blocks to the spool before they can
 * decode. So each active transfer's window follows the interleave depth
 * its session's heartbeats declare: D + D/4 + 8 slots, never fewer than
 * --window, never more than --window-memory holds (a slot may hold kmax
 * data and up to kmax parity symbols: 2 x kmax x symsize bytes). When the
 * bound is the smaller, the receiver says so once per transfer, naming the
 * option. Growing rehashes the slots in use (block b lives in slot
 * b % nwin); the few that collide go to the spool, as any eviction.
 */
#include <stdlib.h>
#include <string.h>

#include "rx.h"

static uint64_t slot_bytes(const struct rx_xfer *x)
{
	return 2ull * (x->hdr.kmax ? x->hdr.kmax : 1) * (x->symsize ? x->symsize : 1);
}

unsigned rx_window_want(const struct rx_ctx *c, const struct rx_xfer *x, unsigned interleave,
			unsigned *wanted)
{
	unsigned base = c->cfg->window, want = base, cap;
	uint64_t fit;

	if (interleave > 1) {
		uint64_t w = (uint64_t)interleave + interleave / 4 + 8;
		if (w > want)
			want = (unsigned)(w > RX_WINDOW_MAX ? RX_WINDOW_MAX : w);
	}
	if (wanted)
		*wanted = want;
	fit = c->cfg->window_memory / slot_bytes(x);
	cap = fit > RX_WINDOW_MAX ? RX_WINDOW_MAX : (unsigned)fit;
	if (cap < base)
		cap = base; /* --window is what the operator asked for: the bound is for growth */
	return want < cap ? want : cap;
}

/* Move the slots of x->win into a new array of n slots (n > x->nwin). */
static int rehash(struct rx_ctx *c, struct rx_xfer *x, unsigned n)
{
	struct rx_slot *nw = calloc(n, sizeof *nw);

	if (!nw)
		return SL_ERR_NOMEM;
	for (unsigned i = 0; i < x->nwin; i++) {
		struct rx_slot *s = &x->win[i], *t;
		if (!s->used) {
			free(s->data);
			free(s->par);
			continue;
		}
		t = &nw[s->block % n];
		if (t->used) {
			rx_slot_evict(c, x, s); /* its symbols to the spool */
			free(s->data);
			free(s->par);
			continue;
		}
		*t = *s;
	}
	free(x->win);
	x->win = nw;
	x->nwin = n;
	c->st.window_grown++;
	return SL_OK;
}

void rx_window_follow(struct rx_ctx *c, struct rx_xfer *x, unsigned interleave, uint64_t now)
{
	unsigned wanted, n;

	if (x->state != RX_X_ACTIVE || !x->win || !x->have_hdr)
		return;
	n = rx_window_want(c, x, interleave, &wanted);
	if (n < wanted && !x->window_short_warned) {
		x->window_short_warned = 1;
		c->st.window_short++;
		rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: the sender interleaves %u blocks, so it "
			       "wants %u block slots, but --window-memory holds %u (%llu bytes a slot): "
			       "blocks will go through the spool; raise --window-memory to %llu to keep "
			       "them in memory", x->hex, interleave, wanted, n,
			       (unsigned long long)slot_bytes(x),
			       (unsigned long long)(slot_bytes(x) * wanted));
	}
	if (n <= x->nwin)
		return;
	if (rehash(c, x, n) != SL_OK)
		rx_log_limited(c, SL_LOG_WARN, now, "transfer %s: out of memory for %u block slots: "
			       "staying at %u", x->hex, n, x->nwin);
}

unsigned rx_window_interleave(const struct rx_ctx *c, uint64_t session)
{
	for (unsigned i = 0; i < RX_MAX_SESSIONS; i++)
		if (c->sessions[i].used && c->sessions[i].id == session && c->sessions[i].have_hb)
			return c->sessions[i].hb.interleave;
	return 0;
}
