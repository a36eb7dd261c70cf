/* link_udp.c — the UDP back-end: batched sendmmsg/recvmmsg on an
 * unconnected socket, large socket buffers, kernel drop counts
 * (SO_RXQ_OVFL), kernel arrival timestamps (SO_TIMESTAMPNS), broadcast and
 * multicast by address. IPv4 and IPv6. Nothing here waits for a reply.
 *
 * Segmentation offload (default on, gso=0 / gro=0 turn it off): a send
 * hands runs of equal-sized datagrams to the kernel as one UDP_SEGMENT
 * super-datagram (up to 64 segments, 64 KiB), which the NIC or the stack
 * cuts into ordinary datagrams, each its own IP packet on the wire; a
 * receive socket with UDP_GRO takes coalesced runs in one buffer and this
 * file splits them again. On loopback and veth the run travels the stack
 * once instead of per datagram. If the kernel or device refuses GSO
 * (EIO, EINVAL, or EMSGSIZE as Linux 6.18 says when a segment exceeds the MTU)
 * the link falls back to one datagram per message for good.
 *
 * I/O engines (io=plain, the default, or io=uring): this file sets the
 * socket up either way and moves data itself with sendmmsg/recvmmsg;
 * with io=uring the same messages travel through io_uring (link_uring.c). */
#include "link_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "link_udp.h"
#include "units.h"

#define BATCH SL_UDP_BATCH
#define CTRL_LEN SL_UDP_CTRL_LEN
#define DEFAULT_SOCKBUF (32u << 20)
#define GSO_MAX_SEGS 64                /* UDP_MAX_SEGMENTS */
#define GSO_MAX_BYTES 65000            /* payload of one super-datagram */
#define ZC_MAX_FRAGS 16                /* pages of one zero-copy super-datagram */
#define GRO_MSGS 16                    /* coalesced buffers per recvmmsg */
#define GRO_BUF SL_UDP_GRO_BUF

/* "HOST:PORT" or "[V6]:PORT" into an address. */
static int resolve(const char *uri, const char *target, int tx, struct sockaddr_storage *ss,
		   socklen_t *sslen, struct sl_diag *d)
{
	char host[256];
	const char *port, *h = target;
	size_t hl;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	uint64_t p;
	int r;

	if (*h == '[') {
		const char *rb = strchr(h, ']');
		if (!rb)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: unterminated '[' in IPv6 address", uri);
		hl = (size_t)(rb - h - 1);
		h++;
		if (rb[1] != ':')
			return sl_diag_set(d, SL_ERR_PARSE, "%s: missing :PORT after ']'", uri);
		port = rb + 2;
	} else {
		const char *c = strrchr(h, ':');
		if (!c)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: missing :PORT (udp://HOST:PORT)", uri);
		if (memchr(h, ':', (size_t)(c - h)))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: an IPv6 address needs brackets: "
					   "udp://[ADDR]:PORT", uri);
		hl = (size_t)(c - h);
		port = c + 1;
	}
	if (hl == 0)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: missing host (use 0.0.0.0 to receive "
				   "on every address)", uri);
	if (hl >= sizeof host)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: host name too long", uri);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (sl_parse_decimal(port, tx ? 1 : 0, 65535, &p))
		return sl_diag_set(d, SL_ERR_RANGE, "%s: port '%s' must be a number %s..65535", uri,
				   port, tx ? "1" : "0 (any free port)");
	r = getaddrinfo(host, port, &hints, &res);
	if (r)
		return sl_diag_set(d, SL_ERR_NOTFOUND, "%s: cannot resolve host '%s': %s", uri, host,
				   gai_strerror(r));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return SL_OK;
}

static int is_multicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

/* Ask for `want` bytes of socket buffer: SO_*BUFFORCE (needs CAP_NET_ADMIN)
 * else the plain option, which net.core.[rw]mem_max caps. Records what was
 * granted and, when less, a warning that names the sysctl. */
