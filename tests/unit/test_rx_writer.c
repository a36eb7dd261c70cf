/* test_rx_writer.c — sluice-rx's writer thread (rx/writer.c), through tests/rxh.
 *
 * The receive thread only queues decoded chunks; the writer thread creates
 * the files as their first bytes come, writes and syncs them. What must
 * hold: a full queue (bounded by cfg.writer_queue) refuses a chunk, counts
 * it (status "writer ... full=") and leaves it not done, so a repeat pass
 * completes the transfer bit-identical; many small files, empty ones among
 * them, are all released; the done map on disk names only chunks the writer
 * made durable, so a restart keeps them.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxh.h"

static struct rxh *h;

static void up(void)
{
	cr_assert_not_null(h = rxh_for_test(0));
}

static void down(void)
{
	rxh_free(h);
	h = NULL;
}

TestSuite(rx_writer, .init = up, .fini = down, .timeout = 120);

/* The number after "key=" on the status file's line starting with `line`. */
static long long status_num(const char *line, const char *key)
{
	char p[400], buf[8192], *l, *k;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "%s/status", h->state);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	l = strstr(buf, line);
	if (!l)
		return -1;
	k = strstr(l, key);
	return k ? atoll(k + strlen(key)) : -1;
}

Test(rx_writer, queue_full_then_repeat_pass)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	uint64_t full;

	h->cfg.writer_queue = 1; /* one chunk at a time */
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 600000, 31, &o), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	for (uint64_t b = 0; b < a.t.hdr.catalog_blocks; b++)
		rxh_send_block(h, &a.s, &a.t, b, 0, 0);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->catalog_ok && x->tree && x->writer, "files written by the writer thread");

	/* the writer stops taking jobs: the first chunk waits in the queue,
	 * every other one finds it full */
	rx_writer_hold(h->c.writer, 1);
	for (uint64_t b = a.t.hdr.catalog_blocks; b < a.t.nblocks; b++)
		rxh_send_block(h, &a.s, &a.t, b, 0, 0);
	full = h->c.st.writer_full;
	cr_assert_eq(full, a.t.hdr.nchunks - 1, "every chunk but the queued one refused (%llu of %llu)",
		     (unsigned long long)full, (unsigned long long)a.t.hdr.nchunks);
	cr_assert_eq(x->ndone, 1, "a refused chunk is not done");
	rx_writer_hold(h->c.writer, 0);
	rx_writer_idle(h->c.writer); /* the queued chunk written before the status is */
	rxh_tick(h, 1000000000ull);
	cr_assert_eq(status_num("writer ", "full="), (long long)full, "status counts them");
	cr_assert_eq(status_num("writer ", "written="), 1);
	cr_assert(!rxh_is_released(h, a.t.hex));

	/* a repeat pass (the queue drains between datagrams here) completes it */
	rxh_send_all(h, &a.s, &a.t, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	cr_assert_eq(h->c.st.writer_full, full, "nothing refused once the writer keeps up");
	rxh_one_free(&a);
}

Test(rx_writer, many_small_files_and_empty_ones)
{
	enum { N = 600 };
	struct rxh_file f[N];
	char names[N][32];
	uint8_t *data[N];
	struct rxh_session s;
	struct rxh_xfer t;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };

	cr_assert_eq(rxh_start(h), SL_OK);
	for (unsigned i = 0; i < N; i++) {
		size_t len = i % 37 == 0 ? 0 : 1 + (i * 977) % 5000;
		snprintf(names[i], sizeof names[i], "d%u/f%04u", i / 100, i);
		data[i] = rxh_pattern(len ? len : 1, 100 + i);
		f[i] = (struct rxh_file){ .path = names[i], .data = data[i], .len = len };
	}
	cr_assert_eq(rxh_xfer_build(h, f, N, &o, &t), SL_OK);
	cr_assert_eq(rxh_session_new(h, t.symsize, &s), SL_OK);
	rxh_send_all(h, &s, &t, 0);
	rxh_settle(h);
	cr_assert(rxh_is_released(h, t.hex));
	for (unsigned i = 0; i < N; i++)
		cr_assert(rxh_released_file_is(h, t.hex, names[i], data[i], f[i].len), "%s", names[i]);
	cr_assert_eq(h->c.st.writer_full, 0);
	cr_assert_gt(status_num("writer ", "written="), 0);
	rxh_session_free(&s);
	rxh_xfer_free(&t);
	for (unsigned i = 0; i < N; i++)
		free(data[i]);
}

/* The done map names what the writer made durable: after a restart halfway
 * those chunks are kept (not received again) and the rest completes it. */
Test(rx_writer, restart_keeps_what_was_synced)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	uint64_t half, kept;

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 900000, 32, &o), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	half = a.t.nblocks / 2;
	for (uint64_t b = 0; b < half; b++)
		rxh_send_block(h, &a.s, &a.t, b, 0, 0);
	rxh_tick(h, 1000000000ull); /* asks the writer for a checkpoint */
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->writer && x->ndone > 0);
	half = x->ndone;
	cr_assert_eq(rxh_restart(h), SL_OK);
	x = rx_xfer_find(&h->c, a.t.id);
	kept = x ? x->ndone : 0;
	cr_assert_eq(kept, half, "chunks made durable kept across the restart (%llu of %llu)",
		     (unsigned long long)kept, (unsigned long long)half);
	rxh_send_all(h, &a.s, &a.t, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	rxh_one_free(&a);
}
