/* Unit tests for the link back-ends (common/link*.c, common/proto/frame.c):
 * UDP loopback, pcap files, raw Ethernet on a veth pair in a private
 * network namespace (root only), URI errors and descriptions. */
#include <criterion/criterion.h>
#include <linux/capability.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bytes.h"
#include "frame.h"
#include "link.h"
#include "pace.h"
#include "link_util.h"
#include "tmpdir_suite.h"

Test(link, udp_loopback_batches)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	struct bufs *b = bufs_new(MAXN);

	open_pair("", "", NULL, &tx, &rx);
	cr_assert_eq(sl_link_fd(tx), -1);
	cr_assert_geq(sl_link_fd(rx), 0);
	/* three batches, each received whole before the next (the socket
	 * buffer holds one batch even if the kernel capped it) */
	for (unsigned batch = 0; batch < 3; batch++) {
		unsigned first = batch * 200;
		cr_assert_eq(sl_link_send(tx, b->iov + first, 200, &d), 200, "%s", d.msg);
		recv_check(rx, b, first, 200);
	}
	struct sl_link_stats st;
	sl_link_get_stats(tx, &st);
	cr_assert_eq(st.datagrams, 600);
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, 600);
	cr_assert_eq(st.foreign, 0);
	cr_assert_eq(st.kernel_drops, 0);
	/* nothing more arrives: a poll times out with 0 */
	cr_assert_eq(sl_link_recv(rx, b->dg, 4, 0, &d), 0);
	cr_assert_eq(sl_link_recv(rx, b->dg, 4, 20, &d), 0);
	close_pair(tx, rx, b);
}

Test(link, udp_oversized_for_buffer_is_foreign)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	struct bufs *b = bufs_new(8);

	open_pair("", "", NULL, &tx, &rx);
	/* datagram 3 is 64 bytes, 6 is 1472: give the receiver 100-byte buffers */
	struct iovec v[2] = { b->iov[6], b->iov[3] };
	cr_assert_eq(sl_link_send(tx, v, 2, &d), 2, "%s", d.msg);
	for (int i = 0; i < 4; i++)
		b->dg[i].cap = 100;
	usleep(20000);
	int r = sl_link_recv(rx, b->dg, 4, 100, &d);
	cr_assert_eq(r, 1);
	dg_check(b->dg[0].buf, b->dg[0].len, 3);
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, 1);
	close_pair(tx, rx, b);
}

Test(link, send_refuses_bad_datagrams)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	static uint8_t big[SL_LINK_MAX_DGRAM + 1];
	struct iovec v = { big, sizeof big };
	struct sl_dgram g = { big, sizeof big, 0, 0 };

	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9", NULL, &tx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_send(tx, &v, 1, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, "9000-byte limit"), "%s", d.msg);
	v.iov_len = 0;
	cr_assert_eq(sl_link_send(tx, &v, 1, &d), SL_ERR_INVAL);
	cr_assert_eq(sl_link_recv(tx, &g, 1, 0, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "opened for sending"), "%s", d.msg);
	sl_link_close(tx);
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0", NULL, &rx, &d), SL_OK, "%s", d.msg);
	v.iov_len = 10;
	cr_assert_eq(sl_link_send(rx, &v, 1, &d), SL_ERR_INVAL);
	sl_link_close(rx);
}

/* Capture files live in a private directory removed after each test,
 * whether it passed or not. */
TestSuite(link, .init = tmp_setup, .fini = tmp_teardown);

static char *tmpname(const char *tag)
{
	char *p = malloc(128);
	snprintf(p, 128, "%s/%s.pcap", tmp, tag);
	return p;
}

