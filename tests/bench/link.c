/* bench/link.c — link and pacer figures on this machine (a benchmark,
 * never a test). Prints these tables:
 *   1. UDP loopback: datagrams/s and Gbit/s of sl_link_send for several
 *      batch sizes, with a receiver thread draining through sl_link_recv,
 *      and how many the kernel dropped;
 *   2. the udp I/O engines, io=plain (sendmmsg/recvmmsg) and io=uring
 *      (with and without zero-copy sends), on either side, GSO/GRO on and
 *      off: datagrams/s sent and received, kernel drops, times the
 *      io_uring buffer ring ran dry, CPU seconds per GB;
 *   3. pacer accuracy on the real clock: achieved wire rate against the
 *      configured one, and CPU seconds per wall second (no busy spin).
 * Usage: [BURST=BYTES] [REPEAT=N] bench_link [SECONDS_PER_ROW] [engines]
 * (defaults 65536, 1, 1; "engines": only table 2, REPEAT: its rows are the
 * medians of N runs, drops and ring-dry counts per run)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "link.h"
#include "pace.h"

struct drain {
	struct sl_link *rx;
	const char *uri;         /* opened by the draining thread (io=uring: its
				  * receive work then runs there) */
	atomic_int opened;       /* 1 opened, -1 failed */
	atomic_int stop;
	uint64_t got;
	double cpu;              /* this thread's CPU seconds */
};

