/* test_tx_files.c — sluice-tx reading a tree of many small files.
 *
 * The chunker leaves each file that lies whole in one chunk to
 * tx_chunker_load(), which threads run together (plainly, or through
 * tx/fileload.c's io_uring batches); the in-order read then takes their
 * results. These tests drive the chunker as the producer does, a group of
 * chunks at a time with two loading threads, and check that the stream is
 * the manifest's byte for byte, that a changed or vanished file is reported
 * as an in-order read meets it (the first in manifest order, on the chunk
 * that holds it, with the message the plain path gives), and what the
 * io_uring batch accepts and what it leaves to the plain path.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunker.h"
#include "fileload.h"
#include "proto.h"
#include "rxh.h"
#include "rxh_suite.h"
#include "sha256.h"
#include "safefs.h"
#include "source.h"
#include "sigfiles.h"


TestSuite(tx_files, .init = rxh_suite_up_stopped, .fini = rxh_suite_down, .timeout = 120);

#define NFILES 300
#define CHUNK 16384u
#define GROUP 8u

/* A tree of NFILES files of 0-3000 bytes in a few directories, one of
 * 60,000 bytes (over several chunks) in the middle. */
struct tree {
	struct rxh_file f[NFILES];
	char names[NFILES][32];
	uint8_t *data[NFILES];
	struct rxh_xfer t;
	struct tx_source *src;
	char dir[400];
};

