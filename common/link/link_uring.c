/* link_uring.c — the io_uring engine of the udp back-end (io=uring).
 *
 * The socket is link_udp.c's, set up exactly as for io=plain; only the
 * data moves differently:
 *   send:    each batch of messages (the same GSO runs sl_udp_build_msgs
 *            builds for sendmmsg) becomes IORING_OP_SENDMSG SQEs — or
 *            SENDMSG_ZC with zc=1 — submitted and waited for with one
 *            io_uring_submit_and_wait. They are issued in order and leave
 *            in order unless one must wait for socket buffer space. Not
 *            linked (IOSQE_IO_LINK): a link chain issues each next SQE
 *            through task work, which took ~50% more CPU per GB without
 *            GSO (tests/bench/link.c). So a failure does not stop the
 *            rest: the send reports the messages before the first failure
 *            as sent, as sendmmsg does; any after it that went out anyway
 *            go again if the send is retried (duplicates are harmless,
 *            PROTOCOL.md §2.3). With zero-copy the caller's buffers are
 *            free again only when the kernel's notification CQEs
 *            (IORING_CQE_F_NOTIF) arrived, so a send waits for them too.
 *   receive: one multishot IORING_OP_RECVMSG into a provided buffer ring
 *            (GRO-sized buffers, or one datagram each with gro=0). Each
 *            CQE names a buffer holding an io_uring_recvmsg_out header,
 *            the control messages and the payload; buffers return to the
 *            ring once handed out (borrow: at the next receive). A CQE
 *            without IORING_CQE_F_MORE ends the multishot — -ENOBUFS when
 *            the ring ran dry (counted in stats.ring_empty) — and it is
 *            armed again once buffers are back. The kernel's receive work
 *            runs as task work of the thread that armed it (open, then
 *            whoever receives), cooperatively (IORING_SETUP_COOP_TASKRUN):
 *            flagged, and run by the next receive in one system call,
 *            instead of interrupting that thread.
 * Both rings start disabled (IORING_SETUP_R_DISABLED), get their
 * restrictions (only the SQE opcodes and flags used here, no register
 * operation at all) and only then are enabled: io_uring operations do not
 * pass through seccomp, so sluice-rx's sandbox rests on these. Needs
 * Linux 6.0 (multishot recvmsg), 6.1 for zc=1. */
#include "link_udp.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"

#define BGID 0                          /* the one provided-buffer group */
#define TAG_RECV 1                      /* user_data of the multishot receive */
#define TAG_CANCEL 2
/* Ring depth: the socket buffer (32-128 MiB) absorbs bursts, the ring only
 * batches. A deeper ring cycles through more memory and costs cache: on
 * loopback 256 x 64 KiB took ~2x the receive CPU per GB of 16-32 x 64 KiB
 * (tests/bench/link.c); when it runs dry the receive is armed again. */
#define RX_BUFS_GRO 32                  /* 64 KiB each */
#define RX_BUFS_PLAIN 256               /* one datagram each */

struct sl_uring {
	struct io_uring ring;
	/* rx */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *bufs;
	size_t buf_size;                /* one provided buffer */
	unsigned nbufs;
	unsigned held;                  /* buffers out of the ring (in s->pend) */
	int armed;                      /* a multishot receive is in flight */
	struct msghdr rmsg;             /* its template: name and control sizes */
	/* tx */
	int res[SL_UDP_BATCH];
	int broken;                     /* a batch could not be submitted whole */
};

static int ring_fail(const struct sl_uri *u, int err, const char *what, struct sl_diag *d)
{
	const char *why = err == EPERM || err == EACCES ?
		" (forbidden here: the kernel.io_uring_disabled sysctl, a container or a "
		"seccomp policy; use io=plain)" :
		err == ENOSYS ? " (this kernel has no io_uring; use io=plain)" :
		err == EINVAL ? " (this kernel lacks a feature io=uring needs; use io=plain)" : "";
	return sl_diag_set(d, err == ENOMEM ? SL_ERR_NOMEM : SL_ERR_IO, "%s: io=uring: %s: %s%s",
			   u->text, what, strerror(err), why);
}

/* Restrict the (disabled) ring to the given SQE opcodes and flags, with
 * no register operation allowed after this, and enable it. */
