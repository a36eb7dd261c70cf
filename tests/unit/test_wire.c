/* Unit tests for the datagram format (common/proto/wire.c) and bodies (common/proto/proto.c). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include "bytes.h"
#include "proto.h"
#include "wire.h"

static uint8_t key[32], other_key[32];

static void setup(void)
{
	cr_assert_eq(sl_crypto_init(), SL_OK);
	randombytes_buf(key, sizeof key);
	randombytes_buf(other_key, sizeof other_key);
}

TestSuite(wire, .init = setup);

static struct sl_wire_rx *mk_rx(const uint8_t *k, int unkeyed)
{
	struct sl_wire_rx *r;
	struct sl_wire_rx_cfg c = { .link_key = k, .allow_unkeyed = unkeyed, .max_symsize = 8900 };
	cr_assert_eq(sl_wire_rx_new(&c, &r, NULL), SL_OK);
	return r;
}

static void round_trip(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(suite == SL_SUITE_NONE ? NULL : key, suite == SL_SUITE_NONE);
	uint8_t body[1396], dg[2000];
	const uint8_t *out;
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .block = 77, .row = 130,
				 .k = 128, .m = 16, .pass = 1 };
	struct sl_wire_hdr g;

	memset(h.xfer, 0xab, 16);
	randombytes_buf(body, sizeof body);
	cr_assert_eq(sl_wire_tx_new(suite == SL_SUITE_NONE ? NULL : key, suite, 1396, &t, NULL), SL_OK);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
		cr_assert_eq(h.packet, (uint64_t)i);
		if (suite != SL_SUITE_NONE)
			cr_assert(memcmp(dg + SL_WIRE_HDR, body, 64) != 0, "body must be encrypted");
		cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
		cr_assert_eq(g.block, 77);
		cr_assert_eq(g.row, 130);
		cr_assert_eq(g.k, 128);
		cr_assert_eq(g.m, 16);
		cr_assert_eq(g.pass, 1);
		cr_assert_eq(g.session, sl_wire_tx_session(t));
		cr_assert_eq(g.suite, suite);
		cr_assert_eq(memcmp(g.xfer, h.xfer, 16), 0);
		cr_assert_eq(memcmp(out, body, sizeof body), 0);
	}
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

/* The body already in place in the datagram, and a short body (padded):
 * both seal paths must give what a separate full body gives. */
static void round_trip_in_place(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(suite == SL_SUITE_NONE ? NULL : key, suite == SL_SUITE_NONE);
	uint8_t body[1396], dg[2000];
	const uint8_t *out;
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .k = 1, .m = 1 }, g;

	randombytes_buf(body, sizeof body);
	cr_assert_eq(sl_wire_tx_new(suite == SL_SUITE_NONE ? NULL : key, suite, 1396, &t, NULL), SL_OK);
	memcpy(dg + SL_WIRE_HDR, body, sizeof body);
	cr_assert_eq(sl_wire_seal(t, &h, dg + SL_WIRE_HDR, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
	cr_assert_eq(memcmp(out, body, sizeof body), 0);
	h.type = SL_T_HEARTBEAT; /* symbols are always full; heartbeats are short */
	h.k = 0;
	h.m = 0;
	h.paylen = 100;
	memset(dg, 0xee, sizeof dg);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1396), &g, &out), SL_OK);
	cr_assert_eq(memcmp(out, body, 100), 0);
	for (size_t i = 100; i < 1396; i++)
		cr_assert_eq(out[i], 0, "padding byte %zu is %u", i, out[i]);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, in_place_and_short_bodies)
{
	if (crypto_aead_aes256gcm_is_available())
		round_trip_in_place(SL_SUITE_AES256GCM);
	round_trip_in_place(SL_SUITE_XCHACHA);
	round_trip_in_place(SL_SUITE_NONE);
}

/* Opened into a buffer of its own: the same header and body as in place,
 * the datagram unchanged; a failed tag zeroes a keyed body's buffer (an
 * unkeyed one's is not written); a buffer of another size is refused
 * before anything. The peeked header is the clear one, tag or not. */
