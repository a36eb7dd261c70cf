/* linksim_model.c — PRNG, loss models and the FIFO model of a diode
 * (contract and the Gilbert–Elliott derivation in linksim_model.h). */
#include "linksim_model.h"
#include "splitmix.h"

#define NBIT_PER_BYTE 8000000000ull

void ls_rng_seed(struct ls_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = sl_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t ls_rng_next(struct ls_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double ls_rng_unit(struct ls_rng *r)
{
	return (double)(ls_rng_next(r) >> 11) * 0x1.0p-53;
}

int ls_loss_init(struct ls_loss *l, double rate, double mean_burst, uint64_t seed,
		 struct sl_diag *d)
{
	*l = (struct ls_loss){ 0 };
	ls_rng_seed(&l->rng, seed);
	if (!(rate >= 0.0 && rate <= 1.0))
		return sl_diag_set(d, SL_ERR_RANGE, "loss rate %g: must be between 0 and 1", rate);
	if (!(mean_burst == 0.0 || mean_burst >= 1.0))
		return sl_diag_set(d, SL_ERR_RANGE, "mean burst length %g: must be at least 1 datagram",
				   mean_burst);
	l->rate = rate;
	l->mean_burst = mean_burst;
	if (rate == 0.0) {
		l->kind = LS_LOSS_NONE;
		return SL_OK;
	}
	if (mean_burst == 0.0 || rate == 1.0) {
		l->kind = LS_LOSS_BERNOULLI;
		return SL_OK;
	}
	if (mean_burst < rate / (1.0 - rate))
		return sl_diag_set(d, SL_ERR_RANGE, "loss %g with mean burst %g is impossible: at that "
				   "loss rate bursts average at least %.3g datagrams", rate, mean_burst,
				   rate / (1.0 - rate));
	l->kind = LS_LOSS_GILBERT;
	l->p_bg = 1.0 / mean_burst;
	l->p_gb = rate / (mean_burst * (1.0 - rate));
	l->bad = ls_rng_unit(&l->rng) < rate;
	return SL_OK;
}

int ls_loss_drop(struct ls_loss *l)
{
	int drop;

	switch (l->kind) {
	case LS_LOSS_BERNOULLI:
		return ls_rng_unit(&l->rng) < l->rate;
	case LS_LOSS_GILBERT:
		drop = l->bad;
		if (l->bad)
			l->bad = !(ls_rng_unit(&l->rng) < l->p_bg);
		else
			l->bad = ls_rng_unit(&l->rng) < l->p_gb;
		return drop;
	default:
		return 0;
	}
}

int ls_queue_init(struct ls_queue_model *q, uint64_t rate_bps, uint64_t cap_bytes,
		  uint64_t now_ns)
{
	if (rate_bps == 0 || cap_bytes == 0 || cap_bytes > (1ull << 31))
		return SL_ERR_INVAL;
	*q = (struct ls_queue_model){
		.rate_bps = rate_bps,
		.cap_bytes = cap_bytes,
		.cap_nbit = cap_bytes * NBIT_PER_BYTE,
		.last_ns = now_ns,
	};
	return SL_OK;
}

static void drain(struct ls_queue_model *q, uint64_t now_ns)
{
	uint64_t dt;

	if (now_ns <= q->last_ns)
		return;
	dt = now_ns - q->last_ns;
	q->last_ns = now_ns;
	/* dt * rate may overflow: compare with backlog / rate first */
	if (dt > q->backlog_nbit / q->rate_bps)
		q->backlog_nbit = 0; /* dt*rate >= (backlog/rate + 1)*rate > backlog */
	else
		q->backlog_nbit -= dt * q->rate_bps;
}

int ls_queue_offer(struct ls_queue_model *q, uint64_t now_ns, uint64_t wire,
		   uint64_t *depart_ns)
{
	uint64_t need, b;

	drain(q, now_ns);
	if (now_ns < q->last_ns)
		now_ns = q->last_ns;
	if (wire > q->cap_bytes)
		return 1;
	need = wire * NBIT_PER_BYTE;
	if (q->backlog_nbit > q->cap_nbit - need)
		return 1;
	q->backlog_nbit += need;
	b = q->backlog_nbit / NBIT_PER_BYTE + (q->backlog_nbit % NBIT_PER_BYTE != 0);
	if (b > q->peak_bytes)
		q->peak_bytes = b;
	*depart_ns = now_ns + q->backlog_nbit / q->rate_bps +
		     (q->backlog_nbit % q->rate_bps != 0);
	return 0;
}

uint64_t ls_queue_backlog(struct ls_queue_model *q, uint64_t now_ns)
{
	drain(q, now_ns);
	return q->backlog_nbit / NBIT_PER_BYTE + (q->backlog_nbit % NBIT_PER_BYTE != 0);
}
