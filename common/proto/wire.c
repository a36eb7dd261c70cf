/* wire.c — sealing and opening sluice datagrams (see wire.h, PROTOCOL.md). */
#include "wire.h"
#include "aead.h"
#include "bytes.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/crc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_CACHE 8

/* Field offsets of the header (PROTOCOL.md, "Header"). */
enum {
	O_MAGIC = 0, O_VERSION = 2, O_TYPE = 3, O_SUITE = 4, O_FLAGS = 5, O_PAYLEN = 6,
	O_SESSION = 8, O_PACKET = 16, O_XFER = 24, O_BLOCK = 40, O_ROW = 48, O_K = 50,
	O_M = 52, O_SYMSIZE = 54, O_PASS = 56, O_RESERVED = 58
};

struct sl_wire_tx {
	enum sl_suite suite;
	uint16_t symsize;
	uint64_t session;
	uint64_t next_packet;
	int wrapped;
	struct sl_aead *k; /* sealing key; NULL when unkeyed */
};

/* One session's opening key, cached (file-local). */
struct key_slot {
	uint64_t session;
	enum sl_suite suite;
	uint64_t last_use;
	struct sl_aead *k; /* opening key of this session; NULL when free */
};

struct sl_wire_rx {
	uint8_t *link_key; /* sodium_malloc'd copy, NULL if none */
	int allow_unkeyed;
	uint16_t max_symsize;
	uint64_t clock;
	struct key_slot slots[KEY_CACHE];
};

int sl_crypto_init(void)
{
	return sl_aead_init();
}

size_t sl_wire_dgram_size(uint16_t symsize)
{
	return SL_WIRE_HDR + (size_t)symsize + SL_WIRE_TAG;
}

enum sl_suite sl_wire_default_suite(void)
{
	return crypto_aead_aes256gcm_is_available() ? SL_SUITE_AES256GCM : SL_SUITE_XCHACHA;
}

const char *sl_suite_name(enum sl_suite s)
{
	switch (s) {
	case SL_SUITE_NONE: return "none (CRC32C, unauthenticated)";
	case SL_SUITE_AES256GCM: return "aes256gcm";
	case SL_SUITE_XCHACHA: return "xchacha20poly1305";
	}
	return "unknown";
}

int sl_suite_parse(const char *name, enum sl_suite *out)
{
	if (!strcmp(name, "auto"))
		*out = sl_wire_default_suite();
	else if (!strcmp(name, "aes256gcm"))
		*out = SL_SUITE_AES256GCM;
	else if (!strcmp(name, "xchacha20poly1305"))
		*out = SL_SUITE_XCHACHA;
	else if (!strcmp(name, "none"))
		*out = SL_SUITE_NONE;
	else
		return SL_ERR_INVAL;
	return SL_OK;
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	return crc32_iscsi((unsigned char *)p, (int)n, 0xFFFFFFFFu) ^ 0xFFFFFFFFu;
}

int sl_wire_tx_new(const uint8_t *link_key, enum sl_suite suite, uint16_t symsize,
		   struct sl_wire_tx **out, struct sl_diag *d)
{
	struct sl_wire_tx *t;
	int r;

	*out = NULL;
	if (sl_crypto_init())
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium or OpenSSL failed to initialise");
	if (symsize < SL_WIRE_MIN_SYMSIZE || symsize > SL_WIRE_MAX_SYMSIZE)
		return sl_diag_set(d, SL_ERR_RANGE, "symbol size %u outside %u..%u", symsize,
				   SL_WIRE_MIN_SYMSIZE, SL_WIRE_MAX_SYMSIZE);
	if ((suite == SL_SUITE_NONE) != (link_key == NULL))
		return sl_diag_set(d, SL_ERR_INVAL, "a link key is required unless the unkeyed mode is chosen");
	if (suite == SL_SUITE_AES256GCM && !crypto_aead_aes256gcm_is_available())
		return sl_diag_set(d, SL_ERR_UNSUPPORTED,
				   "AES-256-GCM needs AES-NI, which this CPU lacks; use xchacha20poly1305");
	t = calloc(1, sizeof *t);
	if (!t)
		return SL_ERR_NOMEM;
	t->suite = suite;
	t->symsize = symsize;
	randombytes_buf(&t->session, sizeof t->session);
	if (link_key) {
		r = sl_aead_new(link_key, suite, t->session, SL_AEAD_SEAL, &t->k);
		if (r) {
			free(t);
			return sl_diag_set(d, r, "session key setup for %s failed: %s", sl_suite_name(suite),
					   sl_strerror(r));
		}
	}
	*out = t;
	return SL_OK;
}

