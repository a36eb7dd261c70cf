/* frame.c — build and strictly parse the Ethernet frames that carry
 * sluice datagrams (see frame.h for the two shapes). */
#include "frame.h"

#include <string.h>

#include "bytes.h"
#include "link.h"

#define ETH_HDR 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define IP_HDR 20
#define UDP_HDR 8
#define MAX_UDP_PAYLOAD 65507

uint32_t sl_inet_sum(const uint8_t *buf, size_t len, uint32_t sum)
{
	uint64_t s = sum;
	size_t i = 0;

	for (; i + 1 < len; i += 2)
		s += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (i < len)
		s += (uint32_t)buf[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* UDP checksum over the IPv4 pseudo-header, header and payload. */
static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
	uint8_t pseudo[12];
	uint32_t s;

	memcpy(pseudo, ip + 12, 8); /* source and destination address */
	pseudo[8] = 0;
	pseudo[9] = 17;
	sl_put_be16(pseudo + 10, (uint16_t)udp_len);
	s = sl_inet_sum(pseudo, sizeof pseudo, 0);
	s = sl_inet_sum(udp, udp_len, s);
	return (uint16_t)~s;
}

static size_t pad(uint8_t *out, size_t len, size_t cap)
{
	if (len < SL_FRAME_MIN) {
		if (cap < SL_FRAME_MIN)
			return 0;
		memset(out + len, 0, SL_FRAME_MIN - len);
		len = SL_FRAME_MIN;
	}
	return len;
}

size_t sl_frame_build_udp(uint8_t *out, size_t cap, const struct sl_frame_addr *a,
			  uint16_t ip_id, const uint8_t *dg, size_t len)
{
	size_t flen = SL_FRAME_UDP_HDR + len;
	uint8_t *ip = out + ETH_HDR, *udp = ip + IP_HDR;
	uint16_t c;

	if (len > MAX_UDP_PAYLOAD || cap < flen)
		return 0;
	memcpy(out, a->dst_mac, 6);
	memcpy(out + 6, a->src_mac, 6);
	sl_put_be16(out + 12, ETHERTYPE_IPV4);

	ip[0] = 0x45;            /* version 4, IHL 5 */
	ip[1] = 0;               /* DSCP/ECN */
	sl_put_be16(ip + 2, (uint16_t)(IP_HDR + UDP_HDR + len));
	sl_put_be16(ip + 4, ip_id);
	sl_put_be16(ip + 6, 0x4000); /* DF, offset 0 */
	ip[8] = 64;              /* TTL */
	ip[9] = 17;              /* UDP */
	sl_put_be16(ip + 10, 0);
	sl_put_be32(ip + 12, a->src_ip);
	sl_put_be32(ip + 16, a->dst_ip);
	sl_put_be16(ip + 10, (uint16_t)~sl_inet_sum(ip, IP_HDR, 0));

	sl_put_be16(udp, a->src_port);
	sl_put_be16(udp + 2, a->dst_port);
	sl_put_be16(udp + 4, (uint16_t)(UDP_HDR + len));
	sl_put_be16(udp + 6, 0);
	if (len)
		memcpy(udp + UDP_HDR, dg, len);
	c = udp_checksum(ip, udp, UDP_HDR + len);
	sl_put_be16(udp + 6, c ? c : 0xffff); /* 0 means "no checksum" */
	return pad(out, flen, cap);
}

size_t sl_frame_build_raw(uint8_t *out, size_t cap, const uint8_t src_mac[6],
			  const uint8_t dst_mac[6], const uint8_t *dg, size_t len)
{
	size_t flen = SL_FRAME_RAW_HDR + len;

	if (len > 0xffff || cap < flen)
		return 0;
	memcpy(out, dst_mac, 6);
	memcpy(out + 6, src_mac, 6);
	sl_put_be16(out + 12, SL_ETHERTYPE);
	sl_put_be16(out + 14, (uint16_t)len);
	if (len)
		memcpy(out + SL_FRAME_RAW_HDR, dg, len);
	return pad(out, flen, cap);
}

static int extract_ipv4(const uint8_t *ip, size_t avail, int port,
			const uint8_t **dg, size_t *len)
{
	size_t ihl, total, ulen;
	const uint8_t *udp;

	if (avail < IP_HDR)
		return SL_FRAME_IP_LENGTH;
	if (ip[0] >> 4 != 4)
		return SL_FRAME_IP_VERSION;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP_HDR || ihl > avail)
		return SL_FRAME_IP_HDRLEN;
	if (sl_inet_sum(ip, ihl, 0) != 0xffff)
		return SL_FRAME_IP_CHECKSUM;
	total = sl_get_be16(ip + 2);
	/* the frame may carry Ethernet padding after the packet, never less */
	if (total < ihl || total > avail)
		return SL_FRAME_IP_LENGTH;
	if (sl_get_be16(ip + 6) & 0x3fff) /* MF or a fragment offset */
		return SL_FRAME_FRAGMENT;
	if (ip[9] != 17)
		return SL_FRAME_NOT_UDP;
	if (total - ihl < UDP_HDR)
		return SL_FRAME_UDP_LENGTH;
	udp = ip + ihl;
	ulen = sl_get_be16(udp + 4);
	if (ulen != total - ihl)
		return SL_FRAME_UDP_LENGTH;
	if (sl_get_be16(udp + 6) != 0) {
		uint8_t pseudo[12];
		uint32_t s;
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 17;
		sl_put_be16(pseudo + 10, (uint16_t)ulen);
		s = sl_inet_sum(pseudo, sizeof pseudo, 0);
		if (sl_inet_sum(udp, ulen, s) != 0xffff)
			return SL_FRAME_UDP_CHECKSUM;
	}
	if (port >= 0 && sl_get_be16(udp + 2) != (uint16_t)port)
		return SL_FRAME_PORT;
	if (ulen == UDP_HDR)
		return SL_FRAME_EMPTY;
	*dg = udp + UDP_HDR;
	*len = ulen - UDP_HDR;
	return SL_FRAME_KIND_UDP;
}

