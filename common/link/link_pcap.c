/* link_pcap.c — the pcap-file back-end. Sending writes each datagram as
 * an Ethernet/IPv4/UDP frame (or a raw sluice-EtherType frame) through
 * libpcap's dump API; receiving reads such a file with pcap_open_offline
 * and extracts datagrams with the strict parser in frame.c. */
#include "link_impl.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "pace.h"
#include "units.h"

#define SNAPLEN 65535

struct pcapf {
	pcap_t *pc;
	pcap_dumper_t *dump;          /* tx */
	struct sl_frame_addr addr;    /* tx */
	int raw;                      /* tx: raw EtherType frames */
	int nano;                     /* tx: nanosecond timestamps */
	uint64_t rate;                /* tx: virtual line rate, 0 = real time */
	uint64_t vclock_ns;           /* tx: next virtual timestamp */
	uint64_t start_ns, start_mono;/* tx: anchor of real-time stamps */
	uint16_t ip_id;
	int port;                     /* rx: UDP port filter, -1 any */
	int realtime;                 /* rx: replay at the recorded pace */
	uint64_t first_ts, first_mono;/* rx: realtime anchor */
	int eof;
	uint8_t frame[SNAPLEN + 64];
};

static int pcap_tx_open(struct sl_link *l, struct pcapf *p, const struct sl_uri *u,
			const struct sl_link_opts *o, struct sl_diag *d)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint64_t sp = SL_DEFAULT_PORT, dp = SL_DEFAULT_PORT;
	const char *v;
	int r;

	memcpy(p->addr.src_mac, src, 6);
	memset(p->addr.dst_mac, 0xff, 6);
	p->addr.src_ip = 0xc0000201; /* 192.0.2.1 (TEST-NET-1) */
	p->addr.dst_ip = 0xc0000202; /* 192.0.2.2 */
	if ((r = sl_uri_opt_mac(u, "src_mac", p->addr.src_mac, d)) ||
	    (r = sl_uri_opt_mac(u, "dst_mac", p->addr.dst_mac, d)) ||
	    (r = sl_uri_opt_ipv4(u, "src_ip", &p->addr.src_ip, d)) ||
	    (r = sl_uri_opt_ipv4(u, "dst_ip", &p->addr.dst_ip, d)) ||
	    (r = sl_uri_opt_u64(u, "src_port", 1, 65535, &sp, d)) ||
	    (r = sl_uri_opt_u64(u, "dst_port", 1, 65535, &dp, d)))
		return r;
	p->addr.src_port = (uint16_t)sp;
	p->addr.dst_port = (uint16_t)dp;
	if ((v = sl_uri_opt(u, "frame"))) {
		if (!strcmp(v, "raw"))
			p->raw = 1;
		else if (strcmp(v, "udp"))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: frame=%s: expected udp or raw", u->text, v);
	}
	if ((v = sl_uri_opt(u, "ts"))) {
		if (!strcmp(v, "nsec"))
			p->nano = 1;
		else if (strcmp(v, "usec"))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: ts=%s: expected usec or nsec", u->text, v);
	}
	if ((v = sl_uri_opt(u, "rate"))) {
		struct sl_diag rd;
		if (sl_parse_rate(v, &p->rate, &rd))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: %s", u->text, rd.msg);
	}
	p->start_ns = o->pcap_ts_ns ? o->pcap_ts_ns : sl_realtime_ns();
	p->start_mono = sl_now_ns();
	p->vclock_ns = p->start_ns;
	p->pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN,
			p->nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
	if (!p->pc)
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: pcap_open_dead failed", u->text);
	p->dump = pcap_dump_open(p->pc, u->target);
	if (!p->dump)
		return sl_diag_set(d, SL_ERR_IO, "%s: cannot create the capture file: %s", u->text,
				   pcap_geterr(p->pc));
	{
		char rb[32], ts[48] = "real send times";
		if (p->rate)
			snprintf(ts, sizeof ts, "paced at %s", sl_fmt_rate((double)p->rate, rb, sizeof rb));
		snprintf(l->desc, sizeof l->desc, "pcap write %.200s (%s frames, timestamps %s)",
			 u->target, p->raw ? "sluice EtherType" : "Ethernet/IPv4/UDP", ts);
	}
	return SL_OK;
}

static int pcap_rx_open(struct sl_link *l, struct pcapf *p, const struct sl_uri *u,
			const struct sl_link_opts *o, struct sl_diag *d)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	uint64_t port = 0;
	int r, dlt;

	if ((r = sl_uri_opt_u64(u, "port", 1, 65535, &port, d)))
		return r;
	p->port = sl_uri_opt(u, "port") ? (int)port : -1;
	p->realtime = o->pcap_realtime;
	p->pc = pcap_open_offline_with_tstamp_precision(u->target, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p->pc)
		return sl_diag_set(d, SL_ERR_IO, "%s: cannot read the capture file: %s", u->text, err);
	dlt = pcap_datalink(p->pc);
	if (dlt != DLT_EN10MB)
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "%s: not an Ethernet capture (link type %s)",
				   u->text, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt)
									   : "unknown");
	if (p->port >= 0)
		snprintf(l->desc, sizeof l->desc, "pcap read %.200s (UDP port %d and sluice EtherType)",
			 u->target, p->port);
	else
		snprintf(l->desc, sizeof l->desc, "pcap read %.200s (any UDP port and sluice EtherType)",
			 u->target);
	return SL_OK;
}

