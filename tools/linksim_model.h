/* linksim_model.h — the pure models behind `sluice linksim`: a seeded
 * PRNG, datagram loss (Bernoulli or Gilbert–Elliott) and a diode's FIFO
 * drained at a fixed wire rate. No I/O, no clocks: time is passed in.
 *
 * PRNG: xoshiro256** seeded by expanding a 64-bit seed with splitmix64;
 * the same seed gives the same sequence on every platform.
 *
 * Loss. Bernoulli: each datagram is lost with probability P.
 * Gilbert–Elliott (two-state Markov chain, evaluated once per datagram):
 * state Good passes every datagram, state Bad drops every datagram. From
 * Bad the chain returns to Good with probability r, so loss bursts are
 * geometric with mean length L = 1/r. From Good it enters Bad with
 * probability p; the stationary share of Bad, which is the loss rate, is
 * p/(p+r) = P, hence
 *     r = 1/L,   p = P·r/(1−P) = P / (L·(1−P)).
 * p must not exceed 1, so L >= P/(1−P) (and L >= 1). The first state is
 * drawn from the stationary distribution. A datagram is judged in the
 * current state, then the chain steps.
 *
 * Queue. A FIFO of `cap` bytes (counted in wire bytes, sl_wire_bytes_udp:
 * headers, preamble and gap included, i.e. link time) drained continuously
 * at `rate` bit/s. A datagram arriving at time t is dropped when the
 * backlog plus its own wire size would exceed cap ("queue overflow");
 * otherwise it is queued and its last bit leaves at
 *     depart = t + (backlog after it) / rate.
 * Integer arithmetic in 1e-9 bit, as the pacer (pace.h): an input that a
 * sl_pacer at the same rate with burst <= cap admitted never overflows.
 */
#ifndef LINKSIM_MODEL_H
#define LINKSIM_MODEL_H

#include <stdint.h>
#include "error.h"

struct ls_rng {
	uint64_t s[4];
};

void ls_rng_seed(struct ls_rng *r, uint64_t seed);
uint64_t ls_rng_next(struct ls_rng *r);
double ls_rng_unit(struct ls_rng *r); /* uniform in [0, 1), 53 bits */

enum ls_loss_kind { LS_LOSS_NONE, LS_LOSS_BERNOULLI, LS_LOSS_GILBERT };

struct ls_loss {
	enum ls_loss_kind kind;
	double rate;        /* P, the long-run loss rate */
	double mean_burst;  /* L (Gilbert only) */
	double p_gb;        /* Good -> Bad */
	double p_bg;        /* Bad -> Good */
	int bad;            /* current state (Gilbert) */
	struct ls_rng rng;
};

/* rate in [0,1]; mean_burst 0 selects Bernoulli, else Gilbert–Elliott
 * with that mean burst length (>= 1 and >= rate/(1-rate)). Returns
 * SL_ERR_RANGE with a reason when the pair is impossible. */
int ls_loss_init(struct ls_loss *l, double rate, double mean_burst, uint64_t seed,
		 struct sl_diag *d);

/* 1: drop this datagram, 0: pass it. */
int ls_loss_drop(struct ls_loss *l);

struct ls_queue_model {
	uint64_t rate_bps;
	uint64_t cap_bytes;
	uint64_t cap_nbit;     /* cap_bytes * 8e9 */
	uint64_t backlog_nbit; /* wire bits * 1e9 not yet sent */
	uint64_t last_ns;
	uint64_t peak_bytes;   /* largest backlog seen */
};

/* rate_bps >= 1; 1 <= cap_bytes <= 2^31. */
int ls_queue_init(struct ls_queue_model *q, uint64_t rate_bps, uint64_t cap_bytes,
		  uint64_t now_ns);

/* A datagram of `wire` bytes arrives at now_ns (times never go back; an
 * earlier time is taken as the latest seen). Returns 0 and sets *depart_ns,
 * or 1 when it does not fit (dropped). */
int ls_queue_offer(struct ls_queue_model *q, uint64_t now_ns, uint64_t wire,
		   uint64_t *depart_ns);

/* Backlog in wire bytes at now_ns (rounded up). */
uint64_t ls_queue_backlog(struct ls_queue_model *q, uint64_t now_ns);

#endif