static int restrict_and_enable(struct sl_uring *ur, const struct sl_uri *u, const uint8_t *ops,
			       unsigned nops, uint8_t flags, struct sl_diag *d)
{
	struct io_uring_restriction res[4] = { { 0 } };
	unsigned nr = 0;
	int r;

	for (unsigned i = 0; i < nops; i++) {
		res[nr].opcode = IORING_RESTRICTION_SQE_OP;
		res[nr++].sqe_op = ops[i];
	}
	res[nr].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[nr++].sqe_flags = flags;
	/* io_uring_register_restrictions and io_uring_enable_rings are not
	 * exported by liburing 2.3's shared library (liburing issue #773):
	 * the same register operations through its syscall wrapper */
	r = io_uring_register((unsigned)ur->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, nr);
	if (r < 0)
		return ring_fail(u, -r, "cannot restrict the ring", d);
	r = io_uring_register((unsigned)ur->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (r < 0)
		return ring_fail(u, -r, "cannot enable the ring", d);
	return SL_OK;
}

static int open_ring(struct sl_uring *ur, const struct sl_uri *u, unsigned sq, unsigned cq,
		     unsigned flags, struct sl_diag *d)
{
	struct io_uring_params p = { 0 };
	int r;

	p.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_CQSIZE | flags;
	p.cq_entries = cq;
	r = io_uring_queue_init_params(sq, &ur->ring, &p);
	if (r < 0)
		return ring_fail(u, -r, "io_uring is not available", d);
	if (!(p.features & IORING_FEAT_EXT_ARG)) {
		/* without it a timed wait needs a TIMEOUT SQE, which the
		 * restrictions forbid (Linux 5.11 added it) */
		io_uring_queue_exit(&ur->ring);
		return sl_diag_set(d, SL_ERR_IO, "%s: io=uring: this kernel's io_uring is too old "
				   "(no IORING_FEAT_EXT_ARG, Linux 5.11); use io=plain", u->text);
	}
	return SL_OK;
}

static int open_tx(struct sl_link *l, struct sl_udp *s, struct sl_uring *ur,
		   const struct sl_uri *u, struct sl_diag *d)
{
	uint8_t ops[2] = { IORING_OP_SENDMSG, IORING_OP_SENDMSG_ZC };
	int r;

	(void)l;
	/* a batch of SQEs, and with zero-copy a notification for each */
	r = open_ring(ur, u, SL_UDP_BATCH, 4 * SL_UDP_BATCH, IORING_SETUP_SUBMIT_ALL, d);
	if (r)
		return r;
	if (s->zc) {
		struct io_uring_probe *pr = io_uring_get_probe_ring(&ur->ring);
		int ok = pr && io_uring_opcode_supported(pr, IORING_OP_SENDMSG_ZC);
		io_uring_free_probe(pr);
		if (!ok)
			r = sl_diag_set(d, SL_ERR_IO, "%s: zc=1: this kernel has no io_uring "
					"SENDMSG_ZC (Linux 6.1); use zc=0", u->text);
	}
	if (!r)
		r = restrict_and_enable(ur, u, ops + (s->zc ? 1 : 0), 1, 0, d);
	if (r)
		io_uring_queue_exit(&ur->ring);
	return r;
}

/* Give back every provided buffer whose datagrams have all been handed
 * out (s->pend[0..gmsg), and pend[gmsg] once its last segment went). */
static void recycle(struct sl_udp *s, struct sl_uring *ur)
{
	unsigned done = s->gmsg, mask = (unsigned)io_uring_buf_ring_mask(ur->nbufs), i;

	if (done < s->gcount && s->goff >= s->pend[done].len)
		done++;
	for (i = 0; i < done; i++) {
		io_uring_buf_ring_add(ur->br, ur->bufs + (size_t)s->pend[i].bid * ur->buf_size,
				      (unsigned)ur->buf_size, (unsigned short)s->pend[i].bid,
				      (int)mask, (int)i);
	}
	if (done) {
		io_uring_buf_ring_advance(ur->br, (int)done);
		ur->held -= done;
		memmove(s->pend, s->pend + done, (s->gcount - done) * sizeof *s->pend);
		s->gcount -= done;
		if (s->gmsg >= done) {
			s->gmsg -= done;
		} else {
			s->gmsg = 0;
			s->goff = 0;
		}
	}
}

/* Submit the multishot receive again when it ended and buffers are in
 * the ring. */
static int arm(struct sl_link *l, struct sl_udp *s, struct sl_uring *ur, struct sl_diag *d)
{
	struct io_uring_sqe *sqe;
	int r;

	if (ur->armed || ur->held >= ur->nbufs)
		return SL_OK;
	sqe = io_uring_get_sqe(&ur->ring);
	if (!sqe)
		return sl_diag_set(d, SL_ERR_IO, "%s: io_uring submission queue full", l->desc);
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &ur->rmsg, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, TAG_RECV);
	while ((r = io_uring_submit(&ur->ring)) == -EINTR)
		;
	if (r < 0) {
		errno = -r;
		return sl_diag_errno(d, "%s: cannot submit the io_uring receive", l->desc);
	}
	ur->armed = 1;
	return SL_OK;
}