static void open_to_and_peek(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(suite == SL_SUITE_NONE ? NULL : key, suite == SL_SUITE_NONE);
	uint8_t body[1396], dg[2000], copy[2000], out[1396];
	size_t n = sl_wire_dgram_size(1396);
	const uint8_t *inplace;
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .block = 9, .row = 3, .k = 8, .m = 2 };
	struct sl_wire_hdr g, p, q;

	randombytes_buf(body, sizeof body);
	memset(h.xfer, 0x5c, 16);
	cr_assert_eq(sl_wire_tx_new(suite == SL_SUITE_NONE ? NULL : key, suite, 1396, &t, NULL), SL_OK);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	memcpy(copy, dg, n);
	cr_assert_eq(sl_wire_peek(dg, n, &p), SL_OK);
	cr_assert(p.block == 9 && p.row == 3 && p.k == 8 && p.symsize == 1396 && p.type == SL_T_SYMBOL);
	cr_assert_eq(sl_wire_peek(dg, n - 1, &p), SL_ERR_PARSE);
	cr_assert_eq(sl_wire_open_to(r, dg, n, &g, out, 1395), SL_ERR_INVAL);
	cr_assert_eq(sl_wire_open_to(r, dg, n, &g, out, sizeof out), SL_OK);
	cr_assert_eq(memcmp(out, body, sizeof body), 0);
	cr_assert_eq(memcmp(dg, copy, n), 0, "the datagram is not changed");
	cr_assert_eq(sl_wire_open(r, dg, n, &q, &inplace), SL_OK);
	cr_assert(g.type == q.type && g.suite == q.suite && g.paylen == q.paylen && g.session == q.session &&
		  g.packet == q.packet && !memcmp(g.xfer, q.xfer, 16) && g.block == q.block &&
		  g.row == q.row && g.k == q.k && g.m == q.m && g.symsize == q.symsize && g.pass == q.pass,
		  "the same header either way");
	cr_assert_eq(memcmp(inplace, body, sizeof body), 0);
	memcpy(dg, copy, n);
	dg[SL_WIRE_HDR + 100] ^= 0x40;
	memset(out, 0xaa, sizeof out);
	cr_assert_eq(sl_wire_peek(dg, n, &p), SL_OK, "peeking does not check the tag");
	cr_assert_eq(sl_wire_open_to(r, dg, n, &g, out, sizeof out), SL_ERR_AUTH);
	for (size_t i = 0; i < sizeof out; i++)
		cr_assert_eq(out[i], suite == SL_SUITE_NONE ? 0xaa : 0, "byte %zu: %#x", i, out[i]);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, open_to_a_buffer_and_peek)
{
	if (crypto_aead_aes256gcm_is_available())
		open_to_and_peek(SL_SUITE_AES256GCM);
	open_to_and_peek(SL_SUITE_XCHACHA);
	open_to_and_peek(SL_SUITE_NONE);
}

Test(wire, round_trip_aes) { if (crypto_aead_aes256gcm_is_available()) round_trip(SL_SUITE_AES256GCM); }
Test(wire, round_trip_xchacha) { round_trip(SL_SUITE_XCHACHA); }
Test(wire, round_trip_unkeyed) { round_trip(SL_SUITE_NONE); }

/* ---- a reference sealer and opener written from PROTOCOL.md §2 with
 * libsodium's one-shot calls, against which the library must agree byte
 * for byte, both ways, for every kind of datagram ---- */

/* The 60-byte header, from the table of §2.1. */
static void ref_header(uint8_t *p, const struct sl_wire_hdr *h)
{
	memset(p, 0, SL_WIRE_HDR); /* flags and reserved stay 0 */
	p[0] = 0x53;
	p[1] = 0x4C;
	p[2] = 1;
	p[3] = h->type;
	p[4] = h->suite;
	sl_put_be16(p + 6, h->paylen);
	sl_put_be64(p + 8, h->session);
	sl_put_be64(p + 16, h->packet);
	memcpy(p + 24, h->xfer, 16);
	sl_put_be64(p + 40, h->block);
	sl_put_be16(p + 48, h->row);
	sl_put_be16(p + 50, h->k);
	sl_put_be16(p + 52, h->m);
	sl_put_be16(p + 54, h->symsize);
	sl_put_be16(p + 56, h->pass);
}

/* §2.2: the session key, and the nonce (packet number, big-endian,
 * right-aligned in zeros; 12 bytes for AES-256-GCM, 24 for XChaCha). */
