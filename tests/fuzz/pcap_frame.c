/* Fuzz harness for sl_frame_extract (common/proto/frame.c), the parser of
 * untrusted frames read from pcap files and raw Ethernet captures.
 * Input: one byte selecting the port filter, then one captured frame.
 * Checks: the datagram found lies inside the frame; a UDP datagram found
 * survives being framed again and re-extracted unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[65536 + 64];
	const uint8_t *dg = NULL, *dg2 = NULL;
	size_t len = 0, len2 = 0;
	int port, r;

	if (size < 1)
		return 0;
	port = data[0] & 1 ? 4747 : -1;
	r = sl_frame_extract(data + 1, size - 1, port, &dg, &len);
	if (r < 0) {
		(void)sl_frame_reject_name(r);
		return 0;
	}
	if (dg < data + 1 || len == 0 || len > size - 1 || dg + len > data + size)
		abort();
	if (r == SL_FRAME_KIND_UDP) {
		struct sl_frame_addr a = { .src_ip = 1, .dst_ip = 2, .src_port = 3, .dst_port = 4747 };
		size_t fl = sl_frame_build_udp(again, sizeof again, &a, 0, dg, len);
		if (!fl || sl_frame_extract(again, fl, 4747, &dg2, &len2) != SL_FRAME_KIND_UDP ||
		    len2 != len || memcmp(dg, dg2, len))
			abort();
	} else if (r == SL_FRAME_KIND_RAW) {
		static const uint8_t m[6];
		size_t fl = sl_frame_build_raw(again, sizeof again, m, m, dg, len);
		if (!fl || sl_frame_extract(again, fl, -1, &dg2, &len2) != SL_FRAME_KIND_RAW ||
		    len2 != len || memcmp(dg, dg2, len))
			abort();
	}
	return 0;
}
