/* bench_floor — what each step that sluice cannot skip costs per GB of payload
 * on one core (a benchmark, never a test).
 *
 *   bench_floor [GIB [DIR [SYMSIZE]]]   GiB per step (default 1, max 64); DIR
 *                                       for an unnamed file (O_TMPFILE; default $TMPDIR, else
 *                                       /var/tmp); symbol size (default 1396)
 *
 * Each step runs alone on this thread with the call pattern of the code, over
 * chunks of k = 128 symbols (the chunk size tx uses: k × symsize − the block
 * record), and prints this thread's CPU seconds per GB (1e9 B) of payload,
 * the least of 3 runs:
 *
 *   read      pread of each chunk from a file in the page cache (tx)
 *   sha256    sl_sha256_update over each chunk (tx hashes what it reads; rx
 *             hashes what it wrote)
 *   fec       sl_fec_encode: 16 parity rows of 128 (12.5%, tx)
 *   seal      sl_wire_seal of each of the 144 symbols (tx)
 *   open      sl_wire_open in place of the 128 data symbols (rx; each open
 *             first copies a sealed datagram into the buffer: included)
 *   write     pwrite of each chunk to an emptied file: page-cache allocation and
 *             copy (rx; the kernel's later writeback is not on this thread)
 *
 * Then the sums for tx (read + sha256 + fec + seal) and rx (open + write +
 * sha256), to set against a target before the socket calls are added (see
 * bench_link's engine table for those) and before any bookkeeping.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "fec.h"
#include "proto.h"
#include "sha256.h"
#include "wire.h"

#define K 128
#define M 16
#define RUNS 3

struct fl {
	unsigned symsize;
	size_t chunk;          /* payload bytes per chunk */
	size_t nchunks;        /* per step */
	uint8_t *data;         /* one chunk of random payload, K symbols */
	uint8_t *dg;           /* (K + M) sealed datagrams */
	uint8_t *parity;       /* M symbols */
	int fd;                /* the file the write and read steps use, unlinked at once */
};

static double per_gb(const struct fl *f, double cpu)
{
	return cpu / ((double)f->chunk * (double)f->nchunks / 1e9);
}

/* Into an empty file each time: the page cache is allocated as for a new one. */
static double step_write(struct fl *f)
{
	double c0, c;

	if (ftruncate(f->fd, 0) != 0)
		bench_die("cannot empty the file");
	c0 = bench_thread_cpu();
	for (size_t i = 0; i < f->nchunks; i++)
		if (pwrite(f->fd, f->data, f->chunk, (off_t)(i * f->chunk)) != (ssize_t)f->chunk)
			bench_die("pwrite failed (disk full?)");
	c = bench_thread_cpu() - c0;
	return per_gb(f, c);
}

static double step_read(struct fl *f)
{
	uint8_t *buf = bench_xmalloc(f->chunk);
	double c0, c;

	for (size_t i = 0; i < f->nchunks; i++) /* warm the page cache first */
		if (pread(f->fd, buf, f->chunk, (off_t)(i * f->chunk)) != (ssize_t)f->chunk)
			bench_die("pread failed");
	c0 = bench_thread_cpu();
	for (size_t i = 0; i < f->nchunks; i++)
		if (pread(f->fd, buf, f->chunk, (off_t)(i * f->chunk)) != (ssize_t)f->chunk)
			bench_die("pread failed");
	c = bench_thread_cpu() - c0;
	free(buf);
	return per_gb(f, c);
}

static double step_sha256(struct fl *f)
{
	struct sl_sha256 *h;
	uint8_t out[SL_SHA256_LEN];
	double c0 = bench_thread_cpu();
	if (sl_sha256_new(&h))
		bench_die("sha256");
	for (size_t i = 0; i < f->nchunks; i++)
		if (sl_sha256_update(h, f->data, f->chunk))
			bench_die("sha256 update");
	if (sl_sha256_final(h, out))
		bench_die("sha256 final");
	sl_sha256_free(h);
	return per_gb(f, bench_thread_cpu() - c0);
}

