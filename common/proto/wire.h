/* wire.h — the sluice datagram: layout, sealing and strict parsing.
 *
 * Contract (normative text: common/PROTOCOL.md). Every datagram is
 *   header (SL_WIRE_HDR bytes, authenticated, clear)
 *   body   (`symsize` bytes, encrypted)
 *   trailer(SL_WIRE_TAG bytes: AEAD tag, or CRC32C + zeros when unkeyed)
 * and all datagrams of one session have the same size. Sealing derives a
 * per-session key from the 32-byte link key (crypto_kdf, subkey id = session
 * id, context per AEAD suite) and uses the per-session packet number as the
 * nonce. Opening checks size and the fixed fields, then the tag, and only
 * then looks at anything else: a datagram whose tag fails is reported as
 * SL_ERR_AUTH, its body is zeroed and nothing in it is used. AES-256-GCM
 * runs through OpenSSL EVP (one context per session, keyed once),
 * XChaCha20-Poly1305 through libsodium (aead.h).
 */
#ifndef SL_WIRE_H
#define SL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define SL_WIRE_MAGIC 0x534Cu      /* "SL" */
#define SL_WIRE_VERSION 1
#define SL_WIRE_HDR 60
#define SL_WIRE_TAG 16
#define SL_WIRE_MIN_SYMSIZE 128    /* bodies must hold a heartbeat and a transfer header */
#define SL_WIRE_MAX_SYMSIZE 8900   /* so a datagram fits a 9000-byte jumbo frame */
#define SL_LINK_KEY_BYTES 32

enum sl_wire_type {
	SL_T_PREAMBLE = 1,  /* warm-up, body is padding */
	SL_T_HEARTBEAT = 2, /* sender state, body: struct sl_heartbeat */
	SL_T_XFER = 3,      /* transfer header, body: struct sl_xfer_hdr */
	SL_T_SYMBOL = 4,    /* one FEC symbol (data row < k, parity row >= k) */
};

enum sl_suite {
	SL_SUITE_NONE = 0,      /* unkeyed: CRC32C only (explicit opt-in) */
	SL_SUITE_AES256GCM = 1,
	SL_SUITE_XCHACHA = 2,   /* XChaCha20-Poly1305-IETF */
};

/* The authenticated header, decoded. */
struct sl_wire_hdr {
	uint8_t type;          /* enum sl_wire_type */
	uint8_t suite;         /* enum sl_suite */
	uint16_t paylen;       /* meaningful bytes of the body (<= symsize) */
	uint64_t session;      /* random per sender start */
	uint64_t packet;       /* per-session datagram number, from 0; the nonce */
	uint8_t xfer[16];      /* transfer id (zero when not about a transfer) */
	uint64_t block;        /* block number within the transfer */
	uint16_t row;          /* symbol row: 0..k-1 data, k..254 parity */
	uint16_t k;            /* data symbols in this block */
	uint16_t m;            /* parity rows per block per pass (sender config) */
	uint16_t symsize;      /* body size, the same for every datagram of a session */
	uint16_t pass;         /* pass number, from 0 */
};

/* Sealing state of a sender: one session, one key. The session key is held
 * in sodium_malloc'd memory, the AES-256-GCM key schedule in its EVP
 * context; sl_wire_tx_free wipes both. */
struct sl_wire_tx;
int sl_wire_tx_new(const uint8_t *link_key /* NULL: unkeyed */, enum sl_suite suite,
		   uint16_t symsize, struct sl_wire_tx **out, struct sl_diag *d);
void sl_wire_tx_free(struct sl_wire_tx *t);
uint64_t sl_wire_tx_session(const struct sl_wire_tx *t);
uint64_t sl_wire_tx_packets(const struct sl_wire_tx *t); /* datagrams sealed so far */
size_t sl_wire_dgram_size(uint16_t symsize);               /* HDR + symsize + TAG */

/* Build one datagram into out (sl_wire_dgram_size bytes). h->session,
 * h->packet, h->suite and h->symsize are filled in by the sealer; body holds
 * h->paylen bytes (<= symsize) and is zero-padded to symsize; it may be the
 * body of out itself, or a buffer that does not overlap out (a full body is
 * then encrypted straight from it). Returns 0, SL_ERR_RANGE when the packet
 * counter would wrap, SL_ERR_INVAL when paylen > symsize, or SL_ERR_CRYPTO
 * when the cipher library fails (the body and trailer of out are zeroed
 * then; nothing in out may be sent). A sealer is used by one thread at a
 * time. */
int sl_wire_seal(struct sl_wire_tx *t, struct sl_wire_hdr *h,
		 const uint8_t *body, uint8_t *out);