void sl_wire_tx_free(struct sl_wire_tx *t)
{
	if (!t)
		return;
	sl_aead_free(t->k); /* wipes */
	free(t);
}

uint64_t sl_wire_tx_session(const struct sl_wire_tx *t) { return t->session; }
uint64_t sl_wire_tx_packets(const struct sl_wire_tx *t) { return t->next_packet; }

static void put_hdr(uint8_t *p, const struct sl_wire_hdr *h)
{
	sl_put_be16(p + O_MAGIC, SL_WIRE_MAGIC);
	p[O_VERSION] = SL_WIRE_VERSION;
	p[O_TYPE] = h->type;
	p[O_SUITE] = h->suite;
	p[O_FLAGS] = 0;
	sl_put_be16(p + O_PAYLEN, h->paylen);
	sl_put_be64(p + O_SESSION, h->session);
	sl_put_be64(p + O_PACKET, h->packet);
	memcpy(p + O_XFER, h->xfer, 16);
	sl_put_be64(p + O_BLOCK, h->block);
	sl_put_be16(p + O_ROW, h->row);
	sl_put_be16(p + O_K, h->k);
	sl_put_be16(p + O_M, h->m);
	sl_put_be16(p + O_SYMSIZE, h->symsize);
	sl_put_be16(p + O_PASS, h->pass);
	sl_put_be16(p + O_RESERVED, 0);
}

/* Encrypt `src` (symsize bytes: the body of dg itself, or a buffer that
 * does not overlap dg) into the body of dg and write its trailer, under
 * key k (NULL for the unkeyed suite) with the nonce of `packet`. The
 * header of dg is written already. On failure the body and trailer of dg
 * are zeroed: nothing in it may be sent. */
static int seal_body(struct sl_aead *k, enum sl_suite suite, uint8_t *dg,
		     const uint8_t *src, uint16_t symsize, uint64_t packet)
{
	uint8_t *b = dg + SL_WIRE_HDR;
	uint8_t *tag = b + symsize;
	int r;

	if (suite == SL_SUITE_NONE) {
		if (b != src)
			memcpy(b, src, symsize);
		memset(tag, 0, SL_WIRE_TAG);
		sl_put_be32(tag, crc32c(dg, SL_WIRE_HDR + (size_t)symsize));
		return SL_OK;
	}
	r = sl_aead_seal(k, packet, dg, SL_WIRE_HDR, src, b, symsize, tag);
	if (r)
		memset(b, 0, (size_t)symsize + SL_WIRE_TAG);
	return r;
}

int sl_wire_tx_clone(const struct sl_wire_tx *t, const uint8_t *link_key, struct sl_wire_tx **out,
		     struct sl_diag *d)
{
	struct sl_wire_tx *c;
	int r;

	*out = NULL;
	if ((t->suite == SL_SUITE_NONE) != (link_key == NULL))
		return sl_diag_set(d, SL_ERR_INVAL, "a link key is required unless the unkeyed mode is chosen");
	c = calloc(1, sizeof *c);
	if (!c)
		return SL_ERR_NOMEM;
	c->suite = t->suite;
	c->symsize = t->symsize;
	c->session = t->session;
	if (link_key) {
		r = sl_aead_new(link_key, t->suite, t->session, SL_AEAD_SEAL, &c->k);
		if (r) {
			free(c);
			return sl_diag_set(d, r, "session key setup for %s failed: %s",
					   sl_suite_name(t->suite), sl_strerror(r));
		}
	}
	*out = c;
	return SL_OK;
}

int sl_wire_seal(struct sl_wire_tx *t, struct sl_wire_hdr *h, const uint8_t *body, uint8_t *out)
{
	uint64_t packet = t->next_packet;

	if (t->wrapped)
		return SL_ERR_RANGE;
	if (h->paylen > t->symsize)
		return SL_ERR_INVAL;
	if (++t->next_packet == 0)
		t->wrapped = 1; /* 2^64 datagrams: never reuse a nonce */
	return sl_wire_seal_at(t, packet, h, body, out);
}

