/* Unit tests for the trust policy: format, and the manifest checks
 * (binding, validity window, limits, name rules), each with its reason. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "policy.h"

#define K1 "RWSxPrtda5l2qpVcicXR5SIO2/NMhYjkiCTU8BcVvHla8Xhqu5BD+OAm"
#define K2 "RWR6iahdDXmD1Kq0ET+Vp+lNLinvlHT8iOZP+YxvieZ5A3KeEur02cz3"
#define K3 "RWTkzY5p1ZKfVdSE5Rd9VpYSq2FckUYFFfV7U8VoLir70pFkB1w4lrk/"

static int parse(const char *t, struct sl_policy **p, struct sl_diag *d)
{
	return sl_policy_parse((const uint8_t *)t, strlen(t), p, d);
}

Test(policy, parse_emit_round_trip)
{
	const char *t = "# a comment\n\nsluice-policy 1\nenclave train-a\nlink diode-1\nthreshold 2\n"
			"officer alice " K1 "\nofficer bob " K2 "\nsubmitter carol " K3 "\n"
			"max-files 1000\nmax-bytes 10G\nmax-validity 14d\nclock-skew 60\nsequence-window 5\n"
			"names portable\ncase-collisions refuse\n";
	struct sl_policy *p, *p2;
	struct sl_diag d;
	char *out;
	size_t len;
	cr_assert_eq(parse(t, &p, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq(p->enclave, "train-a");
	cr_assert_eq(p->threshold, 2);
	cr_assert_eq(p->nofficers, 2);
	cr_assert_eq(p->nsubmitters, 1);
	cr_assert_str_eq(p->submitters[0].name, "carol");
	cr_assert_eq(p->limits.max_files, 1000);
	cr_assert_eq(p->limits.max_total_bytes, 10ull << 30);
	cr_assert_eq(p->max_validity, 14 * 86400);
	cr_assert_eq(p->clock_skew, 60);
	cr_assert_eq(p->sequence.window, 5);
	cr_assert(p->portable_names);
	cr_assert(p->refuse_case_collisions);
	cr_assert_eq(sl_policy_emit(p, &out, &len, &d), SL_OK);
	cr_assert_eq(sl_policy_parse((uint8_t *)out, len, &p2, &d), SL_OK, "%s\n%s", d.msg, out);
	cr_assert(!memcmp(&p->officers[1].key, &p2->officers[1].key, sizeof p->officers[1].key));
	cr_assert_eq(p2->limits.max_total_bytes, p->limits.max_total_bytes);
	cr_assert_eq(p2->sequence.window, 5);
	cr_assert_eq(p->sequence.max_step, SL_POLICY_DEFAULT_MAX_STEP, "a missing sequence-max-step is the default");
	cr_assert_eq(p2->sequence.max_step, SL_POLICY_DEFAULT_MAX_STEP);
	cr_assert(strstr(out, "\nsequence-max-step 1000000\n"), "%s", out);
	free(out);
	sl_policy_free(p);
	sl_policy_free(p2);
}

struct bad_policy {
	const char *text;
	const char *reason;
};

Test(policy, refuses_bad_policies)
{
#define HDR "sluice-policy 1\nenclave e\nlink l\n"
	static const struct bad_policy bad[] = {
		{ HDR "threshold 1\nofficer a " K1 "\nofficer b " K1 "\n", "same public key" },
		{ HDR "threshold 1\nofficer a " K1 "\nofficer a " K2 "\n", "appears twice" },
		{ HDR "threshold 1\nofficer a " K1 "\nsubmitter b " K1 "\n", "same public key" },
		{ HDR "threshold 3\nofficer a " K1 "\nofficer b " K2 "\n", "threshold 3" },
		{ HDR "threshold 0\nofficer a " K1 "\n", "threshold must be" },
		{ HDR "threshold 1\n", "no officer keys" },
		{ HDR "threshold 1\nofficer a " K1 "\nfrobnicate yes\n", "unknown setting" },
		{ HDR "threshold 1\nthreshold 1\nofficer a " K1 "\n", "set twice" },
		{ HDR "officer a " K1 "\n", "lacks 'threshold'" },
		{ "sluice-policy 1\nlink l\nthreshold 1\nofficer a " K1 "\n", "lacks 'enclave'" },
		{ HDR "threshold 1\nofficer a RWSxPrtda5l2qpVcicXR5SIO2\n", "56 characters" },
		{ HDR "threshold 1\nofficer a " K1 "\nnames weird\n", "'any' or 'portable'" },
		{ HDR "threshold 1\r\nofficer a " K1 "\n", "byte 0x0D" },
		{ HDR "threshold 1\nofficer  a " K1 "\n", "stray space" },
		{ "sluice-policy 2\n", "expected 'sluice-policy 1'" },
		{ HDR "threshold 1\nofficer a " K1, "no line feed" },
		{ HDR "threshold 1\nofficer a " K1 "\nsequence-max-step 0\n", "sequence-max-step must be a number from 1" },
		{ HDR "threshold 1\nofficer a " K1 "\nsequence-max-step 9223372036854775808\n", "to 9223372036854775807" },
		{ HDR "threshold 1\nofficer a " K1 "\nsequence-max-step -1\n", "sequence-max-step must be" },
		{ HDR "threshold 1\nofficer a " K1 "\nsequence-max-step 5\nsequence-max-step 6\n", "set twice" },
		{ HDR "threshold 1\nofficer a " K1 "\nmax-files 18446744073709551616\n", "max-files is not a decimal" },
		{ HDR "threshold 1\nofficer a " K1 "\nmax-files -1\n", "max-files is not a decimal" },
		{ HDR "threshold 1\nofficer a " K1 "\nmax-files 0100\n", "max-files is not a decimal" },
		{ HDR "threshold 1\nofficer a " K1 "\nmax-files +100\n", "max-files is not a decimal" },
		{ HDR "threshold 01\nofficer a " K1 "\n", "threshold must be" },
		{ HDR "threshold 1\nofficer a " K1 "\nsequence-window 00\n", "sequence-window" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sl_policy *p = NULL;
		struct sl_diag d = { "" };
		cr_assert_neq(parse(bad[i].text, &p, &d), SL_OK, "case %zu accepted", i);
		cr_assert(strstr(d.msg, bad[i].reason), "case %zu: '%s' lacks '%s'", i, d.msg, bad[i].reason);
		cr_assert_null(p);
	}
}

Test(policy, sequence_max_step)
{
	const char *t = HDR "threshold 1\nofficer a " K1 "\nsequence-max-step 9223372036854775807\n";
	struct sl_policy *p, *p2;
	struct sl_diag d;
	char *out;
	size_t len;
	cr_assert_eq(parse(t, &p, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(p->sequence.max_step, 9223372036854775807ull);
	p->sequence.max_step = 42;
	cr_assert_eq(sl_policy_emit(p, &out, &len, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_policy_parse((uint8_t *)out, len, &p2, &d), SL_OK, "%s\n%s", d.msg, out);
	cr_assert_eq(p2->sequence.max_step, 42);
	free(out);
	sl_policy_free(p2);
	/* emit never writes what the parser would refuse */
	p->sequence.max_step = 0;
	cr_assert_eq(sl_policy_emit(p, &out, &len, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "sequence-max-step"), "%s", d.msg);
	p->sequence.max_step = 1;
	p->sequence.window = 1000001;
	cr_assert_eq(sl_policy_emit(p, &out, &len, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "sequence-window"), "%s", d.msg);
	sl_policy_free(p);
}

