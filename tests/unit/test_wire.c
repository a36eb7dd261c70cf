/* Unit tests for the datagram format (common/proto/wire.c) and bodies (common/proto/proto.c). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sodium.h>
#include <string.h>
#include "bytes.h"
#include "proto.h"
#include "wire.h"

static uint8_t key[32], other_key[32];

static void setup(void)
{
	cr_assert_eq(sl_crypto_init(), SL_OK);
	randombytes_buf(key, sizeof key);
	randombytes_buf(other_key, sizeof other_key);
}

TestSuite(wire, .init = setup);

static struct sl_wire_rx *mk_rx(const uint8_t *k, int unkeyed)
{
	struct sl_wire_rx *r;
	struct sl_wire_rx_cfg c = { .link_key = k, .allow_unkeyed = unkeyed, .max_symsize = 8900 };
	cr_assert_eq(sl_wire_rx_new(&c, &r, NULL), SL_OK);
	return r;
}

static void round_trip(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(suite == SL_SUITE_NONE ? NULL : key, suite == SL_SUITE_NONE);
	uint8_t body[1396], dg[2000];
	const uint8_t *out;
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .block = 77, .row = 130,
				 .k = 128, .m = 16, .pass = 1 };
	struct sl_wire_hdr g;

	memset(h.xfer, 0xab, 16);
	randombytes_buf(body, sizeof body);
	cr_assert_eq(sl_wire_tx_new(suite == SL_SUITE_NONE ? NULL : key, suite, 1396, &t, NULL), SL_OK);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
		cr_assert_eq(h.packet, (uint64_t)i);
		if (suite != SL_SUITE_NONE)
			cr_assert(memcmp(dg + SL_WIRE_HDR, body, 64) != 0, "body must be encrypted");
		cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
		cr_assert_eq(g.block, 77);
		cr_assert_eq(g.row, 130);
		cr_assert_eq(g.k, 128);
		cr_assert_eq(g.m, 16);
		cr_assert_eq(g.pass, 1);
		cr_assert_eq(g.session, sl_wire_tx_session(t));
		cr_assert_eq(g.suite, suite);
		cr_assert_eq(memcmp(g.xfer, h.xfer, 16), 0);
		cr_assert_eq(memcmp(out, body, sizeof body), 0);
	}
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

/* The body already in place in the datagram, and a short body (padded):
 * both seal paths must give what a separate full body gives. */
static void round_trip_in_place(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(suite == SL_SUITE_NONE ? NULL : key, suite == SL_SUITE_NONE);
	uint8_t body[1396], dg[2000];
	const uint8_t *out;
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .k = 1, .m = 1 }, g;

	randombytes_buf(body, sizeof body);
	cr_assert_eq(sl_wire_tx_new(suite == SL_SUITE_NONE ? NULL : key, suite, 1396, &t, NULL), SL_OK);
	memcpy(dg + SL_WIRE_HDR, body, sizeof body);
	cr_assert_eq(sl_wire_seal(t, &h, dg + SL_WIRE_HDR, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
	cr_assert_eq(memcmp(out, body, sizeof body), 0);
	h.type = SL_T_HEARTBEAT; /* symbols are always full; heartbeats are short */
	h.k = 0;
	h.m = 0;
	h.paylen = 100;
	memset(dg, 0xee, sizeof dg);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
	cr_assert_eq(memcmp(out, body, 100), 0);
	for (size_t i = 100; i < 1396; i++)
		cr_assert_eq(out[i], 0, "padding byte %zu is %u", i, out[i]);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, in_place_and_short_bodies)
{
	if (crypto_aead_aes256gcm_is_available())
		round_trip_in_place(SL_SUITE_AES256GCM);
	round_trip_in_place(SL_SUITE_XCHACHA);
	round_trip_in_place(SL_SUITE_NONE);
}

Test(wire, round_trip_aes) { if (crypto_aead_aes256gcm_is_available()) round_trip(SL_SUITE_AES256GCM); }
Test(wire, round_trip_xchacha) { round_trip(SL_SUITE_XCHACHA); }
Test(wire, round_trip_unkeyed) { round_trip(SL_SUITE_NONE); }

Test(wire, dgram_fits_ethernet_mtu)
{
	cr_assert_eq(sl_wire_dgram_size(1396), 1472u, "1396-byte symbols fill a 1500-byte MTU exactly");
}

static void seal_one(struct sl_wire_tx *t, uint8_t *dg)
{
	uint8_t body[256] = { 1, 2, 3 };
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 3 };
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
}