static double step_fec(struct fl *f)
{
	struct sl_fec *fec;
	const uint8_t *in[K];
	uint8_t *out[M];
	unsigned rows[M];
	double c0;
	if (sl_fec_new(&fec))
		bench_die("fec");
	for (unsigned i = 0; i < K; i++)
		in[i] = f->data + (size_t)i * f->symsize;
	for (unsigned j = 0; j < M; j++) {
		rows[j] = K + j;
		out[j] = f->parity + (size_t)j * f->symsize;
	}
	c0 = bench_thread_cpu();
	for (size_t i = 0; i < f->nchunks; i++)
		if (sl_fec_encode(fec, K, f->symsize, in, M, rows, out))
			bench_die("fec encode");
	c0 = bench_thread_cpu() - c0;
	sl_fec_free(fec);
	return per_gb(f, c0);
}

static const uint8_t link_key[32] = { 7, 1, 4, 3 };

/* Seal the K data and M parity symbols of every chunk; the last chunk's
 * datagrams stay in f->dg for step_open. */
static double step_seal(struct fl *f)
{
	struct sl_wire_tx *t;
	size_t n = sl_wire_dgram_size((uint16_t)f->symsize);
	double c0;
	if (sl_wire_tx_new(link_key, SL_SUITE_AES256GCM, (uint16_t)f->symsize, &t, NULL))
		bench_die("sl_wire_tx_new");
	c0 = bench_thread_cpu();
	for (size_t i = 0; i < f->nchunks; i++)
		for (unsigned s = 0; s < K + M; s++) {
			struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = (uint16_t)f->symsize,
						  .k = K, .m = M, .row = (uint16_t)s, .block = i };
			const uint8_t *body = s < K ? f->data + (size_t)s * f->symsize
						    : f->parity + (size_t)(s - K) * f->symsize;
			if (sl_wire_seal(t, &h, body, f->dg + s * n))
				bench_die("sl_wire_seal");
		}
	c0 = bench_thread_cpu() - c0;
	sl_wire_tx_free(t);
	return per_gb(f, c0);
}

static double step_open(struct fl *f)
{
	struct sl_wire_rx *r;
	struct sl_wire_rx_cfg cfg = { .link_key = link_key, .max_symsize = (uint16_t)f->symsize };
	size_t n = sl_wire_dgram_size((uint16_t)f->symsize);
	uint8_t *buf = bench_xmalloc(n);
	double c0;
	if (sl_wire_rx_new(&cfg, &r, NULL))
		bench_die("sl_wire_rx_new");
	c0 = bench_thread_cpu();
	for (size_t i = 0; i < f->nchunks; i++)
		for (unsigned s = 0; s < K; s++) {
			struct sl_wire_hdr h;
			const uint8_t *body;
			memcpy(buf, f->dg + s * n, n);
			if (sl_wire_open(r, buf, n, &h, &body))
				bench_die("sl_wire_open refused a datagram it should take");
		}
	c0 = bench_thread_cpu() - c0;
	sl_wire_rx_free(r);
	free(buf);
	return per_gb(f, c0);
}

static void setup(struct fl *f, int argc, char **argv)
{
	double gib = argc > 1 ? atof(argv[1]) : 1.0;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
	f->symsize = argc > 3 ? (unsigned)atoi(argv[3]) : 1396;
	if (!(gib > 0 && gib <= 64) || f->symsize < SL_WIRE_MIN_SYMSIZE ||
	    f->symsize > SL_WIRE_MAX_SYMSIZE)
		bench_die("usage: bench_floor [GIB (0-64] [DIR [SYMSIZE (128-8900)]]]");
	if (!dir || !*dir)
		dir = "/var/tmp";
	f->chunk = (size_t)K * f->symsize - SL_BLOCK_REC;
	f->nchunks = (size_t)(gib * (double)(1u << 30) / (double)f->chunk) + 1;
	f->data = bench_xmalloc((size_t)K * f->symsize);
	f->parity = bench_xmalloc((size_t)M * f->symsize);
	f->dg = bench_xmalloc((K + M) * sl_wire_dgram_size((uint16_t)f->symsize));
	for (size_t i = 0; i < (size_t)K * f->symsize; i++)
		f->data[i] = (uint8_t)(rand() >> 7);
	/* a file without a name: nothing is left behind, whatever happens */
	f->fd = open(dir, O_RDWR | O_TMPFILE, 0600);
	if (f->fd < 0)
		bench_die("cannot make a file in DIR (O_TMPFILE)");
	if (sl_crypto_init())
		bench_die("crypto init");
}