/* Whatever number emit writes for max-files reads back, up to 2^64-1. */
Test(policy, max_files_reads_back_at_any_value)
{
	static const uint64_t v[] = { 1, 18446744073709551609ull, 18446744073709551610ull, 18446744073709551615ull };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sl_policy *p, *p2;
		struct sl_diag d;
		char *out;
		size_t len;
		cr_assert_eq(parse(HDR "threshold 1\nofficer a " K1 "\n", &p, &d), SL_OK, "%s", d.msg);
		p->limits.max_files = v[i];
		cr_assert_eq(sl_policy_emit(p, &out, &len, &d), SL_OK, "%s", d.msg);
		cr_assert_eq(sl_policy_parse((uint8_t *)out, len, &p2, &d), SL_OK, "%llu: %s", (unsigned long long)v[i],
			     d.msg);
		cr_assert_eq(p2->limits.max_files, v[i]);
		free(out);
		sl_policy_free(p);
		sl_policy_free(p2);
	}
}

static struct sl_policy *policy(void)
{
	struct sl_policy *p;
	const char *t = "sluice-policy 1\nenclave e1\nlink l1\nthreshold 1\nofficer alice " K1
			"\nsubmitter carol " K3 "\nmax-files 3\nmax-bytes 100\nmax-validity 7d\nclock-skew 300\n";
	cr_assert_eq(parse(t, &p, NULL), SL_OK);
	return p;
}

static struct sl_manifest *manifest(const char *const *paths, size_t n)
{
	struct sl_manifest *m;
	uint8_t h[32] = { 0 };
	cr_assert_eq(sl_manifest_new(&m), SL_OK);
	snprintf(m->submitter, sizeof m->submitter, "carol");
	snprintf(m->enclave, sizeof m->enclave, "e1");
	snprintf(m->link, sizeof m->link, "l1");
	sl_manifest_set_purpose(m, "test", NULL);
	m->created = 1000000;
	m->expires = 1000000 + 86400;
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sl_manifest_add_file(m, paths[i], 10, h, 0644, (struct timespec){ 1000000, 0 }), SL_OK);
	cr_assert_eq(sl_manifest_add_parent_dirs(m, (struct timespec){ 1000000, 0 }), SL_OK);
	cr_assert_eq(sl_manifest_seal(m, NULL, NULL), SL_OK);
	return m;
}

