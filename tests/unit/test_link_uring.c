/* Unit tests for the io_uring engine of udp links (io=uring,
 * common/link_uring.c) over 127.0.0.1: round trips against the plain
 * engine and itself with GSO/GRO on and off, zero-copy sends, borrowed
 * buffers, oversize datagrams, the buffer ring running dry, timeouts,
 * signals, kernel drop counts and option errors. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "link.h"

#define NMAX 1500

/* Payload of datagram `seq` in a run of `mode`: 0 = sizes vary (no GSO
 * run longer than a few), 1 = all 1400 bytes (long GSO/GRO runs). */
static size_t pl_size(unsigned seq, int mode)
{
	static const size_t vary[] = { 12, 1400, 1400, 1400, 600, 8999, 9000, 77, 1472, 1472 };
	return mode ? 1400 : vary[seq % 10];
}

static uint8_t pl_byte(unsigned seq, size_t k)
{
	return (uint8_t)((seq * 131u) ^ (unsigned)(k * 3u + 1u));
}

struct io_run {
	uint8_t *tx_mem, *rx_mem;
	struct iovec out[NMAX];
	struct sl_dgram in[NMAX];
	unsigned n;
	int mode;
};

static struct io_run *run_new(unsigned n, int mode)
{
	struct io_run *t = calloc(1, sizeof *t);
	cr_assert(t && n <= NMAX);
	t->n = n;
	t->mode = mode;
	t->tx_mem = malloc((size_t)n * SL_LINK_MAX_DGRAM);
	t->rx_mem = malloc((size_t)n * SL_LINK_MAX_DGRAM);
	cr_assert(t->tx_mem && t->rx_mem);
	for (unsigned s = 0; s < n; s++) {
		uint8_t *p = t->tx_mem + (size_t)s * SL_LINK_MAX_DGRAM;
		size_t len = pl_size(s, mode);
		sl_put_be32(p, s);
		for (size_t k = 4; k < len; k++)
			p[k] = pl_byte(s, k);
		t->out[s] = (struct iovec){ p, len };
	}
	return t;
}

static void run_free(struct io_run *t)
{
	free(t->tx_mem);
	free(t->rx_mem);
	free(t);
}

/* The caller's buffers, reset before each receive (a borrowing link may
 * have pointed them into its own). */
static void reset_in(struct io_run *t, size_t cap)
{
	for (unsigned i = 0; i < t->n; i++) {
		t->in[i].buf = t->rx_mem + (size_t)i * SL_LINK_MAX_DGRAM;
		t->in[i].cap = cap;
		t->in[i].len = 0;
	}
}

static void expect_dgram(const struct io_run *t, const struct sl_dgram *g, unsigned seq)
{
	size_t len = pl_size(seq, t->mode);
	cr_assert_eq(g->len, len, "datagram %u: %zu bytes, sent %zu", seq, g->len, len);
	cr_assert_eq(sl_get_be32(g->buf), seq, "expected datagram %u, got %u", seq,
		     sl_get_be32(g->buf));
	for (size_t k = 4; k < len; k++)
		if (g->buf[k] != pl_byte(seq, k))
			cr_assert_fail("datagram %u corrupt at byte %zu", seq, k);
	cr_assert_gt(g->ts_ns, 1500000000ull * 1000000000ull, "no arrival time on %u", seq);
}

/* Receive datagrams first..first+count in order, `per` at most per call,
 * within a bounded number of waits. */
static void take_in_order(struct sl_link *rx, struct io_run *t, unsigned first, unsigned count,
			  unsigned per)
{
	struct sl_diag d;
	unsigned got = 0;

	for (int waits = 0; got < count && waits < 300; waits++) {
		reset_in(t, SL_LINK_MAX_DGRAM);
		int r = sl_link_recv(rx, t->in, count - got < per ? count - got : per, 100, &d);
		cr_assert_geq(r, 0, "recv: %s", d.msg);
		for (int i = 0; i < r; i++)
			expect_dgram(t, &t->in[i], first + got + (unsigned)i);
		got += (unsigned)r;
	}
	cr_assert_eq(got, count, "received %u of %u", got, count);
}

static unsigned port_of(struct sl_link *rx)
{
	const char *p = strstr(sl_link_describe(rx), "127.0.0.1:");
	cr_assert(p, "%s", sl_link_describe(rx));
	return (unsigned)strtoul(p + 10, NULL, 10);
}