static void tree_make(struct tree *tr)
{
	struct sl_diag d = { "" };
	uint32_t x = 12345;

	memset(tr, 0, sizeof *tr);
	for (unsigned i = 0; i < NFILES; i++) {
		size_t len;
		x = x * 1103515245u + 12345u;
		len = i == NFILES / 2 ? 60000 : i % 37 == 5 ? 0 : 1 + (x >> 8) % 3000;
		snprintf(tr->names[i], sizeof tr->names[i], "d%u/f%04u", i / 100, i);
		tr->data[i] = rxh_pattern(len ? len : 1, 100 + i);
		tr->f[i] = (struct rxh_file){ tr->names[i], tr->data[i], len };
	}
	cr_assert_eq(rxh_xfer_build(h, tr->f, NFILES, NULL, &tr->t), SL_OK);
	snprintf(tr->dir, sizeof tr->dir, "%s/T", h->dir);
	cr_assert_eq(rxh_xfer_write_dir(h, &tr->t, tr->f, NFILES, 2, tr->dir), SL_OK);
	cr_assert_eq(tx_source_open(tr->dir, NULL, &tr->src, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(tr->src->nfiles, NFILES);
}

static void tree_free(struct tree *tr)
{
	tx_source_free(tr->src);
	rxh_xfer_free(&tr->t);
	for (unsigned i = 0; i < NFILES; i++)
		free(tr->data[i]);
}

/* The source's index of the file named i in the tree. */
static const struct tx_source_file *file_of(const struct tree *tr, unsigned i)
{
	for (size_t j = 0; j < tr->src->nfiles; j++)
		if (strcmp(tr->src->files[j].path, tr->names[i]) == 0)
			return &tr->src->files[j];
	cr_assert_fail("%s is not in the manifest", tr->names[i]);
	return NULL;
}

struct loader {
	struct tx_chunker *c;
	struct tx_fileload *fl;
	struct sl_sha256 *sha;
};

static void *load_thread(void *arg)
{
	struct loader *l = arg;

	tx_chunker_load(l->c, l->fl, l->sha);
	return NULL;
}

/* What reading the whole stream did. */
struct outcome {
	int r;                   /* the first error (or SL_OK) */
	struct sl_diag d;
	uint64_t failed_chunk;   /* the chunk whose read gave it */
	uint64_t whole;          /* files tx_chunker_loads gave the threads */
};

/* Read the stream as the producer does: GROUP chunks read ahead, the small
 * files loaded by two threads at once (through io_uring with `uring`),
 * then each chunk read in order and compared with the manifest's stream. */
static struct outcome read_stream(const struct tree *tr, int uring)
{
	struct outcome o = { .r = SL_OK, .d = { "" } };
	uint64_t total = tr->src->total_bytes, nchunks = (total + CHUNK - 1) / CHUNK;
	struct loader l[2] = { { 0 } };
	uint8_t *buf[GROUP];
	struct tx_chunker *c;

	cr_assert_eq(tx_chunker_new(tr->src, CHUNK, 1, NULL, &c, &o.d), SL_OK, "%s", o.d.msg);
	for (unsigned t = 0; t < 2; t++) {
		l[t].c = c;
		cr_assert_eq(sl_sha256_new(&l[t].sha), SL_OK);
		if (uring && tx_fileload_new(&l[t].fl, NULL) != SL_OK)
			cr_skip_test("io_uring is not available here");
	}
	for (unsigned i = 0; i < GROUP; i++)
		cr_assert_not_null(buf[i] = malloc(SL_BLOCK_REC + CHUNK));
	for (uint64_t g = 0; g < nchunks && !o.r; g += GROUP) {
		pthread_t th;
		for (uint64_t a = g; a < nchunks && a < g + GROUP; a++)
			cr_assert_eq(tx_chunker_prefetch(c, a, buf[a - g]), SL_OK);
		o.whole += tx_chunker_loads(c);
		cr_assert_eq(pthread_create(&th, NULL, load_thread, &l[1]), 0);
		load_thread(&l[0]);
		pthread_join(th, NULL);
		for (uint64_t a = g; a < nchunks && a < g + GROUP && !o.r; a++) {
			size_t want = 0;
			o.r = tx_chunker_read(c, a, buf[a - g], &want, &o.d);
			if (o.r) {
				o.failed_chunk = a;
				break;
			}
			cr_assert_eq(want, a + 1 < nchunks ? CHUNK : total - a * CHUNK);
			cr_assert(memcmp(buf[a - g] + SL_BLOCK_REC, tr->t.stream + a * CHUNK, want) == 0,
				  "chunk %llu differs from the manifest's stream", (unsigned long long)a);
		}
	}
	if (!o.r)
		o.r = tx_chunker_finish(c, &o.d);
	tx_chunker_free(c);
	for (unsigned t = 0; t < 2; t++) {
		sl_sha256_free(l[t].sha);
		tx_fileload_free(l[t].fl);
	}
	for (unsigned i = 0; i < GROUP; i++)
		free(buf[i]);
	return o;
}

static unsigned open_fds(void)
{
	DIR *dp = opendir("/proc/self/fd");
	unsigned n = 0;

	cr_assert_not_null(dp);
	while (readdir(dp))
		n++;
	closedir(dp);
	return n;
}

static void reads_in_order(int uring)
{
	struct tree tr;
	unsigned fds;
	struct outcome o;

	tree_make(&tr);
	fds = open_fds();
	o = read_stream(&tr, uring);
	cr_assert_eq(o.r, SL_OK, "%s", o.d.msg);
	/* every file but the large one (and the few a chunk boundary cuts)
	 * went to the loading threads */
	cr_assert_gt(o.whole, NFILES * 3 / 4, "%llu of %u files loaded by the threads",
		     (unsigned long long)o.whole, NFILES);
	cr_assert_eq(open_fds(), fds, "every file descriptor closed");
	tree_free(&tr);
}

Test(tx_files, small_files_loaded_by_threads_make_the_stream_plain)
{
	reads_in_order(0);
}

Test(tx_files, small_files_loaded_by_threads_make_the_stream_io_uring)
{
	reads_in_order(1);
}

static void write_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[600];
	FILE *fp;

	snprintf(path, sizeof path, "%s/data/%s", dir, name);
	cr_assert_not_null(fp = fopen(path, "wb"), "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

/* Two files of one group changed: the first in manifest order is reported,
 * on the chunk that holds it, however the threads took them. */
static void first_change_reported(int uring)
{
	struct tree tr;
	const struct tx_source_file *early, *late;
	uint8_t *copy;
	struct outcome o;

	tree_make(&tr);
	/* file 12 keeps its size but not its bytes; file 40 grows by one */
	early = file_of(&tr, 12);
	late = file_of(&tr, 40);
	cr_assert(early->size > 0 && late->size > 0 && early->offset < late->offset);
	cr_assert_eq(early->offset / (CHUNK * GROUP), late->offset / (CHUNK * GROUP), "one group");
	copy = malloc(early->size + late->size + 1);
	memcpy(copy, tr.data[12], early->size);
	copy[early->size / 2] ^= 0x5a;
	write_file(tr.dir, tr.names[12], copy, early->size);
	memcpy(copy, tr.data[40], late->size);
	copy[late->size] = 'x';
	write_file(tr.dir, tr.names[40], copy, late->size + 1);
	o = read_stream(&tr, uring);
	cr_assert_eq(o.r, SL_ERR_HASH, "%d: %s", o.r, o.d.msg);
	cr_assert(strstr(o.d.msg, tr.names[12]) && strstr(o.d.msg, "SHA-256 differs"), "%s", o.d.msg);
	cr_assert_eq(o.failed_chunk, (early->offset + early->size - 1) / CHUNK);

	/* with file 12 back, file 40 is the one */
	write_file(tr.dir, tr.names[12], tr.data[12], early->size);
	o = read_stream(&tr, uring);
	cr_assert_eq(o.r, SL_ERR_HASH, "%d: %s", o.r, o.d.msg);
	cr_assert(strstr(o.d.msg, tr.names[40]) && strstr(o.d.msg, "changed since it was hashed"),
		  "%s", o.d.msg);
	free(copy);
	tree_free(&tr);
}

Test(tx_files, first_changed_file_in_manifest_order_is_reported_plain)
{
	first_change_reported(0);
}

Test(tx_files, first_changed_file_in_manifest_order_is_reported_io_uring)
{
	first_change_reported(1);
}

/* A file removed after the manifest was signed: the read of its chunk
 * fails naming it and the reason; the chunks before it were whole, and
 * no descriptor is left open. */
static void vanished(int uring)
{
	struct tree tr;
	const struct tx_source_file *f;
	char path[600];
	unsigned fds;
	struct outcome o;

	tree_make(&tr);
	f = file_of(&tr, 150);
	cr_assert_gt(f->size, 0);
	snprintf(path, sizeof path, "%s/data/%s", tr.dir, tr.names[150]);
	cr_assert_eq(unlink(path), 0);
	fds = open_fds();
	o = read_stream(&tr, uring);
	cr_assert_eq(o.r, SL_ERR_IO, "%d: %s", o.r, o.d.msg);
	cr_assert(strstr(o.d.msg, tr.names[150]) && strstr(o.d.msg, strerror(ENOENT)), "%s", o.d.msg);
	cr_assert_eq(o.failed_chunk, f->offset / CHUNK);
	cr_assert_eq(open_fds(), fds, "every file descriptor closed");
	tree_free(&tr);
}

Test(tx_files, vanished_file_fails_cleanly_plain)
{
	vanished(0);
}

Test(tx_files, vanished_file_fails_cleanly_io_uring)
{
	vanished(1);
}

/* A directory where a file was: the plain path's message. */
Test(tx_files, directory_in_place_of_a_file_is_named)
{
	struct tree tr;
	char path[600];
	struct outcome o;

	tree_make(&tr);
	snprintf(path, sizeof path, "%s/data/%s", tr.dir, tr.names[33]);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0755), 0);
	o = read_stream(&tr, 1);
	cr_assert_eq(o.r, SL_ERR_HASH, "%d: %s", o.r, o.d.msg);
	cr_assert(strstr(o.d.msg, tr.names[33]) && strstr(o.d.msg, "no longer a regular file"),
		  "%s", o.d.msg);
	tree_free(&tr);
}

/* What one io_uring batch accepts: regular files of the expected size,
 * beneath the directory, no symlink; everything else is not ok (left to the
 * plain path), and nothing stays open. */
Test(tx_files, fileload_batch_accepts_only_regular_files_of_their_size)
{
	char root[300], p[400];
	uint8_t *want = rxh_pattern(100, 7), buf[8][128];
	struct tx_fileload *fl;
	struct tx_fileload_item v[8];
	const char *names[8] = { "ok", "grew", "short", "dir", "missing", "link", "../escape", "sub/ok" };
	const size_t len[8] = { 100, 101, 99, 100, 0, 100, 100, 100 };
	const int ok[8] = { 1, 0, 0, 0, 0, 0, 0, 1 };
	unsigned fds;
	int dfd;

	if (tx_fileload_new(&fl, NULL) != SL_OK)
		cr_skip_test("io_uring is not available here");
	snprintf(root, sizeof root, "%s/fl", h->dir);
	cr_assert_eq(mkdir(root, 0755), 0);
	snprintf(p, sizeof p, "%s/in", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/in/sub", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/in/dir", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	for (unsigned i = 0; i < 8; i++) {
		FILE *fp;
		if (!len[i] || i == 3 || i == 5)
			continue;
		snprintf(p, sizeof p, "%s/in/%s", root, i == 6 ? "../escape" : names[i]);
		cr_assert_not_null(fp = fopen(p, "wb"));
		cr_assert_eq(fwrite(want, 1, len[i] < 100 ? len[i] : 100, fp), len[i] < 100 ? len[i] : 100);
		if (len[i] > 100)
			fputc('+', fp);
		fclose(fp);
	}
	snprintf(p, sizeof p, "%s/in/link", root);
	cr_assert_eq(symlink("ok", p), 0);
	snprintf(p, sizeof p, "%s/in", root);
	cr_assert((dfd = open(p, O_RDONLY | O_DIRECTORY)) >= 0);
	memset(buf, 0, sizeof buf);
	for (unsigned i = 0; i < 8; i++)
		v[i] = (struct tx_fileload_item){ .path = names[i], .buf = buf[i], .size = 100, .ok = -1 };
	fds = open_fds();
	tx_fileload_batch(fl, dfd, v, 8);
	cr_assert_eq(open_fds(), fds, "every file the batch opened is closed");
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(v[i].ok, ok[i], "%s: ok %d, expected %d", names[i], v[i].ok, ok[i]);
		if (ok[i])
			cr_assert(memcmp(buf[i], want, 100) == 0, "%s: its bytes", names[i]);
	}
	/* the loader goes on after a batch with failures */
	v[0].ok = 0;
	memset(buf[0], 0, 100);
	tx_fileload_batch(fl, dfd, v, 1);
	cr_assert(v[0].ok && memcmp(buf[0], want, 100) == 0);
	close(dfd);
	tx_fileload_free(fl);
	free(want);
}

/* A copy of DIR/manifest.dana.minisig as DIR/name. */
static void copy_sig(const char *dir, const char *name)
{
	char from[600], to[600];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct sl_diag d;

	snprintf(from, sizeof from, "%s/manifest.dana.minisig", dir);
	snprintf(to, sizeof to, "%s/%s", dir, name);
	cr_assert_eq(sl_read_file(from, 4096, &buf, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_write_file(to, buf, len, 0644, true, &d), SL_OK, "%s", d.msg);
	free(buf);
}

/* tx takes the signature files as the library loads them
 * (sl_sigfiles_load): the catalog is the manifest, then every *.minisig by
 * name; as many as a catalog carries (63) and not one more; a name that is
 * not safe, a file over 4 KiB, or no signature at all is refused, the
 * transfer directory named. */
Test(tx_files, source_takes_the_signatures_the_library_loads)
{
	struct rxh_file f = { "a", (const uint8_t *)"abc", 3 };
	struct sl_catalog *cat = malloc(sizeof *cat);
	struct tx_source *src = NULL;
	struct rxh_xfer t;
	struct sl_diag d = { "" };
	char dir[400], name[64], path[600], prev[SL_CATALOG_NAME_MAX + 1] = "";
	static const uint8_t big[4097];

	cr_assert_eq(rxh_xfer_build(h, &f, 1, NULL, &t), SL_OK);
	snprintf(dir, sizeof dir, "%s/S", h->dir);
	cr_assert_eq(rxh_xfer_write_dir(h, &t, &f, 1, 1, dir), SL_OK);
	for (unsigned i = 2; i < SL_TRANSFER_MAX_SIGS; i++) { /* an officer's and dana's, and copies */
		snprintf(name, sizeof name, "%c%u.minisig", "zyxw"[i % 4], i * 7919 % 1000);
		copy_sig(dir, name);
	}
	cr_assert_eq(tx_source_open(dir, NULL, &src, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(src->nsigs, 63);
	cr_assert_eq(sl_catalog_decode(src->catalog, src->catalog_len, cat, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(cat->n, 64);
	cr_assert_str_eq(cat->e[0].name, "manifest");
	for (unsigned i = 1; i < cat->n; i++) {
		cr_assert_gt(strcmp(cat->e[i].name, prev), 0, "%s after %s", cat->e[i].name, prev);
		snprintf(prev, sizeof prev, "%s", cat->e[i].name);
	}
	tx_source_free(src);

	copy_sig(dir, "one-too-many.minisig");
	cr_assert_eq(tx_source_open(dir, NULL, &src, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, dir) && strstr(d.msg, "more than 63 signature files"), "%s", d.msg);

	snprintf(dir, sizeof dir, "%s/S0", h->dir);
	cr_assert_eq(rxh_xfer_write_dir(h, &t, &f, 1, 1, dir), SL_OK);
	for (DIR *dp = opendir(dir); dp; dp = (closedir(dp), NULL))
		for (struct dirent *e; (e = readdir(dp));)
			if (strstr(e->d_name, ".minisig"))
				cr_assert_eq(unlinkat(dirfd(dp), e->d_name, 0), 0);
	cr_assert_eq(tx_source_open(dir, NULL, &src, &d), SL_ERR_THRESHOLD, "%s", d.msg);
	cr_assert(strstr(d.msg, "no signature files"), "%s", d.msg);
	snprintf(dir, sizeof dir, "%s/S1", h->dir);
	cr_assert_eq(rxh_xfer_write_dir(h, &t, &f, 1, 1, dir), SL_OK);
	copy_sig(dir, "-dash.minisig");
	cr_assert_eq(tx_source_open(dir, NULL, &src, &d), SL_ERR_NAME);
	cr_assert(strstr(d.msg, dir) && strstr(d.msg, "-dash.minisig"), "%s", d.msg);
	snprintf(path, sizeof path, "%s/-dash.minisig", dir);
	cr_assert_eq(unlink(path), 0);
	snprintf(path, sizeof path, "%s/big.minisig", dir);
	cr_assert_eq(sl_write_file(path, big, sizeof big, 0644, true, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(tx_source_open(dir, NULL, &src, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, dir) && strstr(d.msg, "big.minisig: 4097 bytes, more than the limit of 4096"), "%s",
		  d.msg);
	free(cat);
	rxh_xfer_free(&t);
}