#define EXPECT(call, code, text)                                                                         \
	do {                                                                                             \
		struct sl_diag d_ = { "" };                                                              \
		int rc_ = (call);                                                                        \
		(void)d;                                                                                 \
		cr_assert_eq(rc_, code, "%s: got %d (%s): %s", #call, rc_, sl_strerror(rc_), d_.msg);   \
		{                                                                                        \
			cr_assert(strstr(d_.msg, text), "'%s' lacks '%s'", d_.msg, text); } \
	} while (0)

Test(policy, manifest_checks_each_with_its_reason)
{
	static const char *const paths[] = { "a.txt", "b/c.bin" };
	struct sl_policy *p = policy();
	struct sl_manifest *m = manifest(paths, 2);
	struct sl_diag d;
	const int64_t t0 = 1000000;
	(void)d;
#define CHECK(now) sl_policy_check_manifest(p, m, (now), &d_)
	EXPECT(CHECK(t0 + 10), SL_OK, "");
	/* validity window and skew */
	EXPECT(CHECK(t0 - 200), SL_OK, "");
	EXPECT(CHECK(t0 - 400), SL_ERR_EXPIRED, "not valid yet");
	EXPECT(CHECK(t0 + 86400 + 200), SL_OK, "");
	EXPECT(CHECK(t0 + 86400 + 400), SL_ERR_EXPIRED, "expired at");
	/* binding */
	snprintf(m->enclave, sizeof m->enclave, "e2");
	EXPECT(CHECK(t0), SL_ERR_POLICY, "enclave 'e2'");
	snprintf(m->enclave, sizeof m->enclave, "e1");
	snprintf(m->link, sizeof m->link, "l2");
	EXPECT(CHECK(t0), SL_ERR_POLICY, "link 'l2'");
	snprintf(m->link, sizeof m->link, "l1");
	/* submitter */
	snprintf(m->submitter, sizeof m->submitter, "mallory");
	EXPECT(CHECK(t0), SL_ERR_POLICY, "not listed");
	snprintf(m->submitter, sizeof m->submitter, "carol");
	/* max validity */
	m->expires = t0 + 8 * 86400;
	EXPECT(CHECK(t0), SL_ERR_POLICY, "max-validity");
	m->expires = t0 + 86400;
	/* limits */
	m->total_bytes = 101;
	EXPECT(CHECK(t0), SL_ERR_TOOBIG, "max-bytes");
	m->total_bytes = 20;
	sl_manifest_free(m);
	static const char *const four[] = { "a", "b", "c", "d" };
	m = manifest(four, 4);
	EXPECT(CHECK(t0), SL_ERR_TOOBIG, "max-files");
	sl_manifest_free(m);
	sl_policy_free(p);
}

Test(policy, name_rules)
{
	static const char *const cased[] = { "doc/Index.html", "doc/index.html" };
	static const char *const odd[] = { "libstdc++.so" };
	struct sl_policy *p = policy();
	struct sl_manifest *m = manifest(cased, 2);
	struct sl_diag d;
	(void)d;
	/* allowed by default (real trees hold both) */
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_OK, "");
	p->refuse_case_collisions = true;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_NAME, "equal after case folding");
	sl_manifest_free(m);
	m = manifest(odd, 1);
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_OK, "");
	p->portable_names = true;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_NAME, "portable");
	sl_manifest_free(m);
	sl_policy_free(p);
}

/* Directories are names too: an empty one can collide or be unportable. */
Test(policy, name_rules_cover_directories)
{
	static const char *const files[] = { "doc/a.txt" };
	struct sl_policy *p = policy();
	struct sl_manifest *m = manifest(files, 1);
	struct sl_diag d;
	(void)d;
	p->refuse_case_collisions = true;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_OK, "");
	cr_assert_eq(sl_manifest_add_dir(m, "Doc", 0755, (struct timespec){ 1000000, 0 }), SL_OK);
	cr_assert_eq(sl_manifest_seal(m, NULL, NULL), SL_OK);
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_NAME, "'Doc' and 'doc' are equal after case folding");
	p->refuse_case_collisions = false;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_OK, "");
	sl_manifest_free(m);
	/* NFC and NFD spellings of one directory name */
	static const char *const nf[] = { "caf\xc3\xa9/x" };
	m = manifest(nf, 1);
	cr_assert_eq(sl_manifest_add_dir(m, "cafe\xcc\x81", 0755, (struct timespec){ 1000000, 0 }), SL_OK);
	cr_assert_eq(sl_manifest_seal(m, NULL, NULL), SL_OK);
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_OK, "");
	p->refuse_case_collisions = true;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_NAME, "Unicode normalisation");
	p->refuse_case_collisions = false;
	p->portable_names = true;
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_NAME, "portable");
	sl_manifest_free(m);
	/* more directories than max-files */
	static const char *const one[] = { "f" };
	m = manifest(one, 1);
	p->portable_names = false;
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof name, "e%d", i);
		cr_assert_eq(sl_manifest_add_dir(m, name, 0755, (struct timespec){ 1000000, 0 }), SL_OK);
	}
	cr_assert_eq(sl_manifest_seal(m, NULL, NULL), SL_OK);
	EXPECT(sl_policy_check_manifest(p, m, 1000000, &d_), SL_ERR_TOOBIG, "4 directories exceed the policy's max-files 3");
	sl_manifest_free(m);
	sl_policy_free(p);
}
