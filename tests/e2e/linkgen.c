/* linkgen.c — a tiny sender and counter for link tests (not installed).
 *
 *   linkgen send URI COUNT SIZE RATE [BURST]
 *       send COUNT datagrams of SIZE bytes (SIZE may be MIN-MAX, varied
 *       deterministically) paced by sl_pacer at RATE bit/s (wire bytes)
 *       with a BURST-byte bucket (default 64K), in batches of up to 16.
 *   linkgen recv URI IDLE_MS
 *       receive until IDLE_MS pass without a datagram (or a pcap file
 *       ends), check each datagram's embedded sequence number and content,
 *       print "received N bytes B bad X dup D rate R" where R is the wire
 *       rate seen in the arrival timestamps (bit/s, 0 if under 2 arrived).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "bytes.h"
#include "link.h"
#include "pace.h"
#include "units.h"

static size_t size_of(unsigned i, size_t lo, size_t hi)
{
	return lo == hi ? lo : lo + (size_t)(i * 2654435761u) % (hi - lo + 1);
}

static void fill(uint8_t *b, unsigned i, size_t n)
{
	sl_put_be32(b, i);
	for (size_t k = 4; k < n; k++)
		b[k] = (uint8_t)(i + k);
}

static int do_send(int argc, char **argv)
{
	struct sl_link *l;
	struct sl_diag d;
	struct sl_pacer p;
	uint64_t rate, burst = 65536;
	size_t lo, hi;
	unsigned count;
	static uint8_t buf[16][SL_LINK_MAX_DGRAM];
	struct iovec iov[16];

	if (argc < 6)
		return 2;
	count = (unsigned)strtoul(argv[3], NULL, 10);
	lo = hi = strtoul(argv[4], NULL, 10);
	if (strchr(argv[4], '-'))
		hi = strtoul(strchr(argv[4], '-') + 1, NULL, 10);
	if (lo < 4 || hi > SL_LINK_MAX_DGRAM || hi < lo || count > 100000000) {
		fprintf(stderr, "linkgen: bad size or count\n");
		return 2;
	}
	if (sl_parse_rate(argv[5], &rate, &d) || (argc > 6 && sl_parse_size(argv[6], &burst, &d))) {
		fprintf(stderr, "linkgen: %s\n", d.msg);
		return 2;
	}
	if (sl_link_open_tx(argv[2], NULL, &l, &d)) {
		fprintf(stderr, "linkgen: %s\n", d.msg);
		return 1;
	}
	prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within ~1 us, as a sender should (pace.h) */
	sl_pacer_init(&p, rate, burst, sl_now_ns());
	for (unsigned i = 0; i < count;) {
		unsigned n = 0;
		size_t wire = 0;
		/* a batch as large as the bucket allows right now, up to 16 */
		while (n < 16 && i + n < count) {
			size_t sz = size_of(i + n, lo, hi);
			size_t w = sl_wire_bytes_udp(sz);
			if (n && sl_pacer_delay(&p, sl_now_ns(), wire + w))
				break;
			fill(buf[n], i + n, sz);
			iov[n].iov_base = buf[n];
			iov[n].iov_len = sz;
			wire += w;
			n++;
		}
		sl_pacer_wait(&p, wire);
		if (sl_link_send(l, iov, n, &d) != (int)n) {
			fprintf(stderr, "linkgen: %s\n", d.msg);
			return 1;
		}
		i += n;
	}
	sl_link_close(l);
	return 0;
}

static int do_recv(int argc, char **argv)
{
	struct sl_link *l;
	struct sl_diag d;
	static uint8_t mem[64][SL_LINK_MAX_DGRAM];
	struct sl_dgram dg[64];
	uint64_t n = 0, bytes = 0, bad = 0, dup = 0, first = 0, last = 0, wire = 0;
	uint8_t *seen = calloc(1u << 24, 1);
	int idle;

	if (argc < 4 || !seen)
		return 2;
	idle = atoi(argv[3]);
	if (sl_link_open_rx(argv[2], NULL, &l, &d)) {
		fprintf(stderr, "linkgen: %s\n", d.msg);
		return 1;
	}
	for (int i = 0; i < 64; i++)
		dg[i] = (struct sl_dgram){ mem[i], sizeof mem[i], 0, 0 };
	for (;;) {
		int r = sl_link_recv(l, dg, 64, idle, &d);
		if (r == SL_ERR_CLOSED || r == 0)
			break;
		if (r < 0) {
			fprintf(stderr, "linkgen: %s\n", d.msg);
			return 1;
		}
		for (int i = 0; i < r; i++) {
			uint32_t seq = dg[i].len >= 4 ? sl_get_be32(dg[i].buf) : 0;
			int ok = dg[i].len >= 4 && seq < (1u << 24);
			for (size_t k = 4; ok && k < dg[i].len; k++)
				ok = dg[i].buf[k] == (uint8_t)(seq + k);
			if (!ok) {
				bad++;
				continue;
			}
			if (seen[seq]++)
				dup++;
			if (!n)
				first = dg[i].ts_ns;
			else
				wire += sl_wire_bytes_udp(dg[i].len);
			last = dg[i].ts_ns;
			n++;
			bytes += dg[i].len;
		}
	}
	printf("received %llu bytes %llu bad %llu dup %llu rate %.0f\n", (unsigned long long)n,
	       (unsigned long long)bytes, (unsigned long long)bad, (unsigned long long)dup,
	       n > 1 && last > first ? (double)wire * 8e9 / (double)(last - first) : 0.0);
	sl_link_close(l);
	free(seen);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;
	if (argc > 1 && !strcmp(argv[1], "send"))
		r = do_send(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "recv"))
		r = do_recv(argc, argv);
	if (r == 2)
		fprintf(stderr, "usage: linkgen send URI COUNT SIZE[-MAX] RATE [BURST] | "
				"linkgen recv URI IDLE_MS\n");
	return r;
}