Test(link, pcap_round_trip)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	char *f = tmpname("rt"), uri[160];
	struct bufs *b = bufs_new(MAXN);
	struct sl_link_opts o = { .pcap_ts_ns = 1700000000ull * 1000000000ull };

	snprintf(uri, sizeof uri, "pcap:%s?dst_port=5000&src_ip=10.0.0.1&ts=nsec&rate=100M", f);
	cr_assert_eq(sl_link_open_tx(uri, &o, &tx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_send(tx, b->iov, 300, &d), 300, "%s", d.msg);
	cr_assert_eq(sl_link_send(tx, b->iov + 300, MAXN - 300, &d), MAXN - 300, "%s", d.msg);
	sl_link_close(tx);

	snprintf(uri, sizeof uri, "pcap:%s?port=5000", f);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_fd(rx), -1);
	unsigned got = 0;
	uint64_t prev_ts = 0;
	for (;;) {
		int r = sl_link_recv(rx, b->dg, 64, -1, &d);
		if (r == SL_ERR_CLOSED)
			break;
		cr_assert_gt(r, 0, "%s", d.msg);
		for (int i = 0; i < r; i++) {
			unsigned k = got + (unsigned)i;
			dg_check(b->dg[i].buf, b->dg[i].len, k);
			/* paced timestamps: each frame follows the previous by
			 * its predecessor's wire time at 100 Mbit/s */
			if (k == 0)
				cr_assert_eq(b->dg[i].ts_ns, o.pcap_ts_ns);
			else
				cr_assert_eq(b->dg[i].ts_ns - prev_ts,
					     (sl_wire_bytes_udp(dg_len(k - 1)) * 8000000000ull + 99999999) / 100000000,
					     "ts of %u", k);
			prev_ts = b->dg[i].ts_ns;
		}
		got += (unsigned)r;
	}
	cr_assert_eq(got, MAXN);
	cr_assert_eq(sl_link_recv(rx, b->dg, 1, -1, &d), SL_ERR_CLOSED);
	sl_link_close(rx);

	/* the same file read for another port: everything is foreign */
	snprintf(uri, sizeof uri, "pcap:%s?port=4747", f);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_recv(rx, b->dg, 64, -1, &d), SL_ERR_CLOSED);
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.foreign, MAXN);
	sl_link_close(rx);
	unlink(f);
	free(f);
	bufs_free(b);
}

/* Write a capture mixing sluice frames with foreign and damaged ones. */
static void write_mixed(const char *path, unsigned *good, unsigned *foreign)
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *pw = pcap_dump_open(pd, path);
	struct sl_frame_addr a = { .src_mac = { 2, 0, 0, 0, 0, 1 }, .dst_mac = { 2, 0, 0, 0, 0, 2 },
				   .src_ip = 0x0a000001, .dst_ip = 0x0a000002,
				   .src_port = 1000, .dst_port = 4747 };
	static uint8_t fr[10000], dg[9000];
	struct pcap_pkthdr h = { .ts = { 1700000000, 0 } };
	size_t n;

	*good = *foreign = 0;
	cr_assert(pw, "%s", pcap_geterr(pd));
#define PUT(flen) do { h.caplen = h.len = (bpf_u_int32)(flen); pcap_dump((u_char *)pw, &h, fr); \
		      h.ts.tv_usec++; } while (0)
	for (unsigned i = 0; i < 40; i++) {
		dg_fill(dg, *good);
		switch (i % 8) {
		case 0: /* good UDP */
			n = sl_frame_build_udp(fr, sizeof fr, &a, (uint16_t)i, dg, dg_len(*good));
			PUT(n); ++*good; break;
		case 1: /* good raw EtherType */
			n = sl_frame_build_raw(fr, sizeof fr, a.src_mac, a.dst_mac, dg, dg_len(*good));
			PUT(n); ++*good; break;
		case 2: /* ARP */
			memset(fr, 0, 60); sl_put_be16(fr + 12, 0x0806); PUT(60); ++*foreign; break;
		case 3: /* IPv4 header checksum broken */
			n = sl_frame_build_udp(fr, sizeof fr, &a, 1, dg, 100);
			fr[24] ^= 1; PUT(n); ++*foreign; break;
		case 4: /* truncated capture */
			n = sl_frame_build_udp(fr, sizeof fr, &a, 1, dg, 1000);
			PUT(n - 10); ++*foreign; break;
		case 5: /* payload corrupted: UDP checksum fails */
			n = sl_frame_build_udp(fr, sizeof fr, &a, 1, dg, 1000);
			fr[500] ^= 0x40; PUT(n); ++*foreign; break;
		case 6: /* UDP to another port */
			a.dst_port = 53;
			n = sl_frame_build_udp(fr, sizeof fr, &a, 1, dg, 100);
			a.dst_port = 4747; PUT(n); ++*foreign; break;
		case 7: /* runt */
			PUT(10); ++*foreign; break;
		}
	}
