/* pace.c — token bucket in integer nano-bits on CLOCK_MONOTONIC.
 *
 * Tokens are kept in units of 1e-9 bit, so `rate_bps` bit/s adds exactly
 * `rate_bps` units per nanosecond: no division on the hot path and no
 * rounding drift. A send larger than the tokens present (a caller that did
 * not wait, or a datagram larger than the burst) is not forgiven: the debt
 * is expressed by moving `last_ns` into the future, so the bucket refills
 * only after the debt is paid. The window property (at most rate·t + burst
 * bytes in any window t) therefore holds for every caller that sends at
 * most `burst_bytes` at a time, whether or not it waited.
 */
#include "pace.h"

#include <errno.h>
#include <time.h>

#include "error.h"

#define NBIT_PER_BYTE 8000000000ull /* 8 bits * 1e9 */

int sl_pacer_init(struct sl_pacer *p, uint64_t rate_bps, uint64_t burst_bytes, uint64_t now_ns)
{
	if (burst_bytes == 0 || burst_bytes > UINT64_MAX / NBIT_PER_BYTE)
		return SL_ERR_INVAL;
	p->rate_bps = rate_bps;
	p->burst_bytes = burst_bytes;
	p->last_ns = now_ns;
	p->cap_nbit = burst_bytes * NBIT_PER_BYTE;
	p->tokens_nbit = p->cap_nbit;
	p->spilled_nbit = 0;
	return SL_OK;
}

static void spill(struct sl_pacer *p, uint64_t nbit)
{
	p->spilled_nbit = nbit > UINT64_MAX - p->spilled_nbit ? UINT64_MAX : p->spilled_nbit + nbit;
}

uint64_t sl_pacer_spilled_ns(const struct sl_pacer *p)
{
	return p->rate_bps ? p->spilled_nbit / p->rate_bps : 0;
}

/* Bring the bucket forward to now_ns. Never moves last_ns backwards (a
 * debt in the future stays; a clock that steps back adds nothing). */
static void refill(struct sl_pacer *p, uint64_t now_ns)
{
	uint64_t dt, room;

	if (now_ns <= p->last_ns)
		return;
	dt = now_ns - p->last_ns;
	p->last_ns = now_ns;
	room = p->cap_nbit - p->tokens_nbit;
	/* dt * rate may overflow; compare against room / rate first. */
	if (p->rate_bps == 0) {
		p->tokens_nbit = p->cap_nbit;
	} else if (dt >= room / p->rate_bps + 1) {
		uint64_t over_ns = dt - room / p->rate_bps;
		spill(p, over_ns > UINT64_MAX / p->rate_bps ? UINT64_MAX : over_ns * p->rate_bps);
		p->tokens_nbit = p->cap_nbit;
	} else {
		p->tokens_nbit += dt * p->rate_bps; /* < room + rate, see below */
	}
	if (p->tokens_nbit > p->cap_nbit) {
		spill(p, p->tokens_nbit - p->cap_nbit);
		p->tokens_nbit = p->cap_nbit;
	}
}

/* Tokens needed for `bytes`, saturating (a datagram cannot be that large,
 * but a caller's arithmetic error must not wrap to a tiny number). */
