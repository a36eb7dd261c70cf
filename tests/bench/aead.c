/* bench_aead — per-datagram AEAD throughput on one core (a benchmark, never
 * a test).
 *
 *   bench_aead [SECONDS]     CPU seconds per measured cell (default 0.3, max 10)
 *
 * For datagram bodies of 1396 bytes (1500-byte MTU) and 8192 bytes it
 * prints GB/s of body per CPU-second of this thread (1 GB = 1e9 B; the
 * thread's CPU clock, so other load on the machine shows less), best of 3
 * runs, for sealing and for opening, with the call pattern of
 * common/proto/wire.c: 60 bytes of header as associated data, a 16-byte
 * detached tag, the nonce from a per-session packet number.
 *
 *   AES-256-GCM EVP        one EVP_CIPHER_CTX keyed once; per datagram only
 *                          the IV, then AAD, update, final, tag
 *   AES-256-GCM sodium     crypto_aead_aes256gcm_*_detached_afternm
 *   XChaCha20-P1305 sodium crypto_aead_xchacha20poly1305_ietf_*_detached
 *   ChaCha20-P1305 EVP     as AES-256-GCM EVP, 12-byte nonce
 *   sl_wire <suite>        the library itself: sl_wire_seal from a block
 *                          elsewhere, sl_wire_open in place (each open
 *                          first copies the sealed datagram back: included)
 *
 * Raw rows open out of place (same work as in place for these ciphers).
 * Then the cost of a receiver meeting a new session per datagram
 * (key derivation and keying, plus the open), in microseconds. Every open
 * must succeed, and the EVP and libsodium AES-256-GCM outputs are compared
 * once: the bench stops if they differ.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "bytes.h"
#include "error.h"
#include "wire.h"

#define HDR SL_WIRE_HDR
#define TAG SL_WIRE_TAG
#define MISS_SESSIONS 64 /* more than the receiver's key cache holds */

struct ctx {
	size_t len;
	uint8_t hdr[HDR];
	uint8_t tag[TAG];             /* written by each seal */
	uint8_t ct_tag[TAG];          /* the tag of ct, checked by each open */
	uint8_t key[32];
	uint8_t *pt, *ct, *out;       /* body: plain, sealed (for open), scratch */
	uint64_t packet;              /* sealing: next nonce */
	EVP_CIPHER_CTX *enc, *dec;
	crypto_aead_aes256gcm_state aes;
	enum sl_suite suite;          /* sl_wire rows */
	struct sl_wire_tx *tx;
	struct sl_wire_rx *rx;
	uint8_t *dg, *sealed;         /* a datagram; the sealed copy opened each time */
};

struct impl {
	const char *name;
	int (*avail)(void);
	void (*setup)(struct ctx *);
	int (*seal)(struct ctx *);
	int (*open)(struct ctx *);
};

static void nonce(uint8_t *n, size_t len, uint64_t packet)
{
	memset(n, 0, len);
	sl_put_be64(n + len - 8, packet);
}

/* ---- OpenSSL EVP, keyed once (AES-256-GCM and ChaCha20-Poly1305) ---- */

static EVP_CIPHER_CTX *evp_keyed(const EVP_CIPHER *c, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	if (!x || EVP_CipherInit_ex(x, c, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(x) != 12)
		bench_die("EVP keying failed");
	return x;
}

static int evp_seal_with(EVP_CIPHER_CTX *x, struct ctx *c, const uint8_t *src, uint8_t *dst,
			 uint64_t packet)
{
	uint8_t iv[12];
	int n, f;

	nonce(iv, sizeof iv, packet);
	if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(x, NULL, &n, c->hdr, HDR) != 1 ||
	    EVP_EncryptUpdate(x, dst, &n, src, (int)c->len) != 1 ||
	    EVP_EncryptFinal_ex(x, dst + n, &f) != 1 || (size_t)(n + f) != c->len ||
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, TAG, c->tag) != 1)
		return -1;
	return 0;
}

static int evp_seal(struct ctx *c) { return evp_seal_with(c->enc, c, c->pt, c->out, c->packet++); }