#undef PUT
	pcap_dump_close(pw);
	pcap_close(pd);
}

Test(link, pcap_foreign_frames_counted)
{
	struct sl_link *rx;
	struct sl_diag d;
	char *f = tmpname("mixed"), uri[160];
	unsigned good, foreign, got = 0;
	struct bufs *b = bufs_new(64);

	write_mixed(f, &good, &foreign);
	snprintf(uri, sizeof uri, "pcap:%s?port=4747", f);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &rx, &d), SL_OK, "%s", d.msg);
	for (int r; (r = sl_link_recv(rx, b->dg, 7, 0, &d)) != SL_ERR_CLOSED; got += (unsigned)r) {
		cr_assert_geq(r, 0, "%s", d.msg);
		for (int i = 0; i < r; i++)
			dg_check(b->dg[i].buf, b->dg[i].len, got + (unsigned)i);
	}
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(got, good);
	cr_assert_eq(st.foreign, foreign);
	sl_link_close(rx);
	unlink(f);
	free(f);
	bufs_free(b);
}

Test(link, pcap_rejects_non_ethernet_capture)
{
	char *f = tmpname("dlt"), uri[160];
	pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *pw = pcap_dump_open(pd, f);
	struct sl_link *rx;
	struct sl_diag d;

	pcap_dump_close(pw);
	pcap_close(pd);
	snprintf(uri, sizeof uri, "pcap:%s", f);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &rx, &d), SL_ERR_UNSUPPORTED);
	cr_assert(strstr(d.msg, "not an Ethernet capture"), "%s", d.msg);
	cr_assert_null(rx);
	unlink(f);
	free(f);
}

