/* Unit tests for the token-bucket pacer (common/link/pace.c), on a fake clock. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pace.h"
#include "error.h"
#include "splitmix.h"

#define NS 1000000000ull

static uint64_t rnd_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + sl_splitmix64(s) % (hi - lo + 1);
}

/* Every window [t_i, t_j] of the sends (t, n) holds at most
 * rate·(t_j - t_i) + burst bytes (exact, in 128-bit integers). */
static void check_windows(const uint64_t *t, const uint64_t *n, size_t cnt,
			  uint64_t rate, uint64_t burst)
{
	for (size_t i = 0; i < cnt; i++) {
		unsigned __int128 sum = 0;
		for (size_t j = i; j < cnt; j++) {
			sum += n[j];
			unsigned __int128 lhs = sum * 8000000000ull;
			unsigned __int128 rhs = (unsigned __int128)rate * (t[j] - t[i]) +
						(unsigned __int128)burst * 8000000000ull;
			if (lhs > rhs)
				cr_assert_fail("window [%zu,%zu] dt=%llu ns: %llu bytes > rate %llu burst %llu",
					 i, j, (unsigned long long)(t[j] - t[i]),
					 (unsigned long long)sum, (unsigned long long)rate,
					 (unsigned long long)burst);
		}
	}
}

Test(pace, wire_bytes_udp)
{
	/* 8 preamble + 14 MAC + max(28 + p, 46) + 4 FCS + 12 IFG */
	cr_assert_eq(sl_wire_bytes_udp(0), 84);
	cr_assert_eq(sl_wire_bytes_udp(18), 84);
	cr_assert_eq(sl_wire_bytes_udp(19), 85);
	cr_assert_eq(sl_wire_bytes_udp(1400), 1466);
	cr_assert_eq(sl_wire_bytes_udp(1472), 1538); /* full 1500-byte MTU frame */
	cr_assert_eq(sl_wire_bytes_udp(8972), 9038); /* jumbo */
}

Test(pace, wire_bytes_eth)
{
	/* the raw frame carries a 2-byte length before the datagram */
	cr_assert_eq(sl_wire_bytes_eth(0), 84);
	cr_assert_eq(sl_wire_bytes_eth(44), 84);
	cr_assert_eq(sl_wire_bytes_eth(45), 85);
	cr_assert_eq(sl_wire_bytes_eth(1498), 1538);
}

Test(pace, init_rejects_bad_burst)
{
	struct sl_pacer p;
	cr_assert_eq(sl_pacer_init(&p, 1000000, 0, 0), SL_ERR_INVAL);
	cr_assert_eq(sl_pacer_init(&p, 1000000, 1ull << 40, 0), SL_ERR_INVAL);
	cr_assert_eq(sl_pacer_init(&p, 1000000, 1ull << 31, 0), SL_OK);
}

Test(pace, unlimited_never_waits)
{
	struct sl_pacer p;
	cr_assert_eq(sl_pacer_init(&p, 0, 1500, 0), SL_OK);
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(sl_pacer_delay(&p, 5, 9000), 0);
		sl_pacer_consume(&p, 5, 9000);
	}
}

Test(pace, burst_then_exact_rate)
{
	struct sl_pacer p;
	/* 8 Mbit/s = 1 byte per microsecond; burst 10000 bytes */
	cr_assert_eq(sl_pacer_init(&p, 8000000, 10000, 1000), SL_OK);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(sl_pacer_delay(&p, 1000, 1000), 0, "burst send %d", i);
		sl_pacer_consume(&p, 1000, 1000);
	}
	/* bucket empty: 1000 bytes need exactly 1000 us */
	cr_assert_eq(sl_pacer_delay(&p, 1000, 1000), 1000000);
	cr_assert_eq(sl_pacer_delay(&p, 1000 + 400000, 1000), 600000);
	cr_assert_eq(sl_pacer_delay(&p, 1000 + 1000000, 1000), 0);
	sl_pacer_consume(&p, 1000 + 1000000, 1000);
	/* a long pause refills only up to the burst */
	uint64_t t = 1000 + 1000000 + 3600 * NS;
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(sl_pacer_delay(&p, t, 1000), 0);
		sl_pacer_consume(&p, t, 1000);
	}
	cr_assert_eq(sl_pacer_delay(&p, t, 1), 1000);
}