static void set_sockbuf(struct sl_link *l, int fd, size_t want, int tx)
{
	int force = tx ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
	int plain = tx ? SO_SNDBUF : SO_RCVBUF;
	int v = want > 0x3fffffff ? 0x3fffffff : (int)want, got = 0;
	socklen_t gl = sizeof got;
	char w[32], g[32];

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof v) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof v);
	getsockopt(fd, SOL_SOCKET, plain, &got, &gl);
	/* Linux reports twice the usable size (bookkeeping overhead). */
	l->st.sockbuf = (size_t)got / 2;
	if (l->st.sockbuf < (size_t)v)
		snprintf(l->warn, sizeof l->warn,
			 "%s buffer is %s, less than the %s asked for: the kernel caps it at "
			 "net.core.%s; raise it with 'sysctl -w net.core.%s=%d' or grant CAP_NET_ADMIN",
			 tx ? "send" : "receive", sl_fmt_bytes(l->st.sockbuf, g, sizeof g),
			 sl_fmt_bytes((uint64_t)v, w, sizeof w), tx ? "wmem_max" : "rmem_max",
			 tx ? "wmem_max" : "rmem_max", v);
}

static int set_opt(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof v);
}

static int iface_index(const struct sl_uri *u, unsigned *idx, struct sl_diag *d)
{
	const char *ifn = sl_uri_opt(u, "iface");
	*idx = 0;
	if (!ifn)
		return SL_OK;
	*idx = if_nametoindex(ifn);
	if (!*idx)
		return sl_diag_set(d, SL_ERR_NOTFOUND, "%s: no interface named '%s'", u->text, ifn);
	return SL_OK;
}

static int open_tx(struct sl_link *l, struct sl_udp *s, const struct sl_uri *u,
		   const struct sl_link_opts *o, struct sl_diag *d)
{
	uint64_t ttl = 1;
	int loop = 1, v6 = s->peer.ss_family == AF_INET6, r;
	unsigned idx;
	const char *src = sl_uri_opt(u, "src");
	char at[80], buf[32];

	s->gso = 1;
	if ((r = sl_uri_opt_u64(u, "ttl", 1, 255, &ttl, d)) ||
	    (r = sl_uri_opt_bool(u, "loop", &loop, d)) || (r = iface_index(u, &idx, d)) ||
	    (r = sl_uri_opt_bool(u, "gso", &s->gso, d)) ||
	    (r = sl_uri_opt_bool(u, "zc", &s->zc, d)))
		return r;
	set_sockbuf(l, s->fd, o->sockbuf ? o->sockbuf : DEFAULT_SOCKBUF, 1);
	if (!v6)
		set_opt(s->fd, SOL_SOCKET, SO_BROADCAST, 1);
	if (src) {
		struct sockaddr_storage ss = { 0 };
		if (v6) {
			struct sockaddr_in6 *a = (void *)&ss;
			a->sin6_family = AF_INET6;
			if (inet_pton(AF_INET6, src, &a->sin6_addr) != 1)
				return sl_diag_set(d, SL_ERR_PARSE, "%s: src=%s is not an IPv6 address",
						   u->text, src);
		} else {
			struct sockaddr_in *a = (void *)&ss;
			a->sin_family = AF_INET;
			if (inet_pton(AF_INET, src, &a->sin_addr) != 1)
				return sl_diag_set(d, SL_ERR_PARSE, "%s: src=%s is not an IPv4 address",
						   u->text, src);
		}
		if (bind(s->fd, (void *)&ss, v6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in)) < 0)
			return sl_diag_errno(d, "%s: cannot bind source address %s", u->text, src);
	}
	if (is_multicast(&s->peer)) {
		if (v6) {
			if (set_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, (int)ttl) < 0 ||
			    set_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop) < 0 ||
			    (idx && set_opt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)idx) < 0))
				return sl_diag_errno(d, "%s: cannot set multicast options", u->text);
		} else {
			struct ip_mreqn m = { .imr_ifindex = (int)idx };
			if (set_opt(s->fd, IPPROTO_IP, IP_MULTICAST_TTL, (int)ttl) < 0 ||
			    set_opt(s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, loop) < 0 ||
			    (idx && setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) < 0))
				return sl_diag_errno(d, "%s: cannot set multicast options", u->text);
		}
	}
	addr_text(&s->peer, at, sizeof at);
	snprintf(l->desc, sizeof l->desc, "udp send to %s%s (sndbuf %s%s%s)", at,
		 is_multicast(&s->peer) ? " multicast" : "",
		 sl_fmt_bytes(l->st.sockbuf, buf, sizeof buf), s->gso ? ", gso" : "",
		 s->zc ? ", zero-copy" : "");
	return SL_OK;
}