static size_t ref_key_nonce(enum sl_suite suite, uint64_t session, uint64_t packet,
			    uint8_t sk[32], uint8_t n[24])
{
	size_t nlen = suite == SL_SUITE_AES256GCM ? crypto_aead_aes256gcm_NPUBBYTES
						  : crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	cr_assert_eq(crypto_kdf_derive_from_key(sk, 32, session,
						suite == SL_SUITE_AES256GCM ? "SLAESGCM" : "SLXCHACH", key), 0);
	memset(n, 0, 24);
	sl_put_be64(n + nlen - 8, packet);
	return nlen;
}

/* Seal: body zero-padded to symsize, encrypted; header as associated data;
 * tag as the trailer. */
static void ref_seal(const struct sl_wire_hdr *h, const uint8_t *body, uint8_t *dg)
{
	uint8_t sk[32], n[24], *b = dg + SL_WIRE_HDR, *tag = b + h->symsize;

	ref_header(dg, h);
	memset(b, 0, h->symsize);
	memcpy(b, body, h->paylen);
	ref_key_nonce(h->suite, h->session, h->packet, sk, n);
	if (h->suite == SL_SUITE_AES256GCM)
		cr_assert_eq(crypto_aead_aes256gcm_encrypt_detached(b, tag, NULL, b, h->symsize, dg,
								    SL_WIRE_HDR, NULL, n, sk), 0);
	else
		cr_assert_eq(crypto_aead_xchacha20poly1305_ietf_encrypt_detached(b, tag, NULL, b, h->symsize,
										  dg, SL_WIRE_HDR, NULL, n, sk), 0);
}

/* Open in place, reading only what §2 says: returns libsodium's verdict. */
static int ref_open(uint8_t *dg)
{
	uint16_t symsize = sl_get_be16(dg + 54);
	uint8_t sk[32], n[24], *b = dg + SL_WIRE_HDR;

	ref_key_nonce(dg[4], sl_get_be64(dg + 8), sl_get_be64(dg + 16), sk, n);
	if (dg[4] == SL_SUITE_AES256GCM)
		return crypto_aead_aes256gcm_decrypt_detached(b, NULL, b, symsize, b + symsize, dg,
							      SL_WIRE_HDR, n, sk);
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(b, NULL, b, symsize, b + symsize, dg,
								   SL_WIRE_HDR, n, sk);
}

struct kind {
	uint8_t type;
	uint16_t symsize, paylen;
	const char *what;
};

static const struct kind kinds[] = {
	{ SL_T_PREAMBLE, 1396, 0, "preamble, empty body" },
	{ SL_T_PREAMBLE, 128, 128, "preamble, full body" },
	{ SL_T_HEARTBEAT, 1396, SL_HB_BODY, "heartbeat, short body" },
	{ SL_T_HEARTBEAT, 128, SL_HB_BODY, "heartbeat, full body" },
	{ SL_T_XFER, 1396, SL_XFER_BODY, "transfer header, short body" },
	{ SL_T_XFER, 8900, SL_XFER_BODY, "transfer header, jumbo" },
	{ SL_T_SYMBOL, 1396, 1396, "symbol" },
	{ SL_T_SYMBOL, 128, 128, "symbol, smallest" },
	{ SL_T_SYMBOL, 8900, 8900, "symbol, jumbo" },
	{ SL_T_SYMBOL, 8192, 8192, "symbol, 8192" },
};

static struct sl_wire_hdr kind_hdr(const struct kind *kd)
{
	struct sl_wire_hdr h = { .type = kd->type, .paylen = kd->paylen };

	if (kd->type != SL_T_PREAMBLE)
		memset(h.xfer, 0x5a, 16);
	if (kd->type == SL_T_SYMBOL) {
		h.block = 0x0102030405060708ull;
		h.row = 130;
		h.k = 128;
		h.m = 16;
		h.pass = 3;
	}
	return h;
}