int sl_wire_seal_at(struct sl_wire_tx *t, uint64_t packet, struct sl_wire_hdr *h,
		    const uint8_t *body, uint8_t *out)
{
	uint8_t *b = out + SL_WIRE_HDR;

	if (h->paylen > t->symsize)
		return SL_ERR_INVAL;
	h->session = t->session;
	h->packet = packet;
	h->suite = (uint8_t)t->suite;
	h->symsize = t->symsize;
	put_hdr(out, h);
	if (h->paylen == t->symsize && (body + t->symsize <= out || body >= b + t->symsize)) {
		/* A full body elsewhere: encrypt straight from it, no copy. */
		return seal_body(t->k, t->suite, out, body, t->symsize, h->packet);
	}
	if (b != body)
		memmove(b, body, h->paylen);
	memset(b + h->paylen, 0, t->symsize - h->paylen);
	return seal_body(t->k, t->suite, out, b, t->symsize, h->packet);
}

int sl_wire_rx_new(const struct sl_wire_rx_cfg *cfg, struct sl_wire_rx **out, struct sl_diag *d)
{
	struct sl_wire_rx *r;

	*out = NULL;
	if (sl_crypto_init())
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium or OpenSSL failed to initialise");
	if (!cfg->link_key && !cfg->allow_unkeyed)
		return sl_diag_set(d, SL_ERR_INVAL, "no link key given and the unkeyed mode is not enabled");
	if (cfg->max_symsize < SL_WIRE_MIN_SYMSIZE || cfg->max_symsize > SL_WIRE_MAX_SYMSIZE)
		return sl_diag_set(d, SL_ERR_RANGE, "maximum symbol size %u outside %u..%u",
				   cfg->max_symsize, SL_WIRE_MIN_SYMSIZE, SL_WIRE_MAX_SYMSIZE);
	r = calloc(1, sizeof *r);
	if (!r)
		return SL_ERR_NOMEM;
	if (cfg->link_key) {
		r->link_key = sodium_malloc(SL_LINK_KEY_BYTES);
		if (!r->link_key) {
			free(r);
			return SL_ERR_NOMEM;
		}
		memcpy(r->link_key, cfg->link_key, SL_LINK_KEY_BYTES);
	}
	r->allow_unkeyed = cfg->allow_unkeyed;
	r->max_symsize = cfg->max_symsize;
	*out = r;
	return SL_OK;
}

int sl_wire_rx_clone(const struct sl_wire_rx *r, struct sl_wire_rx **out, struct sl_diag *d)
{
	struct sl_wire_rx_cfg cfg = { r->link_key, r->allow_unkeyed, r->max_symsize };

	return sl_wire_rx_new(&cfg, out, d);
}

void sl_wire_rx_free(struct sl_wire_rx *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < KEY_CACHE; i++)
		sl_aead_free(r->slots[i].k); /* wipes the key, frees its EVP context */
	if (r->link_key)
		sodium_free(r->link_key);
	free(r);
}

/* The opening key for (session, suite), derived and keyed on first use and
 * cached; the least recently used slot is rekeyed (its EVP context freed,
 * its sodium_malloc'd memory kept: getting that costs tens of microseconds,
 * and a hostile sender can make every datagram a new session). */
static struct sl_aead *rx_key(struct sl_wire_rx *r, uint64_t session, enum sl_suite suite)
{
	struct key_slot *victim = &r->slots[0];

	r->clock++;
	for (unsigned i = 0; i < KEY_CACHE; i++) {
		struct key_slot *s = &r->slots[i];
		if (s->k && s->session == session && s->suite == suite) {
			s->last_use = r->clock;
			return s->k;
		}
		if (!s->k || s->last_use < victim->last_use)
			victim = s;
	}
	if (victim->k ? sl_aead_rekey(victim->k, r->link_key, suite, session)
		      : sl_aead_new(r->link_key, suite, session, SL_AEAD_OPEN, &victim->k)) {
		sl_aead_free(victim->k);
		victim->k = NULL;
		return NULL;
	}
	victim->session = session;
	victim->suite = suite;
	victim->last_use = r->clock;
	return victim->k;
}