static int open_rx(struct sl_link *l, struct sl_udp *s, const struct sl_uri *u,
		   const struct sl_link_opts *o, struct sl_diag *d)
{
	int v6 = s->peer.ss_family == AF_INET6, r;
	unsigned idx;
	char at[80], buf[32];

	s->gro = 1;
	s->borrow = o->borrow;
	if ((r = iface_index(u, &idx, d)) || (r = sl_uri_opt_bool(u, "gro", &s->gro, d)))
		return r;
	set_sockbuf(l, s->fd, o->sockbuf ? o->sockbuf : DEFAULT_SOCKBUF, 0);
	if (s->gro && set_opt(s->fd, SOL_UDP, UDP_GRO, 1) < 0)
		s->gro = 0; /* an old kernel: one datagram per message */
	set_opt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
	set_opt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	if (v6)
		set_opt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (bind(s->fd, (void *)&s->peer, s->peerlen) < 0) {
		addr_text(&s->peer, at, sizeof at);
		return sl_diag_errno(d, "%s: cannot listen on %s", u->text, at);
	}
	getsockname(s->fd, (void *)&s->peer, &s->peerlen); /* port 0: the one chosen */
	if (is_multicast(&s->peer)) {
		if (v6) {
			struct ipv6_mreq m = { .ipv6mr_interface = idx };
			m.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&s->peer)->sin6_addr;
			if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) < 0)
				return sl_diag_errno(d, "%s: cannot join the multicast group", u->text);
		} else {
			struct ip_mreqn m = { .imr_ifindex = (int)idx };
			m.imr_multiaddr = ((struct sockaddr_in *)&s->peer)->sin_addr;
			if (setsockopt(s->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
				return sl_diag_errno(d, "%s: cannot join the multicast group", u->text);
		}
	}
	addr_text(&s->peer, at, sizeof at);
	snprintf(l->desc, sizeof l->desc, "udp receive on %s%s (rcvbuf %s%s)", at,
		 is_multicast(&s->peer) ? " multicast" : "",
		 sl_fmt_bytes(l->st.sockbuf, buf, sizeof buf), s->gro ? ", gro" : "");
	return SL_OK;
}

static void udp_free(struct sl_udp *s)
{
	if (s->ur)
		sl_uring_close(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->gbuf);
	free(s->pend);
	free(s);
}

static int udp_open(struct sl_link *l, const struct sl_uri *u, const struct sl_link_opts *o,
		    struct sl_diag *d)
{
	struct sl_udp *s = calloc(1, sizeof *s);
	const char *io = sl_uri_opt(u, "io");
	int r, uring = 0;