static void check_opened(const struct kind *kd, enum sl_suite suite, const struct sl_wire_hdr *want,
			 const struct sl_wire_hdr *g, const uint8_t *out, const uint8_t *body)
{
	cr_assert_eq(g->type, kd->type, "%s", kd->what);
	cr_assert_eq(g->suite, suite, "%s", kd->what);
	cr_assert_eq(g->paylen, kd->paylen, "%s", kd->what);
	cr_assert_eq(g->session, want->session, "%s", kd->what);
	cr_assert_eq(g->packet, want->packet, "%s", kd->what);
	cr_assert_eq(g->block, want->block, "%s", kd->what);
	cr_assert_eq(g->row, want->row, "%s", kd->what);
	cr_assert_eq(g->k, want->k, "%s", kd->what);
	cr_assert_eq(g->m, want->m, "%s", kd->what);
	cr_assert_eq(g->pass, want->pass, "%s", kd->what);
	cr_assert_eq(g->symsize, kd->symsize, "%s", kd->what);
	cr_assert_eq(memcmp(g->xfer, want->xfer, 16), 0, "%s", kd->what);
	cr_assert_eq(memcmp(out, body, kd->paylen), 0, "%s: body", kd->what);
	for (size_t i = kd->paylen; i < kd->symsize; i++)
		cr_assert_eq(out[i], 0, "%s: padding byte %zu", kd->what, i);
}

/* The reference seals (under several sessions and packet numbers, so the
 * byte order of the KDF subkey id and of the nonce matter); sl_wire_open opens. */
static void reference_to_library(enum sl_suite suite)
{
	static const uint64_t packets[] = { 0, 1, 0x0123456789abcdefull, UINT64_MAX - 1 };
	static uint8_t body[8900], dg[9000];
	struct sl_wire_rx *r = mk_rx(key, 0);

	randombytes_buf(body, sizeof body);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		for (size_t p = 0; p < sizeof packets / sizeof packets[0]; p++) {
			struct sl_wire_hdr h = kind_hdr(&kinds[i]), g;
			const uint8_t *out;
			h.suite = (uint8_t)suite;
			h.symsize = kinds[i].symsize;
			h.session = p == 3 ? 0xfedcba9876543210ull : randombytes_random() * 0x100000001ull;
			h.packet = packets[p];
			ref_seal(&h, body, dg);
			cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(h.symsize), &g, &out), SL_OK,
				     "%s, %s, packet %llu: the library refuses a reference datagram",
				     sl_suite_name(suite), kinds[i].what, (unsigned long long)h.packet);
			check_opened(&kinds[i], suite, &h, &g, out, body);
		}
	sl_wire_rx_free(r);
}

/* sl_wire_seal (from a separate body, and in place when the body is full)
 * must give the reference's bytes exactly, and the reference opens them. */
static void library_to_reference(enum sl_suite suite)
{
	static uint8_t body[8900], dg[9000], ref[9000];

	randombytes_buf(body, sizeof body);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		for (int in_place = 0; in_place < 2; in_place++) {
			const struct kind *kd = &kinds[i];
			struct sl_wire_hdr h = kind_hdr(kd);
			struct sl_wire_tx *t;
			size_t n = sl_wire_dgram_size(kd->symsize);

			cr_assert_eq(sl_wire_tx_new(key, suite, kd->symsize, &t, NULL), SL_OK);
			memset(dg, 0xee, sizeof dg);
			for (int j = 0; j < 2; j++) { /* packets 0 and 1: a non-zero nonce too */
				if (in_place)
					memcpy(dg + SL_WIRE_HDR, body, kd->paylen);
				cr_assert_eq(sl_wire_seal(t, &h, in_place ? dg + SL_WIRE_HDR : body, dg), SL_OK);
			}
			cr_assert_eq(h.packet, 1);
			ref_seal(&h, body, ref);
			cr_assert_eq(memcmp(dg, ref, n), 0, "%s, %s%s: datagram differs from the reference",
				     sl_suite_name(suite), kd->what, in_place ? ", sealed in place" : "");
			cr_assert_eq(ref_open(dg), 0, "%s, %s: the reference refuses the library's datagram",
				     sl_suite_name(suite), kd->what);
			cr_assert_eq(memcmp(dg + SL_WIRE_HDR, body, kd->paylen), 0, "%s", kd->what);
			sl_wire_tx_free(t);
		}
}

Test(wire, aes256gcm_reference_seals_library_opens)
{
	if (!crypto_aead_aes256gcm_is_available())
		cr_skip_test("no AES-NI on this CPU: the AES-256-GCM suite is not offered");
	reference_to_library(SL_SUITE_AES256GCM);
}