static uint64_t need_nbit(size_t bytes)
{
	if ((uint64_t)bytes > UINT64_MAX / NBIT_PER_BYTE)
		return UINT64_MAX;
	return (uint64_t)bytes * NBIT_PER_BYTE;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

uint64_t sl_pacer_delay(struct sl_pacer *p, uint64_t now_ns, size_t bytes)
{
	uint64_t need, wait = 0;

	if (p->rate_bps == 0)
		return 0;
	refill(p, now_ns);
	need = need_nbit(bytes);
	if (need > p->cap_nbit)
		need = p->cap_nbit; /* larger than the burst: wait for a full bucket */
	if (p->last_ns > now_ns)
		wait = p->last_ns - now_ns; /* an outstanding debt */
	if (p->tokens_nbit < need)
		wait += ceil_div(need - p->tokens_nbit, p->rate_bps);
	return wait;
}

void sl_pacer_consume(struct sl_pacer *p, uint64_t now_ns, size_t bytes)
{
	uint64_t need, debt;

	if (p->rate_bps == 0)
		return;
	refill(p, now_ns);
	need = need_nbit(bytes);
	if (p->tokens_nbit >= need) {
		p->tokens_nbit -= need;
		return;
	}
	/* Debt: the bucket stays empty until it has been paid off. */
	debt = need - p->tokens_nbit;
	p->tokens_nbit = 0;
	p->last_ns += ceil_div(debt, p->rate_bps);
}

int sl_pacer_set_rate(struct sl_pacer *p, uint64_t rate_bps, uint64_t now_ns)
{
	/* Account the time so far at the old rate, then continue at the new. */
	if (p->rate_bps)
		refill(p, now_ns);
	else if (now_ns > p->last_ns)
		p->last_ns = now_ns;
	if (p->rate_bps == 0 && rate_bps)
		p->tokens_nbit = p->cap_nbit; /* from unlimited: start full */
	if (p->last_ns > now_ns && rate_bps && p->rate_bps) {
		/* Re-express an outstanding debt in the new rate's time. */
		uint64_t debt_ns = p->last_ns - now_ns;
		uint64_t nbit;
		if (debt_ns > UINT64_MAX / p->rate_bps)
			nbit = UINT64_MAX;
		else
			nbit = debt_ns * p->rate_bps;
		p->last_ns = now_ns + ceil_div(nbit, rate_bps);
	} else if (rate_bps == 0 && p->last_ns > now_ns) {
		p->last_ns = now_ns;
	}
	p->rate_bps = rate_bps;
	return SL_OK;
}

void sl_sleep_until_ns(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* When a wait is needed, wait a little longer so that tokens for up to
 * SL_PACER_BATCH_NS of line time (at most a quarter of the burst) accumulate as
 * well: the following calls then go without sleeping. At high rates this
 * turns one sleep per datagram into one per batch (fewer wake-ups to be
 * late for); at low rates the extra is a fraction of a byte. */
#define SL_PACER_BATCH_NS 100000ull

void sl_pacer_wait(struct sl_pacer *p, size_t bytes)
{
	uint64_t now = sl_now_ns();
	uint64_t wait = sl_pacer_delay(p, now, bytes);

	if (wait) {
		unsigned __int128 x = (unsigned __int128)p->rate_bps * SL_PACER_BATCH_NS / 8000000000ull;
		uint64_t extra = x > p->burst_bytes / 4 ? p->burst_bytes / 4 : (uint64_t)x;
		/* Wake with at most a third of the bucket full: the rest takes
		 * the tokens of an oversleep of up to 2/3 burst/rate, which would
		 * otherwise spill and be lost (a sender paced in steps of a
		 * third of the bucket or more gets no extra at all). */
		if (bytes + extra > p->burst_bytes / 3)
			extra = bytes < p->burst_bytes / 3 ? p->burst_bytes / 3 - bytes : 0;
		if (extra)
			wait = sl_pacer_delay(p, now, bytes + (size_t)extra);
		/* One sleep to the deadline. Oversleeping is harmless up to
		 * the burst: tokens that accumulate meanwhile let the next
		 * sends go at once, so the average rate holds. */
		sl_sleep_until_ns(now + wait);
		now = sl_now_ns();
	}
	sl_pacer_consume(p, now, bytes);
}

size_t sl_wire_bytes_udp(size_t payload)
{
	/* preamble+SFD 8, MAC header 14, [IPv4 20 + UDP 8 + payload, padded
	 * to 46], FCS 4, inter-frame gap 12 */
	size_t l3 = payload + 28;
	if (payload > SIZE_MAX - 64)
		return SIZE_MAX;
	return 8 + 14 + (l3 < 46 ? 46 : l3) + 4 + 12;
}

size_t sl_wire_bytes_eth(size_t payload)
{
	/* as above with the sluice EtherType frame: 2-byte length + payload */
	size_t l3 = payload + 2;
	if (payload > SIZE_MAX - 64)
		return SIZE_MAX;
	return 8 + 14 + (l3 < 46 ? 46 : l3) + 4 + 12;
}

uint64_t sl_pace_burst(uint64_t rate_bps, uint64_t burst_bytes, size_t wire_per_dg)
{
	uint64_t burst = burst_bytes ? burst_bytes : rate_bps / 8000; /* 1 ms of line time */

	if (!burst_bytes && burst < SL_PACE_MIN_DEFAULT_BURST)
		burst = SL_PACE_MIN_DEFAULT_BURST;
	if (burst < 2 * (uint64_t)wire_per_dg)
		burst = 2 * (uint64_t)wire_per_dg; /* at least two datagrams */
	return burst;
}

uint64_t sl_pace_burst_max(uint64_t buffer, uint64_t line_bps, uint64_t out_bps, size_t frame)
{
	unsigned __int128 b;

	if (line_bps == 0 || buffer <= (uint64_t)frame)
		return 0;
	if (out_bps >= line_bps)
		return buffer - frame;
	/* (buffer - frame) / (1 - out/line) = (buffer - frame) * line / (line - out) */
	b = (unsigned __int128)(buffer - frame) * line_bps / (line_bps - out_bps);
	return b > UINT64_MAX ? UINT64_MAX : (uint64_t)b;
}