/* Hashes the manifest could name instead of SHA-256, over the same chunks
 * (none is in MANIFEST.md: this only says what a change would buy). */
static const char *alt_hash;

static double step_evp_hash(struct fl *f)
{
	EVP_MD *md = EVP_MD_fetch(NULL, alt_hash, NULL);
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	uint8_t out[EVP_MAX_MD_SIZE];
	double c0 = bench_thread_cpu();
	if (!md || !x || EVP_DigestInit_ex(x, md, NULL) != 1)
		bench_die("EVP digest");
	for (size_t i = 0; i < f->nchunks; i++)
		if (EVP_DigestUpdate(x, f->data, f->chunk) != 1)
			bench_die("EVP digest update");
	if (EVP_DigestFinal_ex(x, out, NULL) != 1)
		bench_die("EVP digest final");
	c0 = bench_thread_cpu() - c0;
	EVP_MD_CTX_free(x);
	EVP_MD_free(md);
	return per_gb(f, c0);
}

static double step_blake2b(struct fl *f)
{
	crypto_generichash_state st;
	uint8_t out[32];
	double c0 = bench_thread_cpu();
	crypto_generichash_init(&st, NULL, 0, sizeof out);
	for (size_t i = 0; i < f->nchunks; i++)
		crypto_generichash_update(&st, f->data, f->chunk);
	crypto_generichash_final(&st, out, sizeof out);
	return per_gb(f, bench_thread_cpu() - c0);
}

/* The least of RUNS runs: other load on the machine only ever adds. */
static double best(struct fl *f, double (*step)(struct fl *))
{
	double b = step(f);
	for (int i = 1; i < RUNS; i++) {
		double c = step(f);
		if (c < b)
			b = c;
	}
	return b;
}

int main(int argc, char **argv)
{
	struct fl f;
	double w, r, h, e, s, o;
	setup(&f, argc, argv);
	w = best(&f, step_write);
	r = best(&f, step_read);
	close(f.fd);
	h = best(&f, step_sha256);
	e = best(&f, step_fec);
	s = best(&f, step_seal);
	o = best(&f, step_open);
	printf("steps sluice cannot skip, one core, best of %d, %zu chunks of %zu B (k=%d, symbol %u B), "
	       "CPU s per GB of payload\n", RUNS, f.nchunks, f.chunk, K, f.symsize);
	printf("%-8s %8s   %s\n", "step", "cs/GB", "side");
	printf("%-8s %8.3f   tx\n%-8s %8.3f   tx, rx\n%-8s %8.3f   tx\n%-8s %8.3f   tx\n"
	       "%-8s %8.3f   rx\n%-8s %8.3f   rx\n", "read", r, "sha256", h, "fec", e, "seal", s,
	       "open", o, "write", w);
	printf("tx floor (read+sha256+fec+seal)  %6.3f cs/GB, before sending\n", r + h + e + s);
	printf("rx floor (open+write+sha256)     %6.3f cs/GB, before receiving\n", o + w + h);
	printf("hashes instead of SHA-256 (a manifest format change), cs/GB:");
	for (unsigned i = 0; i < 3; i++) {
		static const char *const names[] = { "SHA2-512/256", "BLAKE2B-512", "BLAKE2S-256" };
		alt_hash = names[i];
		printf(" %s %.3f,", names[i], best(&f, step_evp_hash));
	}
	printf(" BLAKE2b-256 (libsodium) %.3f\n", best(&f, step_blake2b));
	free(f.data);
	free(f.parity);
	free(f.dg);
	return 0;
}