static int evp_open(struct ctx *c)
{
	uint8_t iv[12];
	int n, f;

	nonce(iv, sizeof iv, 0);
	if (EVP_DecryptInit_ex(c->dec, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(c->dec, NULL, &n, c->hdr, HDR) != 1 ||
	    EVP_DecryptUpdate(c->dec, c->out, &n, c->ct, (int)c->len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->dec, EVP_CTRL_AEAD_SET_TAG, TAG, c->ct_tag) != 1 ||
	    EVP_DecryptFinal_ex(c->dec, c->out + n, &f) != 1)
		return -1;
	return 0;
}

static void evp_setup(struct ctx *c, const EVP_CIPHER *cipher)
{
	c->enc = evp_keyed(cipher, c->key, 1);
	c->dec = evp_keyed(cipher, c->key, 0);
	if (evp_seal_with(c->enc, c, c->pt, c->ct, 0))
		bench_die("EVP seal failed");
	memcpy(c->ct_tag, c->tag, TAG);
}

static void evp_aes_setup(struct ctx *c) { evp_setup(c, EVP_aes_256_gcm()); }
static void evp_chacha_setup(struct ctx *c) { evp_setup(c, EVP_chacha20_poly1305()); }

/* ---- libsodium ---- */

static int sodium_aes_avail(void) { return crypto_aead_aes256gcm_is_available(); }
static int always(void) { return 1; }

static int sodium_aes_seal(struct ctx *c)
{
	uint8_t n[crypto_aead_aes256gcm_NPUBBYTES];
	nonce(n, sizeof n, c->packet++);
	return crypto_aead_aes256gcm_encrypt_detached_afternm(c->out, c->tag, NULL, c->pt, c->len,
							      c->hdr, HDR, NULL, n, &c->aes);
}

static int sodium_aes_open(struct ctx *c)
{
	uint8_t n[crypto_aead_aes256gcm_NPUBBYTES];
	nonce(n, sizeof n, 0);
	return crypto_aead_aes256gcm_decrypt_detached_afternm(c->out, NULL, c->ct, c->len, c->ct_tag,
							      c->hdr, HDR, n, &c->aes);
}

/* The ciphertext and tag the open benchmark reads: packet 0 through seal
 * (which names the implementation when it fails); the count starts over. */
static void seal_reference(struct ctx *c, int (*seal)(struct ctx *), const char *what)
{
	c->packet = 0;
	if (seal(c)) {
		fprintf(stderr, "bench_aead: %s seal failed\n", what);
		exit(1);
	}
	memcpy(c->ct, c->out, c->len);
	memcpy(c->ct_tag, c->tag, TAG);
	c->packet = 0;
}

static void sodium_aes_setup(struct ctx *c)
{
	crypto_aead_aes256gcm_beforenm(&c->aes, c->key);
	seal_reference(c, sodium_aes_seal, "libsodium AES-256-GCM");
}

static int xchacha_seal(struct ctx *c)
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	nonce(n, sizeof n, c->packet++);
	return crypto_aead_xchacha20poly1305_ietf_encrypt_detached(c->out, c->tag, NULL, c->pt, c->len,
								   c->hdr, HDR, NULL, n, c->key);
}

static int xchacha_open(struct ctx *c)
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	nonce(n, sizeof n, 0);
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(c->out, NULL, c->ct, c->len, c->ct_tag,
								   c->hdr, HDR, n, c->key);
}

static void xchacha_setup(struct ctx *c)
{
	seal_reference(c, xchacha_seal, "XChaCha20-Poly1305");
}

/* ---- the library: sl_wire_seal / sl_wire_open ---- */

static int wire_seal(struct ctx *c)
{
	struct sl_wire_hdr h = { .type = SL_T_SYMBOL, .paylen = (uint16_t)c->len, .k = 100, .m = 12 };
	return sl_wire_seal(c->tx, &h, c->pt, c->dg);
}

static int wire_open(struct ctx *c)
{
	struct sl_wire_hdr h;
	const uint8_t *body;
	size_t n = sl_wire_dgram_size((uint16_t)c->len);

	memcpy(c->dg, c->sealed, n);
	return sl_wire_open(c->rx, c->dg, n, &h, &body);
}