Test(wire, aes256gcm_library_seals_reference_opens)
{
	if (!crypto_aead_aes256gcm_is_available())
		cr_skip_test("no AES-NI on this CPU: the AES-256-GCM suite is not offered");
	library_to_reference(SL_SUITE_AES256GCM);
}

Test(wire, xchacha_reference_and_library_agree)
{
	reference_to_library(SL_SUITE_XCHACHA);
	library_to_reference(SL_SUITE_XCHACHA);
}

Test(wire, dgram_fits_ethernet_mtu)
{
	cr_assert_eq(sl_wire_dgram_size(1396), 1472u, "1396-byte symbols fill a 1500-byte MTU exactly");
}

static void seal_one(struct sl_wire_tx *t, uint8_t *dg)
{
	uint8_t body[256] = { 1, 2, 3 };
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 3 };
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
}

/* The keyed suites this CPU offers. */
static size_t keyed_suites(enum sl_suite out[2])
{
	size_t n = 0;
	if (crypto_aead_aes256gcm_is_available())
		out[n++] = SL_SUITE_AES256GCM;
	out[n++] = SL_SUITE_XCHACHA;
	return n;
}

static void every_flipped_bit(enum sl_suite suite)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0);
	uint8_t dg[512], copy[512];
	struct sl_wire_hdr g;
	const uint8_t *out;
	size_t n = sl_wire_dgram_size(256);

	cr_assert_eq(sl_wire_tx_new(key, suite, 256, &t, NULL), SL_OK);
	seal_one(t, dg);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(copy, dg, n);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_neq(sl_wire_open(r, copy, n, &g, &out), SL_OK, "%s: bit %zu flipped but accepted",
			      sl_suite_name(suite), bit);
	}
	memcpy(copy, dg, n);
	cr_assert_eq(sl_wire_open(r, copy, n, &g, &out), SL_OK, "%s: the intact datagram after %zu refusals",
		     sl_suite_name(suite), n * 8);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, every_flipped_bit_is_rejected)
{
	enum sl_suite s[2];
	for (size_t i = 0, n = keyed_suites(s); i < n; i++)
		every_flipped_bit(s[i]);
}

Test(wire, wrong_key_fails_authentication)
{
	enum sl_suite s[2];

	for (size_t i = 0, ns = keyed_suites(s); i < ns; i++) {
		struct sl_wire_tx *t;
		struct sl_wire_rx *r = mk_rx(other_key, 0);
		uint8_t dg[512];
		struct sl_wire_hdr g;
		const uint8_t *out;

		cr_assert_eq(sl_wire_tx_new(key, s[i], 256, &t, NULL), SL_OK);
		seal_one(t, dg);
		cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_AUTH, "%s",
			     sl_suite_name(s[i]));
		sl_wire_tx_free(t);
		sl_wire_rx_free(r);
	}
}

/* A failed tag leaves nothing of the body behind (no unauthenticated
 * plain text), and the session's cached context opens the next datagram. */
Test(wire, failed_tag_zeroes_the_body_and_the_session_goes_on)
{
	enum sl_suite s[2];

	for (size_t i = 0, ns = keyed_suites(s); i < ns; i++) {
		struct sl_wire_tx *t;
		struct sl_wire_rx *r = mk_rx(key, 0);
		uint8_t a[2000], b[2000], body[1396];
		struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = 1396, .k = 1, .m = 1 }, g;
		const uint8_t *out;
		size_t n = sl_wire_dgram_size(1396);

		memset(body, 0x41, sizeof body);
		cr_assert_eq(sl_wire_tx_new(key, s[i], 1396, &t, NULL), SL_OK);
		cr_assert_eq(sl_wire_seal(t, &h, body, a), SL_OK);
		cr_assert_eq(sl_wire_seal(t, &h, body, b), SL_OK);
		cr_assert_eq(sl_wire_open(r, b, n, &g, &out), SL_OK); /* the session is cached */
		a[n - 1] ^= 1;                                       /* last byte of the tag */
		cr_assert_eq(sl_wire_open(r, a, n, &g, &out), SL_ERR_AUTH, "%s", sl_suite_name(s[i]));
		for (size_t j = SL_WIRE_HDR; j < SL_WIRE_HDR + 1396; j++)
			cr_assert_eq(a[j], 0, "%s: body byte %zu left after a failed tag", sl_suite_name(s[i]), j);
		cr_assert_eq(sl_wire_seal(t, &h, body, b), SL_OK);
		cr_assert_eq(sl_wire_open(r, b, n, &g, &out), SL_OK, "%s: next datagram after a failed tag",
			     sl_suite_name(s[i]));
		cr_assert_eq(memcmp(out, body, sizeof body), 0);
		sl_wire_tx_free(t);
		sl_wire_rx_free(r);
	}
}