Test(pace, window_property_random_patterns)
{
	enum { N = 1200 };
	uint64_t seed = 42;
	uint64_t *t = malloc(N * sizeof *t), *n = malloc(N * sizeof *n);

	for (int pattern = 0; pattern < 60; pattern++) {
		uint64_t rate = rnd_range(&seed, 9600, 100000000000ull);
		uint64_t maxdg = rnd_range(&seed, 64, 9000);
		uint64_t burst = rnd_range(&seed, maxdg, maxdg * 64);
		uint64_t now = sl_splitmix64(&seed) >> 8;
		struct sl_pacer p;
		cr_assert_eq(sl_pacer_init(&p, rate, burst, now), SL_OK);
		/* typical time per datagram, to draw idle gaps on the same scale */
		uint64_t dg_ns = maxdg * 8000000000ull / rate + 1;
		for (size_t i = 0; i < N; i++) {
			uint64_t bytes = rnd_range(&seed, 1, maxdg);
			switch (sl_splitmix64(&seed) % 4) {
			case 0: now += rnd_range(&seed, 0, dg_ns * 4); break; /* idle */
			case 1: now += rnd_range(&seed, 0, 1000); break;      /* eager */
			default: break;                                      /* back to back */
			}
			now += sl_pacer_delay(&p, now, bytes);
			/* the window property must hold whatever the caller's
			 * lateness: sometimes check again a bit later */
			if (sl_splitmix64(&seed) % 8 == 0)
				now += rnd_range(&seed, 0, dg_ns);
			cr_assert_eq(sl_pacer_delay(&p, now, bytes), 0);
			sl_pacer_consume(&p, now, bytes);
			t[i] = now;
			n[i] = bytes;
		}
		check_windows(t, n, N, rate, burst);
	}
	free(t);
	free(n);
}

Test(pace, oversized_sends_bound_by_largest_send)
{
	/* Datagrams larger than the burst: the bound holds with the burst
	 * replaced by the largest single send (the debt carries the rest). */
	enum { N = 800 };
	uint64_t seed = 7;
	uint64_t t[N], n[N];
	struct sl_pacer p;
	uint64_t rate = 1000000, burst = 1000, now = 0, maxsend = 0;
	cr_assert_eq(sl_pacer_init(&p, rate, burst, now), SL_OK);
	for (size_t i = 0; i < N; i++) {
		uint64_t bytes = rnd_range(&seed, 1, 3000);
		now += rnd_range(&seed, 0, 2000000) * (sl_splitmix64(&seed) % 2);
		now += sl_pacer_delay(&p, now, bytes);
		sl_pacer_consume(&p, now, bytes);
		t[i] = now;
		n[i] = bytes;
		if (bytes > maxsend)
			maxsend = bytes;
	}
	check_windows(t, n, N, rate, maxsend);
}

Test(pace, overdraft_becomes_debt)
{
	struct sl_pacer p;
	/* 8 Mbit/s: 1 byte/us; burst 1000 */
	cr_assert_eq(sl_pacer_init(&p, 8000000, 1000, 0), SL_OK);
	sl_pacer_consume(&p, 0, 1000);
	sl_pacer_consume(&p, 0, 500); /* did not wait: 500 us of debt */
	cr_assert_eq(sl_pacer_delay(&p, 0, 1), 501000);
	cr_assert_eq(sl_pacer_delay(&p, 200000, 100), 400000);
	/* a datagram larger than the burst waits for a full bucket */
	cr_assert_eq(sl_pacer_delay(&p, 500000, 5000), 1000000);
}

Test(pace, long_run_rate_is_exact)
{
	/* back-to-back senders for 10 simulated seconds at several rates:
	 * the bytes sent are rate·t + burst, less at most one datagram. */
	static const uint64_t rates[] = { 9600, 1000000, 250000000, 1000000000,
					  10000000000ull, 100000000000ull };
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		struct sl_pacer p;
		uint64_t burst = 16384, now = 123, end = 123 + 10 * NS, sent = 0;
		size_t dg = 1466;
		cr_assert_eq(sl_pacer_init(&p, rates[r], burst, now), SL_OK);
		for (;;) {
			uint64_t d = sl_pacer_delay(&p, now, dg);
			if (now + d > end)
				break;
			now += d;
			sl_pacer_consume(&p, now, dg);
			sent += dg;
		}
		unsigned __int128 bound = (unsigned __int128)rates[r] * 10 / 8 + burst;
		cr_assert((unsigned __int128)sent <= bound, "rate %llu: over", (unsigned long long)rates[r]);
		cr_assert((unsigned __int128)sent + dg > bound, "rate %llu: sent %llu, bound %llu",
			  (unsigned long long)rates[r], (unsigned long long)sent,
			  (unsigned long long)bound);
	}
}

