/* pace.h — token-bucket pacer on CLOCK_MONOTONIC.
 *
 * Contract. The bucket fills at `rate_bps` bits per second of *wire* time
 * and holds at most `burst_bytes`; sending n wire bytes takes n tokens.
 * sl_pacer_delay() says how long to wait before n bytes may go; a caller
 * that always waits that long never exceeds rate·t + burst bytes in any
 * window of length t. Time is passed in explicitly (nanoseconds) so tests
 * can drive a fake clock; sl_pacer_wait() is the real-clock convenience
 * that sleeps (clock_nanosleep, never a busy spin at low rates).
 *
 * Wire bytes: sl_wire_bytes_udp() gives what one UDP datagram of `payload`
 * bytes costs on Ethernet: preamble+SFD 8, header 14, IPv4 20, UDP 8,
 * payload (frame padded to the 64-byte minimum), FCS 4, inter-frame gap 12.
 * sl_wire_bytes_eth() is the same for a raw sluice-EtherType frame, whose
 * payload is a 2-byte length followed by the datagram (see frame.h).
 *
 * A send of more tokens than are present (a caller that did not wait, or a
 * datagram larger than the burst) becomes a debt that delays later sends:
 * the window bound then holds with burst replaced by the largest single
 * send. Rates from 1 bit/s to 10^12 bit/s and bursts up to 2^31 bytes are
 * computed exactly in 64-bit integers.
 *
 * Real-clock accuracy: when sl_pacer_wait() must sleep it also lets up to
 * 100 us of line time (at most a quarter of the burst, and never more than
 * fills a third of the bucket) accumulate, so a sender calling it per datagram
 * wakes about once per 100 us, not once per datagram. Tokens beyond the burst are lost while a sender oversleeps, so
 * the achieved rate falls short when wake-ups are late by more than about
 * 2/3 of burst/rate: give the pacer a burst of at least ~0.5 ms of line
 * time where the diode's queue allows, and on an idle host a lower timer
 * slack (prctl PR_SET_TIMERSLACK) helps. tests/bench/link.c measures it.
 */
#ifndef SL_PACE_H
#define SL_PACE_H

#include <stddef.h>
#include <stdint.h>
#include "clock.h"

struct sl_pacer {
	uint64_t rate_bps;     /* bits per second; 0 = unlimited */
	uint64_t burst_bytes;  /* bucket capacity, >= one datagram */
	uint64_t last_ns;      /* time of the last refill */
	uint64_t tokens_nbit;  /* tokens, in units of 1e-9 bit (bits * 1e9) */
	uint64_t cap_nbit;     /* burst_bytes * 8e9 */
	uint64_t spilled_nbit; /* tokens lost because the bucket was full (a
				* sender that woke or sent late: line time
				* that went unused), saturating */
};

/* Start full (a burst may go at once). rate_bps 0 disables pacing.
 * Returns 0, or SL_ERR_INVAL when burst is 0 or too large to represent. */
int sl_pacer_init(struct sl_pacer *p, uint64_t rate_bps, uint64_t burst_bytes, uint64_t now_ns);

/* Nanoseconds to wait until `bytes` tokens are available (0: now). */
uint64_t sl_pacer_delay(struct sl_pacer *p, uint64_t now_ns, size_t bytes);

/* Take `bytes` tokens at time now_ns (after waiting sl_pacer_delay). */
void sl_pacer_consume(struct sl_pacer *p, uint64_t now_ns, size_t bytes);

/* Real clock: sleep until `bytes` may be sent, then consume them. The
 * tokens are taken before the caller sends: a caller that may be
 * preempted between the two should init the bucket one send smaller than
 * the burst it must respect (tx/sender.c does). */
void sl_pacer_wait(struct sl_pacer *p, size_t bytes);

/* Line time lost so far to a full bucket, in ns at the current rate: how
 * far a sender that always had data fell behind rate * elapsed. */
uint64_t sl_pacer_spilled_ns(const struct sl_pacer *p);

/* Change the rate at now_ns: time before counts at the old rate, time
 * after at the new (0 = unlimited). Tokens and any debt carry over. */
int sl_pacer_set_rate(struct sl_pacer *p, uint64_t rate_bps, uint64_t now_ns);

/* Sleep until CLOCK_MONOTONIC reaches deadline_ns (clock_nanosleep). */
void sl_sleep_until_ns(uint64_t deadline_ns);

/* sluice-tx's burst: burst_bytes when set (non-zero), else 1 ms of line
 * time at rate_bps but at least SL_PACE_MIN_DEFAULT_BURST; never less than
 * two datagrams of wire_per_dg wire bytes. */
#define SL_PACE_MIN_DEFAULT_BURST (48u * 1024u)
uint64_t sl_pace_burst(uint64_t rate_bps, uint64_t burst_bytes, size_t wire_per_dg);

/* The largest burst a store-and-forward buffer of `buffer` bytes takes
 * without overflowing (fpga/README.md, sluice-tx(8)): the burst arrives at
 * line_bps while the buffer drains at out_bps, so it peaks at about
 * B * (1 - out/line) plus the frame being received, and
 *     B <= (buffer - frame) / (1 - out/line),
 * rounded down. A buffer that drains at the line rate or faster bounds B by
 * buffer - frame. 0 when the buffer cannot hold one frame (or line_bps is 0). */
uint64_t sl_pace_burst_max(uint64_t buffer, uint64_t line_bps, uint64_t out_bps, size_t frame);

size_t sl_wire_bytes_udp(size_t payload); /* Ethernet wire cost of a UDP datagram */
size_t sl_wire_bytes_eth(size_t payload); /* ... of a raw sluice-EtherType frame */

#endif
