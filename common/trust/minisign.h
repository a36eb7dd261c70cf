/* minisign.h — minisign-compatible keys and signatures (libsodium).
 *
 * Contract (formats in common/MANIFEST.md, "Signatures"):
 *  - Public key: "untrusted comment: ...\n" + base64("Ed" | keyid[8] | pk[32]).
 *    A bare base64 line (as printed by `minisign -P` or kept in a policy) is
 *    also accepted by sl_ms_pubkey_from_base64().
 *  - Secret key: base64("Ed" | kdf "Sc" or 0x0000 | "B2" | salt[32] |
 *    opslimit le64 | memlimit le64 | keyid[8] ^ s | sk[64] ^ s | chk[32] ^ s)
 *    where s = scrypt-xsalsa208sha256(passphrase, salt, opslimit, memlimit)
 *    (no XOR when kdf is 0x0000) and chk = BLAKE2b-256("Ed" | keyid | sk).
 *  - Signature (.minisig): "untrusted comment: ...\n" + base64(alg[2] |
 *    keyid[8] | sig[64]) + "\ntrusted comment: TEXT\n" + base64(global[64]).
 *    alg "ED": sig = Ed25519(BLAKE2b-512(message)); alg "Ed" (legacy, signs
 *    the message itself) is parsed so it can be named, but never verifies.
 *    global = Ed25519(sig | TEXT).
 * Files may end lines with LF or CRLF; a final line feed is optional; nothing
 * else is tolerated. Comment lines are at most 1024 bytes. Secret keys live in
 * sodium_malloc'd memory and are wiped on free.
 */
#ifndef SL_MINISIGN_H
#define SL_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define SL_MS_KEYID_BYTES 8
#define SL_MS_PK_BYTES 32
#define SL_MS_PK_B64 57          /* 56 base64 characters and a NUL */
#define SL_MS_COMMENT_MAX 1024
/* Default scrypt cost of encrypted secret keys (minisign's: "sensitive"). */
#define SL_MS_KDF_OPSLIMIT 33554432ull
#define SL_MS_KDF_MEMLIMIT 1073741824ull

struct sl_ms_pubkey {
	uint8_t keyid[SL_MS_KEYID_BYTES];
	uint8_t pk[SL_MS_PK_BYTES];
};

struct sl_ms_seckey {            /* always sodium_malloc'd */
	uint8_t keyid[SL_MS_KEYID_BYTES];
	uint8_t sk[64];
};

struct sl_ms_sig {
	bool legacy;                 /* alg "Ed": refused by verify */
	uint8_t keyid[SL_MS_KEYID_BYTES];
	uint8_t sig[64];
	uint8_t global_sig[64];
	char *trusted_comment;       /* NUL-terminated, without the prefix */
	char *untrusted_comment;
};

/* Uppercase hex of the little-endian key id, as minisign prints it. */
void sl_ms_keyid_hex(const uint8_t keyid[SL_MS_KEYID_BYTES], char out[17]);

/* Public keys. `comment` (may be NULL) receives the untrusted comment
 * (without prefix), truncated to clen. */
int sl_ms_pubkey_parse(const uint8_t *text, size_t len, struct sl_ms_pubkey *pk,
		       char *comment, size_t clen, struct sl_diag *d);
int sl_ms_pubkey_from_base64(const char *b64, size_t len, struct sl_ms_pubkey *pk, struct sl_diag *d);
void sl_ms_pubkey_base64(const struct sl_ms_pubkey *pk, char out[SL_MS_PK_B64]);
/* "untrusted comment: COMMENT\nBASE64\n" into out; returns length or -1. */
int sl_ms_pubkey_format(const struct sl_ms_pubkey *pk, const char *comment, char *out, size_t outsz);

/* Secret keys. */
int sl_ms_keygen(struct sl_ms_pubkey *pk, struct sl_ms_seckey **sk);
bool sl_ms_seckey_encrypted(const uint8_t *text, size_t len);
/* passphrase NULL or "" is only accepted for unencrypted keys. A wrong
 * passphrase is SL_ERR_AUTH. */
int sl_ms_seckey_parse(const uint8_t *text, size_t len, const char *passphrase,
		       struct sl_ms_seckey **sk, struct sl_diag *d);
/* Write the key file into out (outsz >= 512; use sodium_malloc'd memory:
 * it holds the key). passphrase NULL = unencrypted. Returns SL_OK and *olen. */
int sl_ms_seckey_format(const struct sl_ms_seckey *sk, const char *passphrase,
			uint64_t opslimit, uint64_t memlimit, const char *comment,
			char *out, size_t outsz, size_t *olen, struct sl_diag *d);
void sl_ms_seckey_pubkey(const struct sl_ms_seckey *sk, struct sl_ms_pubkey *pk);
void sl_ms_seckey_free(struct sl_ms_seckey *sk);

/* Signatures. */
int sl_ms_sig_parse(const uint8_t *text, size_t len, struct sl_ms_sig **sig, struct sl_diag *d);
void sl_ms_sig_free(struct sl_ms_sig *sig);
/* BLAKE2b-512 of the message (what an "ED" signature signs). */
void sl_ms_prehash(const uint8_t *msg, size_t len, uint8_t hash[64]);
/* Verify against one key given the prehash. SL_ERR_UNSUPPORTED for legacy
 * "Ed", SL_ERR_NOTFOUND if the key id differs, SL_ERR_SIG with "signature does
 * not match" or "trusted comment altered" in diag. */
int sl_ms_sig_verify_prehashed(const struct sl_ms_sig *sig, const struct sl_ms_pubkey *pk,
			       const uint8_t hash[64], struct sl_diag *d);
int sl_ms_sig_verify(const struct sl_ms_sig *sig, const struct sl_ms_pubkey *pk,
		     const uint8_t *msg, size_t len, struct sl_diag *d);
/* Sign (prehashed ED). Writes the .minisig text (malloc'd) to *text. */
int sl_ms_sign(const struct sl_ms_seckey *sk, const uint8_t *msg, size_t mlen,
	       const char *untrusted_comment, const char *trusted_comment,
	       char **text, size_t *tlen, struct sl_diag *d);

#endif