Test(wire, every_flipped_bit_is_rejected)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0);
	uint8_t dg[512], copy[512];
	struct sl_wire_hdr g;
	const uint8_t *out;
	size_t n = sl_wire_dgram_size(256);

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	seal_one(t, dg);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(copy, dg, n);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_neq(sl_wire_open(r, copy, n, &g, &out), SL_OK, "bit %zu flipped but accepted", bit);
	}
	memcpy(copy, dg, n);
	cr_assert_eq(sl_wire_open(r, copy, n, &g, &out), SL_OK);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, wrong_key_fails_authentication)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(other_key, 0);
	uint8_t dg[512];
	struct sl_wire_hdr g;
	const uint8_t *out;

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	seal_one(t, dg);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_AUTH);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, unkeyed_needs_the_explicit_flag)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0);
	uint8_t dg[512];
	struct sl_wire_hdr g;
	const uint8_t *out;
	struct sl_diag d;

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_NONE, 256, &t, &d), SL_ERR_INVAL);
	cr_assert_eq(sl_wire_tx_new(NULL, SL_SUITE_NONE, 256, &t, NULL), SL_OK);
	seal_one(t, dg);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_UNSUPPORTED);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, sessions_get_distinct_keys)
{
	/* Two sessions sealing packet 0 of the same body must differ (different keys). */
	struct sl_wire_tx *a, *b;
	uint8_t da[512], db[512];
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &a, NULL), SL_OK);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &b, NULL), SL_OK);
	cr_assert_neq(sl_wire_tx_session(a), sl_wire_tx_session(b));
	seal_one(a, da);
	seal_one(b, db);
	cr_assert(memcmp(da + SL_WIRE_HDR, db + SL_WIRE_HDR, 256) != 0);
	sl_wire_tx_free(a);
	sl_wire_tx_free(b);
}

Test(wire, size_and_fields_checked)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r;
	struct sl_wire_rx_cfg c = { .link_key = key, .max_symsize = 512 };
	uint8_t dg[2000], body[1024] = { 0 };
	struct sl_wire_hdr g, h = { .type = SL_T_SYMBOL, .paylen = 1024, .k = 10, .row = 3 };
	const uint8_t *out;

	cr_assert_eq(sl_wire_rx_new(&c, &r, NULL), SL_OK);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 1024, &t, NULL), SL_OK);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1024), &g, &out), SL_ERR_PARSE,
		     "symbol size above the configured limit");
	cr_assert_eq(sl_wire_open(r, dg, 10, &g, &out), SL_ERR_PARSE);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);

	/* A symbol with a row out of range is authentic but still refused. */
	r = mk_rx(key, 0);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	h.paylen = 256;
	h.row = 255;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE);
	h.row = 0;
	h.k = 0;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE);
	h.k = 10;
	h.paylen = 200;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE,
		     "symbols are always full");
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(proto, xfer_round_trip_and_checks)
{
	struct sl_xfer_hdr x = { .sequence = 9, .total_bytes = 1000001, .chunk_size = 1000,
				 .nchunks = 1001, .catalog_len = 500, .catalog_blocks = 1,
				 .kmax = 128, .pass = 0, .passes = 2, .codec = 1, .level = 3 }, y;
	uint8_t b[SL_XFER_BODY];
	memset(x.manifest_sha256, 7, 32);
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_OK);
	cr_assert_eq(memcmp(x.manifest_sha256, y.manifest_sha256, 32), 0);
	cr_assert_eq(y.sequence, 9);
	cr_assert_eq(y.total_bytes, 1000001);
	cr_assert_eq(y.chunk_size, 1000);
	cr_assert_eq(y.nchunks, 1001);
	cr_assert_eq(y.catalog_len, 500);
	cr_assert_eq(y.kmax, 128);
	cr_assert_eq(y.passes, 2);
	cr_assert_eq(y.level, 3);
	x.nchunks = 1000;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "nchunks inconsistent");
	x.nchunks = 1001;
	x.pass = 2;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "pass beyond passes");
	/* total + chunk - 1 wraps past 2^64: nchunks 0 must not pass for it */
	x.pass = 0;
	x.total_bytes = UINT64_MAX;
	x.chunk_size = 96;
	x.nchunks = 0;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "wrapped chunk count");
	x.nchunks = UINT64_MAX / 96 + 1;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_OK);
}