static void *drain_main(void *arg)
{
	struct drain *dr = arg;
	static uint8_t mem[256][2048];
	struct sl_dgram dg[256];
	struct sl_diag d;
	double c0;
	if (sl_link_open_rx(dr->uri, NULL, &dr->rx, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		atomic_store(&dr->opened, -1);
		return NULL;
	}
	atomic_store(&dr->opened, 1);
	c0 = bench_thread_cpu();
	while (!atomic_load(&dr->stop)) {
		for (int i = 0; i < 256; i++)
			dg[i] = (struct sl_dgram){ mem[i], sizeof mem[i], 0, 0 };
		int r = sl_link_recv(dr->rx, dg, 256, 50, &d);
		if (r > 0)
			dr->got += (uint64_t)r;
	}
	dr->cpu = bench_thread_cpu() - c0;
	return NULL;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct pair_result {
	double secs;             /* sending time */
	uint64_t sent, got, drops, dry;
	double tx_cpu, rx_cpu, all_cpu; /* sender thread, receiver thread, process */
};

/* Send 1400-byte datagrams in batches of `batch` for `secs` over loopback,
 * with a thread draining the receive link. The URIs get txopt / rxopt. */
static int run_pair(const char *txopt, const char *rxopt, unsigned batch, double secs,
		    struct pair_result *res)
{
	static uint8_t buf[256][1400];
	struct iovec iov[256];
	struct sl_link *tx, *rx;
	struct drain dr = { 0 };
	struct sl_diag d;
	struct sl_link_stats st;
	pthread_t th;
	char uri[128], rxuri[128];

	for (int i = 0; i < 256; i++)
		iov[i] = (struct iovec){ buf[i], sizeof buf[i] };
	snprintf(rxuri, sizeof rxuri, "udp://127.0.0.1:0%s", rxopt);
	dr.uri = rxuri;
	pthread_create(&th, NULL, drain_main, &dr);
	while (!atomic_load(&dr.opened))
		sched_yield();
	if (atomic_load(&dr.opened) < 0) {
		pthread_join(th, NULL);
		return 1;
	}
	rx = dr.rx;
	snprintf(uri, sizeof uri, "udp://127.0.0.1:%lu%s",
		 strtoul(strstr(sl_link_describe(rx), "127.0.0.1:") + 10, NULL, 10), txopt);
	if (sl_link_open_tx(uri, NULL, &tx, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		atomic_store(&dr.stop, 1);
		pthread_join(th, NULL);
		sl_link_close(rx);
		return 1;
	}
	uint64_t sent = 0, t0 = sl_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	double c0 = cpu_s(), tc0 = bench_thread_cpu();
	while (sl_now_ns() < end) {
		int r = sl_link_send(tx, iov, batch, &d);
		if (r < 0) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		sent += (uint64_t)r;
	}
	res->secs = (double)(sl_now_ns() - t0) / 1e9;
	res->tx_cpu = bench_thread_cpu() - tc0;
	struct timespec pause = { 0, 200000000 };
	nanosleep(&pause, NULL);
	atomic_store(&dr.stop, 1);
	pthread_join(th, NULL);
	res->all_cpu = cpu_s() - c0;
	res->rx_cpu = dr.cpu;
	res->sent = sent;
	res->got = dr.got;
	sl_link_get_stats(rx, &st);
	res->drops = st.kernel_drops;
	res->dry = st.ring_empty;
	sl_link_close(tx);
	sl_link_close(rx);
	return 0;
}

static int bench_udp(double secs)
{
	static const unsigned batches[] = { 1, 8, 32, 64, 256 };

	printf("UDP loopback, 1400-byte datagrams, sender and draining receiver on this machine\n");
	printf("%6s %14s %10s %14s %10s %10s\n", "batch", "sent dgram/s", "Gbit/s", "recv dgram/s",
	       "drops", "cpu/wall");
	for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
		struct pair_result p;
		if (run_pair("", "", batches[b], secs, &p))
			return 1;
		printf("%6u %14.0f %10.2f %14.0f %10llu %10.2f\n", batches[b], p.sent / p.secs,
		       p.sent * 1400 * 8 / p.secs / 1e9, p.got / p.secs, (unsigned long long)p.drops,
		       p.all_cpu / (p.secs + 0.2));
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* run_pair REPEAT times (environment, default 1; the machine is shared,
 * so single runs scatter) and keep the median of each figure. */
static int run_median(const char *txopt, const char *rxopt, unsigned batch, double secs,
		      struct pair_result *res)
{
	enum { MAXREP = 15 };
	double v[8][MAXREP];
	const char *e = getenv("REPEAT");
	int n = e ? atoi(e) : 1;
	if (n < 1 || n > MAXREP)
		n = 1;
	for (int k = 0; k < n; k++) {
		struct pair_result p;
		if (run_pair(txopt, rxopt, batch, secs, &p))
			return 1;
		/* rates and per-GB costs, so runs of unequal length compare */
		v[0][k] = p.sent / p.secs;
		v[1][k] = p.got / p.secs;
		v[2][k] = (double)p.drops;
		v[3][k] = (double)p.dry;
		v[4][k] = p.tx_cpu / (p.sent * 1400 / 1e9);
		v[5][k] = p.got ? p.rx_cpu / (p.got * 1400 / 1e9) : 0;
		v[6][k] = p.got ? p.all_cpu / (p.got * 1400 / 1e9) : 0;
	}
	for (int f = 0; f < 7; f++)
		qsort(v[f], (size_t)n, sizeof v[f][0], cmp_double);
	/* back into the shape of one 1-second, 1-GB run */
	res->secs = 1;
	res->sent = (uint64_t)v[0][n / 2];
	res->got = (uint64_t)v[1][n / 2];
	res->drops = (uint64_t)v[2][n / 2];
	res->dry = (uint64_t)v[3][n / 2];
	res->tx_cpu = v[4][n / 2] * (res->sent * 1400 / 1e9);
	res->rx_cpu = v[5][n / 2] * (res->got * 1400 / 1e9);
	res->all_cpu = v[6][n / 2] * (res->got * 1400 / 1e9);
	return 0;
}

/* io=plain (sendmmsg/recvmmsg) against io=uring (and zero-copy sends) on
 * either side; CPU seconds per GB: sender thread per GB sent, receiver
 * thread per GB received, the whole process (io_uring workers included)
 * per GB received. On loopback the receive side's protocol work runs in
 * the sender's context. */
static int bench_engines(double secs)
{
	static const struct {
		const char *name, *tx, *rx;
	} rows[] = {
		{ "plain  -> plain", "", "" },
		{ "uring  -> plain", "?io=uring", "" },
		{ "uring zc -> plain", "?io=uring&zc=1", "" },
		{ "plain  -> uring", "", "?io=uring" },
		{ "uring  -> uring", "?io=uring", "?io=uring" },
		{ "plain  -> plain", "?gso=0", "?gro=0" },
		{ "uring  -> plain", "?gso=0&io=uring", "?gro=0" },
		{ "uring zc -> plain", "?gso=0&io=uring&zc=1", "?gro=0" },
		{ "plain  -> uring", "?gso=0", "?gro=0&io=uring" },
		{ "uring  -> uring", "?gso=0&io=uring", "?gro=0&io=uring" },
	};
	static const unsigned batches[] = { 32, 256 };

	for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
		printf("\nEngines (tx -> rx), 1400-byte datagrams, batch %u; CPU s per GB\n",
		       batches[b]);
		printf("%-18s %-7s %12s %12s %9s %8s %8s %8s %8s\n", "engines", "gso/gro",
		       "sent dg/s", "recv dg/s", "drops", "ring dry", "tx cpu", "rx cpu", "all cpu");
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
			struct pair_result p;
			double gs, gr;
			if (run_median(rows[i].tx, rows[i].rx, batches[b], secs, &p))
				return 1;
			gs = (double)p.sent * 1400 / 1e9;
			gr = (double)p.got * 1400 / 1e9;
			printf("%-18s %-7s %12.0f %12.0f %9llu %8llu %8.2f %8.2f %8.2f\n", rows[i].name,
			       strstr(rows[i].tx, "gso=0") ? "off" : "on", p.sent / p.secs,
			       p.got / p.secs, (unsigned long long)p.drops, (unsigned long long)p.dry,
			       p.tx_cpu / gs,
			       gr > 0 ? p.rx_cpu / gr : 0.0, gr > 0 ? p.all_cpu / gr : 0.0);
		}
	}
	return 0;
}

static void bench_pacer(double secs)
{
	static const uint64_t rates[] = { 9600, 1000000, 100000000, 1000000000, 10000000000ull };
	const char *be = getenv("BURST");
	printf("\nPacer on the real clock: 1400-byte datagrams (1466 wire bytes), burst %s bytes,\n"
	       "sl_pacer_wait per datagram, nothing sent\n", be ? be : "65536");
	printf("%14s %14s %10s %10s\n", "configured", "achieved", "error", "cpu/wall");
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		struct sl_pacer p;
		uint64_t burst = getenv("BURST") ? strtoull(getenv("BURST"), NULL, 10) : 65536, t0 = sl_now_ns();
		/* at 9600 bit/s a datagram takes 1.2 s: run at least 5 of them */
		double run = rates[i] < 100000 ? 8.0 : secs;
		uint64_t end = t0 + (uint64_t)(run * 1e9), wire = 0;
		double c0 = cpu_s();
		sl_pacer_init(&p, rates[i], burst, t0);
		/* start with an empty bucket so the figure measures the rate */
		sl_pacer_consume(&p, t0, burst);
		while (sl_now_ns() < end) {
			sl_pacer_wait(&p, 1466);
			wire += 1466;
		}
		double el = (double)(sl_now_ns() - t0) / 1e9, c1 = cpu_s();
		double achieved = (double)wire * 8 / el;
		printf("%14llu %14.0f %+9.3f%% %10.3f\n", (unsigned long long)rates[i], achieved,
		       100.0 * (achieved - (double)rates[i]) / (double)rates[i], (c1 - c0) / el);
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	if (secs <= 0 || secs > 60)
		secs = 1.0;
	if (argc > 2 && !strcmp(argv[2], "engines"))
		return bench_engines(secs);
	if (bench_udp(secs) || bench_engines(secs))
		return 1;
	printf("\n[timer slack: the default 50 us]");
	bench_pacer(secs);
	prctl(PR_SET_TIMERSLACK, 1000UL);
	printf("\n[timer slack: 1 us (prctl PR_SET_TIMERSLACK)]");
	bench_pacer(secs);
	return 0;
}
