/* Unit tests for minisign keys and signatures (common/trust/minisign.c) and the
 * policy's signature counting (sl_policy_verify_signatures). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "minisign.h"
#include "policy.h"

static const uint8_t msg[] = "sluice-manifest 1\nthe text officers approve\n";

static char *sign(const struct sl_ms_seckey *sk, const uint8_t *m, size_t len, const char *tc)
{
	char *t;
	size_t tl;
	cr_assert_eq(sl_ms_sign(sk, m, len, "test", tc, &t, &tl, NULL), SL_OK);
	cr_assert_eq(strlen(t), tl);
	return t;
}

/* A legacy "Ed" signature (signs the message itself), as `minisign -l` makes. */
static char *sign_legacy(const struct sl_ms_seckey *sk, const uint8_t *m, size_t len, const char *tc)
{
	uint8_t raw[74], g[64 + 256], global[64];
	char b1[120], b2[100], *t;
	size_t tl = strlen(tc);
	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, sk->keyid, 8);
	crypto_sign_detached(raw + 10, NULL, m, len, sk->sk);
	memcpy(g, raw + 10, 64);
	memcpy(g + 64, tc, tl);
	crypto_sign_detached(global, NULL, g, 64 + tl, sk->sk);
	sodium_bin2base64(b1, sizeof b1, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b2, sizeof b2, global, sizeof global, sodium_base64_VARIANT_ORIGINAL);
	cr_assert(asprintf(&t, "untrusted comment: legacy\n%s\ntrusted comment: %s\n%s\n", b1, tc, b2) > 0);
	return t;
}

/* A fresh key pair: the public half in *pk. */
static struct sl_ms_seckey *keygen(struct sl_ms_pubkey *pk)
{
	struct sl_ms_seckey *sk;
	cr_assert_eq(sl_ms_keygen(pk, &sk), SL_OK);
	return sk;
}

/* Signature text t parsed (it must parse). */
static struct sl_ms_sig *parsed(const char *t)
{
	struct sl_ms_sig *s;
	struct sl_diag d;
	cr_assert_eq(sl_ms_sig_parse((const uint8_t *)t, strlen(t), &s, &d), SL_OK, "%s", d.msg);
	return s;
}

/* The key pair the minisign tests sign with, made before each test (this
 * initialises libsodium too). */
static struct {
	struct sl_ms_pubkey pk;
	struct sl_ms_seckey *sk;
} key;

static void key_up(void)
{
	key.sk = keygen(&key.pk);
}

static void key_down(void)
{
	sl_ms_seckey_free(key.sk);
}

TestSuite(minisign, .init = key_up, .fini = key_down);

Test(minisign, sign_and_verify)
{
	struct sl_diag d;
	char *t = sign(key.sk, msg, sizeof msg - 1, "timestamp:1\tfile:manifest\thashed");
	struct sl_ms_sig *s = parsed(t);
	cr_assert(!s->legacy);
	cr_assert_str_eq(s->trusted_comment, "timestamp:1\tfile:manifest\thashed");
	cr_assert_eq(sl_ms_sig_verify(s, &key.pk, msg, sizeof msg - 1, &d), SL_OK, "%s", d.msg);
	/* one byte of the manifest changed */
	uint8_t bad[sizeof msg];
	memcpy(bad, msg, sizeof msg);
	bad[5] ^= 1;
	cr_assert_eq(sl_ms_sig_verify(s, &key.pk, bad, sizeof msg - 1, &d), SL_ERR_SIG);
	cr_assert(strstr(d.msg, "does not match the manifest"), "%s", d.msg);
	/* the trusted comment changed */
	s->trusted_comment[0] = 'T';
	cr_assert_eq(sl_ms_sig_verify(s, &key.pk, msg, sizeof msg - 1, &d), SL_ERR_SIG);
	cr_assert(strstr(d.msg, "trusted comment altered"), "%s", d.msg);
	sl_ms_sig_free(s);
	/* another key */
	struct sl_ms_pubkey pk2;
	struct sl_ms_seckey *sk2 = keygen(&pk2);
	s = parsed(t);
	cr_assert_eq(sl_ms_sig_verify(s, &pk2, msg, sizeof msg - 1, &d), SL_ERR_NOTFOUND);
	memcpy(pk2.keyid, key.pk.keyid, 8); /* same id, other key */
	cr_assert_eq(sl_ms_sig_verify(s, &pk2, msg, sizeof msg - 1, &d), SL_ERR_SIG);
	sl_ms_sig_free(s);
	free(t);
	sl_ms_seckey_free(sk2);
}

