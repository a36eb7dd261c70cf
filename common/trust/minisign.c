/* minisign.c — minisign key and signature formats over libsodium. */
#include "minisign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define UNTRUSTED "untrusted comment: "
#define TRUSTED "trusted comment: "
#define SECKEY_BYTES 158 /* 2+2+2+32+8+8+8+64+32 */

/* ---- line splitting ------------------------------------------------------- */

struct lines {
	const char *s[4];
	size_t n[4];
	size_t count;
};

/* Split into at most `max` lines (LF or CRLF; final line feed optional). */
static int split_lines(const uint8_t *text, size_t len, size_t max, struct lines *l, struct sl_diag *d)
{
	const char *p = (const char *)text, *end = p + len;
	l->count = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (l->count == max)
			return sl_diag_set(d, SL_ERR_PARSE, "more than %zu lines", max);
		if (e > p && e[-1] == '\r')
			e--;
		for (const char *q = p; q < e; q++)
			if (*q == '\0' || *q == '\r')
				return sl_diag_set(d, SL_ERR_PARSE, "line %zu: NUL or stray carriage return", l->count + 1);
		if ((size_t)(e - p) > SL_MS_COMMENT_MAX + sizeof TRUSTED)
			return sl_diag_set(d, SL_ERR_TOOBIG, "line %zu longer than %d bytes", l->count + 1, SL_MS_COMMENT_MAX);
		l->s[l->count] = p;
		l->n[l->count] = (size_t)(e - p);
		l->count++;
		p = nl ? nl + 1 : end;
	}
	return SL_OK;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && !memcmp(s, prefix, pl);
}

/* Strict base64 (padded, original alphabet) to exactly `want` bytes. */
static int b64_exact(const char *s, size_t n, uint8_t *out, size_t want)
{
	size_t got = 0;
	const char *endp = NULL;
	if (n != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1)
		return SL_ERR_PARSE;
	if (sodium_base642bin(out, want, s, n, NULL, &got, &endp, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want || endp != s + n)
		return SL_ERR_PARSE;
	return SL_OK;
}

static char *dup_n(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

void sl_ms_keyid_hex(const uint8_t keyid[SL_MS_KEYID_BYTES], char out[17])
{
	static const char hx[] = "0123456789ABCDEF";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hx[keyid[7 - i] >> 4];
		out[2 * i + 1] = hx[keyid[7 - i] & 15];
	}
	out[16] = '\0';
}

/* ---- public keys ---------------------------------------------------------- */

int sl_ms_pubkey_from_base64(const char *b64, size_t len, struct sl_ms_pubkey *pk, struct sl_diag *d)
{
	uint8_t raw[2 + SL_MS_KEYID_BYTES + SL_MS_PK_BYTES];
	if (b64_exact(b64, len, raw, sizeof raw))
		return sl_diag_set(d, SL_ERR_PARSE, "public key is not 56 characters of base64");
	if (raw[0] != 'E' || raw[1] != 'd')
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "public key algorithm is not Ed25519 ('Ed')");
	memcpy(pk->keyid, raw + 2, SL_MS_KEYID_BYTES);
	memcpy(pk->pk, raw + 2 + SL_MS_KEYID_BYTES, SL_MS_PK_BYTES);
	return SL_OK;
}

int sl_ms_pubkey_parse(const uint8_t *text, size_t len, struct sl_ms_pubkey *pk,
		       char *comment, size_t clen, struct sl_diag *d)
{
	struct lines l;
	int rc = split_lines(text, len, 2, &l, d);
	if (rc)
		return rc;
	if (l.count == 1) {
		if (comment && clen)
			comment[0] = '\0';
		return sl_ms_pubkey_from_base64(l.s[0], l.n[0], pk, d);
	}
	if (l.count != 2 || !has_prefix(l.s[0], l.n[0], UNTRUSTED))
		return sl_diag_set(d, SL_ERR_PARSE, "not a minisign public key (expected 'untrusted comment:' and a base64 line)");
	if (comment && clen)
		snprintf(comment, clen, "%.*s", (int)(l.n[0] - strlen(UNTRUSTED)), l.s[0] + strlen(UNTRUSTED));
	return sl_ms_pubkey_from_base64(l.s[1], l.n[1], pk, d);
}

void sl_ms_pubkey_base64(const struct sl_ms_pubkey *pk, char out[SL_MS_PK_B64])
{
	uint8_t raw[2 + SL_MS_KEYID_BYTES + SL_MS_PK_BYTES];
	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, pk->keyid, SL_MS_KEYID_BYTES);
	memcpy(raw + 2 + SL_MS_KEYID_BYTES, pk->pk, SL_MS_PK_BYTES);
	sodium_bin2base64(out, SL_MS_PK_B64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
}