static void get_hdr(const uint8_t *p, struct sl_wire_hdr *h)
{
	h->type = p[O_TYPE];
	h->suite = p[O_SUITE];
	h->paylen = sl_get_be16(p + O_PAYLEN);
	h->session = sl_get_be64(p + O_SESSION);
	h->packet = sl_get_be64(p + O_PACKET);
	memcpy(h->xfer, p + O_XFER, 16);
	h->block = sl_get_be64(p + O_BLOCK);
	h->row = sl_get_be16(p + O_ROW);
	h->k = sl_get_be16(p + O_K);
	h->m = sl_get_be16(p + O_M);
	h->symsize = sl_get_be16(p + O_SYMSIZE);
	h->pass = sl_get_be16(p + O_PASS);
}

/* Steps 1 and 2 of opening: the fixed fields and the size, then the tag,
 * the body decrypted into out (NULL: in place). SL_OK with the body's
 * plain text in place or in out; *symsize_out gets the body's size. */
static int open_body(struct sl_wire_rx *r, uint8_t *dg, size_t len, uint8_t *out,
		     size_t outlen, uint16_t *symsize_out)
{
	uint16_t symsize;
	uint8_t *b, *tag;
	struct sl_aead *k;

	/* 1. Fixed fields and size, nothing else, before the tag. */
	if (len < SL_WIRE_HDR + SL_WIRE_MIN_SYMSIZE + SL_WIRE_TAG)
		return SL_ERR_PARSE;
	if (sl_get_be16(dg + O_MAGIC) != SL_WIRE_MAGIC || dg[O_VERSION] != SL_WIRE_VERSION)
		return SL_ERR_PARSE;
	symsize = sl_get_be16(dg + O_SYMSIZE);
	if (symsize < SL_WIRE_MIN_SYMSIZE || symsize > r->max_symsize ||
	    len != sl_wire_dgram_size(symsize))
		return SL_ERR_PARSE;
	if (out && outlen != symsize)
		return SL_ERR_INVAL;
	b = dg + SL_WIRE_HDR;
	tag = b + symsize;
	*symsize_out = symsize;

	/* 2. Authenticate (and decrypt) before using any other field. */
	switch (dg[O_SUITE]) {
	case SL_SUITE_AES256GCM:
	case SL_SUITE_XCHACHA: {
		enum sl_suite suite = (enum sl_suite)dg[O_SUITE];
		if (!r->link_key ||
		    (suite == SL_SUITE_AES256GCM && !crypto_aead_aes256gcm_is_available()))
			return SL_ERR_UNSUPPORTED;
		k = rx_key(r, sl_get_be64(dg + O_SESSION), suite);
		if (!k)
			return SL_ERR_CRYPTO;
		/* SL_ERR_AUTH when the tag fails; what it decrypted into is zeroed then. */
		return sl_aead_open(k, sl_get_be64(dg + O_PACKET), dg, SL_WIRE_HDR, b, out ? out : b,
				    symsize, tag);
	}
	case SL_SUITE_NONE:
		if (!r->allow_unkeyed)
			return SL_ERR_UNSUPPORTED;
		if (sl_get_be32(tag) != crc32c(dg, SL_WIRE_HDR + (size_t)symsize))
			return SL_ERR_AUTH;
		for (unsigned i = 4; i < SL_WIRE_TAG; i++)
			if (tag[i])
				return SL_ERR_PARSE;
		if (out)
			memcpy(out, b, symsize);
		return SL_OK;
	default:
		return SL_ERR_UNSUPPORTED;
	}
}

/* Step 3 of opening, after the tag: the remaining fields. */
static int check_fields(const uint8_t *dg, uint16_t symsize, struct sl_wire_hdr *h)
{
	get_hdr(dg, h);
	if (dg[O_FLAGS] != 0 || sl_get_be16(dg + O_RESERVED) != 0 || h->paylen > symsize)
		return SL_ERR_PARSE;
	switch (h->type) {
	case SL_T_PREAMBLE:
	case SL_T_HEARTBEAT:
	case SL_T_XFER:
		return SL_OK;
	case SL_T_SYMBOL:
		if (h->k < 1 || h->k > 254 || h->row >= 255 || h->paylen != symsize ||
		    (unsigned)h->k + h->m > 255)
			return SL_ERR_PARSE;
		return SL_OK;
	default:
		return SL_ERR_PARSE;
	}
}

int sl_wire_open(struct sl_wire_rx *r, uint8_t *dg, size_t len,
		 struct sl_wire_hdr *h, const uint8_t **body)
{
	uint16_t symsize = 0;
	int rc = open_body(r, dg, len, NULL, 0, &symsize);

