/* test_rx_writer.c — sluice-rx's writer thread (rx/writer.c), through tests/rxh.
 *
 * The receive thread only queues decoded chunks; the writer thread creates
 * the files as their first bytes come, writes and syncs them. What must
 * hold: a full queue (bounded by cfg.writer_queue) spills the chunk into the
 * stream file and the writer moves it later, so the transfer is released in
 * one pass; beyond cfg.writer_spill (or with none) a chunk is refused,
 * counted (status "writer ... full=") and left not done, so a repeat pass
 * completes the transfer bit-identical; chunks in the stream from before the
 * catalog are moved by the writer, not the receive thread; many small files,
 * empty ones among them, are all released; the done map on disk names only
 * chunks the writer made durable, so a restart keeps them, and a crash with
 * spilled chunks pending loses only those. A chunk decoded in its slot is
 * handed over without a copy and the slot's buffers come back for reuse,
 * within the queue's bound, and are freed once the transfer is done.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxh.h"
#include "rxh_suite.h"

static void down(void)
{
	if (h && h->up)
		rx_writer_hold(h->c.writer, 0); /* a failed assertion may leave it held */
	rxh_suite_down();
}

TestSuite(rx_writer, .init = rxh_suite_up_stopped, .fini = down, .timeout = 120);

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

/* rx started (h->cfg as the test set it), a made (one file of n bytes from
 * seed), its header and catalog sent: the transfer, its files written by
 * the writer thread. */
static struct rx_xfer *catalog_sent(struct rxh_one *a, size_t n, unsigned seed)
{
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, a, n, seed, &o), SL_OK);
	x = rxh_send_catalog(h, &a->s, &a->t);
	cr_assert(x && x->catalog_ok && x->tree && x->writer, "files written by the writer thread");
	return x;
}

/* Another pass of a, then a's file released bit-identical; a freed. */
static void repeat_pass_releases(struct rxh_one *a)
{
	rxh_send_all(h, &a->s, &a->t, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a->t.hex, "f.bin", a->data, a->n), "released bit-identical");
	rxh_one_free(a);
}

/* Chunks that find the queue full are spilled into the stream file and
 * moved by the writer later: released bit-identical in ONE pass, nothing
 * refused, and the spill is given back to the staging quota. */
