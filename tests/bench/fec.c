/* bench_fec — throughput of the Reed–Solomon codec (common/fec/fec.c) on one core.
 *
 *   bench_fec [SECONDS]     SECONDS per measured cell (default 0.2, max 10)
 *
 * For each (k, m) and symbol size it prints, as GB/s of block data (k·len
 * bytes per block, 1 GB = 1e9 B):
 *   encode    m parity rows from k data rows
 *   dec 1     one data row lost (tables cached: same pattern every block)
 *   dec m     m data rows lost, m parity rows used (worst case, cached)
 *   memcpy    copying the k·len bytes, the ceiling
 * and, in microseconds per block, decodes whose loss pattern is new each
 * block (cache miss: e×e inversion, decode matrix and ISA-L table build):
 *   miss 1    one data row lost (cycling through every (lost row, parity
 *             row) pair, more pairs than the cache holds)
 *   miss m    m random data rows lost (compare with hit m, the same
 *             decode with cached tables)
 * Every decode path is checked against the original data once per cell.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fec.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct bench {
	unsigned k, m;
	size_t len;
	uint8_t *rows[SL_FEC_ROWS];   /* data 0..k-1, parity k..k+m-1 */
	uint8_t *work[SL_FEC_ROWS];   /* data buffers for decode */
	uint8_t *copy;                /* memcpy target */
	uint8_t *flat;                /* k·len contiguous source for memcpy */
	uint8_t present[SL_FEC_ROWS];
	unsigned prow[SL_FEC_ROWS];
	const uint8_t *psym[SL_FEC_ROWS];
	struct sl_fec *fec;
	unsigned long cycle;          /* position in the MISS1 pattern cycle */
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_fec: %s: %s\n", what, sl_strerror(rc));
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "bench_fec: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void setup(struct bench *b, unsigned k, unsigned m, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->k = k;
	b->m = m;
	b->len = len;
	int rc = sl_fec_new(&b->fec);
	if (rc)
		die("sl_fec_new", rc);
	for (unsigned i = 0; i < k + m; i++) {
		b->rows[i] = xmalloc(len);
		if (i < k) {
			for (size_t j = 0; j < len; j++)
				b->rows[i][j] = (uint8_t)rnd();
			b->work[i] = xmalloc(len);
			memcpy(b->work[i], b->rows[i], len);
		}
	}
	for (unsigned j = 0; j < m; j++) {
		b->prow[j] = k + j;
		b->psym[j] = b->rows[k + j];
	}
	b->flat = xmalloc(k * len);
	b->copy = xmalloc(k * len);
	for (unsigned i = 0; i < k; i++)
		memcpy(b->flat + i * len, b->rows[i], len);
}

static void teardown(struct bench *b)
{
	for (unsigned i = 0; i < SL_FEC_ROWS; i++) {
		free(b->rows[i]);
		free(b->work[i]);
	}
	free(b->flat);
	free(b->copy);
	sl_fec_free(b->fec);
}

static void encode(struct bench *b)
{
	int rc = sl_fec_encode(b->fec, b->k, b->len, (const uint8_t *const *)b->rows, b->m,
			       b->prow, b->rows + b->k);
	if (rc)
		die("encode", rc);
}

/* Mark e data rows lost: spread evenly, or at random when `fresh`. */
static void lose(struct bench *b, unsigned e, bool fresh)
{
	memset(b->present, 1, b->k);
	for (unsigned n = 0; n < e;) {
		unsigned i = fresh ? (unsigned)(rnd() % b->k) : n * (b->k / e);
		if (b->present[i]) {
			b->present[i] = 0;
			n++;
		}
	}
}

static void decode_with(struct bench *b, unsigned np, const unsigned *prow,
			const uint8_t *const *psym)
{
	int rc = sl_fec_decode(b->fec, b->k, b->len, b->work, b->present, np, prow, psym);
	if (rc)
		die("decode", rc);
}

static void decode(struct bench *b)
{
	decode_with(b, b->m, b->prow, b->psym);
}

/* One lost row, repaired from one parity row; (lost row, parity row) walks
 * through all k·m pairs in turn, more than the cache holds, so every
 * decode misses the LRU. */
static void decode_fresh1(struct bench *b)
{
	unsigned i = (unsigned)(b->cycle % b->k), j = (unsigned)(b->cycle / b->k % b->m);
	b->cycle++;
	memset(b->present, 1, b->k);
	b->present[i] = 0;
	decode_with(b, 1, &b->prow[j], &b->psym[j]);
}