	if (rc == SL_OK && (rc = check_fields(dg, symsize, h)) == SL_OK)
		*body = dg + SL_WIRE_HDR;
	return rc;
}

int sl_wire_open_to(struct sl_wire_rx *r, uint8_t *dg, size_t len, struct sl_wire_hdr *h,
		    uint8_t *out, size_t outlen)
{
	uint16_t symsize = 0;
	int rc = open_body(r, dg, len, out, outlen, &symsize);

	return rc == SL_OK ? check_fields(dg, symsize, h) : rc;
}

int sl_wire_peek(const uint8_t *dg, size_t len, struct sl_wire_hdr *h)
{
	if (len < SL_WIRE_HDR + SL_WIRE_MIN_SYMSIZE + SL_WIRE_TAG ||
	    sl_get_be16(dg + O_MAGIC) != SL_WIRE_MAGIC || dg[O_VERSION] != SL_WIRE_VERSION ||
	    len != sl_wire_dgram_size(sl_get_be16(dg + O_SYMSIZE)))
		return SL_ERR_PARSE;
	get_hdr(dg, h);
	return SL_OK;
}

/* ---- link key files ---- */


int sl_link_key_load(const char *path, uint8_t **key, struct sl_diag *d)
{
	uint8_t buf[128];
	ssize_t n;
	struct stat st;
	int fd, warn = 0;
	uint8_t *k;
	size_t len;

	*key = NULL;
	if (sl_crypto_init())
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium or OpenSSL failed to initialise");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_diag_errno(d, "link key %s", path);
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		warn = 1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return sl_diag_errno(d, "link key %s", path);
	len = (size_t)n;
	k = sodium_malloc(SL_LINK_KEY_BYTES);
	if (!k)
		return SL_ERR_NOMEM;
	if (len == SL_LINK_KEY_BYTES) {
		memcpy(k, buf, SL_LINK_KEY_BYTES);
	} else {
		/* text: 64 hex digits, optional trailing newline */
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		if (len != 2 * SL_LINK_KEY_BYTES) {
			sodium_memzero(buf, sizeof buf);
			sodium_free(k);
			return sl_diag_set(d, SL_ERR_PARSE,
					   "link key %s: expected 32 raw bytes or 64 hex digits, found %zd bytes "
					   "(make one with 'sluice keygen --link -o FILE')", path, n);
		}
		if (sl_hex_decode((const char *)buf, len, SL_HEX_ANY, k, SL_LINK_KEY_BYTES) != SL_OK) {
			sodium_memzero(buf, sizeof buf);
			sodium_free(k);
			return sl_diag_set(d, SL_ERR_PARSE, "link key %s: not hexadecimal", path);
		}
	}
	sodium_memzero(buf, sizeof buf);
	*key = k;
	if (warn)
		sl_diag_set(d, SL_OK, "link key %s is readable by group or others; chmod 600 it", path);
	else if (d)
		d->msg[0] = '\0';
	return SL_OK;
}

void sl_link_key_free(uint8_t *key)
{
	if (key)
		sodium_free(key);
}

int sl_wire_reseal(struct sl_wire_rx *r, uint8_t *dg, size_t len)
{
	uint16_t symsize;
	enum sl_suite suite;
	struct sl_aead *k = NULL; /* a sealing key of the datagram's session, for this call */
	int rc;

	if (len < SL_WIRE_HDR + SL_WIRE_TAG)
		return SL_ERR_PARSE;
	symsize = sl_get_be16(dg + O_SYMSIZE);
	if (len != sl_wire_dgram_size(symsize))
		return SL_ERR_PARSE;
	suite = (enum sl_suite)dg[O_SUITE];
	if (suite == SL_SUITE_AES256GCM || suite == SL_SUITE_XCHACHA) {
		if (!r->link_key)
			return SL_ERR_UNSUPPORTED;
		rc = sl_aead_new(r->link_key, suite, sl_get_be64(dg + O_SESSION), SL_AEAD_SEAL, &k);
		if (rc)
			return rc;
	} else if (suite != SL_SUITE_NONE) {
		return SL_ERR_UNSUPPORTED;
	}
	rc = seal_body(k, suite, dg, dg + SL_WIRE_HDR, symsize, sl_get_be64(dg + O_PACKET));
	sl_aead_free(k);
	return rc;
}