/* More sessions than the receiver caches keys for, interleaved and of both
 * suites: every slot is rekeyed many times, also from one suite to the
 * other, and every datagram opens. */
Test(wire, sessions_beyond_the_key_cache)
{
	enum sl_suite s[2];
	size_t ns = keyed_suites(s);
	enum { NS = 20 };
	struct sl_wire_tx *t[NS];
	struct sl_wire_rx *r = mk_rx(key, 0);
	uint8_t dg[512], body[256];
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 256 }, g;
	const uint8_t *out;

	for (int j = 0; j < NS; j++)
		cr_assert_eq(sl_wire_tx_new(key, s[(size_t)j % ns], 256, &t[j], NULL), SL_OK);
	for (int round = 0; round < 5; round++)
		for (int j = 0; j < NS; j++) {
			memset(body, round * NS + j, sizeof body);
			cr_assert_eq(sl_wire_seal(t[j], &h, body, dg), SL_OK);
			cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_OK,
				     "session %d (%s), round %d", j, sl_suite_name(s[(size_t)j % ns]), round);
			cr_assert_eq(g.session, sl_wire_tx_session(t[j]));
			cr_assert_eq(memcmp(out, body, sizeof body), 0);
		}
	for (int j = 0; j < NS; j++)
		sl_wire_tx_free(t[j]);
	sl_wire_rx_free(r);
}

Test(wire, unkeyed_needs_the_explicit_flag)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0);
	uint8_t dg[512];
	struct sl_wire_hdr g;
	const uint8_t *out;
	struct sl_diag d;

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_NONE, 256, &t, &d), SL_ERR_INVAL);
	cr_assert_eq(sl_wire_tx_new(NULL, SL_SUITE_NONE, 256, &t, NULL), SL_OK);
	seal_one(t, dg);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_UNSUPPORTED);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(wire, sessions_get_distinct_keys)
{
	/* Two sessions sealing packet 0 of the same body must differ (different keys). */
	struct sl_wire_tx *a, *b;
	uint8_t da[512], db[512];
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &a, NULL), SL_OK);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &b, NULL), SL_OK);
	cr_assert_neq(sl_wire_tx_session(a), sl_wire_tx_session(b));
	seal_one(a, da);
	seal_one(b, db);
	cr_assert(memcmp(da + SL_WIRE_HDR, db + SL_WIRE_HDR, 256) != 0);
	sl_wire_tx_free(a);
	sl_wire_tx_free(b);
}

Test(wire, size_and_fields_checked)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r;
	struct sl_wire_rx_cfg c = { .link_key = key, .max_symsize = 512 };
	uint8_t dg[2000], body[1024] = { 0 };
	struct sl_wire_hdr g, h = { .type = SL_T_SYMBOL, .paylen = 1024, .k = 10, .row = 3 };
	const uint8_t *out;

	cr_assert_eq(sl_wire_rx_new(&c, &r, NULL), SL_OK);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 1024, &t, NULL), SL_OK);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(1024), &g, &out), SL_ERR_PARSE,
		     "symbol size above the configured limit");
	cr_assert_eq(sl_wire_open(r, dg, 10, &g, &out), SL_ERR_PARSE);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);

	/* A symbol with a row out of range is authentic but still refused. */
	r = mk_rx(key, 0);
	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	h.paylen = 256;
	h.row = 255;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE);
	h.row = 0;
	h.k = 0;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE);
	h.k = 10;
	h.paylen = 200;
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out), SL_ERR_PARSE,
		     "symbols are always full");
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
}