int sl_frame_extract(const uint8_t *frame, size_t caplen, int port,
		     const uint8_t **dg, size_t *len)
{
	size_t off = 12;
	uint16_t type;

	if (!frame || caplen < ETH_HDR)
		return SL_FRAME_SHORT;
	type = sl_get_be16(frame + off);
	if (type == ETHERTYPE_VLAN) {
		if (caplen < ETH_HDR + 4)
			return SL_FRAME_SHORT;
		off += 4;
		type = sl_get_be16(frame + off);
	}
	off += 2;
	if (type == ETHERTYPE_IPV4)
		return extract_ipv4(frame + off, caplen - off, port, dg, len);
	if (type == SL_ETHERTYPE) {
		size_t l;
		if (caplen - off < 2)
			return SL_FRAME_RAW_LENGTH;
		l = sl_get_be16(frame + off);
		if (l > caplen - off - 2)
			return SL_FRAME_RAW_LENGTH;
		if (l == 0)
			return SL_FRAME_EMPTY;
		*dg = frame + off + 2;
		*len = l;
		return SL_FRAME_KIND_RAW;
	}
	return SL_FRAME_ETHERTYPE;
}

const char *sl_frame_reject_name(int reason)
{
	switch (reason) {
	case SL_FRAME_KIND_UDP: return "IPv4/UDP datagram";
	case SL_FRAME_KIND_RAW: return "sluice EtherType frame";
	case SL_FRAME_SHORT: return "shorter than an Ethernet header";
	case SL_FRAME_ETHERTYPE: return "other EtherType";
	case SL_FRAME_IP_VERSION: return "IP version is not 4";
	case SL_FRAME_IP_HDRLEN: return "bad IPv4 header length";
	case SL_FRAME_IP_CHECKSUM: return "bad IPv4 header checksum";
	case SL_FRAME_IP_LENGTH: return "bad or truncated IPv4 total length";
	case SL_FRAME_FRAGMENT: return "IPv4 fragment";
	case SL_FRAME_NOT_UDP: return "IPv4 but not UDP";
	case SL_FRAME_UDP_LENGTH: return "bad UDP length";
	case SL_FRAME_UDP_CHECKSUM: return "bad UDP checksum";
	case SL_FRAME_PORT: return "UDP to another port";
	case SL_FRAME_RAW_LENGTH: return "sluice frame length beyond the frame";
	case SL_FRAME_EMPTY: return "empty datagram";
	default: return "unknown frame verdict";
	}
}