Test(link, bad_uris)
{
	static const struct {
		const char *uri;
		int tx;
		int err;
		const char *msg;
	} cases[] = {
		{ "", 1, SL_ERR_PARSE, "empty link URI" },
		{ "127.0.0.1", 1, SL_ERR_PARSE, "no scheme" },
		{ "tcp://127.0.0.1:1", 1, SL_ERR_PARSE, "unknown scheme 'tcp'" },
		{ "udp:127.0.0.1:1", 1, SL_ERR_PARSE, "expected udp://HOST:PORT" },
		{ "udp://", 1, SL_ERR_PARSE, "missing HOST:PORT" },
		{ "udp://127.0.0.1", 1, SL_ERR_PARSE, "missing :PORT" },
		{ "udp://:4747", 0, SL_ERR_PARSE, "missing host" },
		{ "udp://127.0.0.1:0", 1, SL_ERR_RANGE, "must be a number 1..65535" },
		{ "udp://127.0.0.1:65536", 0, SL_ERR_RANGE, "must be a number 0" },
		{ "udp://127.0.0.1:47x", 1, SL_ERR_RANGE, "port '47x'" },
		{ "udp://::1:4747", 1, SL_ERR_PARSE, "needs brackets" },
		{ "udp://[::1:4747", 1, SL_ERR_PARSE, "unterminated '['" },
		{ "udp://no-such-host.invalid:4747", 1, SL_ERR_NOTFOUND, "cannot resolve host" },
		{ "udp://127.0.0.1:4747?ttl", 1, SL_ERR_PARSE, "needs a value" },
		{ "udp://127.0.0.1:4747?ttl=", 1, SL_ERR_PARSE, "empty value" },
		{ "udp://127.0.0.1:4747?ttl=0", 1, SL_ERR_RANGE, "must be 1..255" },
		{ "udp://127.0.0.1:4747?ttl=2&ttl=3", 1, SL_ERR_PARSE, "given twice" },
		{ "udp://127.0.0.1:4747?colour=red", 1, SL_ERR_PARSE, "unknown option 'colour'" },
		{ "udp://127.0.0.1:0?ttl=2", 0, SL_ERR_PARSE, "unknown option 'ttl' for udp receiving" },
		{ "udp://127.0.0.1:4747?loop=maybe", 1, SL_ERR_PARSE, "expected 0 or 1" },
		{ "udp://239.1.2.3:4747?iface=nonexistent0", 1, SL_ERR_NOTFOUND, "no interface named" },
		{ "udp://192.0.2.77:4747", 0, SL_ERR_IO, "cannot listen on 192.0.2.77:4747" },
		{ "pcap:", 1, SL_ERR_PARSE, "missing file name" },
		{ "pcap:/tmp/x.pcap?src_mac=zz", 1, SL_ERR_PARSE, "not a MAC address" },
		{ "pcap:/tmp/x.pcap?dst_ip=1.2.3", 1, SL_ERR_PARSE, "not an IPv4 address" },
		{ "pcap:/tmp/x.pcap?frame=ip6", 1, SL_ERR_PARSE, "expected udp or raw" },
		{ "pcap:/tmp/x.pcap?rate=fast", 1, SL_ERR_PARSE, "rate 'fast'" },
		{ "pcap:/nonexistent-dir/x.pcap", 1, SL_ERR_IO, "cannot create the capture file" },
		{ "pcap:/nonexistent-dir/x.pcap", 0, SL_ERR_IO, "cannot read the capture file" },
		{ "pcap:/tmp/x.pcap?port=70000", 0, SL_ERR_RANGE, "must be 1..65535" },
		{ "eth:", 1, SL_ERR_PARSE, "missing interface name" },
		{ "eth:nonexistent0", 0, SL_ERR_NOTFOUND, "no such interface" },
		{ "eth:lo?dst=ff:ff", 1, SL_ERR_PARSE, "not a MAC address" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sl_link *l = (struct sl_link *)1;
		struct sl_diag d = { "" };
		int r = cases[i].tx ? sl_link_open_tx(cases[i].uri, NULL, &l, &d)
				    : sl_link_open_rx(cases[i].uri, NULL, &l, &d);
		cr_expect_eq(r, cases[i].err, "'%s': got %d (%s), want %d", cases[i].uri, r, d.msg,
			     cases[i].err);
		cr_expect(strstr(d.msg, cases[i].msg), "'%s': message '%s' lacks '%s'",
			  cases[i].uri, d.msg, cases[i].msg);
		cr_expect_null(l, "'%s': link not NULL on failure", cases[i].uri);
	}
}

Test(link, describe_text)
{
	struct sl_link *l;
	struct sl_diag d;
	char *f = tmpname("desc"), uri[160];

	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:4747", NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(!strncmp(sl_link_describe(l), "udp send to 127.0.0.1:4747 (sndbuf ", 35),
		  "%s", sl_link_describe(l));
	sl_link_close(l);
	cr_assert_eq(sl_link_open_tx("udp://[::1]:4747", NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_describe(l), "udp send to [::1]:4747"), "%s", sl_link_describe(l));
	sl_link_close(l);
	cr_assert_eq(sl_link_open_tx("udp://239.1.2.3:4747", NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_describe(l), "239.1.2.3:4747 multicast"), "%s", sl_link_describe(l));
	sl_link_close(l);
	snprintf(uri, sizeof uri, "pcap:%s?rate=250M&frame=raw", f);
	cr_assert_eq(sl_link_open_tx(uri, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_describe(l), "sluice EtherType frames, timestamps paced at 250.00 Mbit/s"),
		  "%s", sl_link_describe(l));
	sl_link_close(l);
	snprintf(uri, sizeof uri, "pcap:%s?port=4800", f);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_describe(l), "(UDP port 4800 and sluice EtherType)"), "%s",
		  sl_link_describe(l));
	sl_link_close(l);
	unlink(f);
	free(f);
}