Test(proto, xfer_round_trip_and_checks)
{
	struct sl_xfer_hdr x = { .sequence = 9, .total_bytes = 1000001, .chunk_size = 1000,
				 .nchunks = 1001, .catalog_len = 500, .catalog_blocks = 1,
				 .kmax = 128, .pass = 0, .passes = 2, .codec = 1, .level = 3 }, y;
	uint8_t b[SL_XFER_BODY];
	memset(x.manifest_sha256, 7, 32);
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_OK);
	cr_assert_eq(memcmp(x.manifest_sha256, y.manifest_sha256, 32), 0);
	cr_assert_eq(y.sequence, 9);
	cr_assert_eq(y.total_bytes, 1000001);
	cr_assert_eq(y.chunk_size, 1000);
	cr_assert_eq(y.nchunks, 1001);
	cr_assert_eq(y.catalog_len, 500);
	cr_assert_eq(y.kmax, 128);
	cr_assert_eq(y.passes, 2);
	cr_assert_eq(y.level, 3);
	x.nchunks = 1000;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "nchunks inconsistent");
	x.nchunks = 1001;
	x.pass = 2;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "pass beyond passes");
	/* total + chunk - 1 wraps past 2^64: nchunks 0 must not pass for it */
	x.pass = 0;
	x.total_bytes = UINT64_MAX;
	x.chunk_size = 96;
	x.nchunks = 0;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_ERR_PARSE, "wrapped chunk count");
	x.nchunks = UINT64_MAX / 96 + 1;
	sl_xfer_hdr_encode(&x, b);
	cr_assert_eq(sl_xfer_hdr_decode(b, sizeof b, &y), SL_OK);
}

Test(proto, heartbeat_round_trip)
{
	struct sl_heartbeat h = { .time_ns = 123, .interval_ms = 1000, .rate_bps = 1000000000,
				  .sent = 55, .kmax = 128, .m = 16, .symsize = 1396, .interleave = 16,
				  .state = SL_HB_SENDING, .level = 3, .pass = 0, .passes = 1,
				  .xfer_sequence = 4, .blocks_sent = 3, .blocks_total = 9 }, g;
	uint8_t b[SL_HB_BODY];
	strcpy(h.sender, "lowside-01");
	sl_heartbeat_encode(&h, b);
	cr_assert_eq(sl_heartbeat_decode(b, sizeof b, &g), SL_OK);
	cr_assert_str_eq(g.sender, "lowside-01");
	cr_assert_eq(g.blocks_total, 9);
	b[86] = 0x07;
	cr_assert_eq(sl_heartbeat_decode(b, sizeof b, &g), SL_ERR_PARSE, "control char in sender");
}

Test(proto, block_record_bounds)
{
	struct sl_block_rec r = { .kind = SL_BLK_CHUNK, .codec = SL_CODEC_ZSTD, .index = 4,
				  .offset = 4000, .raw_len = 1000, .stored_len = 300 }, g;
	uint8_t b[1024] = { 0 };
	sl_block_rec_encode(&r, b);
	cr_assert_eq(sl_block_rec_decode(b, 1024, &g), SL_OK);
	cr_assert_eq(g.stored_len, 300);
	cr_assert_eq(sl_block_rec_decode(b, 300, &g), SL_ERR_PARSE, "stored bytes beyond block");
	b[SL_BLOCK_REC + 300] = 1;
	cr_assert_eq(sl_block_rec_decode(b, 1024, &g), SL_ERR_PARSE, "non-zero padding");
	cr_assert_eq(sl_block_k(1396 - 32, 1396), 1u);
	cr_assert_eq(sl_block_k(1396 - 31, 1396), 2u);
}

Test(proto, catalog_round_trip_and_hostile)
{
	const char *names[] = { "manifest", "manifest.alice.minisig" };
	const uint8_t *data[] = { (const uint8_t *)"hello", (const uint8_t *)"sig" };
	uint32_t lens[] = { 5, 3 };
	size_t n = sl_catalog_size(2, names, lens);
	uint8_t buf[256];
	struct sl_catalog c;
	struct sl_diag d;

	sl_catalog_encode(2, names, data, lens, buf);
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_OK);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.e[1].name, "manifest.alice.minisig");
	cr_assert_eq(memcmp(c.e[0].data, "hello", 5), 0);
	cr_assert_eq(sl_catalog_decode(buf, n - 1, &c, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_catalog_decode(buf, n + 0, &c, &d), SL_OK);
	/* name with a slash */
	buf[8 + 2 + 8 + 4 + 5 + 2] = '/';
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_ERR_PARSE);
	/* huge entry count */
	sl_put_be32(buf + 4, 100000);
	cr_assert_eq(sl_catalog_decode(buf, n, &c, &d), SL_ERR_PARSE);
}

