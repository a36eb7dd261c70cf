/* link.h — one small interface over the one-way link back-ends.
 *
 * Contract. A link carries whole datagrams (the sluice wire format, opaque
 * here) in one direction. It is opened for sending (low side) or receiving
 * (high side), never both, and no back-end ever emits a packet on a receive
 * link (no ARP, no ICMP replies solicited, no acknowledgements).
 *
 * URIs:
 *   udp://HOST:PORT   send to HOST:PORT (unicast, broadcast or multicast
 *                     address) / receive on HOST:PORT (bind; HOST may be
 *                     0.0.0.0 or a multicast group, which is joined).
 *   eth:IFACE         raw Ethernet frames of EtherType SL_ETHERTYPE through
 *                     libpcap (pcap_inject to the broadcast MAC or
 *                     ?dst=MAC; capture with a BPF filter on the EtherType).
 *   pcap:FILE         send: write Ethernet/IPv4/UDP frames to a pcap file
 *                     (libpcap dump API, LINKTYPE_ETHERNET); receive: read
 *                     such a file (and raw sluice-EtherType frames) and
 *                     report SL_ERR_CLOSED at its end.
 * Options follow '?' (so a FILE or IFACE name cannot contain one) as
 * key=value joined by '&'; an unknown option, one
 * given twice or one without a value is an error naming it.
 *   udp, send:    ttl=N (multicast TTL, default 1), loop=0|1 (multicast
 *                 loopback, default 1), iface=NAME (multicast interface),
 *                 src=IPV4 (source address to bind), gso=0|1 (UDP
 *                 segmentation offload for runs of equal-sized datagrams,
 *                 default 1; falls back to one datagram per message by
 *                 itself where refused). SO_BROADCAST is always set; the
 *                 socket is never connect()ed.
 *   udp, receive: iface=NAME (interface that joins a multicast group),
 *                 gro=0|1 (coalesced receive, UDP_GRO, default 1; kernel
 *                 drop counts then count coalesced packets).
 *   udp, both:    io=plain|uring (I/O engine, default plain): plain moves
 *                 datagrams with sendmmsg/recvmmsg; uring with io_uring
 *                 (Linux 6.0+): batches of SENDMSG, one multishot
 *                 RECVMSG into a ring of provided buffers (32 x 64 KiB
 *                 with GRO, 256 x 9000 bytes without); its ring allows
 *                 only those operations. Open fails with the reason where
 *                 io_uring is unavailable. Best received on the thread
 *                 that opened it: the kernel's receive work runs as task
 *                 work of the thread that last armed the receive.
 *   udp, send:    zc=0|1 (io=uring only: zero-copy sends, SENDMSG_ZC,
 *                 Linux 6.1; a send returns once the kernel released the
 *                 buffers; default 0).
 *   eth, send:    dst=MAC (default ff:ff:ff:ff:ff:ff), src=MAC (default
 *                 the interface's own address).
 *   eth, receive: promisc=0|1 (default 1).
 *   pcap, send:   src_mac= (02:00:00:00:00:01), dst_mac= (ff:ff:ff:ff:ff:ff),
 *                 src_ip= (192.0.2.1), dst_ip= (192.0.2.2), src_port=
 *                 (4747), dst_port= (4747), frame=udp|raw (raw: sluice
 *                 EtherType frames, frame.h), ts=usec|nsec (timestamp
 *                 precision of the file, default usec), rate=RATE (record
 *                 timestamps advance as a link of RATE bit/s would send the
 *                 frames back to back; default: the real send times).
 *                 Addresses are only written into the file, never used.
 *   pcap, receive: port=N (accept UDP only to this destination port;
 *                 default any). Frames that are not IPv4/UDP or sluice
 *                 EtherType frames, or fail a check, count as foreign.
 *
 * Sizes: a send of a datagram over SL_LINK_MAX_DGRAM bytes, or of an empty
 * one, is refused before anything is sent.
 */
#ifndef SL_LINK_H
#define SL_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "error.h"

