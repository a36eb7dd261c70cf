/* Unit tests for the io_uring engine of udp links (io=uring,
 * common/link/link_uring.c) over 127.0.0.1: round trips against the plain
 * engine and itself with GSO/GRO on and off, zero-copy sends, borrowed
 * buffers, oversize datagrams, the buffer ring running dry, timeouts,
 * signals, the ring's restrictions and option errors (kernel drop counts:
 * test_link.c, with either engine). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <liburing.h>
#include <seccomp.h>
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

#include "link.h"
#include "link_util.h"

/* n datagrams of `mode` sizes, sent in batches of 100 and each batch
 * received whole, `per` per receive call. */
static void round_trip(const char *txopt, const char *rxopt, int borrow, unsigned n, int mode,
		       unsigned per)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .borrow = borrow };
	struct sl_link_stats st;
	struct sl_diag d;
	struct bufs *b = mode ? bufs_new_len(n, 1400) : bufs_new(n);

	open_pair(txopt, rxopt, &ro, &tx, &rx);
	for (unsigned first = 0; first < n; first += 100) {
		unsigned k = n - first < 100 ? n - first : 100;
		cr_assert_eq(sl_link_send(tx, b->iov + first, k, &d), (int)k, "%s", d.msg);
		recv_check_per(rx, b, first, k, per);
	}
	sl_link_get_stats(tx, &st);
	cr_assert_eq(st.datagrams, n);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, n);
	cr_assert_eq(st.foreign, 0);
	cr_assert_eq(st.kernel_drops, 0);
	bufs_reset(b, SL_LINK_MAX_DGRAM);
	cr_assert_eq(sl_link_recv(rx, b->dg, 8, 0, &d), 0, "nothing more should arrive");
	close_pair(tx, rx, b);
}

/* Each case: sender and receiver options, borrowed receive buffers,
 * 1400-byte datagrams only (long GSO/GRO runs) or the mix of sizes, and
 * how many datagrams one receive may return. The strings are arrays:
 * Criterion copies the parameters into the test's process. */
struct rt_case {
	char tx[40], rx[40];
	int borrow, equal;
	unsigned per;
};