Test(wire, reseal_models_a_key_holder)
{
	struct sl_wire_tx *t;
	struct sl_wire_rx *r = mk_rx(key, 0), *other = mk_rx(other_key, 0);
	uint8_t dg[512], body[256] = { 9 };
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 256 }, g;
	const uint8_t *out;
	size_t n = sl_wire_dgram_size(256);

	cr_assert_eq(sl_wire_tx_new(key, SL_SUITE_XCHACHA, 256, &t, NULL), SL_OK);
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, n, &g, &out), SL_OK);
	dg[SL_WIRE_HDR + 5] ^= 0x40; /* change the (now clear) body */
	cr_assert_eq(sl_wire_reseal(r, dg, n), SL_OK);
	cr_assert_eq(sl_wire_open(r, dg, n, &g, &out), SL_OK, "resealed datagram must open");
	cr_assert_eq(out[5], (uint8_t)(0 ^ 0x40));
	/* A receiver with another key neither opens nor can reseal it usefully. */
	cr_assert_eq(sl_wire_seal(t, &h, body, dg), SL_OK);
	cr_assert_eq(sl_wire_open(other, dg, n, &g, &out), SL_ERR_AUTH);
	sl_wire_tx_free(t);
	sl_wire_rx_free(r);
	sl_wire_rx_free(other);
}

Test(wire, link_key_files)
{
	char path[] = "/tmp/sluice-key-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *k = NULL;
	struct sl_diag d;
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F\n";

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
	close(fd);
	cr_assert_eq(sl_link_key_load(path, &k, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(k[0], 0x00);
	cr_assert_eq(k[31], 0x1f);
	sl_link_key_free(k);
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_eq(write(fd, "zz", 2), 2);
	close(fd);
	cr_assert_eq(sl_link_key_load(path, &k, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "64 hex digits") != NULL, "%s", d.msg);
	unlink(path);
}

/* In a child of the test: forbid opening files, then set up keys, seal and
 * open in each keyed suite. Returns 0, or the number of the step that failed. */
static int crypto_without_files(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct sl_wire_rx_cfg c = { .link_key = key, .max_symsize = 8900 };
	enum sl_suite s[2];
	uint8_t dg[512], body[256] = { 1 };
	struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 3 }, g;
	const uint8_t *out;

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(openat), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(open), 0) || seccomp_load(ctx))
		return 1;
	seccomp_release(ctx);
	for (size_t i = 0, ns = keyed_suites(s); i < ns; i++) {
		struct sl_wire_tx *t;
		struct sl_wire_rx *r;
		if (sl_wire_tx_new(key, s[i], 256, &t, NULL) || sl_wire_rx_new(&c, &r, NULL))
			return 2;
		if (sl_wire_seal(t, &h, body, dg) ||
		    sl_wire_open(r, dg, sl_wire_dgram_size(256), &g, &out) ||
		    sl_wire_reseal(r, dg, sl_wire_dgram_size(256)))
			return 3;
		sl_wire_tx_free(t);
		sl_wire_rx_free(r);
	}
	return 0;
}

/* sl_crypto_init loads OpenSSL's configuration and AES-256-GCM up front:
 * sluice-rx meets its first AES-256-GCM datagram inside its sandbox, where
 * OpenSSL must not start reading /usr/lib/ssl/openssl.cnf. A child (so
 * that sanitizers' exit-time work is not filtered too) is killed by SIGSYS
 * if it opens any file after init (setup() ran it). */
Test(wire, nothing_opened_after_init)
{
	int st;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(crypto_without_files());
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(!WIFSIGNALED(st), "killed by signal %d (SIGSYS %d: a file was opened after sl_crypto_init)",
		  WTERMSIG(st), SIGSYS);
	cr_assert_eq(WEXITSTATUS(st), 0, "step %d failed", WEXITSTATUS(st));
}