static void wire_setup(struct ctx *c)
{
	struct sl_wire_rx_cfg rc = { .link_key = c->key, .max_symsize = SL_WIRE_MAX_SYMSIZE };

	if (sl_wire_tx_new(c->key, c->suite, (uint16_t)c->len, &c->tx, NULL) ||
	    sl_wire_rx_new(&rc, &c->rx, NULL))
		bench_die("sl_wire_tx_new/sl_wire_rx_new failed");
	if (wire_seal(c))
		bench_die("sl_wire_seal failed");
	memcpy(c->sealed, c->dg, sl_wire_dgram_size((uint16_t)c->len));
}

static void wire_aes_setup(struct ctx *c) { c->suite = SL_SUITE_AES256GCM; wire_setup(c); }
static void wire_xchacha_setup(struct ctx *c) { c->suite = SL_SUITE_XCHACHA; wire_setup(c); }

static const struct impl impls[] = {
	{ "AES-256-GCM EVP", always, evp_aes_setup, evp_seal, evp_open },
	{ "AES-256-GCM sodium", sodium_aes_avail, sodium_aes_setup, sodium_aes_seal, sodium_aes_open },
	{ "XChaCha20-P1305 sodium", always, xchacha_setup, xchacha_seal, xchacha_open },
	{ "ChaCha20-P1305 EVP", always, evp_chacha_setup, evp_seal, evp_open },
	{ "sl_wire aes256gcm", sodium_aes_avail, wire_aes_setup, wire_seal, wire_open },
	{ "sl_wire xchacha", always, wire_xchacha_setup, wire_seal, wire_open },
};

/* GB/s of body per CPU-second: best of 3 runs of `secs` each. */
static double rate(int (*fn)(struct ctx *), struct ctx *c, double secs)
{
	double best = 0;

	for (int run = 0; run < 3; run++) {
		double t0 = bench_thread_cpu(), t;
		uint64_t n = 0;
		do {
			for (int i = 0; i < 64; i++)
				if (fn(c))
					bench_die("a seal or open failed");
			n += 64;
			t = bench_thread_cpu() - t0;
		} while (t < secs);
		if ((double)n * (double)c->len / t / 1e9 > best)
			best = (double)n * (double)c->len / t / 1e9;
	}
	return best;
}

static void ctx_init(struct ctx *c, size_t len)
{
	memset(c, 0, sizeof *c);
	c->len = len;
	randombytes_buf(c->key, sizeof c->key);
	randombytes_buf(c->hdr, sizeof c->hdr);
	c->pt = bench_xmalloc(len);
	c->ct = bench_xmalloc(len);
	c->out = bench_xmalloc(len);
	c->dg = bench_xmalloc(sl_wire_dgram_size(SL_WIRE_MAX_SYMSIZE));
	c->sealed = bench_xmalloc(sl_wire_dgram_size(SL_WIRE_MAX_SYMSIZE));
	randombytes_buf(c->pt, len);
}

static void ctx_fini(struct ctx *c)
{
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	sl_wire_tx_free(c->tx);
	sl_wire_rx_free(c->rx);
	free(c->pt);
	free(c->ct);
	free(c->out);
	free(c->dg);
	free(c->sealed);
}

/* EVP and libsodium AES-256-GCM must agree byte for byte (same key, nonce, AAD). */
static void cross_check(size_t len)
{
	struct ctx a, b;

	if (!crypto_aead_aes256gcm_is_available())
		return;
	ctx_init(&a, len);
	ctx_init(&b, len);
	memcpy(b.key, a.key, sizeof a.key);
	memcpy(b.hdr, a.hdr, sizeof a.hdr);
	memcpy(b.pt, a.pt, len);
	evp_aes_setup(&a);
	sodium_aes_setup(&b);
	if (memcmp(a.ct, b.ct, len) || evp_seal(&a) || sodium_aes_seal(&b) ||
	    memcmp(a.out, b.out, len) || memcmp(a.tag, b.tag, TAG))
		bench_die("EVP and libsodium AES-256-GCM disagree");
	ctx_fini(&a);
	ctx_fini(&b);
}

/* A receiver meeting a new session with every datagram: microseconds per
 * datagram for key derivation, keying and opening (the cache thrashes). */
