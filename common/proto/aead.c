/* aead.c — per-session AEAD keys and body sealing (see aead.h). */
#include "aead.h"
#include "bytes.h"

#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define KDF_CTX_AES "SLAESGCM"
#define KDF_CTX_XCHACHA "SLXCHACH"
#define GCM_IV 12

/* Nothing secret in the struct itself (plain heap, so leak checkers see
 * the EVP context): the session key is derived into `key`, which is
 * sodium_malloc'd; XChaCha20-Poly1305 keeps it there, AES-256-GCM wipes it
 * once its EVP context holds the key schedule. */
struct sl_aead {
	enum sl_suite suite;
	enum sl_aead_dir dir;
	int keyed;           /* 0 after a failed rekey */
	EVP_CIPHER_CTX *evp; /* AES-256-GCM: keyed once, for dir */
	uint8_t *key;        /* 32 bytes, sodium_malloc'd */
};

_Static_assert(SL_AEAD_TAG == crypto_aead_aes256gcm_ABYTES, "tag size");
_Static_assert(SL_AEAD_TAG == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(GCM_IV == crypto_aead_aes256gcm_NPUBBYTES, "GCM nonce size");

static void nonce_of(uint8_t *n, size_t len, uint64_t packet)
{
	memset(n, 0, len);
	sl_put_be64(n + len - 8, packet);
}

int sl_aead_init(void)
{
	EVP_CIPHER *c;

	if (sodium_init() < 0)
		return SL_ERR_CRYPTO;
	/* The first fetch reads OpenSSL's configuration and loads the
	 * provider; later implicit fetches (EVP_aes_256_gcm() at keying)
	 * find it in the store. */
	c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!c)
		return SL_ERR_CRYPTO;
	EVP_CIPHER_free(c);
	return SL_OK;
}

/* An AES-256-GCM context keyed with sk for dir, IV length 12 (the default). */
static EVP_CIPHER_CTX *gcm_keyed(const uint8_t *sk, enum sl_aead_dir dir)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();

	if (!x)
		return NULL;
	if (EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, sk, NULL, dir == SL_AEAD_SEAL) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(x) != GCM_IV) {
		EVP_CIPHER_CTX_free(x);
		return NULL;
	}
	return x;
}

int sl_aead_rekey(struct sl_aead *a, const uint8_t *link_key, enum sl_suite suite,
		  uint64_t session)
{
	a->keyed = 0;
	EVP_CIPHER_CTX_free(a->evp); /* the previous session's, cleansed */
	a->evp = NULL;
	sodium_memzero(a->key, 32);
	if (suite != SL_SUITE_AES256GCM && suite != SL_SUITE_XCHACHA)
		return SL_ERR_INVAL;
	a->suite = suite;
	if (crypto_kdf_derive_from_key(a->key, 32, session,
				       suite == SL_SUITE_AES256GCM ? KDF_CTX_AES : KDF_CTX_XCHACHA,
				       link_key) != 0)
		return SL_ERR_CRYPTO;
	if (suite == SL_SUITE_AES256GCM) {
		a->evp = gcm_keyed(a->key, a->dir);
		sodium_memzero(a->key, 32);
		if (!a->evp)
			return SL_ERR_CRYPTO;
	}
	a->keyed = 1;
	return SL_OK;
}

int sl_aead_new(const uint8_t *link_key, enum sl_suite suite, uint64_t session,
		enum sl_aead_dir dir, struct sl_aead **out)
{
	struct sl_aead *a;
	int r;

	*out = NULL;
	a = calloc(1, sizeof *a);
	if (!a)
		return SL_ERR_NOMEM;
	a->dir = dir;
	a->key = sodium_malloc(32);
	if (!a->key) {
		free(a);
		return SL_ERR_NOMEM;
	}
	r = sl_aead_rekey(a, link_key, suite, session);
	if (r) {
		sl_aead_free(a);
		return r;
	}
	*out = a;
	return SL_OK;
}

void sl_aead_free(struct sl_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->evp); /* cleanses the key schedule */
	sodium_free(a->key);         /* wipes */
	free(a);
}

static int gcm_seal(EVP_CIPHER_CTX *x, uint64_t packet, const uint8_t *ad, size_t adlen,
		    const uint8_t *src, uint8_t *dst, size_t len, uint8_t *tag)
{
	uint8_t iv[GCM_IV];
	int n, f;

	nonce_of(iv, sizeof iv, packet);
	if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &n, ad, (int)adlen) != 1 ||
	    EVP_EncryptUpdate(x, dst, &n, src, (int)len) != 1 || (size_t)n != len ||
	    EVP_EncryptFinal_ex(x, dst + n, &f) != 1 || f != 0 ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, SL_AEAD_TAG, tag) != 1)
		return SL_ERR_CRYPTO;
	return SL_OK;
}

int sl_aead_seal(struct sl_aead *a, uint64_t packet, const uint8_t *ad, size_t adlen,
		 const uint8_t *src, uint8_t *dst, size_t len, uint8_t tag[SL_AEAD_TAG])
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];

	if (!a->keyed || a->dir != SL_AEAD_SEAL || len > INT_MAX || adlen > INT_MAX)
		return SL_ERR_INVAL;
	if (a->suite == SL_SUITE_AES256GCM)
		return gcm_seal(a->evp, packet, ad, adlen, src, dst, len, tag);
	nonce_of(n, sizeof n, packet);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt_detached(dst, tag, NULL, src, len, ad, adlen,
								NULL, n, a->key) != 0)
		return SL_ERR_CRYPTO;
	return SL_OK;
}

/* SL_OK, SL_ERR_AUTH (tag), or SL_ERR_CRYPTO; dst is plain text only on SL_OK. */
static int gcm_open(EVP_CIPHER_CTX *x, uint64_t packet, const uint8_t *ad, size_t adlen,
		    const uint8_t *src, uint8_t *dst, size_t len, const uint8_t *tag)
{
	uint8_t iv[GCM_IV], t[SL_AEAD_TAG];
	int n, f;

	nonce_of(iv, sizeof iv, packet);
	memcpy(t, tag, sizeof t); /* the ctrl takes a non-const pointer */
	if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(x, NULL, &n, ad, (int)adlen) != 1 ||
	    EVP_DecryptUpdate(x, dst, &n, src, (int)len) != 1 || (size_t)n != len ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, SL_AEAD_TAG, t) != 1)
		return SL_ERR_CRYPTO;
	/* Final is where the tag is compared (in constant time). */
	if (EVP_DecryptFinal_ex(x, dst + n, &f) != 1)
		return SL_ERR_AUTH;
	return f == 0 ? SL_OK : SL_ERR_CRYPTO;
}

int sl_aead_open(struct sl_aead *a, uint64_t packet, const uint8_t *ad, size_t adlen,
		 const uint8_t *src, uint8_t *dst, size_t len, const uint8_t tag[SL_AEAD_TAG])
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	int r;

	if (!a->keyed || a->dir != SL_AEAD_OPEN || len > INT_MAX || adlen > INT_MAX) {
		memset(dst, 0, len);
		return SL_ERR_INVAL;
	}
	if (a->suite == SL_SUITE_AES256GCM) {
		r = gcm_open(a->evp, packet, ad, adlen, src, dst, len, tag);
	} else {
		nonce_of(n, sizeof n, packet);
		r = crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dst, NULL, src, len, tag, ad,
									adlen, n, a->key) != 0 ? SL_ERR_AUTH
											      : SL_OK;
	}
	if (r != SL_OK)
		memset(dst, 0, len); /* nothing unauthenticated stays behind */
	return r;
}