ParameterizedTestParameters(link_uring, round_trips)
{
	static struct rt_case cases[] = {
		/* uring sender, plain receiver */
		{ "?io=uring", "", 0, 0, 64 },
		{ "?io=uring", "", 0, 1, 64 },
		{ "?io=uring&gso=0", "?gro=0", 0, 0, 64 },
		{ "?io=uring&zc=1", "", 0, 1, 64 },
		/* plain sender, uring receiver */
		{ "", "?io=uring", 0, 0, 64 },
		{ "", "?io=uring", 1, 1, 7 },
		{ "", "?io=uring&gro=0", 0, 1, 64 },
		{ "?gso=0", "?io=uring&gro=0", 1, 0, 5 },
		/* both */
		{ "?io=uring", "?io=uring", 0, 1, 64 },
		{ "?io=uring", "?io=uring", 1, 0, 64 },
		{ "?io=uring&gso=0", "?io=uring&gro=0", 1, 0, 64 },
		{ "?io=uring&zc=1", "?io=uring", 1, 1, 64 },
		{ "?io=uring&zc=1&gso=0", "?io=uring&gro=0", 0, 0, 64 },
	};
	return cr_make_param_array(struct rt_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct rt_case *c, link_uring, round_trips)
{
	round_trip(c->tx, c->rx, c->borrow, 400, c->equal, c->per);
}

/* More datagrams queued than the provided buffer ring holds (32 with GRO,
 * 256 without): the multishot receive ends with ENOBUFS, is counted and
 * armed again, and every datagram still arrives, in order, round after
 * round. */
static void ring_runs_dry(const char *rxopt, unsigned n)
{
	struct sl_link *tx, *rx;
	struct sl_link_opts ro = { .borrow = 1 };
	struct sl_link_stats st;
	struct sl_diag d;
	struct bufs *b = bufs_new(n);

	/* one datagram per packet, so GRO has nothing to coalesce */
	open_pair("?gso=0", rxopt, &ro, &tx, &rx);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned first = 0; first < n; first += 250) {
			unsigned k = n - first < 250 ? n - first : 250;
			cr_assert_eq(sl_link_send(tx, b->iov + first, k, &d), (int)k, "%s", d.msg);
		}
		usleep(50000);
		recv_check_per(rx, b, 0, n, 100);
		sl_link_get_stats(rx, &st);
		cr_assert_geq(st.ring_empty, round + 1, "round %u: the ring never ran dry (%llu)",
			      round, (unsigned long long)st.ring_empty);
	}
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, 3 * n);
	cr_assert_eq(st.kernel_drops, 0, "the socket buffer should have held the rest");
	close_pair(tx, rx, b);
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
	struct bufs *b = bufs_new(200);
	int r;

	open_pair("?gso=0", "?io=uring&gro=0", &ro, &tx, &rx);
	cr_assert_eq(sl_link_send(tx, b->iov, 100, &d), 100, "%s", d.msg);
	usleep(20000);
	bufs_reset(b, SL_LINK_MAX_DGRAM);
	r = sl_link_recv(rx, b->dg, 100, 100, &d);
	cr_assert_gt(r, 0, "%s", d.msg);
	cr_assert(b->dg[0].buf < b->mem || b->dg[0].buf >= b->mem + 400 * SL_LINK_MAX_DGRAM,
		  "borrow: the datagram should point into the link's buffers");
	/* the ring gets busy meanwhile */
	cr_assert_eq(sl_link_send(tx, b->iov + 100, 100, &d), 100, "%s", d.msg);
	usleep(20000);
	for (int i = 0; i < r; i++)
		dg_check(b->dg[i].buf, b->dg[i].len, (unsigned)i);
	recv_check_per(rx, b, (unsigned)r, 200 - (unsigned)r, 64);
	close_pair(tx, rx, b);
}

/* A datagram longer than the caller's buffer, and one longer than a
 * provided buffer (truncated by the kernel), count as foreign. */
static void oversize(const char *rxopt)
{
	struct sl_link *tx, *rx;
	struct sl_link_stats st;
	struct sl_diag d;
	struct bufs *b = bufs_new(10);
	static uint8_t huge[12000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = 0 };
	int fd, r;

	open_pair("", rxopt, NULL, &tx, &rx);
	/* 64 bytes fit a 100-byte buffer; 1472 do not */
	struct iovec v[2] = { b->iov[6], b->iov[3] };
	cr_assert_eq(sl_link_send(tx, v, 2, &d), 2, "%s", d.msg);
	usleep(20000);
	bufs_reset(b, 100);
	r = sl_link_recv(rx, b->dg, 4, 100, &d);
	cr_assert_eq(r, 1, "%d: %s", r, d.msg);
	dg_check(b->dg[0].buf, b->dg[0].len, 3);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, 1);
	/* 12000 bytes, past a gro=0 ring buffer and past SL_LINK_MAX_DGRAM */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(fd, 0);
	to.sin_port = htons((uint16_t)rx_port(rx));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(sendto(fd, huge, sizeof huge, 0, (struct sockaddr *)&to, sizeof to),
		     (ssize_t)sizeof huge);
	close(fd);
	cr_assert_eq(sl_link_send(tx, &b->iov[0], 1, &d), 1, "%s", d.msg);
	bufs_reset(b, SL_LINK_MAX_DGRAM);
	r = 0;
	for (int waits = 0; r == 0 && waits < 20; waits++)
		r = sl_link_recv(rx, b->dg, 4, 100, &d);
	cr_assert_eq(r, 1, "%d: %s", r, d.msg);
	dg_check(b->dg[0].buf, b->dg[0].len, 0);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, 2);
	cr_assert_eq(st.datagrams, 2);
	close_pair(tx, rx, b);
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
	struct bufs *b = bufs_new(3);

	open_pair("", "?io=uring", NULL, &tx, &rx);
	struct pollfd p = { .fd = sl_link_fd(rx), .events = POLLIN };
	cr_assert_geq(p.fd, 0);
	cr_assert_eq(poll(&p, 1, 0), 0, "readable before anything was sent");
	cr_assert_eq(sl_link_send(tx, b->iov, 3, &d), 3, "%s", d.msg);
	cr_assert_eq(poll(&p, 1, 2000), 1, "not readable after a send");
	recv_check_per(rx, b, 0, 3, 3);
	cr_assert_eq(sl_link_fd(tx), -1);
	close_pair(tx, rx, b);
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