/* One received message (a provided buffer) into s->pend. */
static void take(struct sl_link *l, struct sl_udp *s, struct sl_uring *ur, unsigned bid, int res)
{
	struct sl_udp_pend *pm = &s->pend[s->gcount++];
	uint8_t *buf = ur->bufs + (size_t)bid * ur->buf_size;
	struct io_uring_recvmsg_out *o = res < 0 ? NULL :
		io_uring_recvmsg_validate(buf, res, &ur->rmsg);

	ur->held++;
	pm->bid = bid;
	pm->len = 0;
	pm->ts = 0;
	if (res < 0)
		return; /* a failed receive that kept its buffer: just give it back */
	if (!o) {
		l->st.foreign++;
		return;
	}
	pm->p = io_uring_recvmsg_payload(o, &ur->rmsg);
	pm->len = io_uring_recvmsg_payload_length(o, res, &ur->rmsg);
	pm->seg = pm->len ? pm->len : 1;
	for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, &ur->rmsg); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &ur->rmsg, c))
		sl_udp_cmsg(l, c, &pm->ts, &pm->seg);
	if (!pm->ts)
		pm->ts = sl_realtime_ns();
	if ((o->flags & MSG_TRUNC) || pm->len == 0) {
		l->st.foreign++;
		pm->len = 0;
	}
}

/* Move every completion waiting in the CQ into s->pend. */
static int reap(struct sl_link *l, struct sl_udp *s, struct sl_uring *ur, struct sl_diag *d)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int err = 0;

	if (IO_URING_READ_ONCE(*ur->ring.sq.kflags) & IORING_SQ_TASKRUN)
		io_uring_get_events(&ur->ring); /* run the receives waiting as task work */
	io_uring_for_each_cqe(&ur->ring, head, cqe) {
		if (s->gcount == ur->nbufs)
			break; /* cannot happen (a buffer per entry); left for later if it did */
		seen++;
		if (cqe->user_data != TAG_RECV)
			continue;
		if (!(cqe->flags & IORING_CQE_F_MORE))
			ur->armed = 0;
		if (cqe->flags & IORING_CQE_F_BUFFER)
			take(l, s, ur, cqe->flags >> IORING_CQE_BUFFER_SHIFT, cqe->res);
		if (cqe->res == -ENOBUFS)
			l->st.ring_empty++;
		else if (cqe->res < 0 && cqe->res != -EINTR && !err)
			err = -cqe->res;
	}
	io_uring_cq_advance(&ur->ring, seen);
	if (err == EINVAL)
		return sl_diag_set(d, SL_ERR_IO, "%s: io_uring multishot receive refused (EINVAL): "
				   "it needs Linux 6.0; use io=plain", l->desc);
	if (err) {
		errno = err;
		return sl_diag_errno(d, "%s: receive failed", l->desc);
	}
	return SL_OK;
}

int sl_uring_recv(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n,
		  int timeout_ms, struct sl_diag *d)
{
	struct sl_uring *ur = s->ur;
	uint64_t deadline = 0;
	int r;

	if (timeout_ms > 0)
		deadline = sl_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	recycle(s, ur); /* what the previous receive handed out */
	/* what earlier completions brought first: no system call for it */
	r = (int)sl_udp_split(l, s, dg, n);
	if (r)
		return r;
	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts;
		unsigned got;

		/* nothing handed out by this call: every buffer can go back */
		recycle(s, ur);
		if ((r = reap(l, s, ur, d)) || (r = arm(l, s, ur, d)))
			return r;
		got = sl_udp_split(l, s, dg, n);
		if (got)
			return (int)got;
		recycle(s, ur);
		if ((r = arm(l, s, ur, d)))
			return r;
		if (timeout_ms == 0)
			return 0;
		if (timeout_ms > 0) {
			uint64_t t = sl_now_ns();
			if (t >= deadline)
				return 0;
			ts.tv_sec = (long long)((deadline - t) / 1000000000ull);
			ts.tv_nsec = (long long)((deadline - t) % 1000000000ull);
		}
		r = io_uring_wait_cqe_timeout(&ur->ring, &cqe, timeout_ms > 0 ? &ts : NULL);
		if (r == -ETIME || r == -EINTR)
			return 0;
		if (r < 0) {
			errno = -r;
			return sl_diag_errno(d, "%s: waiting for io_uring completions", l->desc);
		}
	}
}