Test(link, ipv6_loopback)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	char uri[64];
	struct bufs *b = bufs_new(20);

	if (sl_link_open_rx("udp://[::1]:0", NULL, &rx, &d)) {
		cr_skip_test("no IPv6 loopback here: %s", d.msg);
		return;
	}
	snprintf(uri, sizeof uri, "udp://[::1]:%u", rx_port(rx));
	cr_assert_eq(sl_link_open_tx(uri, NULL, &tx, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_link_send(tx, b->iov, 20, &d), 20, "%s", d.msg);
	recv_check(rx, b, 0, 20);
	close_pair(tx, rx, b);
}

/* Drop CAP_NET_ADMIN from this (forked) test process only. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];
	if (syscall(SYS_capget, &h, c))
		return -1;
	c[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, c);
}

static uint64_t read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

Test(link, sockbuf_warning_names_the_sysctl)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	uint64_t rmax = read_sysctl("/proc/sys/net/core/rmem_max");
	uint64_t wmax = read_sysctl("/proc/sys/net/core/wmem_max");
	struct sl_link_opts o = { .sockbuf = 64u << 20 };

	if (rmax >= o.sockbuf || wmax >= o.sockbuf) {
		cr_skip_test("net.core.rmem_max/wmem_max allow 64 MiB here; nothing caps");
		return;
	}
	if (getuid() == 0 && drop_net_admin()) {
		cr_skip_test("cannot drop CAP_NET_ADMIN to test the capped path");
		return;
	}
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0", &o, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_not_null(sl_link_warning(rx));
	cr_assert(strstr(sl_link_warning(rx), "sysctl -w net.core.rmem_max=67108864"), "%s",
		  sl_link_warning(rx));
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_leq(st.sockbuf, rmax);
	cr_assert_eq(sl_link_open_tx("udp://127.0.0.1:9", &o, &tx, &d), SL_OK, "%s", d.msg);
	cr_assert(strstr(sl_link_warning(tx), "net.core.wmem_max"), "%s", sl_link_warning(tx));
	sl_link_close(tx);
	sl_link_close(rx);
}

Test(link, sockbuf_granted_when_privileged)
{
	struct sl_link *rx;
	struct sl_diag d;
	struct sl_link_opts o = { .sockbuf = 8u << 20 };
	if (getuid() != 0) {
		cr_skip_test("not root: SO_RCVBUFFORCE unavailable");
		return;
	}
	cr_assert_eq(sl_link_open_rx("udp://127.0.0.1:0", &o, &rx, &d), SL_OK, "%s", d.msg);
	cr_assert_null(sl_link_warning(rx), "%s", sl_link_warning(rx));
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.sockbuf, 8u << 20);
	sl_link_close(rx);
}

/* Enter a fresh network namespace (this forked test process only: it and
 * its veth pair vanish when the test exits). */
static int private_netns(void)
{
	if (getuid() != 0 || unshare(CLONE_NEWNET))
		return -1;
	return system("ip link set lo up && ip link add sla type veth peer name slb && "
		      "ip link set sla up && ip link set slb up && "
		      "ip route add 224.0.0.0/4 dev lo") == 0 ? 0 : -1;
}

/* The test goes on in a private network namespace, or is skipped. */
static void need_netns(void)
{
	if (private_netns())
		cr_skip_test("needs root and iproute2 to create a network namespace and a veth pair");
}

/* A receive link on rx_uri, then a send link on tx_uri. */
static void open_at(const char *tx_uri, const char *rx_uri, struct sl_link **tx, struct sl_link **rx)
{
	struct sl_diag d;
	cr_assert_eq(sl_link_open_rx(rx_uri, NULL, rx, &d), SL_OK, "%s: %s", rx_uri, d.msg);
	cr_assert_eq(sl_link_open_tx(tx_uri, NULL, tx, &d), SL_OK, "%s: %s", tx_uri, d.msg);
}