int sl_ms_pubkey_format(const struct sl_ms_pubkey *pk, const char *comment, char *out, size_t outsz)
{
	char b64[SL_MS_PK_B64];
	int n;
	sl_ms_pubkey_base64(pk, b64);
	n = snprintf(out, outsz, UNTRUSTED "%s\n%s\n", comment, b64);
	return (n < 0 || (size_t)n >= outsz) ? -1 : n;
}

/* ---- secret keys ---------------------------------------------------------- */

static void seckey_chk(const struct sl_ms_seckey *sk, uint8_t chk[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"Ed", 2);
	crypto_generichash_update(&st, sk->keyid, sizeof sk->keyid);
	crypto_generichash_update(&st, sk->sk, sizeof sk->sk);
	crypto_generichash_final(&st, chk, 32);
	sodium_memzero(&st, sizeof st);
}

static struct sl_ms_seckey *seckey_alloc(void)
{
	if (sodium_init() < 0)
		return NULL;
	return sodium_malloc(sizeof(struct sl_ms_seckey));
}

void sl_ms_seckey_free(struct sl_ms_seckey *sk)
{
	if (sk)
		sodium_free(sk); /* sodium_free wipes */
}

int sl_ms_keygen(struct sl_ms_pubkey *pk, struct sl_ms_seckey **out)
{
	struct sl_ms_seckey *sk = seckey_alloc();
	if (!sk)
		return SL_ERR_NOMEM;
	randombytes_buf(sk->keyid, sizeof sk->keyid);
	if (crypto_sign_keypair(pk->pk, sk->sk) != 0) {
		sl_ms_seckey_free(sk);
		return SL_ERR_CRYPTO;
	}
	memcpy(pk->keyid, sk->keyid, sizeof pk->keyid);
	*out = sk;
	return SL_OK;
}

void sl_ms_seckey_pubkey(const struct sl_ms_seckey *sk, struct sl_ms_pubkey *pk)
{
	memcpy(pk->keyid, sk->keyid, sizeof pk->keyid);
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Decode the key file's base64 into raw (SECKEY_BYTES). */
static int seckey_raw(const uint8_t *text, size_t len, uint8_t *raw, struct sl_diag *d)
{
	struct lines l;
	int rc = split_lines(text, len, 2, &l, d);
	if (rc)
		return rc;
	if (l.count != 2 || !has_prefix(l.s[0], l.n[0], UNTRUSTED))
		return sl_diag_set(d, SL_ERR_PARSE, "not a minisign secret key (expected 'untrusted comment:' and a base64 line)");
	if (b64_exact(l.s[1], l.n[1], raw, SECKEY_BYTES))
		return sl_diag_set(d, SL_ERR_PARSE, "not a minisign secret key (base64 line of the wrong length or alphabet)");
	if (raw[0] != 'E' || raw[1] != 'd')
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "secret key algorithm is not Ed25519");
	if (raw[4] != 'B' || raw[5] != '2')
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "secret key checksum algorithm is not BLAKE2b");
	if (!(raw[2] == 'S' && raw[3] == 'c') && !(raw[2] == 0 && raw[3] == 0))
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "secret key encryption is neither scrypt nor none");
	return SL_OK;
}

bool sl_ms_seckey_encrypted(const uint8_t *text, size_t len)
{
	uint8_t *raw;
	bool enc = false;
	if (sodium_init() < 0)
		return true;
	raw = sodium_malloc(SECKEY_BYTES);
	if (!raw)
		return true;
	if (seckey_raw(text, len, raw, NULL) == SL_OK)
		enc = raw[2] == 'S';
	sodium_free(raw);
	return enc;
}

/* An encrypted secret key's 104 bytes at raw + 54 (key id, secret key,
 * checksum) XORed with the scrypt stream of the passphrase and the salt at
 * raw + 6, at cost ops/mem: encrypts a key and decrypts it alike. */
static int scrypt_xor(uint8_t *raw, const char *passphrase, uint64_t ops, uint64_t mem,
		      struct sl_diag *d)
{
	uint8_t *stream = sodium_malloc(104);
	int rc = SL_OK;

	if (!stream)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	if (crypto_pwhash_scryptsalsa208sha256(stream, 104, passphrase, strlen(passphrase),
					       raw + 6, ops, (size_t)mem) != 0)
		rc = sl_diag_set(d, SL_ERR_NOMEM, "scrypt failed (not enough memory for the key's cost?)");
	else
		for (int i = 0; i < 104; i++)
			raw[54 + i] ^= stream[i];
	sodium_free(stream); /* wipes */
	return rc;
}

int sl_ms_seckey_parse(const uint8_t *text, size_t len, const char *passphrase,
		       struct sl_ms_seckey **out, struct sl_diag *d)
{
	uint8_t *raw, chk[32];
	struct sl_ms_seckey *sk;
	int rc;

