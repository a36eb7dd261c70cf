/* replay.c — test harness: replay a capture into a live receiver, as an
 * attacker who recorded the link (or a confused operator) would.
 *
 * Usage: replay --in pcap:FILE --out udp://127.0.0.1:PORT [--first N]
 *               [--loops L] [--rate RATE] [--max-seconds S]
 * Sends the datagrams of the first N records of the capture (all of them
 * when N is 0; N models a capture cut short), L times over (default 1),
 * paced at RATE bit/s of wire time (default 50M), and stops after S seconds
 * (default 10) in any case. Only loopback destinations (udp://127.x.x.x)
 * are accepted. Prints one line: how many datagrams it sent and how long
 * it took. Exit status 0 when it sent anything, 1 on an error, 2 on usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "link.h"
#include "pace.h"
#include "units.h"

#define BATCH 16

struct replay {
	const char *in;
	struct sl_link *out;
	struct sl_pacer pacer;
	uint64_t first, deadline_ns, sent;
	uint8_t *mem;
};

/* One pass over the capture: 0, or 1 on an error (diag set). */
static int replay_once(struct replay *r, struct sl_diag *d)
{
	struct sl_link *in;
	struct sl_dgram dg[BATCH];
	struct iovec iov[BATCH];
	uint64_t taken = 0;

	if (sl_link_open_rx(r->in, NULL, &in, d))
		return 1;
	while ((!r->first || taken < r->first) && sl_now_ns() < r->deadline_ns) {
		unsigned want = BATCH, n;
		size_t wire = 0;
		int got;
		if (r->first && r->first - taken < want)
			want = (unsigned)(r->first - taken);
		for (unsigned i = 0; i < want; i++)
			dg[i] = (struct sl_dgram){ r->mem + (size_t)i * SL_LINK_MAX_DGRAM, SL_LINK_MAX_DGRAM, 0, 0 };
		got = sl_link_recv(in, dg, want, 0, d);
		if (got == SL_ERR_CLOSED || got == 0)
			break;
		if (got < 0) {
			sl_link_close(in);
			return 1;
		}
		n = (unsigned)got;
		for (unsigned i = 0; i < n; i++) {
			iov[i].iov_base = dg[i].buf;
			iov[i].iov_len = dg[i].len;
			wire += sl_wire_bytes_udp(dg[i].len);
		}
		sl_pacer_wait(&r->pacer, wire);
		if (sl_link_send(r->out, iov, n, d) != (int)n) {
			sl_link_close(in);
			return 1;
		}
		taken += n;
		r->sent += n;
	}
	sl_link_close(in);
	return 0;
}

int main(int argc, char **argv)
{
	struct replay r = { 0 };
	const char *out = NULL;
	uint64_t rate = 50000000, loops = 1, max_s = 10, t0;
	struct sl_diag d = { "" };
	static const struct option opts[] = {
		{ "in", 1, 0, 'i' }, { "out", 1, 0, 'o' }, { "first", 1, 0, 'f' }, { "loops", 1, 0, 'l' },
		{ "rate", 1, 0, 'r' }, { "max-seconds", 1, 0, 's' }, { 0, 0, 0, 0 }
	};
	int c, st = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': r.in = optarg; break;
		case 'o': out = optarg; break;
		case 'f': r.first = strtoull(optarg, NULL, 10); break;
		case 'l': loops = strtoull(optarg, NULL, 10); break;
		case 's': max_s = strtoull(optarg, NULL, 10); break;
		case 'r':
			if (sl_parse_rate(optarg, &rate, &d) || rate == 0) {
				fprintf(stderr, "replay: --rate: %s\n", d.msg[0] ? d.msg : "must be above 0");
				return 2;
			}
			break;
		default: return 2;
		}
	}
	if (!r.in || strncmp(r.in, "pcap:", 5) || !out || strncmp(out, "udp://127.", 10) ||
	    loops < 1 || loops > 1000 || max_s < 1 || max_s > 600) {
		fprintf(stderr, "usage: replay --in pcap:FILE --out udp://127.x.x.x:PORT [--first N] "
				"[--loops 1..1000] [--rate RATE] [--max-seconds 1..600]\n");
		return 2;
	}
	r.mem = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM);
	if (!r.mem || sl_link_open_tx(out, NULL, &r.out, &d)) {
		fprintf(stderr, "replay: %s\n", r.mem ? d.msg : "out of memory");
		free(r.mem);
		return 1;
	}
	prctl(PR_SET_TIMERSLACK, 1000UL);
	t0 = sl_now_ns();
	r.deadline_ns = t0 + max_s * 1000000000ull;
	sl_pacer_init(&r.pacer, rate, 64 << 10, t0);
	for (uint64_t l = 0; l < loops && !st && sl_now_ns() < r.deadline_ns; l++)
		st = replay_once(&r, &d);
	if (st)
		fprintf(stderr, "replay: %s\n", d.msg);
	printf("replay: sent %llu datagrams in %.2f s\n", (unsigned long long)r.sent,
	       (double)(sl_now_ns() - t0) / 1e9);
	sl_link_close(r.out);
	free(r.mem);
	return st ? 1 : r.sent ? 0 : 1;
}
