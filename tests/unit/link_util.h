/* link_util.h — helpers shared by the link unit tests (test_link.c,
 * test_link_uring.c): datagrams whose sequence number, length and content
 * a receiver can check without the sent copy, buffers for up to MAXN of
 * them, a bounded in-order receive, the port a receive link got, and a
 * loopback pair of links (open_pair, close_pair). */
#ifndef SL_TEST_LINK_UTIL_H
#define SL_TEST_LINK_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "bytes.h"
#include "link.h"

#define MAXN 1200

/* Length of datagram i in the usual mix of sizes. */
static inline size_t dg_len(unsigned i)
{
	static const size_t sizes[] = { 1, 8, 17, 64, 1200, 1400, 1472, 4000, 8972, 9000 };
	return sizes[i % 10] < 8 ? 8 : sizes[i % 10];
}

/* Datagram i of n bytes: its number, its length, then bytes derived
 * from both. */
static inline void dg_fill_len(uint8_t *b, unsigned i, size_t n)
{
	sl_put_be32(b, i);
	sl_put_be32(b + 4, (uint32_t)n);
	for (size_t k = 8; k < n; k++)
		b[k] = (uint8_t)(i * 31 + k * 7);
}

static inline void dg_fill(uint8_t *b, unsigned i)
{
	dg_fill_len(b, i, dg_len(i));
}

static inline void dg_check(const uint8_t *b, size_t len, unsigned i)
{
	cr_assert_geq(len, 8, "datagram %u: only %zu bytes", i, len);
	cr_assert_eq(sl_get_be32(b), i, "datagram %u out of order (got %u)", i, sl_get_be32(b));
	cr_assert_eq(len, sl_get_be32(b + 4), "datagram %u: length %zu, sent %u", i, len,
		     sl_get_be32(b + 4));
	for (size_t k = 8; k < len; k++)
		if (b[k] != (uint8_t)(i * 31 + k * 7))
			cr_assert_fail("datagram %u differs at byte %zu", i, k);
}

struct bufs {
	uint8_t *mem;
	struct iovec iov[MAXN];
	struct sl_dgram dg[MAXN];
	unsigned n;
};

/* n datagrams to send (iov) and n receive buffers (dg); fixed = 0: the
 * mix of sizes of dg_len, else all of that length. */
static inline struct bufs *bufs_new_len(unsigned n, size_t fixed)
{
	struct bufs *b = calloc(1, sizeof *b);
	cr_assert(b && n <= MAXN);
	b->n = n;
	b->mem = malloc((size_t)n * SL_LINK_MAX_DGRAM * 2);
	cr_assert(b->mem);
	for (unsigned i = 0; i < n; i++) {
		b->iov[i].iov_base = b->mem + (size_t)i * SL_LINK_MAX_DGRAM;
		b->iov[i].iov_len = fixed ? fixed : dg_len(i);
		dg_fill_len(b->iov[i].iov_base, i, b->iov[i].iov_len);
		b->dg[i].buf = b->mem + (size_t)(n + i) * SL_LINK_MAX_DGRAM;
		b->dg[i].cap = SL_LINK_MAX_DGRAM;
	}
	return b;
}

static inline struct bufs *bufs_new(unsigned n)
{
	return bufs_new_len(n, 0);
}

/* Point the receive entries at the caller's buffers again (a borrowing
 * link lends its own), with this capacity. */
static inline void bufs_reset(struct bufs *b, size_t cap)
{
	for (unsigned i = 0; i < b->n; i++) {
		b->dg[i].buf = b->mem + (size_t)(b->n + i) * SL_LINK_MAX_DGRAM;
		b->dg[i].cap = cap;
	}
}

static inline void bufs_free(struct bufs *b)
{
	free(b->mem);
	free(b);
}

/* Receive exactly n datagrams, numbered from first, at most per per call
 * (bounded wait), and check them in order. */
static inline void recv_check_per(struct sl_link *rx, struct bufs *b, unsigned first, unsigned n,
				  unsigned per)
{
	unsigned got = 0;
	struct sl_diag d;
	for (int tries = 0; got < n && tries < 300; tries++) {
		bufs_reset(b, SL_LINK_MAX_DGRAM);
		int r = sl_link_recv(rx, b->dg, n - got < per ? n - got : per, 100, &d);
		cr_assert_geq(r, 0, "recv: %s", d.msg);
		for (int i = 0; i < r; i++) {
			dg_check(b->dg[i].buf, b->dg[i].len, first + got + (unsigned)i);
			cr_assert_gt(b->dg[i].ts_ns, 0, "datagram %u has no arrival time",
				     first + got + (unsigned)i);
		}
		got += (unsigned)r;
	}
	cr_assert_eq(got, n, "received %u of %u", got, n);
}

static inline void recv_check(struct sl_link *rx, struct bufs *b, unsigned first, unsigned n)
{
	recv_check_per(rx, b, first, n, 64);
}

static inline unsigned rx_port(struct sl_link *rx)
{
	const char *s = strrchr(sl_link_describe(rx), ':');
	cr_assert(s, "%s", sl_link_describe(rx));
	return (unsigned)strtoul(s + 1, NULL, 10);
}

/* A receive link on a free loopback port (rxopt appended to its URI, opened
 * with ro, which may be NULL) and a send link to it (txopt appended). */
static inline void open_pair(const char *txopt, const char *rxopt, const struct sl_link_opts *ro,
			     struct sl_link **tx, struct sl_link **rx)
{
	struct sl_diag d;
	char uri[128];
	snprintf(uri, sizeof uri, "udp://127.0.0.1:0%s", rxopt);
	cr_assert_eq(sl_link_open_rx(uri, ro, rx, &d), SL_OK, "%s", d.msg);
	snprintf(uri, sizeof uri, "udp://127.0.0.1:%u%s", rx_port(*rx), txopt);
	cr_assert_eq(sl_link_open_tx(uri, NULL, tx, &d), SL_OK, "%s", d.msg);
}

/* The end of a test on a pair: both links closed, the buffers freed. */
static inline void close_pair(struct sl_link *tx, struct sl_link *rx, struct bufs *b)
{
	sl_link_close(tx);
	sl_link_close(rx);
	bufs_free(b);
}

#endif
