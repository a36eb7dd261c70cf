/* sha256.c — SHA-256 via OpenSSL EVP. */
#include "sha256.h"
#include "hex.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <sodium.h>

struct sl_sha256 {
	EVP_MD_CTX *md;
};

int sl_sha256(const void *data, size_t len, uint8_t out[SL_SHA256_LEN])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != SL_SHA256_LEN)
		return SL_ERR_CRYPTO;
	return SL_OK;
}

int sl_sha256_new(struct sl_sha256 **ctx)
{
	struct sl_sha256 *c = calloc(1, sizeof *c);
	if (!c)
		return SL_ERR_NOMEM;
	c->md = EVP_MD_CTX_new();
	if (!c->md) {
		free(c);
		return SL_ERR_NOMEM;
	}
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		sl_sha256_free(c);
		return SL_ERR_CRYPTO;
	}
	*ctx = c;
	return SL_OK;
}

int sl_sha256_update(struct sl_sha256 *ctx, const void *data, size_t len)
{
	return EVP_DigestUpdate(ctx->md, data, len) == 1 ? SL_OK : SL_ERR_CRYPTO;
}

int sl_sha256_final(struct sl_sha256 *ctx, uint8_t out[SL_SHA256_LEN])
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(ctx->md, out, &n) != 1 || n != SL_SHA256_LEN)
		return SL_ERR_CRYPTO;
	return SL_OK;
}

int sl_sha256_reset(struct sl_sha256 *ctx)
{
	return EVP_DigestInit_ex(ctx->md, NULL, NULL) == 1 ? SL_OK : SL_ERR_CRYPTO;
}

void sl_sha256_free(struct sl_sha256 *ctx)
{
	if (!ctx)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

/* Reads fd into ctx (see sha256.h) until its end, or a short read at expect. */
static int digest_fd(int fd, struct sl_sha256 *ctx, uint8_t *buf, size_t cap, uint64_t expect,
		     uint64_t *total, sl_sha256_progress_fn progress, void *pctx, struct sl_diag *d)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		int rc;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_diag_errno(d, "read");
		if (n > 0 && (rc = sl_sha256_update(ctx, buf, (size_t)n)))
			return sl_diag_set(d, rc, "SHA-256 failed");
		*total += (uint64_t)n;
		if (progress && n > 0)
			progress(pctx, (uint64_t)n);
		if (n == 0 || ((size_t)n < cap && *total == expect))
			return SL_OK;
	}
}

int sl_sha256_fd(int fd, struct sl_sha256 *ctx, void *buf, size_t cap, uint64_t expect,
		 uint8_t out[SL_SHA256_LEN], uint64_t *nbytes, sl_sha256_progress_fn progress, void *pctx,
		 struct sl_diag *d)
{
	enum { BUFSZ = 1 << 18 };
	struct sl_sha256 *own = NULL;
	uint8_t *mine = NULL;
	uint64_t total = 0;
	int rc, e;

	if (!buf || !cap) {
		buf = mine = malloc(BUFSZ);
		cap = BUFSZ;
		if (!mine)
			return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	rc = ctx ? sl_sha256_reset(ctx) : sl_sha256_new(&own);
	if (rc)
		sl_diag_set(d, rc, "cannot start SHA-256");
	else
		rc = digest_fd(fd, ctx ? ctx : own, buf, cap, expect, &total, progress, pctx, d);
	if (!rc && (rc = sl_sha256_final(ctx ? ctx : own, out)))
		sl_diag_set(d, rc, "SHA-256 failed");
	e = errno;
	sl_sha256_free(own);
	free(mine);
	errno = e; /* a read error's, for the caller */
	if (!rc && nbytes)
		*nbytes = total;
	return rc;
}

char *sl_sha256_hex(const uint8_t digest[SL_SHA256_LEN], char out[SL_SHA256_HEX])
{
	sodium_bin2hex(out, SL_SHA256_HEX, digest, SL_SHA256_LEN);
	return out;
}

int sl_sha256_from_hex(const char *hex, size_t len, uint8_t digest[SL_SHA256_LEN])
{
	return sl_hex_decode(hex, len, SL_HEX_LOWER, digest, SL_SHA256_LEN);
}
