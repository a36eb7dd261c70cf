/* link_eth.c — raw Ethernet through libpcap: frames of EtherType
 * SL_ETHERTYPE (layout in frame.h) sent with pcap_inject, received through
 * a kernel BPF filter "ether proto 0x88b5" on inbound traffic only. No IP,
 * no ARP: the sender addresses the broadcast MAC unless told otherwise.
 * A receive handle never sends, but its descriptor (sl_link_fd) is a packet
 * socket bound to the interface: anything written to it (write, writev,
 * an io_uring write) leaves as a frame. sluice-rx's sandbox forbids that
 * (rx/sandbox.h); libpcap offers no capture that cannot transmit. */
#include "link_impl.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "units.h"

#define DEFAULT_BUF (32u << 20)

struct eth {
	pcap_t *pc;
	uint8_t src[6], dst[6];
	unsigned mtu;
	/* rx: the batch being filled by the pcap_dispatch callback */
	struct sl_link *l;
	struct sl_dgram *dg;
	unsigned want, got;
	uint8_t frame[SL_LINK_MAX_DGRAM + 64];
};

/* Read /sys/class/net/IFACE/FILE's first line. */
static int sysfs_line(const char *iface, const char *file, char *buf, size_t len)
{
	char path[256];
	FILE *f;

	if (strchr(iface, '/') || strlen(iface) > 64)
		return -1;
	snprintf(path, sizeof path, "/sys/class/net/%s/%s", iface, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int eth_activate(struct sl_link *l, struct eth *e, const struct sl_uri *u,
			const struct sl_link_opts *o, struct sl_diag *d)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	int promisc = 1, r;
	size_t buf = o->sockbuf ? o->sockbuf : DEFAULT_BUF;

	if (!l->tx && (r = sl_uri_opt_bool(u, "promisc", &promisc, d)))
		return r;
	e->pc = pcap_create(u->target, err);
	if (!e->pc)
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", u->text, err);
	pcap_set_snaplen(e->pc, l->tx ? 64 : SL_LINK_MAX_DGRAM + 64);
	pcap_set_promisc(e->pc, l->tx ? 0 : promisc);
	pcap_set_immediate_mode(e->pc, 1);
	pcap_set_buffer_size(e->pc, l->tx ? 1 << 16 : (int)(buf > 0x3fffffff ? 0x3fffffff : buf));
	r = pcap_activate(e->pc);
	if (r < 0) {
		const char *why = r == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface" :
				  r == PCAP_ERROR_PERM_DENIED ? "permission denied (needs CAP_NET_RAW)" :
				  r == PCAP_ERROR_IFACE_NOT_UP ? "interface is down" : pcap_geterr(e->pc);
		return sl_diag_set(d, r == PCAP_ERROR_NO_SUCH_DEVICE ? SL_ERR_NOTFOUND : SL_ERR_IO,
				   "%s: cannot open the interface: %s", u->text, why);
	}
	if (pcap_datalink(e->pc) != DLT_EN10MB)
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "%s: not an Ethernet interface", u->text);
	if (!l->tx)
		l->st.sockbuf = buf;
	return SL_OK;
}

static int eth_tx_setup(struct sl_link *l, struct eth *e, const struct sl_uri *u,
			struct sl_diag *d)
{
	/* A sending handle must not capture: a filter that accepts nothing. */
	static struct bpf_insn none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct bpf_program prog = { 1, none };
	char line[64];
	uint64_t mtu;

	e->mtu = 1500; /* unless the interface says otherwise */
	if (!sysfs_line(u->target, "mtu", line, sizeof line) && !sl_parse_decimal(line, 0, UINT_MAX, &mtu))
		e->mtu = (unsigned)mtu;
	if (pcap_setfilter(e->pc, &prog) < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", u->text, pcap_geterr(e->pc));
	snprintf(l->desc, sizeof l->desc, "eth send on %.64s to %02x:%02x:%02x:%02x:%02x:%02x "
		 "(EtherType 0x%04X, MTU %u)", u->target, e->dst[0], e->dst[1], e->dst[2],
		 e->dst[3], e->dst[4], e->dst[5], SL_ETHERTYPE, e->mtu);
	return SL_OK;
}

static int eth_rx_setup(struct sl_link *l, struct eth *e, const struct sl_uri *u,
			struct sl_diag *d)
{
	struct bpf_program prog;
	char filter[32], b[32];