	if (!s)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	s->fd = -1;
	if (io && strcmp(io, "plain") && !(uring = !strcmp(io, "uring"))) {
		r = sl_diag_set(d, SL_ERR_PARSE, "%s: option io=%s: expected plain or uring",
				u->text, io);
		goto fail;
	}
	r = resolve(u->text, u->target, l->tx, &s->peer, &s->peerlen, d);
	if (r)
		goto fail;
	s->fd = socket(s->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		r = sl_diag_errno(d, "%s: cannot create a UDP socket", u->text);
		goto fail;
	}
	r = l->tx ? open_tx(l, s, u, o, d) : open_rx(l, s, u, o, d);
	if (r)
		goto fail;
	l->fd = l->tx ? -1 : s->fd;
	if (uring) {
		r = sl_uring_open(l, s, u, d);
		if (r)
			goto fail;
		size_t dl = strlen(l->desc);
		if (dl > 0 && l->desc[dl - 1] == ')')
			snprintf(l->desc + dl - 1, sizeof l->desc - (dl - 1), ", io_uring)");
	} else if (s->zc) {
		r = sl_diag_set(d, SL_ERR_INVAL, "%s: zc=1 needs io=uring", u->text);
		goto fail;
	} else if (s->gro && !l->tx) {
		s->gbuf = malloc((size_t)GRO_MSGS * GRO_BUF);
		s->pend = calloc(GRO_MSGS, sizeof *s->pend);
		if (!s->gbuf || !s->pend) {
			r = sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	l->priv = s;
	return SL_OK;
fail:
	udp_free(s);
	return r;
}

/* Pages an iovec spans: a zero-copy send pins each as one skb fragment. */
static unsigned iov_pages(const struct iovec *v)
{
	uintptr_t a = (uintptr_t)v->iov_base;
	return (unsigned)(((a + v->iov_len - 1) >> 12) - (a >> 12) + 1);
}

/* With GSO, each run of equal-sized datagrams (at most GSO_MAX_SEGS,
 * GSO_MAX_BYTES) becomes one message whose iovecs are the datagrams and
 * whose UDP_SEGMENT cmsg is their size. A zero-copy super-datagram must
 * also fit the skb's fragments (MAX_SKB_FRAGS, 17 by default; else
 * EMSGSIZE), so its run ends at ZC_MAX_FRAGS pages. */
unsigned sl_udp_build_msgs(struct sl_udp *s, const struct iovec *dg, unsigned n, unsigned *segs)
{
	unsigned m = 0, i = 0;

	while (i < n && m < BATCH) {
		struct msghdr *h = &s->msgs[m].msg_hdr;
		unsigned k = 1;
		if (s->gso) {
			size_t len = dg[i].iov_len, per = GSO_MAX_BYTES / len;
			if (per > GSO_MAX_SEGS)
				per = GSO_MAX_SEGS;
			unsigned frags = iov_pages(&dg[i]);
			while (i + k < n && k < per && dg[i + k].iov_len == len &&
			       (!s->zc || (frags += iov_pages(&dg[i + k])) <= ZC_MAX_FRAGS))
				k++;
		}
		memset(h, 0, sizeof *h);
		h->msg_name = &s->peer;
		h->msg_namelen = s->peerlen;
		h->msg_iov = (struct iovec *)&dg[i];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *c;
			uint16_t gs = (uint16_t)dg[i].iov_len;
			h->msg_control = s->gctrl[m];
			h->msg_controllen = sizeof s->gctrl[m];
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof gs);
			memcpy(CMSG_DATA(c), &gs, sizeof gs);
		}
		segs[m++] = k;
		i += k;
	}
	return m;
}

static int xmit_plain(struct sl_udp *s, unsigned k)
{
	return sendmmsg(s->fd, s->msgs, k, 0);
}

