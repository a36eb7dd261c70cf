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

/* Room is made by marking the idlest unvouched transfer (quota.c): from the
 * mark on its bytes no longer count, it gets no room itself, and it is
 * dropped (audited, counted) only by rx_xfer_drop_evicted, which dispatch.c
 * and poll.c call when the work that needed the room is over. */
Test(rx_reentry, room_marks_the_victim_and_the_caller_drops_it)
{
	struct rxh_one a, b;
	struct rx_xfer *xa, *xb;
	char why[256];

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 200000, 43, NULL), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 200000, 44, NULL), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.hdr.catalog_blocks + 2); /* no catalog */
	rxh_tick(h, 1000000000ull);
	rxh_send_hdr(h, &b.s, &b.t, NULL, 0);
	xa = rx_xfer_find(&h->c, a.t.id);
	xb = rx_xfer_find(&h->c, b.t.id);
	cr_assert(xa && xb && !xa->catalog_ok && xa->staged_bytes > 0);
	cr_assert(rxh_quota_agrees(h, why, sizeof why), "%s", why);
	h->cfg.max_unvouched = h->c.unvouched_bytes; /* full */

	cr_assert_eq(rx_quota_room(&h->c, xb, 1, 0), SL_OK, "room made by marking A");
	cr_assert_eq(rx_xfer_find(&h->c, a.t.id), xa, "marked, not freed under the caller");
	cr_assert_not_null(xa->evicted);
	cr_assert_eq(h->c.nevicting, 1);
	cr_assert_eq(h->c.st.evicted, 0);
	cr_assert_eq(rxh_audit_count(h, "evicted", a.t.hex), 0);
	cr_assert_eq(rx_quota_room(&h->c, xb, xa->staged_bytes, 0), SL_OK, "A's bytes no longer count");
	cr_assert_eq(rx_quota_room(&h->c, xa, 1, 0), SL_ERR_TOOBIG, "no room for a transfer going");
	cr_assert_eq(h->c.nevicting, 1, "marked once");
	cr_assert(!rxh_quota_agrees(h, why, sizeof why), "a transfer left marked is seen: %s", why);

	rx_xfer_drop_evicted(&h->c);
	cr_assert_null(rx_xfer_find(&h->c, a.t.id));
	cr_assert_not_null(rx_xfer_find(&h->c, b.t.id));
	cr_assert_eq(h->c.st.evicted, 1);
	cr_assert_eq(rxh_audit_count(h, "evicted", a.t.hex), 1);
	cr_assert(rxh_quota_agrees(h, why, sizeof why), "%s", why);
	rxh_one_free(&a);
	rxh_one_free(&b);
}

/* Two transfers time out in one tick; the first one's window goes to its
 * spool, whose room evicts the other (idler, unvouched). The other is
 * evicted once and not timed out as well: it is dropped before the tick's
 * walk reaches it. */
Test(rx_reentry, a_timeout_that_evicts_another_does_not_time_it_out_too)
{
	struct rxh_one a, b;
	struct rx_xfer *x;
	char why[256];

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 100000, 45, NULL), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 100000, 46, NULL), SL_OK);
	h->cfg.max_unvouched = (uint64_t)b.t.symsize + b.t.symsize / 2; /* one spooled row fits */
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	for (unsigned r = 0; r < 3; r++) /* A's first chunk: 3 rows, not decoded */
		rxh_send_symbol(h, &a.s, &a.t, a.t.hdr.catalog_blocks, r);
	rxh_tick(h, 1000000000ull);
	rxh_send_hdr(h, &b.s, &b.t, NULL, 0);
	for (unsigned r = 0; r < 3; r++)
		rxh_send_symbol(h, &b.s, &b.t, b.t.hdr.catalog_blocks, r);
	cr_assert_eq(h->c.xfers, rx_xfer_find(&h->c, b.t.id), "B, the newest, is walked first");
	cr_assert_eq(rx_xfer_find(&h->c, a.t.id)->state, RX_X_ACTIVE);

	rxh_tick(h, h->cfg.timeout_ns + 1);
	cr_assert_eq(rxh_audit_count(h, "timeout", b.t.hex), 1);
	cr_assert_eq(rxh_audit_count(h, "evicted", a.t.hex), 1);
	cr_assert_eq(rxh_audit_count(h, "timeout", a.t.hex), 0, "A was timed out as well as evicted");
	cr_assert_null(rx_xfer_find(&h->c, a.t.id));
	x = rx_xfer_find(&h->c, b.t.id);
	cr_assert(x && x->state == RX_X_DORMANT);
	cr_assert_eq(rx_spool_syms(x), 1);
	cr_assert(rxh_quota_agrees(h, why, sizeof why), "%s", why);
	rxh_one_free(&a);
	rxh_one_free(&b);
}

/* A stop makes the active transfer dormant, whose rows go to its spool and
 * may evict another for room: that one is dropped there and then (as while
 * running), and no mark outlives the stop (the fuzzer found a receiver
 * started again on the same context still counting one). */
Test(rx_reentry, a_stop_that_evicts_leaves_no_mark)
{
	struct rxh_one a, b;
	char why[256];

	h->cfg.max_active = 1;
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 100000, 48, NULL), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 100000, 49, NULL), SL_OK);
	h->cfg.max_unvouched = (uint64_t)b.t.symsize + b.t.symsize / 2; /* one spooled row fits */
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0); /* A: staged, dormant, idlest */
	rxh_tick(h, 1000000000ull);
	rxh_send_hdr(h, &b.s, &b.t, NULL, 0);
	for (unsigned r = 0; r < 3; r++) /* B active: 3 rows of its first chunk */
		rxh_send_symbol(h, &b.s, &b.t, b.t.hdr.catalog_blocks, r);
	cr_assert_eq(rx_xfer_find(&h->c, b.t.id)->state, RX_X_ACTIVE);

	cr_assert_eq(rxh_restart(h), SL_OK);
	cr_assert_eq(rxh_audit_count(h, "evicted", a.t.hex), 1);
	cr_assert_eq(h->c.nevicting, 0, "a mark outlived the stop");
	cr_assert(rxh_quota_agrees(h, why, sizeof why), "%s", why);
	cr_assert_null(rx_xfer_find(&h->c, a.t.id), "A's staging was removed");
	cr_assert_not_null(rx_xfer_find(&h->c, b.t.id), "B resumed from disk");
	rxh_one_free(&a);
	rxh_one_free(&b);
}