Test(rx_writer, queue_full_spills_one_pass)
{
	struct rxh_one a;
	struct rx_xfer *x;

	h->cfg.writer_queue = 1; /* one chunk at a time */
	x = catalog_sent(&a, 600000, 31);

	/* the writer stops taking jobs: the first chunk waits in the queue,
	 * every other one is spilled */
	rx_writer_hold(h->c.writer, 1);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	cr_assert_eq(h->c.st.writer_full, 0, "nothing refused (%llu)", (unsigned long long)h->c.st.writer_full);
	cr_assert_eq(x->ndone, a.t.hdr.nchunks, "a spilled chunk is done (queued for the writer)");
	cr_assert_eq(rx_writer_spilled_of(h->c.writer, x), a.t.hdr.nchunks - 1);
	cr_assert(!rxh_is_released(h, a.t.hex), "not released while the writer holds chunks");
	rx_writer_hold(h->c.writer, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical in one pass");
	cr_assert_eq(status_num("writer ", "spilled="), (long long)a.t.hdr.nchunks - 1, "status counts them");
	cr_assert_eq(status_num("writer ", "moved="), (long long)a.t.hdr.nchunks - 1);
	cr_assert_eq(status_num("writer ", " spill="), 0, "nothing left spilled");
	cr_assert_eq(status_num("writer ", "full="), 0);
	cr_assert_eq(h->c.staged_bytes, 0, "the spill went back to the staging quota (%llu left)",
		     (unsigned long long)h->c.staged_bytes);
	rxh_one_free(&a);
}

/* With the spill at --writer-spill, a chunk is refused as before: counted,
 * not done, and a repeat pass completes the transfer. */
Test(rx_writer, spill_cap_reached_then_repeat_pass)
{
	struct rxh_one a;
	struct rx_xfer *x;
	uint64_t full;

	h->cfg.writer_queue = 1;
	h->cfg.writer_spill = 2 * (32 * 1024 - 32); /* two chunks */
	x = catalog_sent(&a, 600000, 31);
	rx_writer_hold(h->c.writer, 1);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	full = h->c.st.writer_full;
	cr_assert_eq(full, a.t.hdr.nchunks - 3, "one queued, two spilled, the rest refused (%llu of %llu)",
		     (unsigned long long)full, (unsigned long long)a.t.hdr.nchunks);
	cr_assert_eq(x->ndone, 3, "a refused chunk is not done");
	rx_writer_hold(h->c.writer, 0);
	rxh_tick(h, 1000000000ull);
	cr_assert_eq(status_num("writer ", "full="), (long long)full, "status counts them");
	cr_assert_eq(status_num("writer ", "written="), 3);
	cr_assert_eq(status_num("writer ", "spill_max="), 2 * (32 * 1024 - 32));
	cr_assert(!rxh_is_released(h, a.t.hex));

	/* a repeat pass (the queue drains between datagrams here) completes it */
	repeat_pass_releases(&a);
}

/* --writer-spill 0: refused at a full queue, as before there was a spill. */
Test(rx_writer, no_spill_refuses)
{
	struct rxh_one a;

	h->cfg.writer_queue = 1;
	h->cfg.writer_spill = RX_WRITER_SPILL_NONE;
	catalog_sent(&a, 600000, 31);
	rx_writer_hold(h->c.writer, 1);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	cr_assert_eq(h->c.st.writer_full, a.t.hdr.nchunks - 1);
	rx_writer_hold(h->c.writer, 0);
	rxh_tick(h, 1000000000ull);
	cr_assert_eq(status_num("writer ", "spilled="), 0);
	repeat_pass_releases(&a);
}

/* Chunks decoded before the catalog (in the stream) go to the writer when
 * the tree opens, not copied on the receive thread: with the writer held,
 * no file exists yet, and they are released once it goes on. */
Test(rx_writer, stream_before_catalog_moved_by_writer)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	char p[600];

	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 600000, 33, &o), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && !x->tree && x->ndone == a.t.hdr.nchunks, "every chunk in the stream");
	rxh_tick(h, 1000000000ull); /* checkpointed: in the done map */
	rx_writer_hold(h->c.writer, 1);
	rxh_send_blocks(h, &a.s, &a.t, 0, a.t.hdr.catalog_blocks);
	cr_assert(x->tree && x->writer, "the tree is open");
	snprintf(p, sizeof p, "%s/release/%s/data/f.bin", h->state, a.t.hex);
	cr_assert(access(p, F_OK) != 0, "the receive thread copied nothing into the files");
	cr_assert_eq(rx_writer_spilled_of(h->c.writer, x), a.t.hdr.nchunks, "handed to the writer");
	rx_writer_hold(h->c.writer, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	cr_assert_eq(h->c.staged_bytes, 0);
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
	rxh_send_blocks(h, &a.s, &a.t, 0, half);
	rxh_tick(h, 1000000000ull); /* asks the writer for a checkpoint */
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->writer && x->ndone > 0);
	half = x->ndone;
	cr_assert_eq(rxh_restart(h), SL_OK);
	x = rx_xfer_find(&h->c, a.t.id);
	kept = x ? x->ndone : 0;
	cr_assert_eq(kept, half, "chunks made durable kept across the restart (%llu of %llu)",
		     (unsigned long long)kept, (unsigned long long)half);
	repeat_pass_releases(&a);
}

/* A crash with spilled chunks pending (STATE as the writer, held, left it):
 * after the restart the done map holds what was synced before, the stream
 * with the spill is discarded, and a later pass completes the transfer. */
Test(rx_writer, crash_with_spilled_pending)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	uint64_t quarter, kept, last;
	char cmd[1400], p[600];

	h->cfg.writer_queue = 1;
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 900000, 34, &o), SL_OK);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	quarter = a.t.hdr.catalog_blocks + a.t.hdr.nchunks / 4;
	rxh_send_blocks(h, &a.s, &a.t, 0, quarter);
	rxh_tick(h, 1000000000ull); /* checkpointed by the writer */
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->tree && x->writer && x->ndone > 0);
	kept = x->ndone;
	rx_writer_hold(h->c.writer, 1);
	last = a.t.nblocks - 1;
	rxh_send_blocks(h, &a.s, &a.t, quarter, last);
	cr_assert_gt(rx_writer_spilled_of(h->c.writer, x), 0, "spilled chunks pending");
	snprintf(p, sizeof p, "%s/xfer/%s/stream", h->state, a.t.hex);
	cr_assert(access(p, F_OK) == 0, "the spill is in the stream");
	/* the crash: what is on disk now is what the next start finds */
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s.crash'", h->state, h->state);
	cr_assert_eq(system(cmd), 0);
	rx_writer_hold(h->c.writer, 0);
	rxh_stop(h);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s.crash' '%s'", h->state, h->state, h->state);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(rxh_start(h), SL_OK);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x, "the transfer is staged");
	cr_assert_eq(x->ndone, kept, "only what was synced before the crash is done (%llu, %llu)",
		     (unsigned long long)x->ndone, (unsigned long long)kept);
	cr_assert(access(p, F_OK) != 0, "the spilled stream is discarded");
	cr_assert_eq(h->c.staged_bytes, kept * a.t.hdr.chunk_size, "the staging quota counts the done chunks");
	repeat_pass_releases(&a);
}