static void check(const struct bench *b, const char *what)
{
	for (unsigned i = 0; i < b->k; i++) {
		if (memcmp(b->work[i], b->rows[i], b->len)) {
			fprintf(stderr, "bench_fec: %s k=%u m=%u len=%zu: row %u wrong\n", what,
				b->k, b->m, b->len, i);
			exit(1);
		}
	}
}

enum op { ENC, DEC1, DECM, MEMCPY, MISS1, MISSM };

static void run_once(struct bench *b, enum op op)
{
	switch (op) {
	case ENC:
		encode(b);
		break;
	case DEC1:
	case DECM:
		decode(b);
		break;
	case MEMCPY:
		memcpy(b->copy, b->flat, b->k * b->len);
		__asm__ volatile("" : : "r"(b->copy) : "memory");
		break;
	case MISS1:
		decode_fresh1(b);
		break;
	case MISSM:
		lose(b, b->m, true);
		decode(b);
		break;
	}
}

/* Seconds per block, over at least `secs` (and at most 10^7 blocks). */
static double measure(struct bench *b, enum op op, double secs)
{
	if (op == DEC1)
		lose(b, 1, false);
	if (op == DECM)
		lose(b, b->m, false);
	run_once(b, op); /* warm caches and tables, and check the result */
	if (op != ENC && op != MEMCPY)
		check(b, "decode");
	unsigned long n = 0, batch = 1;
	double t0 = now(), t;
	for (;;) {
		for (unsigned long i = 0; i < batch; i++)
			run_once(b, op);
		n += batch;
		t = now() - t0;
		if (t >= secs || n >= 10000000ul)
			break;
		if (t < secs / 10)
			batch *= 2;
	}
	if (op != ENC && op != MEMCPY)
		check(b, "decode");
	return t / (double)n;
}

int main(int argc, char **argv)
{
	double secs = 0.2;
	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			printf("usage: bench_fec [SECONDS]\n"
			       "Encode/decode throughput of the sluice RS codec on one core;\n"
			       "SECONDS per measured cell, default 0.2.\n");
			return 0;
		}
		char *end;
		errno = 0;
		secs = strtod(argv[1], &end);
		if (errno || *end || !(secs > 0 && secs <= 10)) {
			fprintf(stderr, "bench_fec: SECONDS must be a number in (0, 10], not '%s'\n",
				argv[1]);
			return 2;
		}
	}
	static const unsigned km[][2] = {{32, 4}, {64, 8}, {128, 16}, {128, 32}, {200, 55}};
	static const size_t lens[] = {1400, 8192};

	printf("sluice FEC codec (ISA-L), one core, %.2f s per cell; GB/s of block data "
	       "(k*len), 1 GB = 1e9 B\n\n", secs);
	printf("%4s %3s %5s | %7s %7s %7s %7s | %8s %8s %8s\n", "k", "m", "len", "encode",
	       "dec 1", "dec m", "memcpy", "hit m", "miss 1", "miss m");
	printf("%4s %3s %5s | %7s %7s %7s %7s | %8s %8s %8s\n", "", "", "", "GB/s", "GB/s",
	       "GB/s", "GB/s", "us/blk", "us/blk", "us/blk");
	for (unsigned c = 0; c < sizeof(km) / sizeof(km[0]); c++) {
		for (unsigned l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct bench b;
			setup(&b, km[c][0], km[c][1], lens[l]);
			double bytes = (double)b.k * (double)b.len;
			double enc = measure(&b, ENC, secs);
			double d1 = measure(&b, DEC1, secs);
			double dm = measure(&b, DECM, secs);
			double mc = measure(&b, MEMCPY, secs);
			struct sl_fec_stats s0, s1;
			sl_fec_get_stats(b.fec, &s0);
			double m1 = measure(&b, MISS1, secs);
			double mm = measure(&b, MISSM, secs);
			sl_fec_get_stats(b.fec, &s1);
			/* nearly every fresh pattern must really have missed */
			uint64_t dec = s1.decodes - s0.decodes, hit = s1.cache_hits - s0.cache_hits;
			if (hit * 100 > dec) {
				fprintf(stderr, "bench_fec: fresh patterns hit the cache %llu/%llu\n",
					(unsigned long long)hit, (unsigned long long)dec);
				return 1;
			}
			printf("%4u %3u %5zu | %7.2f %7.2f %7.2f %7.2f | %8.1f %8.1f %8.1f\n", b.k,
			       b.m, b.len, bytes / enc * 1e-9, bytes / d1 * 1e-9,
			       bytes / dm * 1e-9, bytes / mc * 1e-9, dm * 1e6, m1 * 1e6, mm * 1e6);
			fflush(stdout);
			teardown(&b);
		}
	}
	return 0;
}
