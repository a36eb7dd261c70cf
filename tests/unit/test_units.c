/* Unit tests for common/util: command-line quantities (units.c), the growing array, usable CPUs, the thread pool, progress text and hex. */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cpus.h"
#include "hex.h"
#include "timefmt.h"
#include "progress.h"
#include "grow.h"
#include "pool.h"
#include <signal.h>
#include <stdatomic.h>
#include <pthread.h>
#include "units.h"

/* A quantity and what the parser makes of it: err, and the value when SL_OK. */
struct quantity {
	const char *text;
	int err;
	uint64_t want;
};

/* Each of q[0..n) through parse (sl_parse_rate, _size or _duration). */
static void parses(int (*parse)(const char *, uint64_t *, struct sl_diag *), const struct quantity *q,
		   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		cr_assert_eq(parse(q[i].text, &v, NULL), q[i].err, "'%s'", q[i].text);
		if (q[i].err == SL_OK)
			cr_assert_eq(v, q[i].want, "'%s': %llu", q[i].text, (unsigned long long)v);
	}
}

Test(units, rates_are_decimal_bits)
{
	static const struct quantity q[] = {
		{ "250M", SL_OK, 250000000ull },
		{ "1G", SL_OK, 1000000000ull },
		{ "1.5k", SL_OK, 1500ull },
		{ "9600", SL_OK, 9600ull },
	};
	parses(sl_parse_rate, q, sizeof q / sizeof q[0]);
}