/* The writer looks for spilled chunks from where it left off, wrapping at
 * the end of a map whose last byte is partly used: none is skipped. */
Test(rx_writer, spill_cursor_wraps)
{
	struct rxh_one a;
	struct rxh_opts o = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	uint64_t cb;

	h->cfg.writer_queue = 1;
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_one_make(h, &a, 310000, 35, &o), SL_OK);
	cr_assert_eq(a.t.hdr.nchunks, 10);
	cb = a.t.hdr.catalog_blocks;
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	rxh_send_blocks(h, &a.s, &a.t, 0, cb);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->tree && x->writer);
	rx_writer_hold(h->c.writer, 1);
	rxh_send_block(h, &a.s, &a.t, cb + 0, 0, 0); /* queued */
	rxh_send_block(h, &a.s, &a.t, cb + 8, 0, 0); /* spilled */
	rx_writer_hold(h->c.writer, 0);
	rx_writer_idle(h->c.writer); /* chunk 8 moved: the writer looks on from 9 */
	rx_writer_hold(h->c.writer, 1);
	rxh_send_block(h, &a.s, &a.t, cb + 9, 0, 0); /* queued */
	for (uint64_t i = 1; i <= 5; i++)
		rxh_send_block(h, &a.s, &a.t, cb + i, 0, 0); /* spilled */
	cr_assert_eq(rx_writer_spilled_of(h->c.writer, x), 5);
	rx_writer_hold(h->c.writer, 0);
	rx_writer_idle(h->c.writer);
	cr_assert_eq(rx_writer_spilled_of(h->c.writer, x), 0, "every spilled chunk moved");
	rxh_send_all(h, &a.s, &a.t, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	cr_assert_eq(status_num("writer ", "moved="), 6);
	rxh_one_free(&a);
}

/* Each chunk decoded in its block slot is handed to the writer without a
 * copy (status given=), the slot takes a written buffer back in exchange
 * (reused), queued and spare bytes stay within --writer-queue, the spares
 * are freed once the transfer's files are closed, and the bytes arrive
 * intact although their buffers went round. */
Test(rx_writer, chunks_handed_over_buffers_reused)
{
	struct rxh_one a;
	struct rx_writer_stats ws;
	uint64_t spare_seen = 0;

	h->cfg.writer_queue = 4 * 32 * 1024; /* four slots' buffers */
	catalog_sent(&a, 900000, 41);
	for (uint64_t b = a.t.hdr.catalog_blocks; b < a.t.nblocks; b += 3) {
		rxh_send_blocks(h, &a.s, &a.t, b, b + 3 < a.t.nblocks ? b + 3 : a.t.nblocks);
		rx_writer_stats(h->c.writer, &ws);
		cr_assert_leq(ws.queued + ws.spare, ws.cap, "queued %llu + spare %llu within %llu",
			      (unsigned long long)ws.queued, (unsigned long long)ws.spare,
			      (unsigned long long)ws.cap);
		rx_writer_idle(h->c.writer);
		rx_writer_stats(h->c.writer, &ws);
		if (ws.spare > spare_seen)
			spare_seen = ws.spare;
	}
	cr_assert_gt(spare_seen, 0, "written buffers wait as spares");
	rx_writer_stats(h->c.writer, &ws);
	cr_assert_eq(ws.given, a.t.hdr.nchunks, "every chunk handed over without a copy (%llu of %llu)",
		     (unsigned long long)ws.given, (unsigned long long)a.t.hdr.nchunks);
	cr_assert_geq(ws.reused, a.t.hdr.nchunks - 4, "slots took written buffers back (%llu)",
		      (unsigned long long)ws.reused);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	rx_writer_stats(h->c.writer, &ws);
	cr_assert_eq(ws.spare, 0, "spares freed once the transfer is done (%llu left)",
		     (unsigned long long)ws.spare);
	cr_assert_eq(status_num("writer ", "given="), (long long)a.t.hdr.nchunks, "status counts them");
	rxh_one_free(&a);
}

/* A chunk the writer refuses (queue full, no spill) stays in its slot's
 * buffer, untouched: refused, not done, and a repeat pass completes it. */
