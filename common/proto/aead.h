/* aead.h — one session's AEAD key, and sealing/opening one datagram body
 * with it (used by wire.c; normative text: PROTOCOL.md §2.2).
 *
 * Contract. sl_aead_new derives the session key from the link key
 * (crypto_kdf_derive_from_key, subkey id = session id, context "SLAESGCM"
 * or "SLXCHACH" by suite) and keys it once, for one direction:
 *   AES-256-GCM        one OpenSSL EVP_CIPHER_CTX keyed once; per datagram
 *                      only the 12-byte IV is set, then the header as AAD,
 *                      the body, final, and the tag (get or set);
 *   XChaCha20-Poly1305 libsodium, detached, 24-byte nonce.
 * The nonce is the packet number, big-endian, right-aligned in zeros. The
 * session key is derived into sodium_malloc'd memory; XChaCha keeps it
 * there, AES-256-GCM wipes it as soon as the EVP context holds the key
 * schedule. sl_aead_free wipes the key and frees the EVP context with
 * EVP_CIPHER_CTX_free, which cleanses the schedule. A context is used by
 * one thread at a time.
 *
 * sl_aead_seal encrypts len bytes from src (== dst, or not overlapping
 * it) into dst and writes the 16-byte tag. sl_aead_open decrypts len
 * bytes from src (== dst, or not overlapping it) into dst against tag:
 * SL_ERR_AUTH if the tag fails, and then dst is zeroed, so nothing
 * unauthenticated is left in it; SL_ERR_CRYPTO when the library itself
 * fails (also zeroed). src is not changed unless it is dst. Sealing needs an SL_AEAD_SEAL
 * context, opening an SL_AEAD_OPEN one (else SL_ERR_INVAL).
 */
#ifndef SL_AEAD_H
#define SL_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include "wire.h"

#define SL_AEAD_TAG 16

enum sl_aead_dir { SL_AEAD_SEAL, SL_AEAD_OPEN };

/* Initialise libsodium, and OpenSSL with its configuration file and the
 * AES-256-GCM implementation, now rather than at the first session key
 * (which may come inside a sandbox that cannot open files). Idempotent;
 * SL_OK or SL_ERR_CRYPTO. sl_crypto_init (wire.h) calls it. */
int sl_aead_init(void);

struct sl_aead;

/* suite: SL_SUITE_AES256GCM or SL_SUITE_XCHACHA. Returns SL_OK,
 * SL_ERR_NOMEM, SL_ERR_INVAL (another suite) or SL_ERR_CRYPTO. */
int sl_aead_new(const uint8_t *link_key, enum sl_suite suite, uint64_t session,
		enum sl_aead_dir dir, struct sl_aead **out);
void sl_aead_free(struct sl_aead *a);
/* Key a for another (suite, session) in the same direction, reusing its
 * sodium_malloc'd memory (which is slow to get): the previous session's
 * EVP context is freed and its key wiped first. On failure a holds no key
 * (sealing and opening refuse with SL_ERR_INVAL) until rekeyed. */
int sl_aead_rekey(struct sl_aead *a, const uint8_t *link_key, enum sl_suite suite,
		  uint64_t session);

int sl_aead_seal(struct sl_aead *a, uint64_t packet, const uint8_t *ad, size_t adlen,
		 const uint8_t *src, uint8_t *dst, size_t len, uint8_t tag[SL_AEAD_TAG]);
int sl_aead_open(struct sl_aead *a, uint64_t packet, const uint8_t *ad, size_t adlen,
		 const uint8_t *src, uint8_t *dst, size_t len, const uint8_t tag[SL_AEAD_TAG]);

#endif
