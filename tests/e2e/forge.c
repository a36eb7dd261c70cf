/* forge.c — test harness: a one-way UDP relay that holds the link key and
 * alters content in flight, as an attacker on the low side with the key could.
 *
 * Usage: forge --in udp://A --out udp://B --key LINKKEY --block N --row R
 *              [--idle-exit SEC]
 * Every SYMBOL datagram of block N, row R has byte 100 of its body flipped
 * and is sealed again with the right session key; everything else passes
 * unchanged. The receiver must reject the transfer on its SHA-256 check.
 * With --drop-type T (repeatable) datagrams of wire type T are dropped
 * instead, to model a link that loses all data but the heartbeats.
 * Bounded: exits after --idle-exit seconds without input (default 5).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "pace.h"
#include "wire.h"

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *keyp = NULL;
	unsigned long block = 0, row = 1, idle = 5;
	struct sl_link *li, *lo;
	struct sl_wire_rx *wr;
	struct sl_diag d = { "" };
	uint8_t *key, *buf, *copy;
	unsigned long forged = 0, relayed = 0, dropped = 0;
	unsigned drop_mask = 0;
	uint64_t last;
	static const struct option opts[] = {
		{ "in", 1, 0, 'i' }, { "out", 1, 0, 'o' }, { "key", 1, 0, 'k' },
		{ "block", 1, 0, 'b' }, { "row", 1, 0, 'r' }, { "idle-exit", 1, 0, 'x' }, { "drop-type", 1, 0, 'd' }, { 0, 0, 0, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'k': keyp = optarg; break;
		case 'b': block = strtoul(optarg, NULL, 10); break;
		case 'r': row = strtoul(optarg, NULL, 10); break;
		case 'x': idle = strtoul(optarg, NULL, 10); break;
		case 'd': drop_mask |= 1u << (strtoul(optarg, NULL, 10) & 15); break;
		default: return 2;
		}
	}
	if (!in || !out || !keyp)
		return 2;
	if (sl_link_key_load(keyp, &key, &d) ||
	    sl_wire_rx_new(&(struct sl_wire_rx_cfg){ .link_key = key, .max_symsize = SL_WIRE_MAX_SYMSIZE },
			   &wr, &d) ||
	    sl_link_open_rx(in, NULL, &li, &d) || sl_link_open_tx(out, NULL, &lo, &d)) {
		fprintf(stderr, "forge: %s\n", d.msg);
		return 1;
	}
	buf = malloc(SL_LINK_MAX_DGRAM);
	copy = malloc(SL_LINK_MAX_DGRAM);
	last = sl_now_ns();
	while (sl_now_ns() - last < idle * 1000000000ull) {
		struct sl_dgram dg = { .buf = buf, .cap = SL_LINK_MAX_DGRAM };
		struct sl_wire_hdr h;
		const uint8_t *body;
		struct iovec iov;
		int n = sl_link_recv(li, &dg, 1, 200, &d);
		if (n <= 0)
			continue;
		last = sl_now_ns();
		memcpy(copy, buf, dg.len);
		if (sl_wire_open(wr, copy, dg.len, &h, &body) == 0 && (drop_mask >> h.type & 1)) {
			dropped++;
			continue;
		}
		memcpy(copy, buf, dg.len);
		if (sl_wire_open(wr, copy, dg.len, &h, &body) == 0 && h.type == SL_T_SYMBOL &&
		    !drop_mask && h.block == block && h.row == row) {
			copy[SL_WIRE_HDR + 100] ^= 0x01;
			if (sl_wire_reseal(wr, copy, dg.len) == 0) {
				memcpy(buf, copy, dg.len);
				forged++;
			}
		}
		iov.iov_base = buf;
		iov.iov_len = dg.len;
		sl_link_send(lo, &iov, 1, &d);
		relayed++;
	}
	printf("forge: relayed %lu datagrams, forged %lu, dropped %lu\n", relayed, forged, dropped);
	sl_link_close(li);
	sl_link_close(lo);
	sl_wire_rx_free(wr);
	sl_link_key_free(key);
	free(buf);
	free(copy);
	return 0;
}