Test(minisign, legacy_is_parsed_but_refused)
{
	struct sl_diag d;
	char *t = sign_legacy(key.sk, msg, sizeof msg - 1, "timestamp:1");
	struct sl_ms_sig *s = parsed(t);
	cr_assert(s->legacy);
	cr_assert_eq(sl_ms_sig_verify(s, &key.pk, msg, sizeof msg - 1, &d), SL_ERR_UNSUPPORTED);
	cr_assert(strstr(d.msg, "legacy"), "%s", d.msg);
	sl_ms_sig_free(s);
	free(t);
}

Test(minisign, malformed_signature_files)
{
	struct sl_ms_sig *s;
	struct sl_diag d;
	static const char *const bad[] = {
		"",
		"untrusted comment: x\n",
		"untrusted comment: x\nAAAA\ntrusted comment: y\nAAAA\n",
		"comment: x\nRUQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_neq(sl_ms_sig_parse((const uint8_t *)bad[i], strlen(bad[i]), &s, &d), SL_OK, "case %zu", i);
}

Test(minisign, public_key_formats)
{
	struct sl_ms_pubkey pk2;
	char text[256], b64[SL_MS_PK_B64], comment[64], kid[17];
	struct sl_diag d;
	cr_assert_gt(sl_ms_pubkey_format(&key.pk, "minisign public key X", text, sizeof text), 0);
	cr_assert_eq(sl_ms_pubkey_parse((uint8_t *)text, strlen(text), &pk2, comment, sizeof comment, &d), SL_OK);
	cr_assert(!memcmp(&key.pk, &pk2, sizeof key.pk));
	cr_assert_str_eq(comment, "minisign public key X");
	sl_ms_pubkey_base64(&key.pk, b64);
	cr_assert_eq(strlen(b64), 56);
	cr_assert_eq(sl_ms_pubkey_from_base64(b64, 56, &pk2, &d), SL_OK);
	cr_assert(!memcmp(&key.pk, &pk2, sizeof key.pk));
	b64[55] = '!';
	cr_assert_eq(sl_ms_pubkey_from_base64(b64, 56, &pk2, &d), SL_ERR_PARSE);
	/* key id as minisign prints it: little-endian, uppercase */
	uint8_t id[8] = { 0x45, 0xB8, 0x70, 0x88, 0x0B, 0x26, 0x05, 0x89 };
	sl_ms_keyid_hex(id, kid);
	cr_assert_str_eq(kid, "8905260B8870B845");
	/* a known minisign public key (made by minisign 0.11) */
	const char *real = "untrusted comment: minisign public key 8905260B8870B845\n"
			   "RWRFuHCICyYFiXNSuXdQzsldbj7Z87z/ohXlluJER9Uie5g7rK2mccr2\n";
	cr_assert_eq(sl_ms_pubkey_parse((const uint8_t *)real, strlen(real), &pk2, NULL, 0, &d), SL_OK, "%s", d.msg);
	cr_assert(!memcmp(pk2.keyid, id, 8));
}

Test(minisign, secret_key_round_trip)
{
	struct sl_ms_pubkey pk2;
	struct sl_ms_seckey *sk2;
	char *text;
	size_t len;
	struct sl_diag d;
	const uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN, mem = 16u << 20;
	cr_assert_not_null(text = sodium_malloc(1024));
	/* encrypted, cheap scrypt for the test */
	cr_assert_eq(sl_ms_seckey_format(key.sk, "pw", ops, mem, "c", text, 1024, &len, &d), SL_OK, "%s", d.msg);
	cr_assert(sl_ms_seckey_encrypted((uint8_t *)text, len));
	cr_assert_eq(sl_ms_seckey_parse((uint8_t *)text, len, NULL, &sk2, &d), SL_ERR_AUTH);
	cr_assert_eq(sl_ms_seckey_parse((uint8_t *)text, len, "wrong", &sk2, &d), SL_ERR_AUTH);
	cr_assert(strstr(d.msg, "wrong passphrase"), "%s", d.msg);
	cr_assert_eq(sl_ms_seckey_parse((uint8_t *)text, len, "pw", &sk2, &d), SL_OK, "%s", d.msg);
	cr_assert(!memcmp(key.sk->sk, sk2->sk, 64));
	sl_ms_seckey_pubkey(sk2, &pk2);
	cr_assert(!memcmp(&key.pk, &pk2, sizeof key.pk));
	sl_ms_seckey_free(sk2);
	/* unencrypted */
	cr_assert_eq(sl_ms_seckey_format(key.sk, NULL, 0, 0, "c", text, 1024, &len, &d), SL_OK);
	cr_assert(!sl_ms_seckey_encrypted((uint8_t *)text, len));
	cr_assert_eq(sl_ms_seckey_parse((uint8_t *)text, len, NULL, &sk2, &d), SL_OK, "%s", d.msg);
	cr_assert(!memcmp(key.sk->sk, sk2->sk, 64));
	/* a flipped bit in the key is caught by the checksum */
	text[len - 10] = text[len - 10] == 'A' ? 'B' : 'A';
	sl_ms_seckey_free(sk2);
	cr_assert_eq(sl_ms_seckey_parse((uint8_t *)text, len, NULL, &sk2, &d), SL_ERR_AUTH);
	sodium_free(text);
}

/* ---- counting signatures under a policy ------------------------------------ */
/* ---- counting signatures under a policy ------------------------------------ */

/* Policy e1/l1, 2 of the officers alice, bob and dave; submitter carol; and
 * a key the policy does not list. Made before each test, freed after it. */
static struct world {
	struct sl_policy *p;
	struct sl_ms_seckey *officer[3], *submitter, *stranger;
} w;

static void world_init(void)
{
	static const char *const names[] = { "alice", "bob", "dave" };
	struct sl_ms_pubkey pk;
	cr_assert_eq(sl_policy_new(&w.p), SL_OK);
	snprintf(w.p->enclave, sizeof w.p->enclave, "e1");
	snprintf(w.p->link, sizeof w.p->link, "l1");
	w.p->threshold = 2;
	for (int i = 0; i < 3; i++) {
		w.officer[i] = keygen(&pk);
		cr_assert_eq(sl_policy_add_key(w.p, true, names[i], &pk, NULL), SL_OK);
	}
	w.submitter = keygen(&pk);
	cr_assert_eq(sl_policy_add_key(w.p, false, "carol", &pk, NULL), SL_OK);
	w.stranger = keygen(&pk);
	cr_assert_eq(sl_policy_validate(w.p, NULL), SL_OK);
}

static void world_free(void)
{
	for (int i = 0; i < 3; i++)
		sl_ms_seckey_free(w.officer[i]);
	sl_ms_seckey_free(w.submitter);
	sl_ms_seckey_free(w.stranger);
	sl_policy_free(w.p);
}


/* Signature files as a transfer directory holds them: text[i] named name[i]. */
#define SIGS_MAX 40
struct sigs {
	size_t n;
	char *text[SIGS_MAX];
	const char *name[SIGS_MAX];
};

static void sigs_put(struct sigs *s, char *text, const char *name)
{
	cr_assert_lt(s->n, SIGS_MAX);
	s->text[s->n] = text;
	s->name[s->n++] = name;
}

/* One signature of msg for each letter of `who`, its trusted comment the
 * letter: a(lice), b(ob), d(ave) the officers, c(arol) the submitter, x a
 * key the policy does not list (named mallory); manifest.NAME.minisig. */
static void sigs_of(struct sigs *s, const char *who)
{
	static const char *const people = "abdcx";
	static const char *const names[] = { "manifest.alice.minisig", "manifest.bob.minisig",
					     "manifest.dave.minisig", "manifest.carol.minisig",
					     "manifest.mallory.minisig" };
	const struct sl_ms_seckey *keys[] = { w.officer[0], w.officer[1], w.officer[2], w.submitter,
					      w.stranger };
	for (; *who; who++) {
		const char *p = strchr(people, *who);
		char tc[2] = { *who, '\0' };
		cr_assert(p, "no signer '%c'", *who);
		sigs_put(s, sign(keys[p - people], msg, sizeof msg - 1, tc), names[p - people]);
	}
}

static void sigs_free(struct sigs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->text[i]);
}

