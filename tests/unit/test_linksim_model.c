/* Unit tests for the linksim models (tools/linksim_model.c): PRNG,
 * Bernoulli and Gilbert–Elliott loss, and the diode FIFO. */
#include <criterion/criterion.h>
#include <math.h>

#include "linksim_model.h"
#include "pace.h"

#define DRAWS 1000000

struct measured {
	double rate;
	double mean_burst;
	unsigned bursts;
};

static struct measured measure(struct ls_loss *l, unsigned n)
{
	unsigned lost = 0, bursts = 0;
	int prev = 0;
	for (unsigned i = 0; i < n; i++) {
		int d = ls_loss_drop(l);
		lost += (unsigned)d;
		if (d && !prev)
			bursts++;
		prev = d;
	}
	return (struct measured){ (double)lost / n, bursts ? (double)lost / bursts : 0, bursts };
}

Test(linksim_model, rng_is_deterministic)
{
	struct ls_rng a, b, c;
	ls_rng_seed(&a, 12345);
	ls_rng_seed(&b, 12345);
	ls_rng_seed(&c, 12346);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = ls_rng_next(&a);
		cr_assert_eq(x, ls_rng_next(&b));
		differ += x != ls_rng_next(&c);
	}
	cr_assert_gt(differ, 990);
	/* unit draws are in [0,1) and average 1/2 */
	double sum = 0;
	for (int i = 0; i < 100000; i++) {
		double u = ls_rng_unit(&a);
		cr_assert(u >= 0.0 && u < 1.0);
		sum += u;
	}
	cr_assert(fabs(sum / 100000 - 0.5) < 0.005, "mean %f", sum / 100000);
}

Test(linksim_model, bernoulli_rate)
{
	static const double rates[] = { 0.001, 0.02, 0.1, 0.5 };
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		struct ls_loss l;
		double p = rates[i];
		cr_assert_eq(ls_loss_init(&l, p, 0, 99 + i, NULL), SL_OK);
		cr_assert_eq(l.kind, LS_LOSS_BERNOULLI);
		struct measured m = measure(&l, DRAWS);
		double sd = sqrt(p * (1 - p) / DRAWS);
		cr_assert(fabs(m.rate - p) < 5 * sd, "P=%g measured %g (5 sd = %g)", p, m.rate, 5 * sd);
		/* independent losses: bursts average 1/(1-P) */
		cr_assert(fabs(m.mean_burst - 1 / (1 - p)) < 0.05 / (1 - p), "P=%g mean burst %g", p,
			  m.mean_burst);
	}
}

Test(linksim_model, gilbert_rate_and_burst_length)
{
	static const struct { double p, L, tol_rate, tol_burst; } c[] = {
		/* relative tolerances: the number of bursts in 10^6 draws
		 * (P·10^6/L) sets the statistical spread */
		{ 0.02, 50, 0.15, 0.12 },  /* ~400 bursts */
		{ 0.02, 5, 0.06, 0.04 },   /* ~4000 bursts */
		{ 0.05, 2, 0.04, 0.03 },   /* ~25000 bursts */
		{ 0.30, 10, 0.06, 0.05 },  /* ~30000 bursts */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct ls_loss l;
		cr_assert_eq(ls_loss_init(&l, c[i].p, c[i].L, 2024 + i, NULL), SL_OK);
		cr_assert_eq(l.kind, LS_LOSS_GILBERT);
		cr_assert(fabs(l.p_bg - 1 / c[i].L) < 1e-12);
		cr_assert(fabs(l.p_gb - c[i].p / (c[i].L * (1 - c[i].p))) < 1e-12);
		struct measured m = measure(&l, DRAWS);
		cr_assert(fabs(m.rate - c[i].p) < c[i].tol_rate * c[i].p,
			  "P=%g L=%g: measured rate %g", c[i].p, c[i].L, m.rate);
		cr_assert(fabs(m.mean_burst - c[i].L) < c[i].tol_burst * c[i].L,
			  "P=%g L=%g: measured mean burst %g over %u bursts", c[i].p, c[i].L,
			  m.mean_burst, m.bursts);
	}
}

Test(linksim_model, loss_is_deterministic_with_a_seed)
{
	struct ls_loss a, b, c;
	cr_assert_eq(ls_loss_init(&a, 0.05, 8, 77, NULL), SL_OK);
	cr_assert_eq(ls_loss_init(&b, 0.05, 8, 77, NULL), SL_OK);
	cr_assert_eq(ls_loss_init(&c, 0.05, 8, 78, NULL), SL_OK);
	int differ = 0;
	for (int i = 0; i < 100000; i++) {
		int x = ls_loss_drop(&a);
		cr_assert_eq(x, ls_loss_drop(&b), "draw %d", i);
		differ += x != ls_loss_drop(&c);
	}
	cr_assert_gt(differ, 0);
}

