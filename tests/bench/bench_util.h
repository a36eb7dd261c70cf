/* bench_util.h — what the benchmarks in tests/bench share: this thread's
 * CPU clock, and stopping with a message (named after the program) when a
 * step fails or memory runs out. Benchmarks only: never in the library. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU seconds this thread has used (other load on the machine shows less). */
static inline double bench_thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void bench_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, what);
	exit(1);
}

static inline void *bench_xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		bench_die("out of memory");
	return p;
}
#endif