/* The first n of s as sl_sigfile entries (freed by the caller). */
static struct sl_sigfile *sigfiles(const struct sigs *s, size_t n)
{
	struct sl_sigfile *f = calloc(n ? n : 1, sizeof *f);
	cr_assert(f && n <= s->n);
	for (size_t i = 0; i < n; i++) {
		f[i].name = s->name[i];
		f[i].data = (const uint8_t *)s->text[i];
		f[i].len = strlen(s->text[i]);
	}
	return f;
}

/* What a test signs and what the check says, freed after each test. */
static struct sigs sigset;
static struct sl_sig_result result;
static struct sl_diag diag;

static void suite_up(void)
{
	world_init();
	memset(&sigset, 0, sizeof sigset);
	memset(&result, 0, sizeof result);
}

static void suite_down(void)
{
	sl_sig_result_clear(&result);
	sigs_free(&sigset);
	world_free();
}

TestSuite(threshold, .init = suite_up, .fini = suite_down);
TestSuite(release, .init = suite_up, .fini = suite_down);

/* The first n of s checked under the policy for a manifest naming carol
 * (res: result or NULL; the reason in diag). */
static int check(const struct sigs *s, size_t n, struct sl_sig_result *res)
{
	struct sl_sigfile *f = sigfiles(s, n);
	int r = sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", f, n, res, &diag);
	free(f);
	return r;
}