int sl_udp_send_with(struct sl_link *l, struct sl_udp *s, const struct iovec *dg, unsigned n,
		     int (*xmit)(struct sl_udp *s, unsigned k), struct sl_diag *d)
{
	unsigned done = 0, nobufs = 0, segs[BATCH];

	while (done < n) {
		unsigned k = sl_udp_build_msgs(s, dg + done, n - done, segs), sent = 0;
		int r = xmit(s, k);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && nobufs++ < 1000) {
				/* the device queue is full: give it a moment */
				struct timespec t = { 0, 50000 };
				nanosleep(&t, NULL);
				continue;
			}
			if (s->gso && segs[0] > 1 &&
			    (errno == EIO || errno == EINVAL || errno == EMSGSIZE)) {
				/* no segmentation offload here (device, MTU, kernel):
				 * one datagram per message from now on */
				s->gso = 0;
				continue;
			}
			if (done)
				break;
			return sl_diag_errno(d, "%s: send failed", l->desc);
		}
		for (int i = 0; i < r; i++)
			sent += segs[i];
		for (unsigned i = 0; i < sent; i++)
			l->st.bytes += dg[done + i].iov_len;
		l->st.datagrams += sent;
		done += sent;
	}
	if (done < n)
		sl_diag_errno(d, "%s: send failed after %u of %u datagrams", l->desc, done, n);
	return (int)done;
}

static int udp_send(struct sl_link *l, const struct iovec *dg, const uint64_t *ts,
		    unsigned n, struct sl_diag *d)
{
	struct sl_udp *s = l->priv;
	(void)ts;
	return sl_udp_send_with(l, s, dg, n, s->ur ? sl_uring_xmit : xmit_plain, d);
}

void sl_udp_cmsg(struct sl_link *l, const struct cmsghdr *c, uint64_t *ts, size_t *seg)
{
	if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && seg) {
		int v;
		memcpy(&v, CMSG_DATA(c), sizeof v);
		if (v > 0)
			*seg = (size_t)v;
	}
	if (c->cmsg_level != SOL_SOCKET)
		return;
	if (c->cmsg_type == SO_RXQ_OVFL) {
		uint32_t drops;
		memcpy(&drops, CMSG_DATA(c), sizeof drops);
		l->st.kernel_drops = drops;
	} else if (c->cmsg_type == SCM_TIMESTAMPNS) {
		struct timespec t;
		memcpy(&t, CMSG_DATA(c), sizeof t);
		*ts = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	}
}

/* Kernel drop count and arrival time (and GRO segment size) of a message. */
static void read_cmsgs(struct sl_link *l, struct msghdr *m, uint64_t *ts, size_t *seg)
{
	*ts = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		sl_udp_cmsg(l, c, ts, seg);
	if (!*ts)
		*ts = sl_realtime_ns();
}

/* Message i of a recvmmsg: one buffer and the control-message space
 * (recvmmsg rewrites the lengths and flags, so every call sets them). */
static void prep_recv(struct sl_udp *s, unsigned i, uint8_t *buf, size_t cap)
{
	struct msghdr *m = &s->msgs[i].msg_hdr;

	memset(m, 0, sizeof *m);
	s->iov[i].iov_base = buf;
	s->iov[i].iov_len = cap;
	m->msg_iov = &s->iov[i];
	m->msg_iovlen = 1;
	m->msg_control = s->ctrl[i];
	m->msg_controllen = CTRL_LEN;
}

/* One recvmmsg straight into the caller's buffers (no GRO). */
static int recv_plain(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n)
{
	unsigned k = n < BATCH ? n : BATCH, got = 0;
	int r;

	for (unsigned i = 0; i < k; i++)
		prep_recv(s, i, dg[i].buf, dg[i].cap);
	r = recvmmsg(s->fd, s->msgs, k, MSG_DONTWAIT, NULL);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < (unsigned)r; i++) {
		struct msghdr *m = &s->msgs[i].msg_hdr;
		uint64_t ts;
		read_cmsgs(l, m, &ts, NULL);
		if ((m->msg_flags & MSG_TRUNC) || s->msgs[i].msg_len == 0) {
			l->st.foreign++;
			continue;
		}
		if (got != i) {
			/* move it down over a skipped slot: copy when it fits,
			 * else swap the two entries */
			if (s->msgs[i].msg_len <= dg[got].cap) {
				memcpy(dg[got].buf, dg[i].buf, s->msgs[i].msg_len);
			} else {
				struct sl_dgram t = dg[got];
				dg[got] = dg[i];
				dg[i] = t;
			}
		}
		dg[got].len = s->msgs[i].msg_len;
		dg[got].ts_ns = ts;
		l->st.bytes += dg[got].len;
		l->st.datagrams++;
		got++;
	}
	return (int)got;
}

