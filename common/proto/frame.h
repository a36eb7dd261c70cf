/* frame.h — the Ethernet frames that carry sluice datagrams in pcap files
 * and on raw Ethernet links.
 *
 * Contract. Two frame shapes carry one datagram each:
 *   UDP:  Ethernet II (dst, src, EtherType 0x0800) | IPv4 (20 bytes, no
 *         options, DF set, TTL 64, protocol 17, header checksum) | UDP (8
 *         bytes, checksum computed) | datagram.
 *   raw:  Ethernet II (dst, src, EtherType SL_ETHERTYPE 0x88B5) | length
 *         (2 bytes, big-endian, the datagram's length) | datagram.
 * Builders pad frames to the 60-byte Ethernet minimum (FCS not included,
 * as in captures). One 802.1Q VLAN tag is accepted on input.
 *
 * sl_frame_extract() reads untrusted bytes: it checks every length and
 * offset against the captured length before reading, verifies the IPv4
 * header checksum, total length, fragment fields and UDP length (and the
 * UDP checksum when it is not zero), and never reads past `caplen`. It
 * returns a positive kind and points *dg into the frame, or a negative
 * reason why the frame is not a sluice datagram (named by
 * sl_frame_reject_name). Pure: no allocation, no global state.
 */
#ifndef SL_FRAME_H
#define SL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SL_FRAME_UDP_HDR 42  /* 14 + 20 + 8 */
#define SL_FRAME_RAW_HDR 16  /* 14 + 2 */
#define SL_FRAME_MIN 60      /* minimum frame without FCS */

struct sl_frame_addr {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;     /* host byte order */
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
};

enum sl_frame_kind {
	SL_FRAME_KIND_UDP = 1,
	SL_FRAME_KIND_RAW = 2,
};

enum sl_frame_reject {
	SL_FRAME_SHORT = -1,        /* shorter than an Ethernet header */
	SL_FRAME_ETHERTYPE = -2,    /* neither IPv4 nor the sluice EtherType */
	SL_FRAME_IP_VERSION = -3,   /* IP version is not 4 */
	SL_FRAME_IP_HDRLEN = -4,    /* IHL < 5 or beyond the frame */
	SL_FRAME_IP_CHECKSUM = -5,  /* IPv4 header checksum wrong */
	SL_FRAME_IP_LENGTH = -6,    /* total length inconsistent or truncated */
	SL_FRAME_FRAGMENT = -7,     /* a fragment (MF set or offset != 0) */
	SL_FRAME_NOT_UDP = -8,      /* IPv4 but not UDP */
	SL_FRAME_UDP_LENGTH = -9,   /* UDP length inconsistent */
	SL_FRAME_UDP_CHECKSUM = -10,/* UDP checksum present and wrong */
	SL_FRAME_PORT = -11,        /* UDP to another port */
	SL_FRAME_RAW_LENGTH = -12,  /* raw frame's length field beyond the frame */
	SL_FRAME_EMPTY = -13,       /* zero-length datagram */
};

/* Build a frame into out (cap bytes). Returns its length, or 0 when it
 * does not fit or the datagram is longer than 65507 bytes. */
size_t sl_frame_build_udp(uint8_t *out, size_t cap, const struct sl_frame_addr *a,
			  uint16_t ip_id, const uint8_t *dg, size_t len);
size_t sl_frame_build_raw(uint8_t *out, size_t cap, const uint8_t src_mac[6],
			  const uint8_t dst_mac[6], const uint8_t *dg, size_t len);

/* Find the datagram in one captured frame. port: the UDP destination port
 * to accept, or -1 for any. */
int sl_frame_extract(const uint8_t *frame, size_t caplen, int port,
		     const uint8_t **dg, size_t *len);

const char *sl_frame_reject_name(int reason);

/* The Internet checksum (RFC 1071) of buf, folded, not complemented,
 * starting from `sum`. */
uint32_t sl_inet_sum(const uint8_t *buf, size_t len, uint32_t sum);

#endif