Test(threshold, two_of_three_accepted)
{
	sigs_of(&sigset, "adc");
	cr_assert_eq(check(&sigset, 3, &result), SL_OK, "%s", diag.msg);
	cr_assert_eq(result.officers_valid, 2);
	cr_assert(result.submitter_ok);
	cr_assert_eq(result.checks[0].status, SL_SIG_OFFICER);
	cr_assert_eq(result.checks[1].key_index, 2);
	cr_assert_eq(result.checks[2].status, SL_SIG_SUBMITTER);
}

/* res may be NULL: the verdict alone, nothing kept (the ASan build's leak
 * check failed here before: the per-signature checks were never freed). */
Test(threshold, without_a_result)
{
	sigs_of(&sigset, "adc");
	cr_assert_eq(check(&sigset, 3, NULL), SL_OK, "%s", diag.msg);
	cr_assert_eq(check(&sigset, 1, NULL), SL_ERR_THRESHOLD);
}

Test(threshold, one_of_three_refused)
{
	sigs_of(&sigset, "bc");
	cr_assert_eq(check(&sigset, 2, &result), SL_ERR_THRESHOLD);
	cr_assert(strstr(diag.msg, "1 of the 2"), "%s", diag.msg);
}

Test(threshold, same_officer_twice_counts_once)
{
	sigs_put(&sigset, sign(w.officer[0], msg, sizeof msg - 1, "first"), "manifest.alice.minisig");
	sigs_put(&sigset, sign(w.officer[0], msg, sizeof msg - 1, "second"), "manifest.alice2.minisig");
	sigs_of(&sigset, "c");
	cr_assert_eq(check(&sigset, 3, &result), SL_ERR_THRESHOLD, "%s", diag.msg);
	cr_assert_eq(result.officers_valid, 1);
	cr_assert_eq(result.checks[1].status, SL_SIG_DUPLICATE);
}

Test(threshold, unknown_key_not_counted)
{
	sigs_of(&sigset, "axc");
	cr_assert_eq(check(&sigset, 3, &result), SL_ERR_THRESHOLD, "%s", diag.msg);
	cr_assert_eq(result.checks[1].status, SL_SIG_UNKNOWN_KEY);
}

