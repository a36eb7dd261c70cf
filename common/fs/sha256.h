/* sha256.h — SHA-256 through OpenSSL libcrypto (EVP; uses SHA-NI where present).
 *
 * Contract: digests are identical to `sha256sum`. One-shot over memory,
 * streaming (init/update/final) and over a file descriptor (reads to EOF,
 * reports the byte count). Streaming contexts must be freed with
 * sl_sha256_free() even after final(). Hex is lowercase, 64 characters.
 */
#ifndef SL_SHA256_H
#define SL_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define SL_SHA256_LEN 32
#define SL_SHA256_HEX 65 /* 64 characters and a NUL */

struct sl_sha256; /* opaque streaming context */

int sl_sha256(const void *data, size_t len, uint8_t out[SL_SHA256_LEN]);

int sl_sha256_new(struct sl_sha256 **ctx);
int sl_sha256_update(struct sl_sha256 *ctx, const void *data, size_t len);
int sl_sha256_final(struct sl_sha256 *ctx, uint8_t out[SL_SHA256_LEN]);
/* Start over (after final or midway), keeping the context's resources. */
int sl_sha256_reset(struct sl_sha256 *ctx);
void sl_sha256_free(struct sl_sha256 *ctx);

/* Hash what fd holds from its current offset to its end: the one reader of
 * a file into a digest (rx's copies from a base, sl_hash_files). ctx (may be
 * NULL: one of its own) is restarted first; buf[cap] (may be NULL: 256 KiB of
 * its own) is what it reads into. `expect` is the size the caller knows
 * (UINT64_MAX if none): a read that falls short of cap and reaches it is
 * taken as the end, so a small file costs one read; a file of another size
 * reads to its end (the caller compares *nbytes). *nbytes (may be NULL) gets
 * the count. `progress` (may be NULL) is called after each read with the
 * bytes it added. A read error is SL_ERR_IO with errno kept. */
typedef void (*sl_sha256_progress_fn)(void *ctx, uint64_t bytes);
int sl_sha256_fd(int fd, struct sl_sha256 *ctx, void *buf, size_t cap, uint64_t expect,
		 uint8_t out[SL_SHA256_LEN], uint64_t *nbytes, sl_sha256_progress_fn progress, void *pctx,
		 struct sl_diag *d);

/* Lowercase hex of a digest; returns out. */
char *sl_sha256_hex(const uint8_t digest[SL_SHA256_LEN], char out[SL_SHA256_HEX]);
/* Parse exactly 64 lowercase hex digits; SL_ERR_PARSE otherwise. */
int sl_sha256_from_hex(const char *hex, size_t len, uint8_t digest[SL_SHA256_LEN]);

#endif
