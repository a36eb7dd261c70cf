/* Fuzz harness: everything a receiver does with one untrusted datagram
 * before it touches state: sl_wire_open (unkeyed mode, so random inputs
 * can get past the CRC and exercise field checks; keyed mode too), then the
 * body decoders for whichever type it claims, and the block-record and
 * catalog parsers on the raw bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bytes.h"
#include "proto.h"
#include "wire.h"

#include <isa-l/crc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