Test(pace, rate_changes_9600_to_100G)
{
	/* Step through rates from 9600 bit/s to 100 Gbit/s and back, each for
	 * a simulated phase; check each phase's volume and the window bound
	 * within it, and that nothing overflows after long idle times. */
	static const uint64_t rates[] = { 9600, 100000000000ull, 1000000, 40000000000ull,
					  9600, 1000000000, 100000000000ull };
	struct sl_pacer p;
	uint64_t burst = 65536, now = 5;
	cr_assert_eq(sl_pacer_init(&p, rates[0], burst, now), SL_OK);
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		enum { N = 400 };
		uint64_t t[N], n[N];
		size_t cnt = 0;
		now += 86400 * NS * (r + 1); /* a long idle gap */
		cr_assert_eq(sl_pacer_set_rate(&p, rates[r], now), SL_OK);
		/* drain the burst so the phase measures the rate */
		now += sl_pacer_delay(&p, now, burst);
		sl_pacer_consume(&p, now, burst);
		uint64_t start = now, sent = 0;
		while (cnt < N) {
			size_t dg = 1400;
			now += sl_pacer_delay(&p, now, dg);
			sl_pacer_consume(&p, now, dg);
			t[cnt] = now;
			n[cnt++] = dg;
			sent += dg;
		}
		check_windows(t, n, cnt, rates[r], burst);
		/* bucket was empty at start: sent·8e9 = rate·elapsed, to within rounding */
		unsigned __int128 lhs = (unsigned __int128)sent * 8000000000ull;
		unsigned __int128 rhs = (unsigned __int128)rates[r] * (now - start);
		cr_assert(lhs <= rhs + (unsigned __int128)rates[r] * N,
			  "rate %llu too fast", (unsigned long long)rates[r]);
		cr_assert(lhs + (unsigned __int128)rates[r] * N >= rhs,
			  "rate %llu too slow", (unsigned long long)rates[r]);
	}
	/* switching to unlimited and back */
	cr_assert_eq(sl_pacer_set_rate(&p, 0, now), SL_OK);
	cr_assert_eq(sl_pacer_delay(&p, now, 1 << 20), 0);
	cr_assert_eq(sl_pacer_set_rate(&p, 9600, now), SL_OK);
	cr_assert_eq(sl_pacer_delay(&p, now, burst), 0);
	sl_pacer_consume(&p, now, burst);
	cr_assert_eq(sl_pacer_delay(&p, now, 1200), NS); /* 9600 bits at 9600 bit/s */
}

Test(pace, real_clock_wait_holds_rate)
{
	/* A short real-clock check: 200 datagrams at 20 Mbit/s through
	 * sl_pacer_wait never run ahead of rate·t + burst. (Accuracy is
	 * measured by the benchmark, not asserted here.) */
	struct sl_pacer p;
	uint64_t rate = 20000000, burst = 3000, start = sl_now_ns(), sent = 0;
	cr_assert_eq(sl_pacer_init(&p, rate, burst, start), SL_OK);
	for (int i = 0; i < 200; i++) {
		sl_pacer_wait(&p, 1466);
		sent += 1466;
		uint64_t el = sl_now_ns() - start;
		cr_assert((unsigned __int128)sent * 8000000000ull <=
			  (unsigned __int128)rate * el + (unsigned __int128)burst * 8000000000ull);
	}
}

/* A sender takes a step's tokens and is then preempted for a random time
 * before the step reaches the wire (as tx/sender.c can be between
 * sl_pacer_wait and sendmsg). With the bucket one step smaller than the
 * burst, what reaches the wire still keeps the window bound of the burst;
 * with the full burst as bucket it does not. */
static int delayed_steps_exceed(uint64_t burst, uint64_t step, uint64_t cap, uint64_t seed)
{
	enum { N = 3000 };
	uint64_t rate = 490000000ull, now = 1000000, *t = malloc(N * sizeof *t), *n = malloc(N * sizeof *n);
	uint64_t step_ns = step * 8000000000ull / rate;
	struct sl_pacer p;
	int bad = 0;

	cr_assert_eq(sl_pacer_init(&p, rate, cap, now), SL_OK);
	for (size_t i = 0; i < N; i++) {
		uint64_t late = 0;
		now += sl_pacer_delay(&p, now, step);
		sl_pacer_consume(&p, now, step);
		if (sl_splitmix64(&seed) % 16 == 0)
			late = rnd_range(&seed, 0, 20 * step_ns); /* preempted */
		now += late;
		t[i] = now; /* on the wire */
		n[i] = step;
	}
	for (size_t i = 0; i < N && !bad; i++) {
		unsigned __int128 sum = 0;
		for (size_t j = i; j < N && j < i + 64; j++) {
			sum += n[j];
			if (sum * 8000000000ull > (unsigned __int128)rate * (t[j] - t[i]) +
			    (unsigned __int128)burst * 8000000000ull)
				bad = 1;
		}
	}
	free(t);
	free(n);
	return bad;
}