unsigned sl_udp_split(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n)
{
	unsigned got = 0;

	while (s->gmsg < s->gcount && got < n) {
		const struct sl_udp_pend *pm = &s->pend[s->gmsg];
		size_t sl;
		if (s->goff >= pm->len) {
			s->gmsg++;
			s->goff = 0;
			continue;
		}
		sl = pm->len - s->goff < pm->seg ? pm->len - s->goff : pm->seg;
		if (sl > dg[got].cap) {
			l->st.foreign++;
		} else {
			uint8_t *src = pm->p + s->goff;
			if (s->borrow)
				dg[got].buf = src; /* valid until the next receive */
			else
				memcpy(dg[got].buf, src, sl);
			dg[got].len = sl;
			dg[got].ts_ns = pm->ts;
			l->st.bytes += sl;
			l->st.datagrams++;
			got++;
		}
		s->goff += sl;
	}
	return got;
}

/* One recvmmsg of coalesced (GRO) messages into the link's own buffers. */
static int recv_gro(struct sl_link *l, struct sl_udp *s, struct sl_dgram *dg, unsigned n)
{
	int r;

	for (unsigned i = 0; i < GRO_MSGS; i++)
		prep_recv(s, i, s->gbuf + (size_t)i * GRO_BUF, GRO_BUF);
	r = recvmmsg(s->fd, s->msgs, GRO_MSGS, MSG_DONTWAIT, NULL);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < (unsigned)r; i++) {
		struct msghdr *m = &s->msgs[i].msg_hdr;
		struct sl_udp_pend *pm = &s->pend[i];
		pm->p = s->gbuf + (size_t)i * GRO_BUF;
		pm->len = s->msgs[i].msg_len;
		pm->seg = pm->len ? pm->len : 1;
		read_cmsgs(l, m, &pm->ts, &pm->seg);
		if ((m->msg_flags & MSG_TRUNC) || pm->len == 0) {
			l->st.foreign++;
			pm->len = 0;
		}
	}
	s->gcount = (unsigned)r;
	s->gmsg = 0;
	s->goff = 0;
	return (int)sl_udp_split(l, s, dg, n);
}

static int udp_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		    struct sl_diag *d)
{
	struct sl_udp *s = l->priv;
	int r;

	if (s->ur)
		return sl_uring_recv(l, s, dg, n, timeout_ms, d);
	if (s->gro && s->gmsg < s->gcount) {
		r = (int)sl_udp_split(l, s, dg, n);
		if (r > 0)
			return r;
	}
	/* Try first, and wait only when nothing is there: under load the
	 * queue is rarely empty, and a poll per batch is a syscall wasted. */
	for (int attempt = 0; attempt < 2; attempt++) {
		r = s->gro ? recv_gro(l, s, dg, n) : recv_plain(l, s, dg, n);
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return sl_diag_errno(d, "%s: receive failed", l->desc);
			r = 0;
		}
		if (r > 0 || timeout_ms == 0 || attempt == 1)
			return r;
		{
			struct pollfd p = { .fd = s->fd, .events = POLLIN };
			r = poll(&p, 1, timeout_ms);
			if (r < 0 && errno != EINTR)
				return sl_diag_errno(d, "%s: poll failed", l->desc);
			if (r <= 0)
				return 0;
		}
	}
	return 0;
}

static void udp_close(struct sl_link *l)
{
	struct sl_udp *s = l->priv;
	if (s)
		udp_free(s);
}

const struct sl_link_ops sl_link_udp_ops = {
	.scheme = "udp",
	.tx_keys = "ttl loop iface src gso io zc",
	.rx_keys = "iface gro io",
	.open = udp_open,
	.send = udp_send,
	.recv = udp_recv,
	.close = udp_close,
};