/* Sealing one session on several threads: a clone of t is another sealer
 * of t's session (suite, symsize, session id; its own key context, from
 * link_key, which must be the one t was made with), and sl_wire_seal_at
 * seals with the packet number the caller gives instead of the counter
 * (which it neither reads nor advances). The caller then owns nonce
 * uniqueness: every number sealed in a session, by t and its clones, must
 * be distinct (e.g. positions in one schedule, handed out once). */
int sl_wire_tx_clone(const struct sl_wire_tx *t, const uint8_t *link_key,
		     struct sl_wire_tx **out, struct sl_diag *d);
int sl_wire_seal_at(struct sl_wire_tx *t, uint64_t packet, struct sl_wire_hdr *h,
		    const uint8_t *body, uint8_t *out);

/* Receiving: which suites are acceptable, the key, limits, and a small
 * cache of per-session opening keys (each AES-256-GCM one its own keyed
 * EVP context, freed when the session is evicted). One thread at a time. */
struct sl_wire_rx;
struct sl_wire_rx_cfg {
	const uint8_t *link_key;   /* NULL: accept only unkeyed datagrams */
	int allow_unkeyed;         /* accept SL_SUITE_NONE (only with the explicit flag) */
	uint16_t max_symsize;      /* reject larger bodies (<= SL_WIRE_MAX_SYMSIZE) */
};
int sl_wire_rx_new(const struct sl_wire_rx_cfg *cfg, struct sl_wire_rx **out, struct sl_diag *d);
/* Another receiver with the same key and settings and a key cache of its
 * own: one per thread that opens datagrams (a receiver is not shared). */
int sl_wire_rx_clone(const struct sl_wire_rx *r, struct sl_wire_rx **out, struct sl_diag *d);
void sl_wire_rx_free(struct sl_wire_rx *r);

/* Open a received datagram in place: on success fills h and points *body at
 * the decrypted body (inside dg, h->paylen meaningful bytes) and returns 0.
 * Errors: SL_ERR_PARSE (size, magic, version, reserved bits, field ranges),
 * SL_ERR_UNSUPPORTED (suite not accepted here), SL_ERR_AUTH (tag or CRC;
 * a keyed body is zeroed), SL_ERR_CRYPTO (the cipher library failed).
 * Field checks that need the body's meaning happen after authentication. */
int sl_wire_open(struct sl_wire_rx *r, uint8_t *dg, size_t len,
		 struct sl_wire_hdr *h, const uint8_t **body);

/* As sl_wire_open, but the body is decrypted into out (outlen bytes, which
 * must be the datagram's symbol size, else SL_ERR_INVAL before anything;
 * out must not overlap dg, which is not changed). On SL_OK out holds the
 * body; on SL_ERR_AUTH a keyed body's out is zeroed, an unkeyed one's was
 * not written. Lets a receiver decrypt a symbol straight into its block. */
int sl_wire_open_to(struct sl_wire_rx *r, uint8_t *dg, size_t len, struct sl_wire_hdr *h,
		    uint8_t *out, size_t outlen);

/* The header fields of a datagram of plausible size, magic and version,
 * NOT authenticated: only for choosing where to open it (sl_wire_open_to),
 * never for acting on it. SL_OK or SL_ERR_PARSE. */
int sl_wire_peek(const uint8_t *dg, size_t len, struct sl_wire_hdr *h);

/* Seal an opened datagram again in place, with the key of its own session
 * and its own packet number, after its body was changed. Only a holder of
 * the link key can do this: test harnesses use it to model an attacker on
 * the low side who has the key (forged content must still fail the
 * manifest's hashes). dg must have passed sl_wire_open with this rx. */
int sl_wire_reseal(struct sl_wire_rx *r, uint8_t *dg, size_t len);

/* The suite this machine would pick: AES-256-GCM with AES-NI, else XChaCha. */
enum sl_suite sl_wire_default_suite(void);
const char *sl_suite_name(enum sl_suite s);
int sl_suite_parse(const char *name, enum sl_suite *out); /* "auto", "aes256gcm", "xchacha20poly1305", "none" */

/* Initialise libsodium, and OpenSSL's configuration and AES-256-GCM, once
 * per process, before any sandbox (idempotent); returns 0 or SL_ERR_CRYPTO. */
int sl_crypto_init(void);

/* Read a 32-byte link key file (raw 32 bytes, or 64 hex chars + optional
 * newline) into a sodium_malloc'd buffer; warns via diag->msg when the file
 * is readable by group/others (returns 0 then, with the warning text in d). */
int sl_link_key_load(const char *path, uint8_t **key, struct sl_diag *d);
void sl_link_key_free(uint8_t *key);

#endif