/* io_uring operations bypass seccomp, so the receive ring is locked down:
 * after opening, no register operation is allowed on it any more (the
 * restrictions are in force; the SQE opcodes are limited the same way). */
Test(link_uring, rx_ring_is_restricted)
{
	struct sl_link *rx;
	struct sl_diag d;
	static uint8_t probe[sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op)];

	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=uring", NULL, &rx, &d), SL_OK, "%s", d.msg);
	int fd = sl_link_fd(rx);
	cr_assert_geq(fd, 0);
	int r = io_uring_register((unsigned)fd, IORING_REGISTER_PROBE, probe, 256);
	cr_assert_eq(r, -EACCES, "IORING_REGISTER_PROBE on the rx ring: %d, expected -EACCES", r);
	sl_link_close(rx);
}

/* Where io_uring is forbidden (kernel.io_uring_disabled, a container's
 * seccomp policy) or missing, io=uring refuses to open and says why and
 * what to use instead; io=plain still works. A seccomp filter in this
 * test's own process stands in for the policy. */
static void unavailable(int err, const char *says)
{
	struct sl_link *l;
	struct sl_diag d;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	cr_assert(ctx);
	cr_assert_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(io_uring_setup), 0), 0);
	cr_assert_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0?io=uring", NULL, &l, &d), SL_ERR_IO, "%s", d.msg);
	cr_assert_null(l);
	cr_assert(strstr(d.msg, "udp://127.0.0.1:0?io=uring") && strstr(d.msg, strerror(err)) &&
		  strstr(d.msg, says) && strstr(d.msg, "use io=plain"), "%s", d.msg);
	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9?io=uring", NULL, &l, &d), SL_ERR_IO, "%s", d.msg);
	cr_assert(strstr(d.msg, strerror(err)) && strstr(d.msg, says), "%s", d.msg);
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0", NULL, &l, &d), SL_OK, "%s", d.msg);
	sl_link_close(l);
}

Test(link_uring, forbidden_says_why) { unavailable(EPERM, "io_uring_disabled"); }
Test(link_uring, missing_says_why) { unavailable(ENOSYS, "no io_uring"); }

/* The arrival time is the kernel's (SO_TIMESTAMPNS through the control
 * messages in the provided buffer), not the time of the receive call: a
 * datagram that waited 80 ms carries a time from before the wait. */
static void kernel_timestamps(const char *rxopt)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	struct bufs *b = bufs_new_len(4, 1400);
	struct timespec now;

	open_pair("", rxopt, NULL, &tx, &rx);
	cr_assert_eq(sl_link_send(tx, b->iov, 4, &d), 4, "%s", d.msg);
	usleep(80000);
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t waited = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	recv_check_per(rx, b, 0, 1, 1); /* the first, alone: b->dg[0] stays its */
	cr_assert_lt(b->dg[0].ts_ns + 50000000ull, waited,
		     "arrival %llu is not before the wait ended (%llu)",
		     (unsigned long long)b->dg[0].ts_ns, (unsigned long long)waited);
	recv_check_per(rx, b, 1, 3, 3);
	close_pair(tx, rx, b);
}

Test(link_uring, kernel_timestamps_gro) { kernel_timestamps("?io=uring"); }
Test(link_uring, kernel_timestamps_nogro) { kernel_timestamps("?io=uring&gro=0"); }