/* Open rx on a free port with rxopt and tx to it with txopt. */
static void open_pair(const char *txopt, const char *rxopt, const struct sl_link_opts *ro,
		      struct sl_link **tx, struct sl_link **rx)
{
	struct sl_diag d;
	char uri[128];
	snprintf(uri, sizeof uri, "udp://127.0.0.1:0%s", rxopt);
	cr_assert_eq(sl_link_open_rx(uri, ro, rx, &d), SL_OK, "%s", d.msg);
	snprintf(uri, sizeof uri, "udp://127.0.0.1:%u%s", port_of(*rx), txopt);
	cr_assert_eq(sl_link_open_tx(uri, NULL, tx, &d), SL_OK, "%s", d.msg);
}

/* n datagrams of `mode` sizes, sent in batches of 100 and each batch
 * received whole, `per` per receive call. */
static void round_trip(const char *txopt, const char *rxopt, int borrow, unsigned n, int mode,
		       unsigned per)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .borrow = borrow };
	struct sl_link_stats st;
	struct sl_diag d;
	struct io_run *t = run_new(n, mode);

	open_pair(txopt, rxopt, &ro, &tx, &rx);
	for (unsigned first = 0; first < n; first += 100) {
		unsigned k = n - first < 100 ? n - first : 100;
		cr_assert_eq(sl_link_send(tx, t->out + first, k, &d), (int)k, "%s", d.msg);
		take_in_order(rx, t, first, k, per);
	}
	sl_link_get_stats(tx, &st);
	cr_assert_eq(st.datagrams, n);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, n);
	cr_assert_eq(st.foreign, 0);
	cr_assert_eq(st.kernel_drops, 0);
	reset_in(t, SL_LINK_MAX_DGRAM);
	cr_assert_eq(sl_link_recv(rx, t->in, 8, 0, &d), 0, "nothing more should arrive");
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

/* uring sender, plain receiver */
Test(link_uring, tx_uring_rx_plain) { round_trip("?io=uring", "", 0, 400, 0, 64); }
Test(link_uring, tx_uring_rx_plain_equal) { round_trip("?io=uring", "", 0, 400, 1, 64); }
Test(link_uring, tx_uring_nogso_rx_plain) { round_trip("?io=uring&gso=0", "?gro=0", 0, 400, 0, 64); }
Test(link_uring, tx_uring_zc_rx_plain) { round_trip("?io=uring&zc=1", "", 0, 400, 1, 64); }
/* plain sender, uring receiver */
Test(link_uring, tx_plain_rx_uring) { round_trip("", "?io=uring", 0, 400, 0, 64); }
Test(link_uring, tx_plain_rx_uring_borrow) { round_trip("", "?io=uring", 1, 400, 1, 7); }
Test(link_uring, tx_plain_rx_uring_nogro) { round_trip("", "?io=uring&gro=0", 0, 400, 1, 64); }
Test(link_uring, tx_plain_rx_uring_nogro_borrow) { round_trip("?gso=0", "?io=uring&gro=0", 1, 400, 0, 5); }
/* both */
Test(link_uring, uring_both) { round_trip("?io=uring", "?io=uring", 0, 400, 1, 64); }
Test(link_uring, uring_both_borrow_mixed) { round_trip("?io=uring", "?io=uring", 1, 400, 0, 64); }
Test(link_uring, uring_both_off) { round_trip("?io=uring&gso=0", "?io=uring&gro=0", 1, 400, 0, 64); }
Test(link_uring, uring_both_zc) { round_trip("?io=uring&zc=1", "?io=uring", 1, 400, 1, 64); }
Test(link_uring, uring_both_zc_nogso) { round_trip("?io=uring&zc=1&gso=0", "?io=uring&gro=0", 0, 400, 0, 64); }

/* More datagrams queued than the provided buffer ring holds (64 with GRO,
 * 512 without): the multishot receive ends with ENOBUFS, is counted and
 * armed again, and every datagram still arrives, in order, round after
 * round. */
