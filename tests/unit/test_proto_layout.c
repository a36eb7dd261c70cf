/* The bodies of common/proto/proto.c byte for byte against the tables of
 * common/PROTOCOL.md (§3 heartbeat, §4 transfer header, §5 block record),
 * both ways: what the encoders write, and what the decoders read from a
 * body built here row by row. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto.h"

/* One row of a PROTOCOL.md table: offset, size, the value (big-endian). */
struct row {
	unsigned off, size;
	uint64_t v;
};

static void put_rows(uint8_t *b, const struct row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < r[i].size; j++)
			b[r[i].off + j] = (uint8_t)(r[i].v >> (8 * (r[i].size - 1 - j)));
}

static void same_bytes(const uint8_t *b, const uint8_t *want, size_t len)
{
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(b[i], want[i], "byte %zu: %u, the table says %u", i, b[i], want[i]);
}

#define NROWS(r) (sizeof r / sizeof r[0])

Test(proto_layout, transfer_header)
{
	const struct row r[] = {
		{ 48, 8, 0x0102030405060708ull }, { 56, 8, 1000001 }, { 64, 8, 1001 }, { 72, 4, 1000 },
		{ 76, 4, 0x00aa00bb }, { 80, 4, 7 }, { 84, 2, 200 }, { 86, 2, 3 }, { 88, 2, 0x0104 },
		{ 90, 1, 1 }, { 91, 1, 19 },
	};
	struct sl_xfer_hdr x = { .sequence = 0x0102030405060708ull, .total_bytes = 1000001, .nchunks = 1001,
				 .chunk_size = 1000, .catalog_len = 0x00aa00bb, .catalog_blocks = 7,
				 .kmax = 200, .pass = 3, .passes = 0x0104, .codec = 1, .level = 19 }, y;
	uint8_t b[SL_XFER_BODY], want[SL_XFER_BODY] = { 0 };

	for (int i = 0; i < 32; i++)
		x.manifest_sha256[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 16; i++)
		x.layout[i] = (uint8_t)(0x90 + i);
	put_rows(want, r, NROWS(r));
	memcpy(want, x.manifest_sha256, 32);
	memcpy(want + 32, x.layout, 16);
	memset(b, 0xff, sizeof b);
	sl_xfer_hdr_encode(&x, b);
	same_bytes(b, want, sizeof b);

	memset(&y, 0xff, sizeof y);
	cr_assert_eq(sl_xfer_hdr_decode(want, sizeof want, &y), SL_OK);
	cr_assert_eq(memcmp(y.manifest_sha256, x.manifest_sha256, 32), 0);
	cr_assert_eq(memcmp(y.layout, x.layout, 16), 0);
	cr_assert(y.sequence == x.sequence && y.total_bytes == x.total_bytes && y.nchunks == x.nchunks);
	cr_assert(y.chunk_size == x.chunk_size && y.catalog_len == x.catalog_len &&
		  y.catalog_blocks == x.catalog_blocks);
	cr_assert(y.kmax == x.kmax && y.pass == x.pass && y.passes == x.passes);
	cr_assert(y.codec == x.codec && y.level == x.level);
}

Test(proto_layout, heartbeat)
{
	const struct row r[] = {
		{ 0, 8, 0x1122334455667788ull }, { 8, 8, 2500 }, { 16, 8, 9000000000ull }, { 24, 8, 77 },
		{ 32, 2, 128 }, { 34, 2, 16 }, { 36, 2, 1396 }, { 38, 2, 0x0102 }, { 40, 1, SL_HB_PASS_DONE },
		{ 41, 1, 5 }, { 42, 2, 1 }, { 44, 2, 3 }, { 62, 8, 0x0a0b0c0d0e0f1011ull }, { 70, 8, 4 },
		{ 78, 8, 0x0100000000ull },
	};
	struct sl_heartbeat h = { .time_ns = 0x1122334455667788ull, .interval_ms = 2500,
				  .rate_bps = 9000000000ull, .sent = 77, .kmax = 128, .m = 16,
				  .symsize = 1396, .interleave = 0x0102, .state = SL_HB_PASS_DONE, .level = 5,
				  .pass = 1, .passes = 3, .xfer_sequence = 0x0a0b0c0d0e0f1011ull,
				  .blocks_sent = 4, .blocks_total = 0x0100000000ull }, g;
	uint8_t b[SL_HB_BODY], want[SL_HB_BODY] = { 0 };

	for (int i = 0; i < 16; i++)
		h.xfer[i] = (uint8_t)(0xe0 + i);
	strcpy(h.sender, "low-side.example");
	put_rows(want, r, NROWS(r));
	memcpy(want + 46, h.xfer, 16);
	memcpy(want + 86, h.sender, strlen(h.sender)); /* zero-padded to 118, then 10 zero bytes */
	memset(b, 0xff, sizeof b);
	sl_heartbeat_encode(&h, b);
	same_bytes(b, want, sizeof b);

	memset(&g, 0xff, sizeof g);
	cr_assert_eq(sl_heartbeat_decode(want, sizeof want, &g), SL_OK);
	cr_assert(g.time_ns == h.time_ns && g.interval_ms == h.interval_ms && g.rate_bps == h.rate_bps &&
		  g.sent == h.sent);
	cr_assert(g.kmax == h.kmax && g.m == h.m && g.symsize == h.symsize && g.interleave == h.interleave);
	cr_assert(g.state == h.state && g.level == h.level && g.pass == h.pass && g.passes == h.passes);
	cr_assert_eq(memcmp(g.xfer, h.xfer, 16), 0);
	cr_assert(g.xfer_sequence == h.xfer_sequence && g.blocks_sent == h.blocks_sent &&
		  g.blocks_total == h.blocks_total);
	cr_assert_str_eq(g.sender, h.sender);
}

Test(proto_layout, block_record)
{
	const struct row r[] = {
		{ 0, 4, 0x534C424B }, { 4, 1, SL_BLK_CHUNK }, { 5, 1, SL_CODEC_ZSTD },
		{ 8, 8, 0x0102030405060708ull }, { 16, 8, 0x1112131415161718ull }, { 24, 4, 0x00030001 },
		{ 28, 4, 100 },
	};
	struct sl_block_rec x = { .kind = SL_BLK_CHUNK, .codec = SL_CODEC_ZSTD, .index = 0x0102030405060708ull,
				  .offset = 0x1112131415161718ull, .raw_len = 0x00030001, .stored_len = 100 }, y;
	uint8_t b[SL_BLOCK_REC], want[SL_BLOCK_REC + 100] = { 0 };

	put_rows(want, r, NROWS(r));
	memset(b, 0xff, sizeof b);
	sl_block_rec_encode(&x, b);
	same_bytes(b, want, sizeof b);

	memset(&y, 0xff, sizeof y);
	cr_assert_eq(sl_block_rec_decode(want, sizeof want, &y), SL_OK);
	cr_assert(y.kind == x.kind && y.codec == x.codec && y.index == x.index && y.offset == x.offset);
	cr_assert(y.raw_len == x.raw_len && y.stored_len == x.stored_len);
}