Test(link, eth_over_veth_in_netns)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	struct bufs *b = bufs_new(200);

	need_netns();
	open_at("eth:sla", "eth:slb", &tx, &rx);
	cr_assert(strstr(sl_link_describe(rx), "ether proto 0x88b5"), "%s", sl_link_describe(rx));
	/* datagrams up to the veth MTU of 1500 (frame carries 2 length bytes) */
	unsigned n = 0;
	struct iovec v[200];
	for (unsigned i = 0; i < 200; i++)
		if (dg_len(i) <= 1498)
			v[n++] = b->iov[i];
	cr_assert_eq(sl_link_send(tx, v, n, &d), (int)n, "%s", d.msg);
	unsigned got = 0;
	for (int tries = 0; got < n && tries < 100; tries++) {
		int r = sl_link_recv(rx, b->dg, 64, 100, &d);
		cr_assert_geq(r, 0, "%s", d.msg);
		for (int i = 0; i < r; i++) {
			cr_assert_eq(memcmp(b->dg[i].buf, v[got + (unsigned)i].iov_base,
					    v[got + (unsigned)i].iov_len), 0);
			cr_assert_eq(b->dg[i].len, v[got + (unsigned)i].iov_len);
		}
		got += (unsigned)r;
	}
	cr_assert_eq(got, n);
	/* too big for the MTU: refused with the reason */
	cr_assert_eq(sl_link_send(tx, &b->iov[7], 1, &d), SL_ERR_TOOBIG);
	cr_assert(strstr(d.msg, "MTU 1500"), "%s", d.msg);
	close_pair(tx, rx, b);
}

/* Where the kernel refuses segmentation offload (here: 1400-byte segments
 * over a 1300-byte MTU, EINVAL) the link falls back to one datagram per
 * message by itself, with either engine, and every datagram still arrives
 * (as IP fragments). */
static void gso_refused(const char *io)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	struct bufs *b = bufs_new_len(150, 1400);

	need_netns();
	if (system("ip link set lo mtu 1300"))
		cr_skip_test("cannot set the loopback MTU in the namespace");
	open_pair(io, io, NULL, &tx, &rx);
	for (unsigned first = 0; first < 150; first += 50) {
		cr_assert_eq(sl_link_send(tx, b->iov + first, 50, &d), 50, "%s", d.msg);
		recv_check(rx, b, first, 50);
	}
	close_pair(tx, rx, b);
}

Test(link, udp_gso_refused_falls_back) { gso_refused(""); }
Test(link, udp_gso_refused_falls_back_uring) { gso_refused("?io=uring"); }

Test(link, udp_multicast_and_broadcast_in_netns)
{
	struct sl_link *tx, *rx;
	struct sl_diag d;
	struct bufs *b = bufs_new(30);

	need_netns();
	open_at("udp://239.7.7.7:4800?iface=lo&ttl=1", "udp://239.7.7.7:4800?iface=lo", &tx, &rx);
	cr_assert_eq(sl_link_send(tx, b->iov, 10, &d), 10, "%s", d.msg);
	recv_check(rx, b, 0, 10);
	sl_link_close(tx);
	sl_link_close(rx);

	cr_assert_eq(system("ip addr add 10.9.0.1/24 dev sla"), 0);
	open_at("udp://10.9.0.255:4801", "udp://0.0.0.0:4801", &tx, &rx);
	cr_assert_eq(sl_link_send(tx, b->iov + 10, 10, &d), 10, "%s", d.msg);
	recv_check(rx, b, 10, 10);
	close_pair(tx, rx, b);
}

/* A tiny receive buffer that nobody drains overflows; the next receive
 * reports the kernel's drop count (SO_RXQ_OVFL), with either I/O engine. */