Test(threshold, tampered_manifest_or_comment_refused)
{
	uint8_t other[sizeof msg];
	memcpy(other, msg, sizeof msg);
	other[0] = 'S';
	sigs_of(&sigset, "a");
	sigs_put(&sigset, sign(w.officer[1], other, sizeof msg - 1, "b"), "manifest.bob.minisig");
	sigs_of(&sigset, "dc");
	/* bob signed a different manifest: refused although alice and dave suffice */
	cr_assert_eq(check(&sigset, 4, &result), SL_ERR_SIG, "%s", diag.msg);
	cr_assert_eq(result.checks[1].status, SL_SIG_BAD);
	cr_assert(strstr(diag.msg, "manifest.bob.minisig"), "%s", diag.msg);
	sl_sig_result_clear(&result);
	/* dave's trusted comment edited after signing */
	char *tc = strstr(sigset.text[2], "trusted comment: d");
	tc[strlen("trusted comment: ")] = 'D';
	struct sigs s2 = { 3, { sigset.text[0], sigset.text[2], sigset.text[3] },
			   { sigset.name[0], sigset.name[2], sigset.name[3] } };
	cr_assert_eq(check(&s2, 3, &result), SL_ERR_SIG, "%s", diag.msg);
	cr_assert(strstr(result.checks[1].detail, "trusted comment altered"), "%s", result.checks[1].detail);
}

Test(threshold, legacy_refused)
{
	sigs_of(&sigset, "a");
	sigs_put(&sigset, sign_legacy(w.officer[1], msg, sizeof msg - 1, "b"), "manifest.bob.minisig");
	sigs_of(&sigset, "dc");
	cr_assert_eq(check(&sigset, 4, &result), SL_ERR_SIG);
	cr_assert_eq(result.checks[1].status, SL_SIG_LEGACY);
	cr_assert(strstr(diag.msg, "legacy"), "%s", diag.msg);
}

Test(threshold, submitter_signature_required_and_not_counted)
{
	sigs_of(&sigset, "abc");
	cr_assert_eq(check(&sigset, 2, &result), SL_ERR_POLICY);
	cr_assert(strstr(diag.msg, "submitter carol"), "%s", diag.msg);
	sl_sig_result_clear(&result);
	/* one officer plus the submitter is not two officers */
	struct sigs s2 = { 2, { sigset.text[0], sigset.text[2] }, { sigset.name[0], sigset.name[2] } };
	cr_assert_eq(check(&s2, 2, &result), SL_ERR_THRESHOLD);
}

Test(threshold, unsafe_signature_names_refused)
{
	cr_assert(sl_sigfile_name_ok("manifest.alice.minisig"));
	cr_assert(sl_sigfile_name_ok("alice.minisig"));
	cr_assert(!sl_sigfile_name_ok(".minisig"));
	cr_assert(!sl_sigfile_name_ok("../x.minisig"));
	cr_assert(!sl_sigfile_name_ok("a/b.minisig"));
	cr_assert(!sl_sigfile_name_ok("-x.minisig"));
	cr_assert(!sl_sigfile_name_ok("a b.minisig"));
	cr_assert(!sl_sigfile_name_ok("manifest.alice.sig"));
	cr_assert(!sl_sigfile_name_ok("manifest"));
}

/* ---- which signature files a receiver releases ------------------------------ */