static void pcap_free(struct pcapf *p)
{
	if (p->dump)
		pcap_dump_close(p->dump);
	if (p->pc)
		pcap_close(p->pc);
	free(p);
}

static int pcapf_open(struct sl_link *l, const struct sl_uri *u, const struct sl_link_opts *o,
		      struct sl_diag *d)
{
	struct pcapf *p = calloc(1, sizeof *p);
	int r;

	if (!p)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	r = l->tx ? pcap_tx_open(l, p, u, o, d) : pcap_rx_open(l, p, u, o, d);
	if (r) {
		pcap_free(p);
		return r;
	}
	l->priv = p;
	return SL_OK;
}

static int pcapf_send(struct sl_link *l, const struct iovec *dg, const uint64_t *ts,
		      unsigned n, struct sl_diag *d)
{
	struct pcapf *p = l->priv;
	uint64_t real = 0;

	if (!ts && !p->rate)
		real = p->start_ns + (sl_now_ns() - p->start_mono);
	for (unsigned i = 0; i < n; i++) {
		struct pcap_pkthdr h;
		size_t flen;
		uint64_t t;

		if (p->raw)
			flen = sl_frame_build_raw(p->frame, sizeof p->frame, p->addr.src_mac,
						  p->addr.dst_mac, dg[i].iov_base, dg[i].iov_len);
		else
			flen = sl_frame_build_udp(p->frame, sizeof p->frame, &p->addr, p->ip_id++,
						  dg[i].iov_base, dg[i].iov_len);
		if (!flen)
			return sl_diag_set(d, SL_ERR_TOOBIG, "%s: datagram of %zu bytes does not fit "
					   "a frame", l->desc, dg[i].iov_len);
		if (ts) {
			t = ts[i];
		} else if (p->rate) {
			/* back to back on a line of p->rate bit/s */
			size_t w = p->raw ? sl_wire_bytes_eth(dg[i].iov_len)
					  : sl_wire_bytes_udp(dg[i].iov_len);
			t = p->vclock_ns;
			p->vclock_ns += ((unsigned __int128)w * 8000000000ull + p->rate - 1) / p->rate;
		} else {
			t = real;
		}
		h.ts.tv_sec = (time_t)(t / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(p->nano ? t % 1000000000ull : (t % 1000000000ull) / 1000);
		h.caplen = h.len = (bpf_u_int32)flen;
		pcap_dump((u_char *)p->dump, &h, p->frame);
		l->st.datagrams++;
		l->st.bytes += dg[i].iov_len;
	}
	if (ferror(pcap_dump_file(p->dump)))
		return sl_diag_set(d, SL_ERR_IO, "%s: write error on the capture file", l->desc);
	return (int)n;
}

static void replay_wait(struct pcapf *p, uint64_t ts)
{
	if (!p->first_mono) {
		p->first_mono = sl_now_ns();
		p->first_ts = ts;
		return;
	}
	if (ts > p->first_ts)
		sl_sleep_until_ns(p->first_mono + (ts - p->first_ts));
}

static int pcapf_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		      struct sl_diag *d)
{
	struct pcapf *p = l->priv;
	unsigned got = 0;

	(void)timeout_ms; /* a file never makes us wait */
	if (p->eof)
		return SL_ERR_CLOSED;
	while (got < n) {
		struct pcap_pkthdr *h;
		const u_char *data;
		const uint8_t *payload;
		size_t len;
		int r = pcap_next_ex(p->pc, &h, &data);

		if (r == PCAP_ERROR_BREAK) {
			p->eof = 1;
			break;
		}
		if (r < 0)
			return sl_diag_set(d, SL_ERR_IO, "%s: %s", l->desc, pcap_geterr(p->pc));
		if (r == 0)
			continue;
		r = sl_frame_extract(data, h->caplen, p->port, &payload, &len);
		if (r < 0 || len > dg[got].cap) {
			l->st.foreign++;
			continue;
		}
		memcpy(dg[got].buf, payload, len);
		dg[got].len = len;
		dg[got].ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (p->realtime)
			replay_wait(p, dg[got].ts_ns);
		l->st.datagrams++;
		l->st.bytes += len;
		got++;
	}
	if (got == 0 && p->eof)
		return SL_ERR_CLOSED;
	return (int)got;
}

static int pcapf_flush(struct sl_link *l, struct sl_diag *d)
{
	struct pcapf *p = l->priv;
	if (p->dump && pcap_dump_flush(p->dump) < 0)
		return sl_diag_set(d, SL_ERR_IO, "%s: cannot flush the capture file", l->desc);
	return SL_OK;
}

static void pcapf_close(struct sl_link *l)
{
	if (l->priv)
		pcap_free(l->priv);
}

const struct sl_link_ops sl_link_pcap_ops = {
	.scheme = "pcap",
	.tx_keys = "src_mac dst_mac src_ip dst_ip src_port dst_port frame ts rate",
	.rx_keys = "port",
	.open = pcapf_open,
	.send = pcapf_send,
	.recv = pcapf_recv,
	.flush = pcapf_flush,
	.close = pcapf_close,
};