static void kernel_drops(const char *rxopt)
{
	struct sl_link *rx, *tx;
	struct sl_diag d;
	struct bufs *b = bufs_new(200);
	struct sl_link_opts o = { .sockbuf = 4096 };
	unsigned got = 0;
	int r;

	/* one datagram per packet: with GSO the kernel drops whole
	 * super-datagrams and counts each once */
	open_pair("?gso=0", rxopt, &o, &tx, &rx);
	struct iovec v[200];
	for (int i = 0; i < 200; i++)
		v[i] = b->iov[5]; /* 1400 bytes each */
	cr_assert_eq(sl_link_send(tx, v, 200, &d), 200, "%s", d.msg);
	/* what the socket buffer held, until nothing more comes */
	while ((r = sl_link_recv(rx, b->dg, 200, got ? 0 : 100, &d)) > 0)
		got += (unsigned)r;
	cr_assert_eq(r, 0, "%s", d.msg);
	cr_assert_gt(got, 0);
	cr_assert_lt(got, 200, "nothing was dropped: the test proves nothing");
	/* the count travels with the next datagram queued after the drops */
	cr_assert_eq(sl_link_send(tx, v, 1, &d), 1, "%s", d.msg);
	cr_assert_eq(sl_link_recv(rx, b->dg, 200, 500, &d), 1, "%s", d.msg);
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.kernel_drops, 200 - (uint64_t)got, "drops %llu, received %u",
		     (unsigned long long)st.kernel_drops, got);
	close_pair(tx, rx, b);
}

Test(link, udp_kernel_drops_are_reported) { kernel_drops(""); }
Test(link, udp_kernel_drops_are_reported_uring) { kernel_drops("?io=uring"); }
Test(link, udp_kernel_drops_are_reported_uring_nogro) { kernel_drops("?io=uring&gro=0"); }

/* Equal-sized datagrams go out as UDP_SEGMENT super-datagrams and come back
 * through GRO split into the original datagrams, in order, with gso/gro on
 * (the default), off, and with borrowed receive buffers. */
static void gso_round_trip(const char *txopt, const char *rxopt, int borrow)
{
	enum { N = 150, LEN = 1472 };
	struct sl_link *rx, *tx;
	struct sl_diag d;
	struct sl_link_opts o = { .borrow = borrow };
	static uint8_t mem[N][LEN], rbuf[N][LEN];
	struct iovec v[N];
	struct sl_dgram dg[N];
	unsigned got = 0;

	open_pair(txopt, rxopt, &o, &tx, &rx);
	for (unsigned i = 0; i < N; i++) {
		sl_put_be32(mem[i], i);
		for (unsigned k = 4; k < LEN; k++)
			mem[i][k] = (uint8_t)(i + k);
		v[i].iov_base = mem[i];
		v[i].iov_len = LEN;
	}
	cr_assert_eq(sl_link_send(tx, v, N, &d), N, "%s", d.msg);
	for (int tries = 0; got < N && tries < 100; tries++) {
		for (unsigned i = 0; i < N; i++) {
			dg[i].buf = rbuf[i];
			dg[i].cap = LEN;
		}
		int r = sl_link_recv(rx, dg, 7, 100, &d); /* fewer than one GRO run */
		cr_assert_geq(r, 0, "%s", d.msg);
		for (int i = 0; i < r; i++, got++) {
			cr_assert_eq(dg[i].len, LEN);
			cr_assert_eq(sl_get_be32(dg[i].buf), got, "datagram %u out of order", got);
			cr_assert_eq(memcmp(dg[i].buf + 4, mem[got] + 4, LEN - 4), 0);
		}
	}
	cr_assert_eq(got, N);
	struct sl_link_stats st;
	sl_link_get_stats(rx, &st);
	cr_assert_eq(st.datagrams, N);
	cr_assert_eq(st.foreign, 0);
	sl_link_close(tx);
	sl_link_close(rx);
}

Test(link, udp_gso_gro_round_trip) { gso_round_trip("", "", 0); }
Test(link, udp_gso_gro_borrowed) { gso_round_trip("", "", 1); }
Test(link, udp_gso_off_gro_on) { gso_round_trip("?gso=0", "", 0); }
Test(link, udp_gso_on_gro_off) { gso_round_trip("", "?gro=0", 1); }
