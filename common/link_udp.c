/* link_udp.c — the UDP back-end: batched sendmmsg/recvmmsg on an
 * unconnected socket, large socket buffers, kernel drop counts
 * (SO_RXQ_OVFL), kernel arrival timestamps (SO_TIMESTAMPNS), broadcast and
 * multicast by address. IPv4 and IPv6. Nothing here waits for a reply. */
#include "link_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "units.h"

#define BATCH 256
#define DEFAULT_SOCKBUF (32u << 20)
#define CTRL_LEN (CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec)) + 64)

struct udp {
	int fd;
	struct sockaddr_storage peer;  /* tx: destination */
	socklen_t peerlen;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];       /* rx: one per message */
	uint8_t ctrl[BATCH][CTRL_LEN];
};

/* "HOST:PORT" or "[V6]:PORT" into an address. */
static int resolve(const char *uri, const char *target, int tx, struct sockaddr_storage *ss,
		   socklen_t *sslen, struct sl_diag *d)
{
	char host[256];
	const char *port, *h = target;
	size_t hl;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	char *end;
	unsigned long p;
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
	errno = 0;
	p = strtoul(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || errno || p < (tx ? 1u : 0u) || p > 65535)
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

static int open_tx(struct sl_link *l, struct udp *s, const struct sl_uri *u,
		   const struct sl_link_opts *o, struct sl_diag *d)
{
	uint64_t ttl = 1;
	int loop = 1, v6 = s->peer.ss_family == AF_INET6, r;
	unsigned idx;
	const char *src = sl_uri_opt(u, "src");
	char at[80], buf[32];

	if ((r = sl_uri_opt_u64(u, "ttl", 1, 255, &ttl, d)) ||
	    (r = sl_uri_opt_bool(u, "loop", &loop, d)) || (r = iface_index(u, &idx, d)))
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
	snprintf(l->desc, sizeof l->desc, "udp send to %s%s (sndbuf %s)", at,
		 is_multicast(&s->peer) ? " multicast" : "",
		 sl_fmt_bytes(l->st.sockbuf, buf, sizeof buf));
	return SL_OK;
}

static int open_rx(struct sl_link *l, struct udp *s, const struct sl_uri *u,
		   const struct sl_link_opts *o, struct sl_diag *d)
{
	int v6 = s->peer.ss_family == AF_INET6, r;
	unsigned idx;
	char at[80], buf[32];

	if ((r = iface_index(u, &idx, d)))
		return r;
	set_sockbuf(l, s->fd, o->sockbuf ? o->sockbuf : DEFAULT_SOCKBUF, 0);
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
	snprintf(l->desc, sizeof l->desc, "udp receive on %s%s (rcvbuf %s)", at,
		 is_multicast(&s->peer) ? " multicast" : "",
		 sl_fmt_bytes(l->st.sockbuf, buf, sizeof buf));
	return SL_OK;
}

static int udp_open(struct sl_link *l, const struct sl_uri *u, const struct sl_link_opts *o,
		    struct sl_diag *d)
{
	struct udp *s = calloc(1, sizeof *s);
	int r;

	if (!s)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	s->fd = -1;
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
	l->priv = s;
	l->fd = l->tx ? -1 : s->fd;
	return SL_OK;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return r;
}

static int udp_send(struct sl_link *l, const struct iovec *dg, const uint64_t *ts,
		    unsigned n, struct sl_diag *d)
{
	struct udp *s = l->priv;
	unsigned done = 0, nobufs = 0;

	(void)ts;
	while (done < n) {
		unsigned k = n - done < BATCH ? n - done : BATCH;
		for (unsigned i = 0; i < k; i++) {
			struct msghdr *m = &s->msgs[i].msg_hdr;
			memset(m, 0, sizeof *m);
			m->msg_name = &s->peer;
			m->msg_namelen = s->peerlen;
			m->msg_iov = (struct iovec *)&dg[done + i];
			m->msg_iovlen = 1;
		}
		int r = sendmmsg(s->fd, s->msgs, k, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS && nobufs++ < 1000) {
				/* the device queue is full: give it a moment */
				struct timespec t = { 0, 50000 };
				nanosleep(&t, NULL);
				continue;
			}
			if (done)
				break;
			return sl_diag_errno(d, "%s: send failed", l->desc);
		}
		for (int i = 0; i < r; i++)
			l->st.bytes += dg[done + (unsigned)i].iov_len;
		l->st.datagrams += (unsigned)r;
		done += (unsigned)r;
	}
	if (done < n)
		sl_diag_errno(d, "%s: send failed after %u of %u datagrams", l->desc, done, n);
	return (int)done;
}

static int udp_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		    struct sl_diag *d)
{
	struct udp *s = l->priv;
	unsigned k = n < BATCH ? n : BATCH, got = 0;
	int r;

	if (timeout_ms != 0) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return sl_diag_errno(d, "%s: poll failed", l->desc);
		if (r <= 0)
			return 0;
	}
	for (unsigned i = 0; i < k; i++) {
		struct msghdr *m = &s->msgs[i].msg_hdr;
		memset(m, 0, sizeof *m);
		s->iov[i].iov_base = dg[i].buf;
		s->iov[i].iov_len = dg[i].cap;
		m->msg_iov = &s->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = s->ctrl[i];
		m->msg_controllen = CTRL_LEN;
	}
	r = recvmmsg(s->fd, s->msgs, k, MSG_DONTWAIT, NULL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return sl_diag_errno(d, "%s: receive failed", l->desc);
	}
	for (unsigned i = 0; i < (unsigned)r; i++) {
		struct msghdr *m = &s->msgs[i].msg_hdr;
		uint64_t ts = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof drops);
				l->st.kernel_drops = drops;
			} else if (c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec t;
				memcpy(&t, CMSG_DATA(c), sizeof t);
				ts = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
			}
		}
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
		dg[got].ts_ns = ts ? ts : sl_link_realtime_ns();
		l->st.bytes += dg[got].len;
		l->st.datagrams++;
		got++;
	}
	return (int)got;
}

static void udp_close(struct sl_link *l)
{
	struct udp *s = l->priv;
	if (!s)
		return;
	close(s->fd);
	free(s);
}

const struct sl_link_ops sl_link_udp_ops = {
	.scheme = "udp",
	.tx_keys = "ttl loop iface src",
	.rx_keys = "iface",
	.open = udp_open,
	.send = udp_send,
	.recv = udp_recv,
	.close = udp_close,
};
