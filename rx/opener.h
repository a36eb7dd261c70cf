/* opener.h — datagrams opened (authenticated, decrypted) on several threads.
 *
 * The main thread takes a batch out of the receive ring; rx_opener_open()
 * opens every datagram of it in place, the main thread and the helpers
 * sharing the batch in runs of 16, each thread with a receiver of its own
 * (sl_wire_rx_clone: its own key cache and cipher contexts). Results come
 * back per datagram, in the batch's order, and the main thread hands them
 * to rx_handle_opened() in that order: the state machine stays on one
 * thread and sees exactly what rx_handle() would have shown it.
 *
 * rx_opener_new() clones the receivers (before the sandbox: key memory is
 * locked), rx_opener_start() starts the helpers (after it, so they inherit
 * it). With 0 helpers the main thread opens alone. */
#ifndef RX_OPENER_H
#define RX_OPENER_H

#include <stdint.h>

#include "ring.h"
#include "wire.h"

struct rx_opened {
	int r;                   /* sl_wire_open's result */
	struct sl_wire_hdr h;
	const uint8_t *body;
};

struct rx_opener;

int rx_opener_new(const struct sl_wire_rx *w, unsigned helpers, struct rx_opener **out, struct sl_diag *d);
int rx_opener_start(struct rx_opener *o, struct sl_diag *d);
unsigned rx_opener_helpers(const struct rx_opener *o);
void rx_opener_open(struct rx_opener *o, struct sl_wire_rx *own, struct rx_ring_rec *rec, unsigned n,
		    struct rx_opened *out);
void rx_opener_free(struct rx_opener *o);

#endif