Test(pace, bucket_one_step_smaller_absorbs_a_preempted_send)
{
	uint64_t burst = 48 * 1024, step = burst / 4;

	cr_assert(!delayed_steps_exceed(burst, step, burst - step, 7),
		  "bucket = burst - step must keep the burst's window bound");
	cr_assert(delayed_steps_exceed(burst, step, burst, 7),
		  "the full burst as bucket should exceed it here (else the test proves nothing)");
}

Test(pace, spilled_counts_unused_line_time)
{
	struct sl_pacer p;
	uint64_t rate = 1000000000ull, now = NS; /* 1 Gbit/s: 1 byte = 8 ns */

	cr_assert_eq(sl_pacer_init(&p, rate, 10000, now), SL_OK);
	cr_assert_eq(sl_pacer_spilled_ns(&p), 0);
	sl_pacer_consume(&p, now, 10000);             /* empty */
	now += 50000;                                  /* refills 6250 bytes */
	sl_pacer_consume(&p, now, 6000);               /* 250 left */
	cr_assert_eq(sl_pacer_spilled_ns(&p), 0);
	now += 1000000;                                /* 1 ms asleep: 125000 bytes of line time */
	cr_assert_eq(sl_pacer_delay(&p, now, 1000), 0);
	/* 9750 bytes of room filled in 78 us; the other 922 us were lost */
	cr_assert_eq(sl_pacer_spilled_ns(&p), 1000000 - 78000, "spilled %llu ns",
		     (unsigned long long)sl_pacer_spilled_ns(&p));
	now += 8;                                      /* full bucket: all of it is lost */
	sl_pacer_consume(&p, now, 1);
	cr_assert_eq(sl_pacer_spilled_ns(&p), 1000000 - 78000 + 8);
}

/* sluice-tx's burst (sl_pace_burst) and the largest burst a diode buffer
 * takes (sl_pace_burst_max): the rule of fpga/README.md and sluice-tx(8). */
Test(pace, default_burst)
{
	size_t dg = sl_wire_bytes_udp(1472); /* 1538: a full 1500-byte-MTU frame */

	cr_assert_eq(dg, 1538);
	cr_assert_eq(sl_pace_burst(1000000000ull, 0, dg), 125000);   /* 1 ms at 1 Gb/s */
	cr_assert_eq(sl_pace_burst(900000000ull, 0, dg), 112500);    /* 112 KB at 900 Mb/s */
	cr_assert_eq(sl_pace_burst(100000000ull, 0, dg), 48 * 1024); /* floor */
	cr_assert_eq(sl_pace_burst(1000000000ull, 64 * 1024, dg), 64 * 1024); /* given */
	cr_assert_eq(sl_pace_burst(1000000000ull, 1000, dg), 2 * 1538);       /* two datagrams */
}

Test(pace, burst_max_reference_diode)
{
	/* 8 KiB FIFO, 900 Mb/s out of a 1 Gb/s line, 1538-byte frames:
	 * (8192 - 1538) / (1 - 0.9) = 66540 */
	cr_assert_eq(sl_pace_burst_max(8192, 1000000000ull, 900000000ull, 1538), 66540);
	cr_assert_geq(sl_pace_burst_max(8192, 1000000000ull, 900000000ull, 1538), 64 * 1024);
	cr_assert_lt(sl_pace_burst_max(8192, 1000000000ull, 900000000ull, 1538),
		     sl_pace_burst(900000000ull, 0, 1538)); /* the default overflows it */
	/* draining at the line rate or faster: the buffer less a frame */
	cr_assert_eq(sl_pace_burst_max(8192, 1000000000ull, 1000000000ull, 1538), 8192 - 1538);
	cr_assert_eq(sl_pace_burst_max(8192, 1000000000ull, 2000000000ull, 1538), 8192 - 1538);
	/* not even one frame fits */
	cr_assert_eq(sl_pace_burst_max(1538, 1000000000ull, 900000000ull, 1538), 0);
	cr_assert_eq(sl_pace_burst_max(8192, 0, 0, 1538), 0);
	/* a diode that does not drain at all holds just what it holds */
	cr_assert_eq(sl_pace_burst_max(8192, 1000000000ull, 0, 1538), 8192 - 1538);
	/* no overflow: 1 GiB buffer, 10 Tb/s line, 1 b/s less out saturates */
	cr_assert_eq(sl_pace_burst_max(1ull << 30, 10000000000000ull, 9999999999999ull, 0), UINT64_MAX);
	cr_assert_eq(sl_pace_burst_max(1ull << 20, 10000000000000ull, 9999999999999ull, 0),
		     (1ull << 20) * 10000000000000ull);
}