static void ring_runs_dry(const char *rxopt, unsigned n)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .borrow = 1 };
	struct sl_link_stats st;
	struct sl_diag d;
	struct io_run *t = run_new(n, 0);

	/* one datagram per packet, so GRO has nothing to coalesce */
	open_pair("?gso=0", rxopt, &ro, &tx, &rx);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned first = 0; first < n; first += 250) {
			unsigned k = n - first < 250 ? n - first : 250;
			cr_assert_eq(sl_link_send(tx, t->out + first, k, &d), (int)k, "%s", d.msg);
		}
		usleep(50000);
		take_in_order(rx, t, 0, n, 100);
		sl_link_get_stats(rx, &st);
		cr_assert_geq(st.ring_empty, round + 1, "round %u: the ring never ran dry (%llu)",
			      round, (unsigned long long)st.ring_empty);
	}
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, 3 * n);
	cr_assert_eq(st.kernel_drops, 0, "the socket buffer should have held the rest");
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

Test(link_uring, ring_runs_dry_gro) { ring_runs_dry("?io=uring", 300); }
Test(link_uring, ring_runs_dry_nogro) { ring_runs_dry("?io=uring&gro=0", 1200); }

/* Borrowed datagrams stay intact until the next receive, even while the
 * kernel fills other buffers of the ring. */
Test(link_uring, borrowed_data_stays_until_next_receive)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .borrow = 1 };
	struct sl_diag d;
	struct io_run *t = run_new(200, 0);
	int r;

	open_pair("?gso=0", "?io=uring&gro=0", &ro, &tx, &rx);
	cr_assert_eq(sl_link_send(tx, t->out, 100, &d), 100, "%s", d.msg);
	usleep(20000);
	reset_in(t, SL_LINK_MAX_DGRAM);
	r = sl_link_recv(rx, t->in, 100, 100, &d);
	cr_assert_gt(r, 0, "%s", d.msg);
	cr_assert(t->in[0].buf < t->rx_mem || t->in[0].buf >= t->rx_mem + 200 * SL_LINK_MAX_DGRAM,
		  "borrow: the datagram should point into the link's buffers");
	/* the ring gets busy meanwhile */
	cr_assert_eq(sl_link_send(tx, t->out + 100, 100, &d), 100, "%s", d.msg);
	usleep(20000);
	for (int i = 0; i < r; i++)
		expect_dgram(t, &t->in[i], (unsigned)i);
	take_in_order(rx, t, (unsigned)r, 200 - (unsigned)r, 64);
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

/* A datagram longer than the caller's buffer, and one longer than a
 * provided buffer (truncated by the kernel), count as foreign. */
static void oversize(const char *rxopt)
{
	struct sl_link *tx, *rx;
	struct sl_link_stats st;
	struct sl_diag d;
	struct io_run *t = run_new(10, 0);
	static uint8_t huge[12000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = 0 };
	int fd, r;

	open_pair("", rxopt, NULL, &tx, &rx);
	/* 77 bytes fits a 100-byte buffer; 1400 does not */
	struct iovec v[2] = { t->out[1], t->out[7] };
	cr_assert_eq(sl_link_send(tx, v, 2, &d), 2, "%s", d.msg);
	usleep(20000);
	reset_in(t, 100);
	r = sl_link_recv(rx, t->in, 4, 100, &d);
	cr_assert_eq(r, 1, "%d: %s", r, d.msg);
	expect_dgram(t, &t->in[0], 7);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, 1);
	/* 12000 bytes, past a gro=0 ring buffer and past SL_LINK_MAX_DGRAM */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	to.sin_port = htons((uint16_t)port_of(rx));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(sendto(fd, huge, sizeof huge, 0, (struct sockaddr *)&to, sizeof to),
		     (ssize_t)sizeof huge);
	close(fd);
	cr_assert_eq(sl_link_send(tx, &t->out[0], 1, &d), 1, "%s", d.msg);
	reset_in(t, SL_LINK_MAX_DGRAM);
	r = 0;
	for (int waits = 0; r == 0 && waits < 20; waits++)
		r = sl_link_recv(rx, t->in, 4, 100, &d);
	cr_assert_eq(r, 1, "%d: %s", r, d.msg);
	expect_dgram(t, &t->in[0], 0);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, 2);
	cr_assert_eq(st.datagrams, 2);
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

Test(link_uring, oversize_is_foreign_gro) { oversize("?io=uring"); }
Test(link_uring, oversize_is_foreign_nogro) { oversize("?io=uring&gro=0"); }

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