Test(linksim_model, loss_edge_cases_and_errors)
{
	struct ls_loss l;
	struct sl_diag d;
	cr_assert_eq(ls_loss_init(&l, 0, 0, 1, NULL), SL_OK);
	cr_assert_eq(measure(&l, 10000).rate, 0.0);
	cr_assert_eq(ls_loss_init(&l, 0, 20, 1, NULL), SL_OK);
	cr_assert_eq(measure(&l, 10000).rate, 0.0);
	cr_assert_eq(ls_loss_init(&l, 1, 0, 1, NULL), SL_OK);
	cr_assert_eq(measure(&l, 10000).rate, 1.0);
	cr_assert_eq(ls_loss_init(&l, 1, 3, 1, NULL), SL_OK);
	cr_assert_eq(measure(&l, 10000).rate, 1.0);
	cr_assert_eq(ls_loss_init(&l, 0.9, 2, 1, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "at least 9 datagrams"), "%s", d.msg);
	cr_assert_eq(ls_loss_init(&l, 0.1, 0.5, 1, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "at least 1 datagram"), "%s", d.msg);
	cr_assert_eq(ls_loss_init(&l, 1.5, 0, 1, &d), SL_ERR_RANGE);
}

Test(linksim_model, queue_departures_are_exact)
{
	struct ls_queue_model q;
	uint64_t dep;
	/* 8 Mbit/s: one wire byte per microsecond */
	cr_assert_eq(ls_queue_init(&q, 8000000, 10000, 0), SL_OK);
	cr_assert_eq(ls_queue_offer(&q, 1000, 1466, &dep), 0);
	cr_assert_eq(dep, 1000 + 1466000);
	cr_assert_eq(ls_queue_offer(&q, 1000, 1466, &dep), 0);
	cr_assert_eq(dep, 1000 + 2 * 1466000);
	cr_assert_eq(ls_queue_backlog(&q, 1000 + 1466000), 1466);
	cr_assert_eq(ls_queue_backlog(&q, 10000000), 0);
	/* a datagram bigger than the queue never fits */
	cr_assert_eq(ls_queue_offer(&q, 20000000, 10001, &dep), 1);
	cr_assert_eq(ls_queue_init(&q, 0, 10000, 0), SL_ERR_INVAL);
	cr_assert_eq(ls_queue_init(&q, 1, 0, 0), SL_ERR_INVAL);
}

Test(linksim_model, queue_drops_when_overrun)
{
	/* 2x the drain rate, back to back: after the queue fills, about
	 * half of what arrives is dropped, and what passes leaves at the
	 * drain rate. */
	struct ls_queue_model q;
	uint64_t rate = 100000000, cap = 65536, t = 0, dep = 0, first = 0;
	unsigned n = 20000, passed = 0, dropped = 0, w = 1466;
	cr_assert_eq(ls_queue_init(&q, rate, cap, 0), SL_OK);
	for (unsigned i = 0; i < n; i++) {
		uint64_t dd;
		if (ls_queue_offer(&q, t, w, &dd)) {
			dropped++;
		} else {
			cr_assert_geq(dd, dep, "departures in FIFO order");
			if (!passed)
				first = dd;
			dep = dd;
			passed++;
		}
		t += (uint64_t)w * 8000000000ull / (2 * rate); /* arrivals at 2x */
	}
	cr_assert_gt(dropped, 0);
	/* passed = n/2 plus what the queue held */
	cr_assert(passed >= n / 2 && passed <= n / 2 + cap / w + 2, "passed %u", passed);
	/* departures are spaced at exactly the drain rate */
	cr_assert_eq(dep - first, (uint64_t)(passed - 1) * w * 8000000000ull / rate);
	cr_assert_leq(q.peak_bytes, cap);
}

Test(linksim_model, queue_never_drops_paced_input)
{
	/* A sender paced by sl_pacer at the drain rate (or below) with a
	 * burst that fits the queue never overflows it, whatever its sizes
	 * and pauses. Rates from 9600 bit/s to 100 Gbit/s. */
	uint64_t seed = 1;
	struct ls_rng r;
	ls_rng_seed(&r, seed);
	for (int pattern = 0; pattern < 40; pattern++) {
		uint64_t rate = 9600 + ls_rng_next(&r) % 100000000000ull;
		uint64_t cap = 9100 + ls_rng_next(&r) % (1 << 20);
		uint64_t send_rate = rate - (pattern % 2 ? rate / 50 : 0); /* R or 0.98 R */
		uint64_t now = ls_rng_next(&r) >> 4, last_dep = 0;
		struct sl_pacer p;
		struct ls_queue_model q;
		cr_assert_eq(sl_pacer_init(&p, send_rate, cap, now), SL_OK);
		cr_assert_eq(ls_queue_init(&q, rate, cap, now), SL_OK);
		for (int i = 0; i < 20000; i++) {
			uint64_t w = sl_wire_bytes_udp(1 + ls_rng_next(&r) % 9000), dep;
			if (ls_rng_next(&r) % 16 == 0)
				now += ls_rng_next(&r) % (w * 8000000000ull / rate * 8 + 1);
			now += sl_pacer_delay(&p, now, w);
			sl_pacer_consume(&p, now, w);
			cr_assert_eq(ls_queue_offer(&q, now, w, &dep), 0,
				     "pattern %d datagram %d dropped (rate %llu cap %llu)", pattern, i,
				     (unsigned long long)rate, (unsigned long long)cap);
			cr_assert_geq(dep, last_dep);
			/* the time in the queue is bounded by cap / rate */
			cr_assert_leq(dep - now, cap * 8000000000ull / rate + 1);
			last_dep = dep;
		}
	}
}
