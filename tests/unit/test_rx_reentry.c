/* test_rx_reentry.c — paths by which sluice-rx's work on one transfer comes
 * back, through another transfer's quota or window, to the first (issue 15,
 * "one-way calls"): the transfer being worked on is never freed under it. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "rxh.h"

static struct rxh *h;

static void up(void)
{
	cr_assert_not_null(h = rxh_for_test(0));
}

static void down(void)
{
	rxh_free(h);
	h = NULL;
}

TestSuite(rx_reentry, .init = up, .fini = down, .timeout = 60);

/* One active transfer at a time: a symbol for dormant A makes room by
 * making active B dormant, whose undecoded rows go to its spool; the
 * unvouched quota is full after one of them, and A is the only other
 * unvouched staging. A must not be evicted (and freed) to make room for
 * B's spool while it is being made active: B's rows that do not fit are
 * dropped and counted instead, and A is active. */
Test(rx_reentry, activation_does_not_evict_the_transfer_it_activates)
{
	struct rxh_one a, b;
	struct rx_xfer *x;
	uint64_t blk;

	h->cfg.max_active = 1;
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 100000, 41, NULL), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 100000, 42, NULL), SL_OK);
	h->cfg.max_unvouched = (uint64_t)b.t.symsize + b.t.symsize / 2; /* one spooled row fits */
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0); /* A: staged, dormant */
	rxh_send_hdr(h, &b.s, &b.t, NULL, 0);
	blk = b.t.hdr.catalog_blocks; /* B's first chunk: 3 rows of k, not decoded */
	cr_assert_gt(b.t.k[blk], 3);
	for (unsigned r = 0; r < 3; r++)
		rxh_send_symbol(h, &b.s, &b.t, blk, r);
	x = rx_xfer_find(&h->c, b.t.id);
	cr_assert(x && x->state == RX_X_ACTIVE);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->state == RX_X_DORMANT);

	rxh_send_symbol(h, &a.s, &a.t, a.t.hdr.catalog_blocks, 0);
	cr_assert_eq(rxh_audit_count(h, "evicted", a.t.hex), 0, "A was evicted while it was made active");
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->state == RX_X_ACTIVE);
	x = rx_xfer_find(&h->c, b.t.id);
	cr_assert(x && x->state == RX_X_DORMANT);
	cr_assert_eq(rx_spool_syms(x), 1);
	cr_assert_gt(h->c.st.quota_drops, 0);
	rxh_one_free(&a);
	rxh_one_free(&b);
}