Test(link_uring, timeouts_return_zero)
{
	struct sl_link *rx;
	struct sl_diag d;
	struct sl_dgram g[4];
	static uint8_t mem[4][SL_LINK_MAX_DGRAM];

	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=uring", NULL, &rx, &d), SL_OK, "%s", d.msg);
	for (int i = 0; i < 4; i++)
		g[i] = (struct sl_dgram){ mem[i], sizeof mem[i], 0, 0 };
	cr_assert_eq(sl_link_recv(rx, g, 4, 0, &d), 0);
	uint64_t t0 = mono_ms();
	cr_assert_eq(sl_link_recv(rx, g, 4, 60, &d), 0);
	uint64_t el = mono_ms() - t0;
	/* it waited (not a speed check: only that the timeout was honoured) */
	cr_assert_geq(el, 50, "returned after %llu ms of a 60 ms timeout", (unsigned long long)el);
	sl_link_close(rx);
}

static void on_alarm(int sig)
{
	(void)sig;
}

Test(link_uring, signal_interrupts_a_wait, .timeout = 20)
{
	struct sl_link *rx;
	struct sl_diag d;
	struct sl_dgram g = { 0 };
	static uint8_t mem[SL_LINK_MAX_DGRAM];
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_value = { 0, 100000 } };

	g.buf = mem;
	g.cap = sizeof mem;
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=uring", NULL, &rx, &d), SL_OK, "%s", d.msg);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	cr_assert_eq(sl_link_recv(rx, &g, 1, -1, &d), 0, "%s", d.msg);
	sl_link_close(rx);
}

/* The descriptor sl_link_fd gives becomes readable when datagrams wait. */
Test(link_uring, fd_is_pollable)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	struct io_run *t = run_new(3, 0);

	open_pair("", "?io=uring", NULL, &tx, &rx);
	struct pollfd p = { .fd = sl_link_fd(rx), .events = POLLIN };
	cr_assert_geq(p.fd, 0);
	cr_assert_eq(poll(&p, 1, 0), 0, "readable before anything was sent");
	cr_assert_eq(sl_link_send(tx, t->out, 3, &d), 3, "%s", d.msg);
	cr_assert_eq(poll(&p, 1, 2000), 1, "not readable after a send");
	take_in_order(rx, t, 0, 3, 3);
	cr_assert_eq(sl_link_fd(tx), -1);
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

/* A tiny receive buffer overflows while the sender holds the CPU: the
 * kernel's drop count arrives with the next datagram, as with io=plain. */
Test(link_uring, kernel_drops_are_reported)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .sockbuf = 4096 };
	struct sl_link_stats st;
	struct sl_diag d;
	struct io_run *t = run_new(200, 1);
	unsigned got = 0;
	int r;

	open_pair("?gso=0", "?io=uring&gro=0", &ro, &tx, &rx);
	cr_assert_eq(sl_link_send(tx, t->out, 200, &d), 200, "%s", d.msg);
	do {
		reset_in(t, SL_LINK_MAX_DGRAM);
		r = sl_link_recv(rx, t->in, 200, 50, &d);
		cr_assert_geq(r, 0, "%s", d.msg);
		got += (unsigned)r;
	} while (r > 0);
	cr_assert_lt(got, 200, "nothing was dropped: the test proves nothing");
	cr_assert_eq(sl_link_send(tx, t->out, 1, &d), 1, "%s", d.msg);
	reset_in(t, SL_LINK_MAX_DGRAM);
	cr_assert_eq(sl_link_recv(rx, t->in, 200, 500, &d), 1, "%s", d.msg);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.kernel_drops, 200 - (uint64_t)got, "drops %llu, received %u",
		     (unsigned long long)st.kernel_drops, got);
	sl_link_close(tx);
	sl_link_close(rx);
	run_free(t);
}

Test(link_uring, option_errors)
{
	struct sl_link *l;
	struct sl_diag d;

	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9?io=epoll", NULL, &l, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "io=epoll") && strstr(d.msg, "plain or uring"), "%s", d.msg);
	cr_assert_null(l);
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=", NULL, &l, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9?zc=1", NULL, &l, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "zc=1 needs io=uring"), "%s", d.msg);
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=uring&zc=1", NULL, &l, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "'zc'"), "%s", d.msg);
	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9?io=uring&zc=2", NULL, &l, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_link_open_rx("pcap:/nonexistent?io=uring", NULL, &l, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "'io'"), "%s", d.msg);
	/* and the description says which engine moves the data */
	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9?io=uring&zc=1", NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_describe(l), "io_uring"), "%s", sl_link_describe(l));
	sl_link_close(l);
}
