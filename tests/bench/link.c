/* bench/link.c — link and pacer figures on this machine (a benchmark,
 * never a test). Prints two tables:
 *   1. UDP loopback: datagrams/s and Gbit/s of sl_link_send for several
 *      batch sizes, with a receiver thread draining through sl_link_recv,
 *      and how many the kernel dropped;
 *   2. pacer accuracy on the real clock: achieved wire rate against the
 *      configured one, and CPU seconds per wall second (no busy spin).
 * Usage: [BURST=BYTES] bench_link [SECONDS_PER_ROW]   (defaults 65536, 1)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "link.h"
#include "pace.h"

struct drain {
	struct sl_link *rx;
	atomic_int stop;
	uint64_t got;
};

static void *drain_main(void *arg)
{
	struct drain *dr = arg;
	static uint8_t mem[256][2048];
	struct sl_dgram dg[256];
	struct sl_diag d;
	for (int i = 0; i < 256; i++)
		dg[i] = (struct sl_dgram){ mem[i], sizeof mem[i], 0, 0 };
	while (!atomic_load(&dr->stop)) {
		int r = sl_link_recv(dr->rx, dg, 256, 50, &d);
		if (r > 0)
			dr->got += (uint64_t)r;
	}
	return NULL;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int bench_udp(double secs)
{
	static const unsigned batches[] = { 1, 8, 32, 64, 256 };
	static uint8_t buf[256][1400];
	struct iovec iov[256];
	struct sl_diag d;

	for (int i = 0; i < 256; i++)
		iov[i] = (struct iovec){ buf[i], sizeof buf[i] };
	printf("UDP loopback, 1400-byte datagrams, sender and draining receiver on this machine\n");
	printf("%6s %14s %10s %14s %10s %10s\n", "batch", "sent dgram/s", "Gbit/s", "recv dgram/s",
	       "drops", "cpu/wall");
	for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
		struct sl_link *tx, *rx;
		struct drain dr = { 0 };
		pthread_t th;
		char uri[64];
		if (sl_link_open_rx("udp://127.0.0.1:0", NULL, &rx, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		snprintf(uri, sizeof uri, "udp://127.0.0.1:%lu",
			 strtoul(strrchr(sl_link_describe(rx), ':') + 1, NULL, 10));
		if (sl_link_open_tx(uri, NULL, &tx, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		dr.rx = rx;
		pthread_create(&th, NULL, drain_main, &dr);
		uint64_t sent = 0, t0 = sl_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
		double c0 = cpu_s();
		while (sl_now_ns() < end) {
			int r = sl_link_send(tx, iov, batches[b], &d);
			if (r < 0) {
				fprintf(stderr, "%s\n", d.msg);
				return 1;
			}
			sent += (uint64_t)r;
		}
		double el = (double)(sl_now_ns() - t0) / 1e9;
		struct timespec pause = { 0, 200000000 };
		nanosleep(&pause, NULL);
		atomic_store(&dr.stop, 1);
		pthread_join(th, NULL);
		double c1 = cpu_s();
		struct sl_link_stats st;
		sl_link_get_stats(rx, &st);
		printf("%6u %14.0f %10.2f %14.0f %10llu %10.2f\n", batches[b], sent / el,
		       sent * 1400 * 8 / el / 1e9, dr.got / el, (unsigned long long)st.kernel_drops,
		       (c1 - c0) / (el + 0.2));
		sl_link_close(tx);
		sl_link_close(rx);
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
	if (bench_udp(secs))
		return 1;
	printf("\n[timer slack: the default 50 us]");
	bench_pacer(secs);
	prctl(PR_SET_TIMERSLACK, 1000UL);
	printf("\n[timer slack: 1 us (prctl PR_SET_TIMERSLACK)]");
	bench_pacer(secs);
	return 0;
}