Test(release, only_verified_signatures_of_listed_keys)
{
	struct sl_ms_seckey *erin;
	struct sl_ms_pubkey pk;
	char text[600];
	cr_assert_eq(sl_ms_keygen(&pk, &erin), SL_OK);
	cr_assert_eq(sl_policy_add_key(w.p, false, "erin", &pk, NULL), SL_OK);
	sigs_of(&sigset, "a");
	sigs_put(&sigset, sign(w.officer[0], msg, sizeof msg - 1, "a again"), "manifest.alice2.minisig");
	sigs_put(&sigset, sign(w.stranger, msg, sizeof msg - 1, "x\033]0;owned\007\033[2J"), "manifest.mallory.minisig");
	sigs_of(&sigset, "dc");
	sigs_put(&sigset, sign(erin, msg, sizeof msg - 1, "e"), "manifest.erin.minisig");
	const bool want[] = { true, false, false, true, true, false };
	struct sl_sigfile *f = sigfiles(&sigset, 6);

	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", f, 6, &result, &diag), SL_OK, "%s", diag.msg);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(result.checks[i].release, want[i], "%s: release %d", sigset.name[i], result.checks[i].release);
	cr_assert_eq(sl_sig_dropped_text(&result, f, text, sizeof text), 3);
	cr_assert(!strncmp(text, "manifest.alice2.minisig (officer alice signed more than once: counted once), "
				 "manifest.mallory.minisig (key ", 107), "%s", text);
	cr_assert(strstr(text, "manifest.mallory.minisig (key ") && strstr(text, " is not in the policy)"), "%s", text);
	cr_assert(strstr(text, "manifest.erin.minisig (submitter erin, but the manifest names submitter carol)"),
		  "%s", text);
	cr_assert(!strstr(text, "manifest.alice.minisig") && !strstr(text, "dave") && !strstr(text, "carol.minisig"),
		  "%s", text);
	sl_sig_result_clear(&result);
	/* no manifest submitter named: any listed submitter's signature is kept */
	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, NULL, f, 6, &result, &diag), SL_OK, "%s", diag.msg);
	cr_assert(result.checks[4].release && result.checks[5].release);
	cr_assert_eq(sl_sig_dropped_text(&result, f, text, sizeof text), 2);
	sl_sig_result_clear(&result);
	/* everything released: an empty text */
	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", (struct sl_sigfile[]){ f[0], f[3], f[4] },
						 3, &result, &diag), SL_OK, "%s", diag.msg);
	cr_assert_eq(sl_sig_dropped_text(&result, f, text, sizeof text), 0);
	cr_assert_str_eq(text, "");
	free(f);
	sl_ms_seckey_free(erin);
}

Test(release, bad_signature_is_not_released)
{
	char text[300];
	sigs_of(&sigset, "abdc");
	struct sl_sigfile *f = sigfiles(&sigset, 4);
	strstr(sigset.text[1], "trusted comment: b")[strlen("trusted comment: ")] = 'B';
	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", f, 4, &result, &diag), SL_ERR_SIG);
	cr_assert(!result.checks[1].release);
	cr_assert_eq(sl_sig_dropped_text(&result, f, text, sizeof text), 1);
	cr_assert(strstr(text, "manifest.bob.minisig (officer bob: global signature does not match"), "%s", text);
	free(f);
}

/* The text stays within its buffer, counts what does not fit and never
 * carries a file's bytes or an unsafe name as it is. */
Test(release, dropped_text_is_bounded_and_printable)
{
	char names[40][64], text[256];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "manifest.signer-number-%02d.minisig", i);
		sigs_put(&sigset, sign(i < 2 ? w.officer[i] : i == 2 ? w.submitter : w.stranger, msg, sizeof msg - 1,
				  "\033[31mred\033[0m"), names[i]);
	}
	sigset.name[39] = "x\033[2J/../y.minisig";
	struct sl_sigfile *f = sigfiles(&sigset, 40);
	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", f, 40, &result, &diag), SL_ERR_SIG);
	cr_assert_eq(result.checks[39].status, SL_SIG_MALFORMED);
	cr_assert_eq(sl_sig_dropped_text(&result, f, text, sizeof text), 37);
	cr_assert_lt(strlen(text), sizeof text);
	cr_assert(strstr(text, ", and ") && strstr(text, " more"), "%s", text);
	for (const char *p = text; *p; p++)
		cr_assert(*p >= 0x20 && *p < 0x7f, "byte 0x%02x in '%s'", (unsigned char)*p, text);
	sl_sig_result_clear(&result);
	/* the unsafe name alone: percent-encoded */
	cr_assert_eq(sl_policy_verify_signatures(w.p, msg, sizeof msg - 1, "carol", f + 39, 1, &result, &diag), SL_ERR_SIG);
	cr_assert_eq(sl_sig_dropped_text(&result, f + 39, text, sizeof text), 1);
	cr_assert(strstr(text, "x%1B%5B2J%2F..%2Fy.minisig (file name is not a safe NAME.minisig)"), "%s", text);
	free(f);
}