	snprintf(filter, sizeof filter, "ether proto 0x%04x", SL_ETHERTYPE);
	if (pcap_setdirection(e->pc, PCAP_D_IN) < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: cannot capture inbound only: %s", u->text,
				   pcap_geterr(e->pc));
	if (pcap_compile(e->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", u->text, pcap_geterr(e->pc));
	if (pcap_setfilter(e->pc, &prog) < 0) {
		pcap_freecode(&prog);
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", u->text, pcap_geterr(e->pc));
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(e->pc, 1, NULL) < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", u->text, pcap_geterr(e->pc));
	l->fd = pcap_get_selectable_fd(e->pc);
	snprintf(l->desc, sizeof l->desc, "eth receive on %.64s (%s, inbound, buffer %s)",
		 u->target, filter, sl_fmt_bytes(l->st.sockbuf, b, sizeof b));
	return SL_OK;
}

static int eth_open(struct sl_link *l, const struct sl_uri *u, const struct sl_link_opts *o,
		    struct sl_diag *d)
{
	struct eth *e = calloc(1, sizeof *e);
	int r;

	if (!e)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	e->l = l;
	if (!if_nametoindex(u->target)) {
		free(e);
		return sl_diag_set(d, SL_ERR_NOTFOUND, "%s: cannot open the interface: no such "
				   "interface", u->text);
	}
	/* options first, so a typo is reported before any device is opened */
	if (l->tx) {
		char line[64];
		memset(e->dst, 0xff, 6);
		if (sysfs_line(u->target, "address", line, sizeof line) || sl_parse_mac(line, e->src)) {
			static const uint8_t dflt[6] = { 0x02, 0, 0, 0, 0, 0x01 };
			memcpy(e->src, dflt, 6);
		}
		r = sl_uri_opt_mac(u, "dst", e->dst, d);
		if (!r)
			r = sl_uri_opt_mac(u, "src", e->src, d);
		if (r) {
			free(e);
			return r;
		}
	}
	r = eth_activate(l, e, u, o, d);
	if (!r)
		r = l->tx ? eth_tx_setup(l, e, u, d) : eth_rx_setup(l, e, u, d);
	if (r) {
		if (e->pc)
			pcap_close(e->pc);
		free(e);
		l->fd = -1;
		return r;
	}
	l->priv = e;
	return SL_OK;
}

static int eth_send(struct sl_link *l, const struct iovec *dg, const uint64_t *ts,
		    unsigned n, struct sl_diag *d)
{
	struct eth *e = l->priv;
	unsigned i;

	(void)ts;
	for (i = 0; i < n; i++) {
		size_t flen;
		unsigned tries = 0;

		if (dg[i].iov_len + 2 > e->mtu) {
			if (i)
				break;
			return sl_diag_set(d, SL_ERR_TOOBIG, "%s: datagram of %zu bytes exceeds the "
					   "interface MTU %u (less 2 bytes of length)", l->desc,
					   dg[i].iov_len, e->mtu);
		}
		flen = sl_frame_build_raw(e->frame, sizeof e->frame, e->src, e->dst,
					  dg[i].iov_base, dg[i].iov_len);
		while (pcap_inject(e->pc, e->frame, flen) < 0) {
			if (errno == ENOBUFS && tries++ < 1000) {
				struct timespec t = { 0, 50000 };
				nanosleep(&t, NULL);
				continue;
			}
			if (i)
				goto out;
			return sl_diag_set(d, SL_ERR_IO, "%s: %s", l->desc, pcap_geterr(e->pc));
		}
		l->st.datagrams++;
		l->st.bytes += dg[i].iov_len;
	}
out:
	if (i < n)
		sl_diag_set(d, SL_ERR_IO, "%s: send stopped after %u of %u datagrams", l->desc, i, n);
	return (int)i;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct eth *e = (struct eth *)user;
	const uint8_t *payload;
	size_t len;
	int r;

	if (e->got >= e->want)
		return;
	r = sl_frame_extract(bytes, h->caplen, -1, &payload, &len);
	if (r != SL_FRAME_KIND_RAW || len > e->dg[e->got].cap) {
		e->l->st.foreign++;
		return;
	}
	memcpy(e->dg[e->got].buf, payload, len);
	e->dg[e->got].len = len;
	e->dg[e->got].ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000;
	e->l->st.datagrams++;
	e->l->st.bytes += len;
	e->got++;
}

static int eth_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		    struct sl_diag *d)
{
	struct eth *e = l->priv;
	struct pcap_stat ps;
	int r;

	e->dg = dg;
	e->want = n;
	e->got = 0;
	r = pcap_dispatch(e->pc, (int)n, on_frame, (u_char *)e);
	if (r < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: %s", l->desc, pcap_geterr(e->pc));
	if (e->got == 0 && timeout_ms != 0) {
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return sl_diag_errno(d, "%s: poll failed", l->desc);
		if (r > 0) {
			r = pcap_dispatch(e->pc, (int)n, on_frame, (u_char *)e);
			if (r < 0)
				return sl_diag_set(d, SL_ERR_IO, "%s: %s", l->desc, pcap_geterr(e->pc));
		}
	}
	if (pcap_stats(e->pc, &ps) == 0)
		l->st.kernel_drops = ps.ps_drop;
	return (int)e->got;
}

static void eth_close(struct sl_link *l)
{
	struct eth *e = l->priv;
	if (!e)
		return;
	pcap_close(e->pc);
	free(e);
}

const struct sl_link_ops sl_link_eth_ops = {
	.scheme = "eth",
	.tx_keys = "dst src",
	.rx_keys = "promisc",
	.open = eth_open,
	.send = eth_send,
	.recv = eth_recv,
	.close = eth_close,
};