#define SL_ETHERTYPE 0x88B5      /* IEEE local experimental EtherType 1 */
#define SL_DEFAULT_PORT 4747
#define SL_LINK_MAX_DGRAM 9000   /* largest datagram any back-end carries */

struct sl_link;

struct sl_link_opts {
	size_t sockbuf;      /* SO_SNDBUF / SO_RCVBUF wanted; 0 = back-end default (32 MiB) */
	int pcap_realtime;   /* rx from pcap: 0 = as fast as possible (default) */
	uint64_t pcap_ts_ns; /* tx to pcap: start timestamp in ns (0 = now) */
	int borrow;          /* rx: a back-end may point dg[i].buf into its own buffer
			      * instead of copying (udp with GRO does); the data stays
			      * valid, and writable, until the next receive or close.
			      * The caller then resets buf/cap before each receive. */
};

/* A received datagram: the caller provides buf/cap, the link sets len. */
struct sl_dgram {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint64_t ts_ns;      /* arrival time (pcap: the record's timestamp) */
};

struct sl_link_stats {
	uint64_t datagrams;  /* sent or received */
	uint64_t bytes;      /* payload bytes sent or received */
	uint64_t kernel_drops; /* rx: drops the kernel reported (udp: SO_RXQ_OVFL, as of
				* the latest datagram received; eth: pcap_stats) */
	uint64_t foreign;    /* rx: frames/records that were not sluice datagrams */
	uint64_t ring_empty; /* rx, udp with io=uring: times the provided buffer ring ran
			      * dry and the multishot receive was armed again (the
			      * socket buffer held the datagrams meanwhile) */
	size_t sockbuf;      /* the socket buffer actually granted */
};

/* Open for sending / receiving. On failure *out is NULL and diag names the
 * URI and the reason (e.g. "udp://x:1: cannot resolve host"). */
int sl_link_open_tx(const char *uri, const struct sl_link_opts *o,
		    struct sl_link **out, struct sl_diag *d);
int sl_link_open_rx(const char *uri, const struct sl_link_opts *o,
		    struct sl_link **out, struct sl_diag *d);

/* Send n datagrams (batched: sendmmsg or equivalent). Returns the number
 * sent (n unless an error stopped it) or a negative error with diag. */
int sl_link_send(struct sl_link *l, const struct iovec *dg, unsigned n,
		 struct sl_diag *d);

/* As sl_link_send, with a timestamp (ns since the epoch) per datagram
 * for back-ends that record one (pcap files); others ignore ts_ns. */
int sl_link_send_ts(struct sl_link *l, const struct iovec *dg, const uint64_t *ts_ns,
		    unsigned n, struct sl_diag *d);

/* Receive up to n datagrams, waiting at most timeout_ms (-1: forever,
 * 0: poll). Returns the number received (0 on timeout), SL_ERR_CLOSED at
 * the end of a pcap file, or a negative error. Datagrams longer than a
 * buffer's cap are counted as foreign and skipped (the entries of dg may
 * then be swapped so the received ones come first). Interrupted by a
 * signal, it returns 0. ts_ns is the arrival time in ns since the epoch
 * (udp: the kernel's receive timestamp). */
int sl_link_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n,
		 int timeout_ms, struct sl_diag *d);

/* Flush buffered output (pcap files); called by sl_link_close too. */
int sl_link_flush(struct sl_link *l, struct sl_diag *d);

/* A file descriptor that becomes readable when datagrams wait, or -1
 * (pcap files). For eth: it is the packet socket itself, which sends
 * whatever is written to it: only ever poll it. */
int sl_link_fd(const struct sl_link *l);

void sl_link_get_stats(const struct sl_link *l, struct sl_link_stats *st);

/* Human-readable description, e.g.
 * "udp receive on 127.0.0.1:4747 (rcvbuf 32.00 MiB)"; a udp receive link
 * opened on port 0 names the port the kernel chose. */
const char *sl_link_describe(const struct sl_link *l);

/* A warning about the link as opened, or NULL: e.g. the kernel granted a
 * smaller socket buffer than asked for, and which sysctl to raise. */
const char *sl_link_warning(const struct sl_link *l);

void sl_link_close(struct sl_link *l);

#endif