Test(proto, heartbeat_round_trip)
{
	struct sl_heartbeat h = { .time_ns = 123, .interval_ms = 1000, .rate_bps = 1000000000,
				  .sent = 55, .kmax = 128, .m = 16, .symsize = 1396, .interleave = 16,
				  .state = SL_HB_SENDING, .level = 3, .pass = 0, .passes = 1,
				  .xfer_sequence = 4, .blocks_sent = 3, .blocks_total = 9 }, g;
	uint8_t b[SL_HB_BODY];
	strcpy(h.sender, "lowside-01");
	sl_heartbeat_encode(&h, b);
	cr_assert_eq(sl_heartbeat_decode(b, sizeof b, &g), SL_OK);
	cr_assert_str_eq(g.sender, "lowside-01");
	cr_assert_eq(g.blocks_total, 9);
	b[86] = 0x07;
	cr_assert_eq(sl_heartbeat_decode(b, sizeof b, &g), SL_ERR_PARSE, "control char in sender");
}

Test(proto, block_record_bounds)
{
	struct sl_block_rec r = { .kind = SL_BLK_CHUNK, .codec = SL_CODEC_ZSTD, .index = 4,
				  .offset = 4000, .raw_len = 1000, .stored_len = 300 }, g;
	uint8_t b[1024] = { 0 };
	sl_block_rec_encode(&r, b);
	cr_assert_eq(sl_block_rec_decode(b, 1024, &g), SL_OK);
	cr_assert_eq(g.stored_len, 300);
	cr_assert_eq(sl_block_rec_decode(b, 300, &g), SL_ERR_PARSE, "stored bytes beyond block");
	b[SL_BLOCK_REC + 300] = 1;
	cr_assert_eq(sl_block_rec_decode(b, 1024, &g), SL_ERR_PARSE, "non-zero padding");
	cr_assert_eq(sl_block_k(1396 - 32, 1396), 1u);
	cr_assert_eq(sl_block_k(1396 - 31, 1396), 2u);
}

Test(proto, catalog_round_trip_and_hostile)
{
	const char *names[] = { "manifest", "manifest.alice.minisig" };
	const uint8_t *data[] = { (const uint8_t *)"hello", (const uint8_t *)"sig" };
	uint32_t lens[] = { 5, 3 };
	size_t n = sl_catalog_size(2, names, lens);
	uint8_t buf[256];
	struct sl_catalog c;
	struct sl_diag d;

	sl_catalog_encode(2, names, data, lens, buf);
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_OK);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.e[1].name, "manifest.alice.minisig");
	cr_assert_eq(memcmp(c.e[0].data, "hello", 5), 0);
	cr_assert_eq(sl_catalog_decode(buf, n - 1, &c, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_catalog_decode(buf, n + 0, &c, &d), SL_OK);
	/* name with a slash */
	buf[8 + 2 + 8 + 4 + 5 + 2] = '/';
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_ERR_PARSE);
	/* huge entry count */
	sl_put_be32(buf + 4, 100000);
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_ERR_PARSE);
}

Test(wire, reseal_models_a_key_holder)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0), *other = mk_rx(other_key, 0);
	uint8_t dg[512], body[256] = { 9 };
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 256 }, g;
	const uint8_t *out;
	size_t n = sl_wire_dgram_size(256);

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, n, &g, &out), SL_OK);
	dg[SL_WIRE_HDR + 5] ^= 0x40; /* change the (now clear) body */
	cr_assert_eq(sl_wire_reseal(r, dg, n), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, n, &g, &out), SL_OK, "resealed datagram must open");
	cr_assert_eq(out[5], (uint8_t)(0 ^ 0x40));
	/* A receiver with another key neither opens nor can reseal it usefully. */
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(other, dg, n, &g, &out), SL_ERR_AUTH);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
	sl_wire_rx_free(other);
}

Test(wire, link_key_files)
{
	char path[] = "/tmp/sluice-key-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *k = NULL;
	struct sl_diag d;
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F\n";

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
	close(fd);
	cr_assert_eq(sl_link_key_load(path, &k, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(k[0], 0x00);
	cr_assert_eq(k[31], 0x1f);
	sl_link_key_free(k);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "zz", 2), 2);
	close(fd);
	cr_assert_eq(sl_link_key_load(path, &k, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "64 hex digits") != NULL, "%s", d.msg);
	unlink(path);
}