static int open_rx(struct sl_link *l, struct sl_udp *s, struct sl_uring *ur,
		   const struct sl_uri *u, struct sl_diag *d)
{
	static const uint8_t ops[2] = { IORING_OP_RECVMSG, IORING_OP_ASYNC_CANCEL };
	struct io_uring_buf_reg reg = { 0 };
	size_t hdr = sizeof(struct io_uring_recvmsg_out) + SL_UDP_CTRL_LEN;
	int r;

	ur->nbufs = s->gro ? RX_BUFS_GRO : RX_BUFS_PLAIN;
	ur->buf_size = (hdr + (s->gro ? SL_UDP_GRO_BUF : SL_LINK_MAX_DGRAM) + 63) & ~(size_t)63;
	ur->rmsg.msg_controllen = SL_UDP_CTRL_LEN;
	s->pend = calloc(ur->nbufs, sizeof *s->pend);
	if (!s->pend)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	/* One CQE per buffer at most, plus the ends of the multishot.
	 * Cooperative task running: arriving data does not interrupt the
	 * receiving thread; the kernel flags the work (IORING_SQ_TASKRUN) and
	 * reap() has it run in one system call. */
	r = open_ring(ur, u, 4, 2 * ur->nbufs, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, d);
	if (r)
		return r;
	/* multishot recvmsg came with Linux 6.0, as did SEND_ZC: probe that */
	{
		struct io_uring_probe *pr = io_uring_get_probe_ring(&ur->ring);
		int ok = pr && io_uring_opcode_supported(pr, IORING_OP_SEND_ZC);
		io_uring_free_probe(pr);
		if (!ok) {
			r = sl_diag_set(d, SL_ERR_IO, "%s: io=uring: multishot receive needs Linux "
					"6.0 or later; use io=plain", u->text);
			goto fail;
		}
	}
	ur->bufs = mmap(NULL, ur->nbufs * ur->buf_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ur->br_bytes = ur->nbufs * sizeof(struct io_uring_buf);
	ur->br = mmap(NULL, ur->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ur->bufs == MAP_FAILED || ur->br == MAP_FAILED) {
		r = sl_diag_set(d, SL_ERR_NOMEM, "%s: io=uring: no memory for %u receive buffers",
				u->text, ur->nbufs);
		goto fail;
	}
	io_uring_buf_ring_init(ur->br);
	reg.ring_addr = (uintptr_t)ur->br;
	reg.ring_entries = ur->nbufs;
	reg.bgid = BGID;
	r = io_uring_register_buf_ring(&ur->ring, &reg, 0);
	if (r < 0) {
		r = ring_fail(u, -r, "cannot register a provided buffer ring (Linux 5.19)", d);
		goto fail;
	}
	for (unsigned i = 0; i < ur->nbufs; i++)
		io_uring_buf_ring_add(ur->br, ur->bufs + (size_t)i * ur->buf_size,
				      (unsigned)ur->buf_size, (unsigned short)i,
				      io_uring_buf_ring_mask(ur->nbufs), (int)i);
	io_uring_buf_ring_advance(ur->br, (int)ur->nbufs);
	r = restrict_and_enable(ur, u, ops, 2, IOSQE_BUFFER_SELECT, d);
	if (r)
		goto fail;
	r = arm(l, s, ur, d);
	if (r)
		goto fail;
	l->fd = ur->ring.ring_fd; /* readable when completions wait */
	return SL_OK;
fail:
	io_uring_queue_exit(&ur->ring);
	if (ur->bufs != MAP_FAILED && ur->bufs)
		munmap(ur->bufs, ur->nbufs * ur->buf_size);
	if (ur->br != MAP_FAILED && ur->br)
		munmap(ur->br, ur->br_bytes);
	ur->bufs = NULL;
	ur->br = NULL;
	return r;
}

int sl_uring_open(struct sl_link *l, struct sl_udp *s, const struct sl_uri *u, struct sl_diag *d)
{
	struct sl_uring *ur = calloc(1, sizeof *ur);
	int r = ur ? (l->tx ? open_tx(l, s, ur, u, d) : open_rx(l, s, ur, u, d))
		   : sl_diag_set(d, SL_ERR_NOMEM, "out of memory");

	if (r)
		free(ur); /* its ring and buffers are gone already */
	else
		s->ur = ur;
	return r;
}

/* Completions of a send batch of k SQEs (user_data = message index) and,
 * with zero-copy, their notifications. */
static int collect(struct sl_uring *ur, unsigned k)
{
	unsigned got = 0;
	int notifs = 0; /* notifications still due (a notification may come first) */

	while (got < k || notifs > 0) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int r = io_uring_wait_cqe(&ur->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		io_uring_for_each_cqe(&ur->ring, head, cqe) {
			seen++;
			if (cqe->flags & IORING_CQE_F_NOTIF) {
				notifs--;
				continue;
			}
			if (cqe->user_data < k)
				ur->res[cqe->user_data] = cqe->res;
			got++;
			if (cqe->flags & IORING_CQE_F_MORE)
				notifs++;
		}
		io_uring_cq_advance(&ur->ring, seen);
	}
	return 0;
}

int sl_uring_xmit(struct sl_udp *s, unsigned k)
{
	struct sl_uring *ur = s->ur;
	unsigned i, sub = 0;
	int r = 0;

	if (ur->broken) {
		errno = EBADFD;
		return -1;
	}
	for (i = 0; i < k; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ur->ring);
		if (s->zc)
			io_uring_prep_sendmsg_zc(sqe, s->fd, &s->msgs[i].msg_hdr, 0);
		else
			io_uring_prep_sendmsg(sqe, s->fd, &s->msgs[i].msg_hdr, 0);
		io_uring_sqe_set_data64(sqe, i);
		ur->res[i] = -ECANCELED;
	}
	/* SUBMIT_ALL: each SQE goes in even if one before it fails; what
	 * the kernel did not take yet (EAGAIN, EBUSY) is submitted again */
	for (unsigned tries = 0; sub < k && tries < 1000; tries++) {
		r = sub ? io_uring_submit(&ur->ring) : io_uring_submit_and_wait(&ur->ring, k);
		if (r > 0)
			sub += (unsigned)r;
		else if (r != 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			break;
	}
	r = collect(ur, sub); /* the caller's buffers are in use until then */
	if (sub < k) {
		/* SQEs left in the ring would go out with stale buffers later */
		ur->broken = 1;
		errno = EBADFD;
		return -1;
	}
	if (r < 0) {
		errno = -r;
		return -1;
	}
	for (i = 0; i < k && ur->res[i] >= 0; i++)
		;
	if (i == 0) {
		errno = -ur->res[0];
		return -1;
	}
	return (int)i;
}

void sl_uring_close(struct sl_udp *s)
{
	struct sl_uring *ur = s->ur;
	struct io_uring_sqe *sqe;

	if (!ur)
		return;
	/* end the multishot receive before its buffers go (bounded wait) */
	if (ur->armed && (sqe = io_uring_get_sqe(&ur->ring))) {
		io_uring_prep_cancel64(sqe, TAG_RECV, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
		io_uring_submit(&ur->ring);
		for (int tries = 0; ur->armed && tries < 100; tries++) {
			struct io_uring_cqe *cqe;
			struct __kernel_timespec ts = { 0, 10000000 };
			unsigned head, seen = 0;
			int r = io_uring_wait_cqe_timeout(&ur->ring, &cqe, &ts);
			if (r < 0 && r != -ETIME && r != -EINTR)
				break;
			io_uring_for_each_cqe(&ur->ring, head, cqe) {
				seen++;
				if (cqe->user_data == TAG_RECV && !(cqe->flags & IORING_CQE_F_MORE))
					ur->armed = 0;
			}
			io_uring_cq_advance(&ur->ring, seen);
		}
	}
	io_uring_queue_exit(&ur->ring);
	if (ur->bufs && !ur->armed)
		munmap(ur->bufs, ur->nbufs * ur->buf_size);
	if (ur->br)
		munmap(ur->br, ur->br_bytes);
	free(ur);
	s->ur = NULL;
}
