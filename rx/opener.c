/* opener.c — datagrams opened on several threads (see opener.h). */
#include "opener.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "pool.h"

#define RUN 16                   /* datagrams a thread takes at a time */

struct rx_opener {
	struct sl_pool *pool;
	unsigned helpers;            /* started (at most nwire) */
	unsigned nwire;              /* receivers cloned for helpers */
	struct sl_wire_rx **wire;    /* [1..helpers]; [0] is the caller's */
	/* the batch being opened */
	struct rx_ring_rec *rec;
	struct rx_opened *out;
	unsigned n;
	atomic_uint next;
};

static void open_runs(struct rx_opener *o, struct sl_wire_rx *w)
{
	unsigned i;

	while ((i = atomic_fetch_add(&o->next, RUN)) < o->n) {
		unsigned end = i + RUN < o->n ? i + RUN : o->n;
		for (; i < end; i++) {
			struct rx_opened *x = &o->out[i];
			x->r = sl_wire_open(w, o->rec[i].buf, o->rec[i].len, &x->h, &x->body);
		}
	}
}

static void helper(void *arg, unsigned worker)
{
	struct rx_opener *o = arg;

	open_runs(o, o->wire[worker]);
}

int rx_opener_new(const struct sl_wire_rx *w, unsigned helpers, struct rx_opener **out, struct sl_diag *d)
{
	struct rx_opener *o = calloc(1, sizeof *o);

	*out = NULL;
	if (!o || !(o->wire = calloc(helpers + 1, sizeof *o->wire))) {
		free(o);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory for the opening threads");
	}
	o->helpers = o->nwire = helpers;
	for (unsigned i = 1; i <= helpers; i++) {
		int r = sl_wire_rx_clone(w, &o->wire[i], d);
		if (r) {
			rx_opener_free(o);
			return r;
		}
	}
	*out = o;
	return SL_OK;
}

int rx_opener_start(struct rx_opener *o, struct sl_diag *d)
{
	int r = sl_pool_new(o->helpers, "rx-open", &o->pool, d);

	if (r)
		return r;
	o->helpers = sl_pool_helpers(o->pool); /* fewer if the system refused some */
	return SL_OK;
}

unsigned rx_opener_helpers(const struct rx_opener *o)
{
	return o ? o->helpers : 0;
}

void rx_opener_open(struct rx_opener *o, struct sl_wire_rx *own, struct rx_ring_rec *rec, unsigned n,
		    struct rx_opened *out)
{
	o->rec = rec;
	o->out = out;
	o->n = n;
	atomic_store(&o->next, 0);
	if (o->helpers && n > RUN) {
		sl_pool_begin(o->pool, helper, o);
		open_runs(o, own);
		sl_pool_end(o->pool);
	} else {
		open_runs(o, own);
	}
}

void rx_opener_free(struct rx_opener *o)
{
	if (!o)
		return;
	sl_pool_free(o->pool);
	for (unsigned i = 1; o->wire && i <= o->nwire; i++)
		sl_wire_rx_free(o->wire[i]);
	free(o->wire);
	free(o);
}
