/* Fuzz harness: everything a receiver does with one untrusted datagram
 * before it touches state: sl_wire_open (unkeyed mode, so random inputs
 * can get past the CRC and exercise field checks; keyed mode too), then the
 * body decoders for whichever type it claims, and the block-record and
 * catalog parsers on the raw bytes; sl_wire_peek and sl_wire_open_to must
 * agree with sl_wire_open. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bytes.h"
#include "proto.h"
#include "wire.h"

#include <isa-l/crc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Peeked, then opened into a buffer of its own (as rx does for a symbol
 * whose block is in its window): the same verdict, header and body as
 * opened in place, and the datagram unchanged. Aborts otherwise. */
static void open_to_agrees(struct sl_wire_rx *r, const uint8_t *dg, size_t size)
{
	struct sl_wire_hdr p, h1, h2;
	const uint8_t *body;
	uint8_t *a, *b, *out;
	int r1, r2;

	if (sl_wire_peek(dg, size, &p) != 0)
		return;
	a = malloc(size);
	b = malloc(size);
	out = malloc(p.symsize);
	if (!a || !b || !out)
		abort();
	memcpy(a, dg, size);
	memcpy(b, dg, size);
	r2 = sl_wire_open_to(r, b, size, &h2, out, p.symsize);
	if (memcmp(b, dg, size) != 0)
		abort();
	r1 = sl_wire_open(r, a, size, &h1, &body);
	if (r1 != r2 || (r1 == 0 && (memcmp(out, body, p.symsize) != 0 || h1.block != h2.block ||
				     h1.row != h2.row || h1.type != h2.type || h1.paylen != h2.paylen)))
		abort();
	free(a);
	free(b);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 1 };
	struct sl_wire_rx_cfg ck = { .link_key = key, .max_symsize = SL_WIRE_MAX_SYMSIZE };
	struct sl_wire_rx_cfg cu = { .allow_unkeyed = 1, .max_symsize = SL_WIRE_MAX_SYMSIZE };
	struct sl_wire_rx *rk = NULL, *ru = NULL;
	struct sl_wire_hdr h;
	const uint8_t *body;
	uint8_t *buf;

	if (size > 65536)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (sl_wire_rx_new(&ck, &rk, NULL) || sl_wire_rx_new(&cu, &ru, NULL))
		abort();

	memcpy(buf, data, size);
	(void)sl_wire_open(rk, buf, size, &h, &body);

	/* Unkeyed: fix up the CRC so the post-authentication checks are reached. */
	memcpy(buf, data, size);
	if (size >= SL_WIRE_HDR + SL_WIRE_TAG) {
		size_t covered = size - SL_WIRE_TAG;
		uint32_t c = crc32_iscsi(buf, (int)covered, 0xFFFFFFFFu) ^ 0xFFFFFFFFu;
		sl_put_be32(buf + covered, c);
	}
	open_to_agrees(ru, buf, size);
	if (sl_wire_open(ru, buf, size, &h, &body) == 0) {
		struct sl_xfer_hdr x;
		struct sl_heartbeat hb;
		if (h.type == SL_T_XFER)
			(void)sl_xfer_hdr_decode(body, h.paylen, &x);
		if (h.type == SL_T_HEARTBEAT)
			(void)sl_heartbeat_decode(body, h.paylen, &hb);
	}

	/* Raw block-record and catalog parsing of the same bytes. */
	{
		struct sl_block_rec r;
		struct sl_catalog *c = malloc(sizeof *c);
		(void)sl_block_rec_decode(data, size, &r);
		if (c) {
			(void)sl_catalog_decode(data, size, c, NULL);
			free(c);
		}
	}
	sl_wire_rx_free(rk);
	sl_wire_rx_free(ru);
	free(buf);
	return 0;
}
