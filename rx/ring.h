/* ring.h — the receive ring: a thread that only receives.
 *
 * rx_ring_start() starts one thread (sl_pool, after the sandbox, so it
 * inherits it) that calls sl_link_recv() in a loop and copies every
 * datagram, with its arrival time, into a ring of at most `cap` bytes; the
 * main thread takes them out in order (rx_ring_take, then rx_ring_done once
 * handled) and runs the state machine on them. A disk that stalls the main
 * thread then costs ring space, not datagrams lost in the kernel.
 *
 * The ring is made of 4 MiB segments, allocated as they are needed and
 * freed again (beyond a small cache) once emptied, so memory follows what
 * is queued, not the cap (up to 8 emptied segments are kept: fresh memory
 * costs page faults). A datagram that does not fit is dropped and counted
 * (drops, dropped_bytes) — except on a link without a descriptor to wait
 * on (a pcap file: nothing is lost by waiting), where the receive thread
 * waits for room instead, in a ring of at most 16 MiB. When the link ends (end of a pcap file) or
 * fails, the thread stops and rx_ring_take reports it once the ring is
 * empty. rx_ring_stop() stops and joins the thread (within the 200 ms the
 * receive call may wait) and frees the ring.
 */
#ifndef RX_RING_H
#define RX_RING_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "link.h"

struct rx_ring;

struct rx_ring_rec {
	uint8_t *buf;       /* the taker's until rx_ring_done (it may decrypt in place) */
	size_t len;
	uint64_t ts_ns;     /* when the receive call returned it */
};

struct rx_ring_stats {
	uint64_t drops, dropped_bytes; /* datagrams the ring had no room for */
	uint64_t peak;                 /* most bytes queued at once */
	uint64_t queued;               /* bytes queued now */
	uint64_t mem;                  /* bytes the ring's segments take now */
	uint64_t cap;
};

#define RX_RING_SEG (4u << 20)
/* Off by default: on a 2-core host shared with sluice-tx the ring's thread
 * and copy cost more than the stalls it absorbs (the 128 MiB socket buffer
 * already holds them for free; README, Performance). 320M is 250 ms of a
 * 10 Gbit/s link, for a receiver with cores of its own. */
#define RX_RING_DEFAULT 0

int rx_ring_start(struct sl_link *link, uint64_t cap, struct rx_ring **out, struct sl_diag *d);

/* Up to n datagrams, in arrival order, waiting at most timeout_ms for the
 * first. Returns how many (0: none came in time), SL_ERR_CLOSED when the
 * link ended and everything was taken, or the link's error (diag in d).
 * The records stay valid until rx_ring_done(). */
int rx_ring_take(struct rx_ring *r, struct rx_ring_rec *rec, unsigned n, int timeout_ms,
		 struct sl_diag *d);
void rx_ring_done(struct rx_ring *r);

void rx_ring_get_stats(struct rx_ring *r, struct rx_ring_stats *st);
void rx_ring_stop(struct rx_ring *r);

#endif
