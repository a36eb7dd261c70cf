/* link_udp.h — PRIVATE to link_udp.c and link_uring.c: the udp back-end's
 * state and the pieces its two I/O engines share.
 *
 * link_udp.c owns the socket (resolve, buffers, multicast, options), the
 * GSO message building, the send retry policy, control-message parsing
 * and the splitting of coalesced (GRO) receive buffers; it moves data with
 * sendmmsg/recvmmsg ("io=plain"). link_uring.c moves the same messages
 * through io_uring ("io=uring"): batches of SENDMSG (or SENDMSG_ZC),
 * and one multishot RECVMSG into a provided buffer ring. Not part of
 * libsluice's interface. */
#ifndef SL_LINK_UDP_H
#define SL_LINK_UDP_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "link_impl.h"

#define SL_UDP_BATCH 256                /* messages per sendmmsg/recvmmsg or submission */
#define SL_UDP_CTRL_LEN (CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec)) + \
			 CMSG_SPACE(sizeof(int)) + 64)
#define SL_UDP_GRO_BUF 65536            /* one coalesced (GRO) receive */

/* A received message (GRO: a run of segments) not yet fully handed out. */
struct sl_udp_pend {
	uint8_t *p;                    /* payload */
	size_t len;                    /* 0: nothing to hand out (foreign) */
	size_t seg;                    /* segment size (GRO), else len */
	uint64_t ts;                   /* arrival time, ns since the epoch */
	unsigned bid;                  /* io=uring: provided-buffer id */
};

struct sl_uring;

struct sl_udp {
	int fd;
	struct sockaddr_storage peer;  /* tx: destination; rx: bound address */
	socklen_t peerlen;
	struct mmsghdr msgs[SL_UDP_BATCH];
	struct iovec iov[SL_UDP_BATCH];  /* rx: one per message */
	uint8_t ctrl[SL_UDP_BATCH][SL_UDP_CTRL_LEN] __attribute__((aligned(__alignof__(struct cmsghdr))));
	/* tx GSO */
	int gso;                       /* 1: try UDP_SEGMENT */
	uint8_t gctrl[SL_UDP_BATCH][CMSG_SPACE(sizeof(uint16_t))]
		__attribute__((aligned(__alignof__(struct cmsghdr))));
	/* rx: coalesced (or, io=uring, any) messages not yet handed out */
	int gro, borrow;
	uint8_t *gbuf;                 /* io=plain with GRO: GRO_MSGS * SL_UDP_GRO_BUF */
	struct sl_udp_pend *pend;
	unsigned gcount, gmsg;         /* messages pending, next to split */
	size_t goff;                   /* offset of the next segment in pend[gmsg] */
	/* io=uring */
	struct sl_uring *ur;           /* NULL: io=plain */
	int zc;                        /* tx: SENDMSG_ZC */
};

/* Build messages for dg[0..n) into s->msgs: with GSO, each run of
 * equal-sized datagrams becomes one UDP_SEGMENT message. Returns the
 * number of messages; segs[i] = datagrams in message i. */
unsigned sl_udp_build_msgs(struct sl_udp *s, const struct iovec *dg, unsigned n, unsigned *segs);

/* Send dg[0..n) as messages built by sl_udp_build_msgs, handing each batch
 * of k messages to xmit, which returns how many leading messages went out
 * or -1 with errno (as sendmmsg does). Retries EINTR and ENOBUFS, turns GSO
 * off for good where refused; returns the datagrams sent or an error. */
int sl_udp_send_with(struct sl_link *l, struct sl_udp *s, const struct iovec *dg, unsigned n,
		     int (*xmit)(struct sl_udp *s, unsigned k), struct sl_diag *d);

/* Take what one control message says: kernel drop count (into l->st),
 * arrival time (*ts) and GRO segment size (*seg, when seg is not NULL). */
void sl_udp_cmsg(struct sl_link *l, const struct cmsghdr *c, uint64_t *ts, size_t *seg);

/* Hand out up to n segments of the pending messages (copied, or with
 * s->borrow pointing into them); oversize ones count as foreign. */
unsigned sl_udp_split(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n);

/* The io_uring engine (link_uring.c). Open after the socket is set up;
 * on failure diag names the URI and why io_uring cannot be used. */
int sl_uring_open(struct sl_link *l, struct sl_udp *s, const struct sl_uri *u, struct sl_diag *d);
int sl_uring_xmit(struct sl_udp *s, unsigned k);
int sl_uring_recv(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n,
		  int timeout_ms, struct sl_diag *d);
void sl_uring_close(struct sl_udp *s);

#endif
