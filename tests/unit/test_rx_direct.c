/* test_rx_direct.c — data symbols decrypted straight into their block's row
 * (rx_slot_target, sl_wire_open_to): used for every row after a block's
 * first, never for a place that a forged datagram or another session could
 * make wrong, and the released bytes are the sent ones. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rxh.h"
#include "rxh_suite.h"

TestSuite(rx_direct, .init = rxh_suite_up, .fini = rxh_suite_down, .timeout = 60);

/* A transfer of one file with no compression: its first chunk block's index. */
static void build(struct rxh_xfer *t, uint8_t **data, size_t n, unsigned seed)
{
	struct rxh_file f[1];

	*data = rxh_pattern(n, seed);
	f[0] = (struct rxh_file){ "f.bin", *data, n };
	cr_assert_eq(rxh_xfer_build(h, f, 1, NULL, t), SL_OK);
	cr_assert_gt(t->nblocks, t->hdr.catalog_blocks + 1, "the test needs two chunk blocks");
}

Test(rx_direct, rows_after_the_first_go_straight_into_the_block)
{
	struct rxh_xfer t;
	struct rxh_session s;
	uint8_t *a;
	uint64_t data_rows = 0, first_rows;

	build(&t, &a, 30000, 7);
	cr_assert_eq(rxh_session_new(h, t.symsize, &s), SL_OK);
	rxh_send_all(h, &s, &t, 0);
	rxh_settle(h);
	cr_assert(rxh_is_released(h, t.hex));
	cr_assert(rxh_released_file_is(h, t.hex, "f.bin", a, 30000));
	for (uint64_t b = 0; b < t.nblocks; b++)
		data_rows += t.k[b];
	/* each block's first row sets its slot up (copied), catalog blocks too:
	 * the transfer is active from its header */
	first_rows = t.nblocks;
	cr_assert_eq(h->c.st.into_block, data_rows - first_rows, "%llu rows decrypted in place of %llu",
		     (unsigned long long)h->c.st.into_block, (unsigned long long)(data_rows - first_rows));
	rxh_session_free(&s);
	rxh_xfer_free(&t);
	free(a);
}

/* A datagram for a row not yet held, whose tag fails: it was decrypted into
 * the row's place (zeroed after the failed tag), counted as a failed tag,
 * and the row is still free for the real symbol. */
Test(rx_direct, a_forged_row_is_zeroed_and_not_held)
{
	struct rxh_xfer t;
	struct rxh_session s;
	struct rx_xfer *x;
	struct rx_slot *sl;
	uint8_t *a, *row1;
	uint64_t b;
	struct sl_wire_hdr wh;
	uint64_t fails;

	build(&t, &a, 30000, 8);
	cr_assert_eq(rxh_session_new(h, t.symsize, &s), SL_OK);
	x = rxh_send_catalog(h, &s, &t);
	cr_assert_not_null(x);
	b = t.hdr.catalog_blocks;
	rxh_send_symbol(h, &s, &t, b, 0);
	sl = &x->win[b % x->nwin];
	cr_assert(sl->used && sl->block == b, "the block's slot is set up");
	row1 = sl->data + t.symsize;
	memset(row1, 0xaa, t.symsize);
	wh = (struct sl_wire_hdr){ .type = SL_T_SYMBOL, .block = b, .row = 1, .k = t.k[b], .m = 4,
				   .paylen = t.symsize };
	memcpy(wh.xfer, t.id, 16);
	cr_assert_eq(sl_wire_seal(s.tx, &wh, t.blocks[b] + t.symsize, h->dg), SL_OK);
	h->dg[SL_WIRE_HDR + 3] ^= 0x01; /* the body changed: the tag fails */
	fails = h->c.st.auth_fail;
	rx_handle(&h->c, h->dg, sl_wire_dgram_size(t.symsize), h->now);
	cr_assert_eq(h->c.st.auth_fail, fails + 1);
	for (size_t i = 0; i < t.symsize; i++)
		cr_assert_eq(row1[i], 0, "byte %zu of the row: %#x (not opened into it?)", i, row1[i]);
	cr_assert_eq(sl->rows[0] & 2, 0, "the forged row is not held");
	cr_assert_eq(sl->nrows, 1);
	rxh_send_blocks(h, &s, &t, b, t.nblocks);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, t.hex, "f.bin", a, 30000));
	rxh_session_free(&s);
	rxh_xfer_free(&t);
	free(a);
}

/* Rows of one block from two sessions in turn: a symbol of another session
 * than the transfer's last is opened in place (its window may follow the
 * new sender before the row is placed), the next ones of that session go
 * straight in again; the block decodes right. */
Test(rx_direct, another_session_is_opened_in_place_first)
{
	struct rxh_xfer t;
	struct rxh_session s1, s2;
	struct rx_xfer *x;
	uint8_t *a;
	uint64_t b, before;

	build(&t, &a, 30000, 9);
	cr_assert_eq(rxh_session_new(h, t.symsize, &s1), SL_OK);
	cr_assert_eq(rxh_session_new(h, t.symsize, &s2), SL_OK);
	x = rxh_send_catalog(h, &s1, &t);
	cr_assert_not_null(x);
	b = t.hdr.catalog_blocks;
	cr_assert_geq(t.k[b], 4);
	before = h->c.st.into_block;
	rxh_send_symbol(h, &s1, &t, b, 0); /* sets the slot up: copied */
	rxh_send_symbol(h, &s1, &t, b, 1); /* straight in */
	cr_assert_eq(h->c.st.into_block, before + 1);
	before++;
	rxh_send_symbol(h, &s2, &t, b, 2); /* a new sender: in place */
	cr_assert_eq(h->c.st.into_block, before);
	rxh_send_symbol(h, &s2, &t, b, 3); /* its next row: straight in */
	cr_assert_eq(h->c.st.into_block, before + 1);
	for (unsigned r = 4; r < t.k[b]; r++)
		rxh_send_symbol(h, r % 2 ? &s1 : &s2, &t, b, r);
	rxh_send_hdr(h, &s2, &t, &t.hdr, 0);
	rxh_send_blocks(h, &s2, &t, b + 1, t.nblocks);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, t.hex, "f.bin", a, 30000));
	rxh_session_free(&s1);
	rxh_session_free(&s2);
	rxh_xfer_free(&t);
	free(a);
}