static double miss_us(enum sl_suite suite, size_t len, double secs)
{
	struct ctx c[MISS_SESSIONS];
	struct sl_wire_rx *rx;
	struct sl_wire_rx_cfg rc = { .max_symsize = SL_WIRE_MAX_SYMSIZE };
	size_t n = sl_wire_dgram_size((uint16_t)len);
	uint64_t calls = 0;
	double t0, t;

	for (int i = 0; i < MISS_SESSIONS; i++) {
		ctx_init(&c[i], len);
		memcpy(c[i].key, c[0].key, sizeof c[0].key);
		c[i].suite = suite;
		wire_setup(&c[i]);
	}
	rc.link_key = c[0].key;
	if (sl_wire_rx_new(&rc, &rx, NULL))
		bench_die("sl_wire_rx_new failed");
	t0 = bench_thread_cpu();
	do {
		for (int i = 0; i < MISS_SESSIONS; i++) {
			struct sl_wire_hdr h;
			const uint8_t *body;
			memcpy(c[0].dg, c[i].sealed, n);
			if (sl_wire_open(rx, c[0].dg, n, &h, &body))
				bench_die("open of a new session failed");
		}
		calls += MISS_SESSIONS;
		t = bench_thread_cpu() - t0;
	} while (t < secs);
	sl_wire_rx_free(rx);
	for (int i = 0; i < MISS_SESSIONS; i++)
		ctx_fini(&c[i]);
	return t / (double)calls * 1e6;
}

static void print_header(double secs)
{
	static const char *const flags[] = { "aes", "pclmulqdq", "avx2", "vaes", "vpclmulqdq", "avx512f" };
	char line[8192], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	char have[6] = { 0 };

	while (f && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':'))
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = ' '; /* so the last flag ends in a space too */
		for (int i = 0; i < 6; i++) {
			char w[32];
			snprintf(w, sizeof w, " %s ", flags[i]);
			if (strstr(line, w))
				have[i] = 1;
		}
	}
	if (f)
		fclose(f);
	model[strcspn(model, "\n")] = '\0';
	printf("sluice AEAD per datagram, one core; %s\n", model);
	printf("cpu flags:");
	for (int i = 0; i < 6; i++)
		printf(" %s=%s", flags[i], have[i] ? "yes" : "no");
	printf("\n%s, libsodium %s; GB/s of body per CPU-second, best of 3 x %.2f s\n",
	       OpenSSL_version(OPENSSL_VERSION), sodium_version_string(), secs);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1396, 8192 };
	double secs = argc > 1 ? atof(argv[1]) : 0.3;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: bench_aead [SECONDS]   (CPU seconds per cell, default 0.3)\n");
		return 0;
	}
	if (!(secs > 0 && secs <= 10))
		bench_die("SECONDS must be a number in (0, 10]");
	if (sl_crypto_init())
		bench_die("libsodium or OpenSSL failed to initialise");
	print_header(secs);
	printf("%-24s %6s | %8s %8s\n", "suite", "bytes", "seal", "open");
	for (size_t s = 0; s < 2; s++) {
		cross_check(sizes[s]);
		for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
			struct ctx c;
			double se, op;
			if (!impls[i].avail()) {
				printf("%-24s %6zu | %8s %8s\n", impls[i].name, sizes[s], "n/a", "n/a");
				continue;
			}
			ctx_init(&c, sizes[s]);
			impls[i].setup(&c);
			se = rate(impls[i].seal, &c, secs);
			op = rate(impls[i].open, &c, secs);
			printf("%-24s %6zu | %8.2f %8.2f\n", impls[i].name, sizes[s], se, op);
			ctx_fini(&c);
		}
	}
	printf("\nrx, a new session with every datagram (%d sessions, key cache thrashing), us per datagram:\n",
	       MISS_SESSIONS);
	for (size_t s = 0; s < 2; s++) {
		if (crypto_aead_aes256gcm_is_available())
			printf("  aes256gcm %5zu B: %6.2f\n", sizes[s], miss_us(SL_SUITE_AES256GCM, sizes[s], secs));
		printf("  xchacha   %5zu B: %6.2f\n", sizes[s], miss_us(SL_SUITE_XCHACHA, sizes[s], secs));
	}
	return 0;
}
