/* test_rx_verify.c — sluice-rx verifies a complete catalog on a thread of
 * its own (rx/verify.c), through tests/rxh.
 *
 * What must hold: while the catalog is verified the receive thread goes on
 * placing chunks (into the stream file); the verdict is picked up on a tick
 * and then the tree opens, the chunks placed meanwhile go to the writer
 * thread and the transfer is released in one pass; a verdict that refuses
 * (signatures short of the threshold) rejects exactly as in line: audited,
 * staging removed, nothing released. The harness normally waits for each
 * verdict after every datagram; these tests set h->verify_nowait.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rxh.h"
#include "rxh_suite.h"

static void up(void)
{
	rxh_suite_up_stopped();
	h->verify_nowait = 1;
}

TestSuite(rx_verify, .init = up, .fini = rxh_suite_down, .timeout = 120);

/* Wait (bounded) until x's verification thread is done, without picking
 * the verdict up. */
static void verdict_ready(const struct rx_xfer *x)
{
	for (int i = 0; i < 20000 && x->vjob; i++) {
		if (rx_verify_ready(x))
			return;
		usleep(500);
	}
}

Test(rx_verify, chunks_placed_while_verifying)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 700000, 41, &o), SL_OK);
	x = rxh_send_catalog(h, &a.s, &a.t);
	cr_assert(x && x->ncat_done == a.t.hdr.catalog_blocks, "every catalog piece is in");
	cr_assert(x->vjob != NULL, "the catalog is verified on a thread");
	cr_assert(!x->catalog_ok && !x->tree, "no verdict before a tick picks it up");
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	cr_assert_eq(x->ndone, a.t.hdr.nchunks, "chunks placed meanwhile (in the stream)");
	cr_assert(!x->tree);
	verdict_ready(x);
	rxh_tick(h, 1000000); /* picks the verdict up: the tree opens, the writer moves the stream */
	cr_assert(x->vjob == NULL && x->catalog_ok && (x->tree || rxh_is_released(h, a.t.hex)));
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical in one pass");
	cr_assert_eq(h->c.staged_bytes, 0);
	rxh_one_free(&a);
}

Test(rx_verify, refusing_verdict_rejects)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024, .signers = 1 }; /* threshold is 2 */
	struct rx_xfer *x;

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 300000, 42, &o), SL_OK);
	x = rxh_send_catalog(h, &a.s, &a.t);
	cr_assert(x && x->vjob != NULL);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks / 2);
	verdict_ready(x);
	rxh_tick(h, 1000000);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->state == RX_X_REJECTED, "rejected on the verdict");
	cr_assert_eq(h->c.st.rejected, 1);
	cr_assert_eq(rxh_audit_count(h, "rejected", a.t.hex), 1, "audited once");
	cr_assert_eq(rxh_staging_bytes(h), 0, "its staging is removed");
	cr_assert_eq(h->c.staged_bytes, 0);
	rxh_send_all(h, &a.s, &a.t, 1);
	rxh_settle(h);
	cr_assert(!rxh_is_released(h, a.t.hex));
	rxh_one_free(&a);
}

/* Catalogs completed together are verified one at a time (RX_VERIFY_JOBS):
 * a sender cannot make the receiver hold more of them in memory than when
 * they were verified in line; the one that waited is verified next. */
Test(rx_verify, one_catalog_at_a_time)
{
	struct rxh_one a, b;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *xa, *xb;

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 200000, 43, &o), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 200000, 44, &o), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	rxh_send_hdr(h, &b.s, &b.t, NULL, 0);
	rxh_send_blocks(h, &a.s, &a.t, 0, a.t.hdr.catalog_blocks);
	xa = rx_xfer_find(&h->c, a.t.id);
	cr_assert(xa && xa->vjob != NULL, "the first catalog is verified");
	verdict_ready(xa); /* even a verdict that is ready waits for a tick */
	rxh_send_blocks(h, &b.s, &b.t, 0, b.t.hdr.catalog_blocks);
	xb = rx_xfer_find(&h->c, b.t.id);
	cr_assert(xb);
	cr_assert(xa->vjob != NULL, "the first verdict is not picked up before a tick");
	cr_assert(xb->vjob == NULL && xb->verify_wait, "the second waits for it");
	cr_assert_eq(h->c.nverify, 1);
	verdict_ready(xa);
	rxh_tick(h, 1000000); /* the first verdict in, the second started */
	cr_assert(xa->catalog_ok && xb->vjob != NULL && !xb->verify_wait);
	verdict_ready(xb);
	rxh_tick(h, 1000000);
	cr_assert(xb->catalog_ok && h->c.nverify == 0);
	rxh_send_all(h, &a.s, &a.t, 0);
	rxh_send_all(h, &b.s, &b.t, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n));
	cr_assert(rxh_released_file_is(h, b.t.hex, "f.bin", b.data, b.n));
	rxh_one_free(&a);
	rxh_one_free(&b);
}