Test(rx_writer, refused_chunk_keeps_its_buffer)
{
	struct rxh_one a;
	struct rx_writer_stats ws;
	struct rx_xfer *x;

	h->cfg.writer_queue = 1;
	h->cfg.writer_spill = RX_WRITER_SPILL_NONE;
	x = catalog_sent(&a, 300000, 43);
	rx_writer_hold(h->c.writer, 1);
	rxh_send_blocks(h, &a.s, &a.t, a.t.hdr.catalog_blocks, a.t.nblocks);
	rx_writer_stats(h->c.writer, &ws);
	cr_assert_eq(ws.given, 1, "one chunk queued, the others refused (%llu given)",
		     (unsigned long long)ws.given);
	cr_assert_eq(h->c.st.writer_full, a.t.hdr.nchunks - 1);
	for (unsigned i = 0; i < x->nwin; i++)
		cr_assert(!x->win[i].used, "refused blocks leave no slot in use");
	rx_writer_hold(h->c.writer, 0);
	rxh_settle(h);
	cr_assert(!rxh_is_released(h, a.t.hex));
	for (int pass = 1; pass < 8 && !rxh_is_released(h, a.t.hex); pass++) {
		rxh_send_hdr(h, &a.s, &a.t, NULL, (unsigned)pass);
		for (uint64_t b = a.t.hdr.catalog_blocks; b < a.t.nblocks; b++) {
			rxh_send_block(h, &a.s, &a.t, b, 0, 0);
			rx_writer_idle(h->c.writer);
		}
		rxh_settle(h);
	}
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	rxh_one_free(&a);
}

/* Compressed chunks (zstd) are decompressed into a buffer of the slots'
 * size, which the writer takes without a copy and gives back like a slot's:
 * every chunk handed over, the file released bit-identical. */
Test(rx_writer, compressed_chunks_handed_over)
{
	enum { N = 700000 };
	struct rxh_opts o = { .kmax = 32, .symsize = 1024, .zstd = 1 };
	uint8_t *data = malloc(N);
	struct rxh_file f = { .path = "text.txt", .data = data, .len = N };
	struct rx_writer_stats ws;
	struct rxh_session s;
	struct rxh_xfer t;
	unsigned compressed = 0;

	cr_assert_not_null(data);
	for (size_t i = 0; i < N; i++) /* text: compresses, and no two chunks alike */
		data[i] = (uint8_t)("sluice carries data one way; "[i % 29] + (i / 4096) % 7);
	cr_assert_eq(rxh_start(h), SL_OK);
	cr_assert_eq(rxh_xfer_build(h, &f, 1, &o, &t), SL_OK);
	for (uint64_t b = t.hdr.catalog_blocks; b < t.nblocks; b++)
		compressed += t.k[b] < o.kmax;
	cr_assert_eq(compressed, t.hdr.nchunks, "every chunk stored compressed");
	cr_assert_eq(rxh_session_new(h, t.symsize, &s), SL_OK);
	rxh_send_hdr(h, &s, &t, NULL, 0);
	for (uint64_t b = 0; b < t.nblocks; b++) {
		rxh_send_block(h, &s, &t, b, 0, 0);
		rx_writer_idle(h->c.writer);
	}
	rx_writer_stats(h->c.writer, &ws);
	cr_assert_eq(ws.given, t.hdr.nchunks, "every chunk handed over without a copy (%llu of %llu)",
		     (unsigned long long)ws.given, (unsigned long long)t.hdr.nchunks);
	cr_assert_gt(ws.reused, 0, "the decompression buffer came back from the writer");
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, t.hex, "text.txt", data, N), "released bit-identical");
	rxh_session_free(&s);
	rxh_xfer_free(&t);
	free(data);
}

/* 1 if a thread of this process is named `name` (/proc/self/task/N/comm). */
static int thread_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int found = 0;

	cr_assert_not_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		char p[300], comm[32] = "";
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		found = strcmp(comm, name) == 0;
	}
	closedir(d);
	return found;
}

/* rx's own threads say what they are (top -H, perf, a stack dump). */
Test(rx_writer, threads_are_named)
{
	cr_assert_eq(rxh_start(h), SL_OK);
	for (int i = 0; i < 1000 && !(thread_named("rx-writer") && thread_named("rx-sync") &&
				     thread_named("rx-hasher")); i++)
		usleep(1000); /* each names itself as it starts */
	cr_assert(thread_named("rx-writer"), "the writer thread is named");
	cr_assert(thread_named("rx-sync"), "the sync thread is named");
	cr_assert(thread_named("rx-hasher"), "the hashing thread is named");
}