	if (sodium_init() < 0)
		return SL_ERR_CRYPTO;
	raw = sodium_malloc(SECKEY_BYTES);
	if (!raw)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	rc = seckey_raw(text, len, raw, d);
	if (rc)
		goto out;
	if (raw[2] == 'S') {
		uint64_t ops = le64(raw + 38), mem = le64(raw + 46);
		if (!passphrase || !*passphrase) {
			rc = sl_diag_set(d, SL_ERR_AUTH, "the secret key is encrypted: a passphrase is needed");
			goto out;
		}
		if (ops > 4ull << 30 || mem > 16ull << 30) {
			rc = sl_diag_set(d, SL_ERR_RANGE, "secret key asks for an unreasonable scrypt cost");
			goto out;
		}
		rc = scrypt_xor(raw, passphrase, ops, mem, d);
		if (rc)
			goto out;
	}
	sk = seckey_alloc();
	if (!sk) {
		rc = sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(sk->keyid, raw + 54, 8);
	memcpy(sk->sk, raw + 62, 64);
	seckey_chk(sk, chk);
	if (sodium_memcmp(chk, raw + 126, 32) != 0) {
		sl_ms_seckey_free(sk);
		rc = sl_diag_set(d, SL_ERR_AUTH, raw[2] == 'S' ? "wrong passphrase (or damaged secret key)" :
				 "secret key checksum mismatch (damaged key)");
		goto out;
	}
	*out = sk;
out:
	sodium_memzero(chk, sizeof chk);
	sodium_free(raw);
	return rc;
}

int sl_ms_seckey_format(const struct sl_ms_seckey *sk, const char *passphrase,
			uint64_t opslimit, uint64_t memlimit, const char *comment,
			char *out, size_t outsz, size_t *olen, struct sl_diag *d)
{
	uint8_t *raw;
	size_t b64len = sodium_base64_ENCODED_LEN(SECKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	int rc = SL_OK, n;

	if (sodium_init() < 0)
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium failed to initialise");
	raw = sodium_malloc(SECKEY_BYTES);
	if (!raw)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	memset(raw, 0, SECKEY_BYTES);
	raw[0] = 'E';
	raw[1] = 'd';
	raw[4] = 'B';
	raw[5] = '2';
	memcpy(raw + 54, sk->keyid, 8);
	memcpy(raw + 62, sk->sk, 64);
	seckey_chk(sk, raw + 126);
	if (passphrase) {
		raw[2] = 'S';
		raw[3] = 'c';
		randombytes_buf(raw + 6, 32);
		put_le64(raw + 38, opslimit);
		put_le64(raw + 46, memlimit);
		rc = scrypt_xor(raw, passphrase, opslimit, memlimit, d);
		if (rc)
			goto out;
	}
	n = snprintf(out, outsz, UNTRUSTED "%s\n", comment);
	if (n < 0 || (size_t)n + b64len + 1 > outsz) {
		rc = sl_diag_set(d, SL_ERR_INVAL, "key buffer too small");
		goto out;
	}
	sodium_bin2base64(out + n, b64len, raw, SECKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	n += (int)b64len - 1;
	out[n++] = '\n';
	out[n] = '\0';
	*olen = (size_t)n;
out:
	sodium_free(raw);
	return rc;
}

/* ---- signatures ----------------------------------------------------------- */

void sl_ms_sig_free(struct sl_ms_sig *sig)
{
	if (!sig)
		return;
	free(sig->trusted_comment);
	free(sig->untrusted_comment);
	free(sig);
}

int sl_ms_sig_parse(const uint8_t *text, size_t len, struct sl_ms_sig **out, struct sl_diag *d)
{
	struct lines l;
	uint8_t raw[2 + 8 + 64];
	struct sl_ms_sig *s;
	int rc;

	*out = NULL;
	rc = split_lines(text, len, 4, &l, d);
	if (rc)
		return rc;
	if (l.count != 4)
		return sl_diag_set(d, SL_ERR_PARSE, "a signature file has 4 lines, this one %zu", l.count);
	if (!has_prefix(l.s[0], l.n[0], UNTRUSTED))
		return sl_diag_set(d, SL_ERR_PARSE, "line 1 does not start with 'untrusted comment: '");
	if (b64_exact(l.s[1], l.n[1], raw, sizeof raw))
		return sl_diag_set(d, SL_ERR_PARSE, "line 2 is not a base64 signature of 74 bytes");
	if (!has_prefix(l.s[2], l.n[2], TRUSTED))
		return sl_diag_set(d, SL_ERR_PARSE, "line 3 does not start with 'trusted comment: '");
	s = calloc(1, sizeof *s);
	if (!s)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	if (raw[0] == 'E' && raw[1] == 'D') {
		s->legacy = false;
	} else if (raw[0] == 'E' && raw[1] == 'd') {
		s->legacy = true;
	} else {
		free(s);
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "signature algorithm '%c%c' is unknown",
				   raw[0] >= 0x20 && raw[0] < 0x7F ? raw[0] : '?', raw[1] >= 0x20 && raw[1] < 0x7F ? raw[1] : '?');
	}
	memcpy(s->keyid, raw + 2, 8);
	memcpy(s->sig, raw + 10, 64);
	if (b64_exact(l.s[3], l.n[3], s->global_sig, 64)) {
		free(s);
		return sl_diag_set(d, SL_ERR_PARSE, "line 4 is not a base64 global signature of 64 bytes");
	}
	s->untrusted_comment = dup_n(l.s[0] + strlen(UNTRUSTED), l.n[0] - strlen(UNTRUSTED));
	s->trusted_comment = dup_n(l.s[2] + strlen(TRUSTED), l.n[2] - strlen(TRUSTED));
	if (!s->untrusted_comment || !s->trusted_comment) {
		sl_ms_sig_free(s);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	*out = s;
	return SL_OK;
}

void sl_ms_prehash(const uint8_t *msg, size_t len, uint8_t hash[64])
{
	crypto_generichash(hash, 64, msg, len, NULL, 0);
}

int sl_ms_sig_verify_prehashed(const struct sl_ms_sig *sig, const struct sl_ms_pubkey *pk,
			       const uint8_t hash[64], struct sl_diag *d)
{
	size_t tl = strlen(sig->trusted_comment);
	uint8_t *g;
	int ok;

	if (sig->legacy)
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "legacy 'Ed' signature (not prehashed): refused, sign again with a current minisign");
	if (memcmp(sig->keyid, pk->keyid, 8))
		return sl_diag_set(d, SL_ERR_NOTFOUND, "signature is by another key");
	if (crypto_sign_verify_detached(sig->sig, hash, 64, pk->pk) != 0)
		return sl_diag_set(d, SL_ERR_SIG, "signature does not match the manifest");
	g = malloc(64 + tl);
	if (!g)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	memcpy(g, sig->sig, 64);
	memcpy(g + 64, sig->trusted_comment, tl);
	ok = crypto_sign_verify_detached(sig->global_sig, g, 64 + tl, pk->pk) == 0;
	free(g);
	if (!ok)
		return sl_diag_set(d, SL_ERR_SIG, "global signature does not match (trusted comment altered)");
	return SL_OK;
}

int sl_ms_sig_verify(const struct sl_ms_sig *sig, const struct sl_ms_pubkey *pk,
		     const uint8_t *msg, size_t len, struct sl_diag *d)
{
	uint8_t h[64];
	if (sodium_init() < 0)
		return SL_ERR_CRYPTO;
	sl_ms_prehash(msg, len, h);
	return sl_ms_sig_verify_prehashed(sig, pk, h, d);
}

static bool comment_ok(const char *c)
{
	if (strlen(c) > SL_MS_COMMENT_MAX)
		return false;
	for (; *c; c++)
		if (*c == '\n' || *c == '\r')
			return false;
	return true;
}

int sl_ms_sign(const struct sl_ms_seckey *sk, const uint8_t *msg, size_t mlen,
	       const char *untrusted_comment, const char *trusted_comment,
	       char **text, size_t *tlen, struct sl_diag *d)
{
	uint8_t h[64], raw[74], global[64], *g;
	char b1[sodium_base64_ENCODED_LEN(74, sodium_base64_VARIANT_ORIGINAL)];
	char b2[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	size_t tl = strlen(trusted_comment);
	int n;

	if (sodium_init() < 0)
		return SL_ERR_CRYPTO;
	if (!comment_ok(untrusted_comment) || !comment_ok(trusted_comment))
		return sl_diag_set(d, SL_ERR_INVAL, "comments are single lines of at most %d bytes", SL_MS_COMMENT_MAX);
	sl_ms_prehash(msg, mlen, h);
	raw[0] = 'E';
	raw[1] = 'D';
	memcpy(raw + 2, sk->keyid, 8);
	crypto_sign_detached(raw + 10, NULL, h, 64, sk->sk);
	g = malloc(64 + tl);
	if (!g)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	memcpy(g, raw + 10, 64);
	memcpy(g + 64, trusted_comment, tl);
	crypto_sign_detached(global, NULL, g, 64 + tl, sk->sk);
	free(g);
	sodium_bin2base64(b1, sizeof b1, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b2, sizeof b2, global, sizeof global, sodium_base64_VARIANT_ORIGINAL);
	n = asprintf(text, UNTRUSTED "%s\n%s\n" TRUSTED "%s\n%s\n", untrusted_comment, b1, trusted_comment, b2);
	if (n < 0)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	*tlen = (size_t)n;
	return SL_OK;
}