Test(units, rates_reject_garbage)
{
	uint64_t v;
	struct sl_diag d;
	cr_assert_eq(sl_parse_rate("", &v, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_rate("-5M", &v, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_rate("5Mb", &v, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_rate("5K", &v, &d), SL_ERR_PARSE, "K is a size unit, not a rate unit");
	cr_assert(strstr(d.msg, "unknown unit") != NULL, "%s", d.msg);
	cr_assert_eq(sl_parse_rate("0", &v, &d), SL_ERR_RANGE);
}

Test(units, sizes_are_binary_bytes)
{
	static const struct quantity q[] = {
		{ "64K", SL_OK, 65536ull },
		{ "2G", SL_OK, 2147483648ull },
		{ "0.5K", SL_OK, 512ull },
		{ "0.3K", SL_ERR_PARSE, 0 },
		{ "1k", SL_ERR_PARSE, 0 },
	};
	parses(sl_parse_size, q, sizeof q / sizeof q[0]);
}

Test(units, fractions_take_percent)
{
	double p;
	cr_assert_eq(sl_parse_fraction("0.02", &p, NULL), SL_OK);
	cr_assert_float_eq(p, 0.02, 1e-12);
	cr_assert_eq(sl_parse_fraction("2%", &p, NULL), SL_OK);
	cr_assert_float_eq(p, 0.02, 1e-12);
	cr_assert_eq(sl_parse_fraction("150%", &p, NULL), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_fraction("2 %", &p, NULL), SL_ERR_PARSE);
}

Test(units, durations)
{
	static const struct quantity q[] = {
		{ "7d", SL_OK, 7ull * 86400 },
		{ "90", SL_OK, 90ull },
		{ "5w", SL_ERR_PARSE, 0 },
	};
	parses(sl_parse_duration, q, sizeof q / sizeof q[0]);
}

Test(units, formatting)
{
	char b[32];
	cr_assert_str_eq(sl_fmt_bytes(512, b, sizeof b), "512 B");
	cr_assert_str_eq(sl_fmt_bytes(1536, b, sizeof b), "1.50 KiB");
	cr_assert_str_eq(sl_fmt_rate(250e6, b, sizeof b), "250.00 Mbit/s");
}

Test(units, strerror_names_every_code)
{
	for (int e = 0; e > SL_ERR__LAST; e--)
		cr_assert(strcmp(sl_strerror(e), "unknown error") != 0, "code %d unnamed", e);
	cr_assert_str_eq(sl_strerror(1), "unknown error");
	cr_assert_str_eq(sl_strerror(SL_ERR__LAST), "unknown error");
}

Test(units, counts)
{
	unsigned long v;
	struct sl_diag d;
	cr_assert_eq(sl_parse_count("--passes", "3", 1, 10, &v, &d), SL_OK);
	cr_assert_eq(v, 3ul);
	cr_assert_eq(sl_parse_count("--passes", "0", 1, 10, &v, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "--passes '0': expected a whole number from 1 to 10") != NULL, "%s", d.msg);
	cr_assert_eq(sl_parse_count("--passes", "-1", 1, 10, &v, &d), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_count("--passes", " 3", 1, 10, &v, &d), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_count("--passes", "3x", 1, 10, &v, &d), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_count("--passes", "99999999999999999999999", 1, 10, &v, &d), SL_ERR_RANGE);
}

/* The canonical decimal of files sluice reads back: one spelling per value. */
Test(units, canonical_decimals)
{
	uint64_t v = 7;
	cr_assert_eq(sl_parse_decimal_canon_n("0", 1, 0, 10, &v), SL_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(sl_parse_decimal_canon_n("18446744073709551615", 20, 0, UINT64_MAX, &v), SL_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(sl_parse_decimal_canon_n("18446744073709551616", 20, 0, UINT64_MAX, &v), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_decimal_canon_n("007", 3, 0, 10, &v), SL_ERR_PARSE, "a leading zero");
	cr_assert_eq(sl_parse_decimal_canon_n("00", 2, 0, 10, &v), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_decimal_canon_n("+7", 2, 0, 10, &v), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_decimal_canon_n(" 7", 2, 0, 10, &v), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_decimal_canon_n("", 0, 0, 10, &v), SL_ERR_PARSE);
	cr_assert_eq(sl_parse_decimal_canon_n("11", 2, 0, 10, &v), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_decimal_canon_n("70", 1, 0, 10, &v), SL_OK, "only the first n bytes");
	cr_assert_eq(v, 7);
}

/* Plain real numbers: no sign, space, unit or trailing text; the message names the option. */
Test(units, reals)
{
	static const char *const refused[] = { "1000.5", "-1", "+1", " 1", "1%", "", "nan", "inf", "1e999" };
	double x = 0;
	struct sl_diag d;

	cr_assert_eq(sl_parse_real("--overhead", "12.5", 0, 1000, &x, &d), SL_OK);
	cr_assert_float_eq(x, 12.5, 1e-12);
	cr_assert_eq(sl_parse_real("--overhead", "1000", 0, 1000, &x, &d), SL_OK);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char want[64];
		cr_assert_eq(sl_parse_real("--overhead", refused[i], 0, 1000, &x, &d), SL_ERR_PARSE, "'%s'", refused[i]);
		snprintf(want, sizeof want, "--overhead '%s': expected a number from 0 to 1000", refused[i]);
		cr_assert(strstr(d.msg, want) != NULL, "%s", d.msg);
	}
}

/* sl_grow: room for element n, doubling; a failure leaves the array as it was. */
Test(grow, doubles_and_keeps_contents)
{
	uint32_t *a = NULL;
	size_t cap = 0;

	for (size_t n = 0; n < 1000; n++) {
		cr_assert_eq(sl_grow(&a, n, &cap, sizeof *a), SL_OK);
		cr_assert_gt(cap, n);
		a[n] = (uint32_t)n * 7u;
	}
	cr_assert_eq(cap, 1024);
	for (size_t n = 0; n < 1000; n++)
		cr_assert_eq(a[n], n * 7u);
	free(a);
}

Test(grow, refuses_an_overflowing_size)
{
	uint64_t *a = NULL, *before;
	size_t cap = (SIZE_MAX / 8) / 2 + 1;

	before = a;
	cr_assert_eq(sl_grow(&a, cap, &cap, sizeof *a), SL_ERR_NOMEM);
	cr_assert_eq(a, before);
	cr_assert_eq(cap, (SIZE_MAX / 8) / 2 + 1);
	cap = 4;
	cr_assert_eq(sl_grow(&a, 3, &cap, sizeof *a), SL_OK, "room left: nothing to do");
	cr_assert_null(a);
}

/* sl_parse_decimal: digits only, the full 64-bit range, nothing else. */
Test(units, decimal_digits_only)
{
	uint64_t v = 7;
	cr_assert_eq(sl_parse_decimal("18446744073709551615", 0, UINT64_MAX, &v), SL_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(sl_parse_decimal("18446744073709551616", 0, UINT64_MAX, &v), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_decimal("99999999999999999999", 0, UINT64_MAX, &v), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_decimal("0", 0, 10, &v), SL_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(sl_parse_decimal("11", 0, 10, &v), SL_ERR_RANGE);
	cr_assert_eq(sl_parse_decimal("0", 1, 10, &v), SL_ERR_RANGE);
	const char *bad[] = { "", "-1", "+1", " 1", "1 ", "5x", "0x10", "1e3", "1.0" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(sl_parse_decimal(bad[i], 0, UINT64_MAX, &v), SL_ERR_PARSE, "'%s'", bad[i]);
	cr_assert_eq(sl_parse_decimal(NULL, 0, 1, &v), SL_ERR_PARSE);
	cr_assert_eq(v, 0, "untouched on failure");
}

/* sl_cpus_usable follows the affinity mask (taskset, cpusets), not the
 * machine: pinned to one CPU, pools size themselves for one. */
Test(cpus, follows_the_affinity_mask)
{
	cpu_set_t one;
	unsigned all = sl_cpus_usable();

	cr_assert_geq(all, 1);
	cr_assert_leq(all, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0);
	cr_assert_eq(sl_cpus_usable(), 1);
}

struct pool_probe {
	atomic_uint runs;
	atomic_uint seen;      /* bit per worker number */
	atomic_uint next, sum; /* a shared counter over 1000 items */
	atomic_uint blocked;   /* helpers that had SIGTERM blocked */
	atomic_uint named;     /* helpers named "test-pool-N" */
};

static void pool_probe(void *arg, unsigned worker)
{
	struct pool_probe *q = arg;
	sigset_t m;
	unsigned i;

	atomic_fetch_add(&q->runs, 1);
	atomic_fetch_or(&q->seen, 1u << worker);
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	if (worker && sigismember(&m, SIGTERM))
		atomic_fetch_add(&q->blocked, 1);
	char name[16], want[32];
	snprintf(want, sizeof want, "test-pool-%u", worker);
	if (worker && pthread_getname_np(pthread_self(), name, sizeof name) == 0 && !strcmp(name, want))
		atomic_fetch_add(&q->named, 1);
	while ((i = atomic_fetch_add(&q->next, 1)) < 1000)
		atomic_fetch_add(&q->sum, i);
}

/* Every helper runs every job once, with its own number, the owner as 0;
 * end waits for all of them; helpers leave signals to the owner; a pool
 * of no helpers (and a NULL pool) runs the job on the owner alone. */
Test(pool, every_helper_runs_each_job_once)
{
	struct sl_pool *p;
	struct sl_diag d;

	cr_assert_eq(sl_pool_new(3, "test-pool", &p, &d), SL_OK);
	cr_assert_eq(sl_pool_helpers(p), 3);
	for (int job = 0; job < 50; job++) {
		struct pool_probe q = { 0 };
		sl_pool_run(p, pool_probe, &q);
		cr_assert_eq(atomic_load(&q.runs), 4, "job %d ran %u times", job, atomic_load(&q.runs));
		cr_assert_eq(atomic_load(&q.seen), 0xfu);
		cr_assert_eq(atomic_load(&q.sum), 999u * 1000 / 2);
		cr_assert_eq(atomic_load(&q.blocked), 3);
		cr_assert_eq(atomic_load(&q.named), 3);
	}
	sl_pool_free(p);
	cr_assert_eq(sl_pool_new(0, NULL, &p, &d), SL_OK);
	struct pool_probe q0 = { 0 };
	sl_pool_run(p, pool_probe, &q0);
	cr_assert_eq(atomic_load(&q0.runs), 1);
	cr_assert_eq(atomic_load(&q0.sum), 999u * 1000 / 2);
	sl_pool_free(p);
	struct pool_probe qn = { 0 };
	sl_pool_run(NULL, pool_probe, &qn);
	cr_assert_eq(atomic_load(&qn.seen), 1u);
	sl_pool_free(NULL);
}

/* Freeing a pool in the middle of a job waits for the job first. */
static void pool_slow(void *arg, unsigned worker)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	if (worker)
		nanosleep(&ts, NULL);
	atomic_fetch_add((atomic_uint *)arg, 1);
}

Test(pool, free_waits_for_the_job)
{
	struct sl_pool *p;
	atomic_uint n = 0;

	cr_assert_eq(sl_pool_new(2, "t", &p, NULL), SL_OK);
	sl_pool_begin(p, pool_slow, &n);
	sl_pool_free(p);
	cr_assert_eq(atomic_load(&n), 2);
}

/* A long job on a thread of its own: runs until told to stop, as worker 1,
 * in a thread named as asked with signals blocked; free waits for it. */
struct pool_one {
	atomic_bool stop;
	atomic_uint worker, named, blocked, done;
};

static void pool_one_loop(void *arg, unsigned worker)
{
	struct pool_one *o = arg;
	struct timespec ts = { 0, 1000 * 1000 };
	char name[16];
	sigset_t m;

	atomic_store(&o->worker, worker);
	if (pthread_getname_np(pthread_self(), name, sizeof name) == 0 && !strcmp(name, "test-one"))
		atomic_store(&o->named, 1);
	pthread_sigmask(SIG_BLOCK, NULL, &m);
	atomic_store(&o->blocked, (unsigned)sigismember(&m, SIGTERM));
	for (int i = 0; i < 10000 && !atomic_load(&o->stop); i++)
		nanosleep(&ts, NULL);
	atomic_store(&o->done, 1);
}

Test(pool, start_one_runs_a_long_job)
{
	struct pool_one o = { 0 };
	struct sl_pool *p;

	cr_assert_eq(sl_pool_start_one("test-one", pool_one_loop, &o, &p, NULL), SL_OK);
	cr_assert_eq(sl_pool_helpers(p), 1);
	for (int i = 0; i < 5000 && !atomic_load(&o.worker); i++)
		usleep(1000);
	cr_assert_eq(atomic_load(&o.worker), 1, "the job runs as worker 1");
	cr_assert_eq(atomic_load(&o.named), 1, "its thread is named");
	cr_assert_eq(atomic_load(&o.blocked), 1, "with signals blocked");
	cr_assert_eq(atomic_load(&o.done), 0, "still running");
	atomic_store(&o.stop, true);
	sl_pool_free(p);
	cr_assert_eq(atomic_load(&o.done), 1, "free waited for the job to return");
}

/* The progress text: bar, share, amounts, rate, ETA; redrawn at most every 250 ms. */
/* The one bar: any width, clamped share, cut to the buffer. */
Test(progress, bar)
{
	char buf[64];

	cr_assert_eq(sl_progress_bar(0.5, 24, buf, sizeof buf), 31);
	cr_assert_str_eq(buf, "[############............]  50%");
	sl_progress_bar(1.7, 4, buf, sizeof buf);
	cr_assert_str_eq(buf, "[####] 100%");
	sl_progress_bar(-1, 4, buf, sizeof buf);
	cr_assert_str_eq(buf, "[....]   0%");
	cr_assert_eq(sl_progress_bar(0.5, 24, buf, 5), 4);
	cr_assert_str_eq(buf, "[###");
}

Test(progress, line_and_pace)
{
	struct sl_progress p;
	char buf[160];

	sl_progress_start(&p, 4000, 1000000000ull);
	cr_assert(sl_progress_due(&p, 1000000000ull), "the first line is due at once");
	cr_assert_not(sl_progress_due(&p, 1100000000ull));
	cr_assert(sl_progress_due(&p, 1300000000ull));
	sl_progress_line(&p, 1000, "files", 0, 3000000000ull, buf, sizeof buf);
	cr_assert_str_eq(buf, "[#######.......................]  25% 1000 / 4000 files  500 files/s  ETA 0:06");
	sl_progress_line(&p, 4000, "files", 0, 3000000000ull, buf, sizeof buf);
	cr_assert(strstr(buf, "100% 4000 / 4000 files") && !strstr(buf, "ETA"), "%s", buf);
	sl_progress_start(&p, 0, 0);
	sl_progress_line(&p, 3 << 20, NULL, 1, 1000000000ull, buf, sizeof buf);
	cr_assert(!strchr(buf, '[') && strstr(buf, "3.00 MiB") && strstr(buf, "bit/s"), "%s", buf);
	sl_progress_line(&p, 5, NULL, 0, 0, buf, 8);
	cr_assert_eq(strlen(buf), 7, "cut to the buffer");
}

/* The one hex decoder: each format's case, exact lengths. */
Test(hex, cases_and_lengths)
{
	uint8_t b[3] = { 0 };

	cr_assert_eq(sl_hex_decode("00ff7a", 6, SL_HEX_LOWER, b, 3), SL_OK);
	cr_assert(b[0] == 0 && b[1] == 0xff && b[2] == 0x7a);
	cr_assert_eq(sl_hex_decode("00FF7A", 6, SL_HEX_LOWER, b, 3), SL_ERR_PARSE, "lowercase formats refuse A-F");
	cr_assert_eq(sl_hex_decode("00FF7A", 6, SL_HEX_UPPER, b, 3), SL_OK);
	cr_assert_eq(sl_hex_decode("00ff7a", 6, SL_HEX_UPPER, b, 3), SL_ERR_PARSE);
	cr_assert_eq(sl_hex_decode("00Ff7a", 6, SL_HEX_ANY, b, 3), SL_OK);
	cr_assert_eq(sl_hex_decode("00ff7", 5, SL_HEX_ANY, b, 3), SL_ERR_PARSE);
	cr_assert_eq(sl_hex_decode("00ff7a00", 8, SL_HEX_ANY, b, 3), SL_ERR_PARSE);
	cr_assert_eq(sl_hex_decode("0g", 2, SL_HEX_ANY, b, 1), SL_ERR_PARSE);
	cr_assert_eq(sl_hex_digit('/', SL_HEX_ANY), -1);
	cr_assert_eq(sl_hex_digit(':', SL_HEX_ANY), -1);
	cr_assert_eq(sl_hex_digit('G', SL_HEX_ANY), -1);
}

/* RFC 3339 times through the C library's calendar: strict form, real dates. */
Test(timefmt, strict_and_round_trip)
{
	static const struct {
		const char *text;
		int err;
	} refused[] = {
		{ "2023-02-29T00:00:00Z", SL_ERR_RANGE }, /* not a leap year */
		{ "2023-04-31T00:00:00Z", SL_ERR_RANGE },
		{ "1969-12-31T23:59:59Z", SL_ERR_RANGE },
		{ "2023-01-01T24:00:00Z", SL_ERR_RANGE },
		{ "2023-01-01 00:00:00Z", SL_ERR_PARSE },
		{ "2023-01-01T00:00:00", SL_ERR_PARSE },
		{ "+023-01-01T00:00:00Z", SL_ERR_PARSE },
		{ "2023-01- 1T00:00:00Z", SL_ERR_PARSE },
		{ "2023-01-01T0a:00:00Z", SL_ERR_PARSE },
	};
	int64_t t;
	char buf[32];

	cr_assert_eq(sl_time_parse("2024-02-29T23:59:59Z", 20, &t), SL_OK);
	cr_assert_eq(t, 1709251199);
	cr_assert_str_eq(sl_time_format(t, buf, sizeof buf), "2024-02-29T23:59:59Z");
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		cr_assert_eq(sl_time_parse(refused[i].text, strlen(refused[i].text), &t), refused[i].err, "'%s'",
			     refused[i].text);
	cr_assert_eq(sl_time_parse("9999-12-31T23:59:59Z", 20, &t), SL_OK);
	cr_assert_eq(t, SL_TIME_MAX_SECONDS);
	cr_assert_str_eq(sl_time_format(SL_TIME_MAX_SECONDS + 1, buf, sizeof buf), "(out of range)");
	cr_assert_str_eq(sl_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
}
