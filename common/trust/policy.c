/* policy.c — trust policy: parse, emit, manifest checks, signature counting. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "safefs.h"
#include "pathname.h"
#include "units.h"

#define POLICY_MAX_BYTES (1u << 20)
#define POLICY_MAX_KEYS 256

int sl_policy_new(struct sl_policy **out)
{
	struct sl_policy *p = calloc(1, sizeof *p);
	if (!p)
		return SL_ERR_NOMEM;
	sl_manifest_default_limits(&p->limits);
	p->max_validity = SL_POLICY_DEFAULT_MAX_VALIDITY;
	p->clock_skew = SL_POLICY_DEFAULT_CLOCK_SKEW;
	p->sequence.max_step = SL_POLICY_DEFAULT_MAX_STEP;
	*out = p;
	return SL_OK;
}

void sl_policy_free(struct sl_policy *p)
{
	if (!p)
		return;
	free(p->officers);
	free(p->submitters);
	free(p);
}

static const struct sl_policy_key *find_keyid(const struct sl_policy *p, const uint8_t keyid[8], bool *officer,
					      size_t *idx)
{
	for (size_t i = 0; i < p->nofficers; i++)
		if (!memcmp(p->officers[i].key.keyid, keyid, 8)) {
			*officer = true;
			*idx = i;
			return &p->officers[i];
		}
	for (size_t i = 0; i < p->nsubmitters; i++)
		if (!memcmp(p->submitters[i].key.keyid, keyid, 8)) {
			*officer = false;
			*idx = i;
			return &p->submitters[i];
		}
	return NULL;
}

int sl_policy_add_key(struct sl_policy *p, bool officer, const char *name,
		      const struct sl_ms_pubkey *key, struct sl_diag *d)
{
	struct sl_policy_key **arr = officer ? &p->officers : &p->submitters;
	size_t *n = officer ? &p->nofficers : &p->nsubmitters;
	struct sl_policy_key *na;
	char kid[17];

	if (!sl_label_ok(name))
		return sl_diag_set(d, SL_ERR_INVAL, "'%s' is not a key name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64)", name);
	if (p->nofficers + p->nsubmitters >= POLICY_MAX_KEYS)
		return sl_diag_set(d, SL_ERR_TOOBIG, "more than %d keys", POLICY_MAX_KEYS);
	/* The same key under two names is the worst mistake: report it first. */
	for (int check = 0; check < 3; check++) {
		for (int pass = 0; pass < 2; pass++) {
			const struct sl_policy_key *a = pass ? p->submitters : p->officers;
			size_t an = pass ? p->nsubmitters : p->nofficers;
			for (size_t i = 0; i < an; i++) {
				if (check == 0 && !sodium_memcmp(a[i].key.pk, key->pk, sizeof key->pk))
					return sl_diag_set(d, SL_ERR_EXISTS, "'%s' has the same public key as '%s'", name,
							   a[i].name);
				if (check == 1 && !memcmp(a[i].key.keyid, key->keyid, 8)) {
					sl_ms_keyid_hex(key->keyid, kid);
					return sl_diag_set(d, SL_ERR_EXISTS, "'%s' has the same key id %s as '%s'", name, kid,
							   a[i].name);
				}
				if (check == 2 && !strcmp(a[i].name, name))
					return sl_diag_set(d, SL_ERR_EXISTS, "key name '%s' appears twice", name);
			}
		}
	}
	na = realloc(*arr, (*n + 1) * sizeof *na);
	if (!na)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	*arr = na;
	snprintf(na[*n].name, sizeof na[*n].name, "%s", name);
	na[*n].key = *key;
	(*n)++;
	return SL_OK;
}

int sl_policy_validate(const struct sl_policy *p, struct sl_diag *d)
{
	if (!sl_label_ok(p->enclave))
		return sl_diag_set(d, SL_ERR_INVAL, "no enclave name (or not a name)");
	if (!sl_label_ok(p->link))
		return sl_diag_set(d, SL_ERR_INVAL, "no link name (or not a name)");
	if (p->nofficers == 0)
		return sl_diag_set(d, SL_ERR_INVAL, "no officer keys");
	if (p->threshold < 1 || p->threshold > p->nofficers)
		return sl_diag_set(d, SL_ERR_INVAL, "threshold %u, but it must be between 1 and the %zu officers", p->threshold,
				   p->nofficers);
	if (!p->limits.max_files || !p->limits.max_total_bytes || !p->limits.max_manifest_bytes)
		return sl_diag_set(d, SL_ERR_INVAL, "limits must be above zero");
	if (!p->max_validity)
		return sl_diag_set(d, SL_ERR_INVAL, "max-validity must be above zero");
	if (p->max_validity > SL_POLICY_MAX_DURATION || p->clock_skew > SL_POLICY_MAX_DURATION)
		return sl_diag_set(d, SL_ERR_INVAL, "max-validity and clock-skew must be at most 100 years");
	if (p->sequence.window > SL_POLICY_MAX_WINDOW)
		return sl_diag_set(d, SL_ERR_INVAL, "sequence-window must be at most %llu",
				   (unsigned long long)SL_POLICY_MAX_WINDOW);
	if (p->sequence.max_step < 1 || p->sequence.max_step > SL_POLICY_MAX_MAX_STEP)
		return sl_diag_set(d, SL_ERR_INVAL, "sequence-max-step must be from 1 to %llu",
				   (unsigned long long)SL_POLICY_MAX_MAX_STEP);
	return SL_OK;
}

/* ---- parse ---------------------------------------------------------------- */

enum { S_ENCLAVE, S_LINK, S_THRESHOLD, S_MAXFILES, S_MAXBYTES, S_MAXMAN, S_VALIDITY, S_SKEW, S_WINDOW,
       S_STEP, S_NAMES, S_CASE, S__N };
static const char *const setting_names[S__N] = {
	"enclave", "link", "threshold", "max-files", "max-bytes", "max-manifest-bytes",
	"max-validity", "clock-skew", "sequence-window", "sequence-max-step", "names", "case-collisions",
};

/* Decimal, no leading zero, any value up to 2^64-1 (so whatever emit writes reads back). */
static int parse_dec(const char *s, uint64_t *v)
{
	return sl_parse_decimal_canon_n(s, strlen(s), 0, UINT64_MAX, v) ? -1 : 0;
}

static int policy_line(struct sl_policy *p, unsigned ln, char *s, bool seen[S__N], struct sl_diag *d)
{
	char *key = s, *val = strchr(s, ' ');
	struct sl_diag sub;
	uint64_t v;
	int rc;

	if (!val || !val[1])
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: expected 'SETTING VALUE'", ln);
	*val++ = '\0';
	if (!strcmp(key, "officer") || !strcmp(key, "submitter")) {
		char *b64 = strchr(val, ' ');
		struct sl_ms_pubkey pk;
		if (!b64)
			return sl_diag_set(d, SL_ERR_PARSE, "line %u: expected '%s NAME PUBLIC-KEY'", ln, key);
		*b64++ = '\0';
		rc = sl_ms_pubkey_from_base64(b64, strlen(b64), &pk, &sub);
		if (rc)
			return sl_diag_set(d, rc, "line %u: %s %s: %s", ln, key, val, sub.msg);
		rc = sl_policy_add_key(p, key[0] == 'o', val, &pk, &sub);
		if (rc)
			return sl_diag_set(d, rc == SL_ERR_INVAL ? SL_ERR_PARSE : rc, "line %u: %s", ln, sub.msg);
		return SL_OK;
	}
	for (int i = 0; i < S__N; i++) {
		if (strcmp(key, setting_names[i]))
			continue;
		if (seen[i])
			return sl_diag_set(d, SL_ERR_PARSE, "line %u: '%s' is set twice", ln, key);
		seen[i] = true;
		switch (i) {
		case S_ENCLAVE:
		case S_LINK:
			if (!sl_label_ok(val))
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s '%s' is not a name", ln, key, val);
			snprintf(i == S_ENCLAVE ? p->enclave : p->link, SL_LABEL_MAX + 1, "%s", val);
			return SL_OK;
		case S_THRESHOLD:
			if (parse_dec(val, &v) || v < 1 || v > POLICY_MAX_KEYS)
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: threshold must be a number from 1 to %d", ln,
						   POLICY_MAX_KEYS);
			p->threshold = (unsigned)v;
			return SL_OK;
		case S_MAXFILES:
		case S_MAXBYTES:
		case S_MAXMAN:
			if (i == S_MAXFILES ? parse_dec(val, &v) : (sl_parse_size(val, &v, &sub) != SL_OK))
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s is not a %s", ln, key,
						   i == S_MAXFILES ? "decimal number" : "size (bytes, or K/M/G)");
			if (v == 0)
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s must be above zero", ln, key);
			if (i == S_MAXFILES)
				p->limits.max_files = v;
			else if (i == S_MAXBYTES)
				p->limits.max_total_bytes = v;
			else
				p->limits.max_manifest_bytes = v;
			return SL_OK;
		case S_VALIDITY:
		case S_SKEW:
			if (sl_parse_duration(val, &v, &sub) != SL_OK || v > SL_POLICY_MAX_DURATION)
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s is not a duration (30, 30s, 5m, 2h, 7d)", ln, key);
			if (i == S_VALIDITY)
				p->max_validity = v;
			else
				p->clock_skew = v;
			return SL_OK;
		case S_WINDOW:
			if (parse_dec(val, &v) || v > SL_POLICY_MAX_WINDOW)
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: sequence-window must be a number from 0 to %llu",
						   ln, (unsigned long long)SL_POLICY_MAX_WINDOW);
			p->sequence.window = v;
			return SL_OK;
		case S_STEP:
			if (parse_dec(val, &v) || v < 1 || v > SL_POLICY_MAX_MAX_STEP)
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: sequence-max-step must be a number from 1 to %llu",
						   ln, (unsigned long long)SL_POLICY_MAX_MAX_STEP);
			p->sequence.max_step = v;
			return SL_OK;
		case S_NAMES:
			if (strcmp(val, "any") && strcmp(val, "portable"))
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: names must be 'any' or 'portable'", ln);
			p->portable_names = !strcmp(val, "portable");
			return SL_OK;
		case S_CASE:
			if (strcmp(val, "allow") && strcmp(val, "refuse"))
				return sl_diag_set(d, SL_ERR_PARSE, "line %u: case-collisions must be 'allow' or 'refuse'", ln);
			p->refuse_case_collisions = !strcmp(val, "refuse");
			return SL_OK;
		}
	}
	return sl_diag_set(d, SL_ERR_PARSE, "line %u: unknown setting '%.40s'", ln, key);
}

int sl_policy_parse(const uint8_t *text, size_t len, struct sl_policy **out, struct sl_diag *d)
{
	struct sl_policy *p;
	bool seen[S__N] = { false }, header = false;
	const char *s = (const char *)text, *end = s + len;
	unsigned ln = 0;
	int rc;

	*out = NULL;
	if (len > POLICY_MAX_BYTES)
		return sl_diag_set(d, SL_ERR_TOOBIG, "policy larger than %u bytes", POLICY_MAX_BYTES);
	if ((rc = sl_policy_new(&p)))
		return sl_diag_set(d, rc, "out of memory");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n;
		char line[1024];

		ln++;
		if (!nl) {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: no line feed at end (truncated?)", ln);
			goto fail;
		}
		n = (size_t)(nl - s);
		if (n >= sizeof line) {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: longer than %zu bytes", ln, sizeof line - 1);
			goto fail;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E) {
				rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: byte 0x%02X (a policy is printable ASCII, LF line ends)",
						 ln, (unsigned char)s[i]);
				goto fail;
			}
		}
		memcpy(line, s, n);
		line[n] = '\0';
		s = nl + 1;
		if (n == 0 || line[0] == '#')
			continue;
		if (line[n - 1] == ' ' || strstr(line, "  ") || line[0] == ' ') {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: stray space (fields are separated by one space)", ln);
			goto fail;
		}
		if (!header) {
			if (strcmp(line, "sluice-policy 1")) {
				rc = sl_diag_set(d, !strncmp(line, "sluice-policy ", 14) ? SL_ERR_UNSUPPORTED : SL_ERR_PARSE,
						 "line %u: expected 'sluice-policy 1'", ln);
				goto fail;
			}
			header = true;
			continue;
		}
		if ((rc = policy_line(p, ln, line, seen, d)))
			goto fail;
	}
	if (!header) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "empty policy (no 'sluice-policy 1' line)");
		goto fail;
	}
	if (!seen[S_ENCLAVE] || !seen[S_LINK] || !seen[S_THRESHOLD]) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "policy lacks '%s'",
				 !seen[S_ENCLAVE] ? "enclave" : !seen[S_LINK] ? "link" : "threshold");
		goto fail;
	}
	if ((rc = sl_policy_validate(p, d))) {
		rc = SL_ERR_PARSE;
		goto fail;
	}
	*out = p;
	return SL_OK;
fail:
	sl_policy_free(p);
	return rc;
}

int sl_policy_load(const char *path, struct sl_policy **out, struct sl_diag *d)
{
	uint8_t *buf;
	size_t len;
	struct sl_diag sub;
	int rc = sl_read_file(path, POLICY_MAX_BYTES, &buf, &len, d);
	if (rc)
		return rc;
	rc = sl_policy_parse(buf, len, out, &sub);
	free(buf);
	if (rc)
		return sl_diag_set(d, rc, "%s: %s", path, sub.msg);
	return SL_OK;
}

int sl_policy_emit(const struct sl_policy *p, char **text, size_t *len, struct sl_diag *d)
{
	char *buf = NULL, b64[SL_MS_PK_B64], kid[17];
	size_t blen = 0;
	FILE *f;
	int rc = sl_policy_validate(p, d);

	if (rc)
		return rc;
	f = open_memstream(&buf, &blen);
	if (!f)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	fprintf(f, "sluice-policy 1\n# sluice trust policy: see sluice-policy(1) and common/MANIFEST.md\n"
		   "enclave %s\nlink %s\nthreshold %u\n", p->enclave, p->link, p->threshold);
	for (size_t i = 0; i < p->nofficers; i++) {
		sl_ms_pubkey_base64(&p->officers[i].key, b64);
		sl_ms_keyid_hex(p->officers[i].key.keyid, kid);
		fprintf(f, "# officer key id %s\nofficer %s %s\n", kid, p->officers[i].name, b64);
	}
	for (size_t i = 0; i < p->nsubmitters; i++) {
		sl_ms_pubkey_base64(&p->submitters[i].key, b64);
		sl_ms_keyid_hex(p->submitters[i].key.keyid, kid);
		fprintf(f, "# submitter key id %s\nsubmitter %s %s\n", kid, p->submitters[i].name, b64);
	}
	fprintf(f, "max-files %llu\nmax-bytes %llu\nmax-manifest-bytes %llu\nmax-validity %llu\nclock-skew %llu\n"
		   "sequence-window %llu\nsequence-max-step %llu\nnames %s\ncase-collisions %s\n",
		(unsigned long long)p->limits.max_files, (unsigned long long)p->limits.max_total_bytes,
		(unsigned long long)p->limits.max_manifest_bytes, (unsigned long long)p->max_validity,
		(unsigned long long)p->clock_skew, (unsigned long long)p->sequence.window,
		(unsigned long long)p->sequence.max_step,
		p->portable_names ? "portable" : "any", p->refuse_case_collisions ? "refuse" : "allow");
	if (fclose(f) != 0) {
		free(buf);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	*text = buf;
	*len = blen;
	return SL_OK;
}

/* ---- manifest checks ------------------------------------------------------ */

/* names portable, case-collisions refuse: over files and directories. */
static int check_names(const struct sl_policy *p, const struct sl_manifest *m, struct sl_diag *d)
{
	size_t n = sl_manifest_all(m) + m->ndirs;
	const char **paths;
	struct sl_diag sub;
	int rc = SL_OK;

	if (!p->portable_names && !p->refuse_case_collisions)
		return SL_OK;
	paths = malloc(n * sizeof *paths);
	if (!paths)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < m->ndirs; i++)
		paths[i] = m->dirs[i].path;
	for (size_t i = 0; i < sl_manifest_all(m); i++)
		paths[m->ndirs + i] = sl_manifest_at(m, i)->path;
	for (size_t i = 0; p->portable_names && i < n && !rc; i++) {
		if (sl_path_portable(paths[i], &sub)) {
			char enc[3 * SL_PATH_MAX_BYTES + 1];
			sl_pct_encode((const uint8_t *)paths[i], strlen(paths[i]), SL_PCT_PATH, enc, sizeof enc);
			rc = sl_diag_set(d, SL_ERR_NAME, "'%.200s': %s (policy: names portable)", enc, sub.msg);
		}
	}
	if (!rc && p->refuse_case_collisions) {
		rc = sl_casefold_collision(paths, n, &sub);
		if (rc)
			sl_diag_set(d, rc, "%s (policy: case-collisions refuse)", sub.msg);
	}
	free(paths);
	return rc;
}

int sl_policy_check_manifest(const struct sl_policy *p, const struct sl_manifest *m,
			     int64_t now, struct sl_diag *d)
{
	char t1[32], t2[32];
	int64_t skew = (int64_t)p->clock_skew;

	if (strcmp(m->enclave, p->enclave))
		return sl_diag_set(d, SL_ERR_POLICY, "manifest is for enclave '%s', this policy is for enclave '%s'",
				   m->enclave, p->enclave);
	if (strcmp(m->link, p->link))
		return sl_diag_set(d, SL_ERR_POLICY, "manifest is for link '%s', this policy is for link '%s'",
				   m->link, p->link);
	if (now + skew < m->created)
		return sl_diag_set(d, SL_ERR_EXPIRED, "not valid yet: created %s, now %s (clock skew allowed: %llds)",
				   sl_time_format(m->created, t1, sizeof t1), sl_time_format(now, t2, sizeof t2),
				   (long long)skew);
	if (now - skew > m->expires)
		return sl_diag_set(d, SL_ERR_EXPIRED, "expired at %s, now %s (clock skew allowed: %llds)",
				   sl_time_format(m->expires, t1, sizeof t1), sl_time_format(now, t2, sizeof t2),
				   (long long)skew);
	if ((uint64_t)(m->expires - m->created) > p->max_validity)
		return sl_diag_set(d, SL_ERR_POLICY, "validity window of %llds exceeds the policy's max-validity %llus",
				   (long long)(m->expires - m->created), (unsigned long long)p->max_validity);
	/* A delta releases its whole tree: what it takes from its base counts. */
	if (sl_manifest_all(m) > p->limits.max_files)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%zu files exceed the policy's max-files %llu", sl_manifest_all(m),
				   (unsigned long long)p->limits.max_files);
	if (m->taken_bytes > p->limits.max_total_bytes || m->total_bytes > p->limits.max_total_bytes - m->taken_bytes)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%llu bytes exceed the policy's max-bytes %llu",
				   (unsigned long long)(m->total_bytes + m->taken_bytes),
				   (unsigned long long)p->limits.max_total_bytes);
	if (p->nsubmitters) {
		size_t i;
		for (i = 0; i < p->nsubmitters; i++)
			if (!strcmp(p->submitters[i].name, m->submitter))
				break;
		if (i == p->nsubmitters)
			return sl_diag_set(d, SL_ERR_POLICY, "submitter '%s' is not listed in the policy", m->submitter);
	}
	if (m->ndirs > p->limits.max_files)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%zu directories exceed the policy's max-files %llu", m->ndirs,
				   (unsigned long long)p->limits.max_files);
	return check_names(p, m, d);
}

/* ---- signatures ----------------------------------------------------------- */

const char *sl_sig_status_name(enum sl_sig_status s)
{
	switch (s) {
	case SL_SIG_OFFICER: return "valid (officer)";
	case SL_SIG_SUBMITTER: return "valid (submitter)";
	case SL_SIG_DUPLICATE: return "duplicate signer (not counted)";
	case SL_SIG_UNKNOWN_KEY: return "unknown key (not counted)";
	case SL_SIG_BAD: return "BAD signature";
	case SL_SIG_LEGACY: return "legacy Ed signature (refused)";
	case SL_SIG_MALFORMED: return "malformed signature file";
	}
	return "?";
}

bool sl_sigfile_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 9 || n > 128 || name[0] == '.' || name[0] == '-')
		return false;
	if (strcmp(name + n - 8, ".minisig"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Printable ASCII of src in dst: tab as space, other bytes outside 0x20..0x7E as '?'. */
static void copy_visible(char *dst, size_t dlen, const char *src)
{
	size_t o = 0;
	for (; *src && o + 1 < dlen; src++) {
		unsigned char ch = (unsigned char)*src;
		dst[o++] = ch == '\t' ? ' ' : (ch < 0x20 || ch >= 0x7F) ? '?' : (char)ch;
	}
	dst[o] = '\0';
}

size_t sl_sig_dropped_text(const struct sl_sig_result *res, const struct sl_sigfile *sigs, char *out,
			   size_t outlen)
{
	const size_t more_room = 24; /* ", and NNNNNNNNNN more" */
	size_t used = 0, ndrop = 0, nshown = 0;

	out[0] = '\0';
	for (size_t i = 0; i < res->n; i++) {
		char name[3 * 64 + 1], why[sizeof res->checks[i].detail], item[sizeof name + sizeof why + 8];
		int n;

		if (res->checks[i].release)
			continue;
		ndrop++;
		if (sl_sigfile_name_ok(sigs[i].name))
			snprintf(name, sizeof name, "%s", sigs[i].name);
		else if (sl_pct_encode((const uint8_t *)sigs[i].name, strnlen(sigs[i].name, 64), SL_PCT_NAME, name,
				       sizeof name) == (size_t)-1)
			snprintf(name, sizeof name, "(unprintable name)");
		copy_visible(why, sizeof why, res->checks[i].detail);
		n = snprintf(item, sizeof item, "%s%s (%s)", nshown ? ", " : "", name, why);
		if (ndrop != nshown + 1 || used + (size_t)n + more_room >= outlen)
			continue; /* counted below */
		memcpy(out + used, item, (size_t)n + 1);
		used += (size_t)n;
		nshown++;
	}
	if (ndrop > nshown)
		snprintf(out + used, outlen - used, "%sand %zu more", nshown ? ", " : "", ndrop - nshown);
	return ndrop;
}

void sl_sig_result_clear(struct sl_sig_result *res)
{
	if (!res)
		return;
	free(res->checks);
	memset(res, 0, sizeof *res);
}

/* One signature file checked against the policy's keys: the key it verifies
 * under (officer or submitter, index *idx), or NULL with c->status and
 * c->detail saying why not (*refused for the kinds that refuse the transfer). */
static const struct sl_policy_key *check_one(const struct sl_policy *p, const uint8_t h[64],
					     const struct sl_sigfile *sf, struct sl_sig_check *c,
					     bool *officer, size_t *idx, bool *refused)
{
	const struct sl_policy_key *k = NULL;
	struct sl_ms_sig *sig = NULL;
	struct sl_diag sub;

	c->key_index = -1;
	if (!sl_sigfile_name_ok(sf->name)) {
		c->status = SL_SIG_MALFORMED;
		snprintf(c->detail, sizeof c->detail, "file name is not a safe NAME.minisig");
		*refused = true;
		return NULL;
	}
	if (sl_ms_sig_parse(sf->data, sf->len, &sig, &sub)) {
		c->status = SL_SIG_MALFORMED;
		snprintf(c->detail, sizeof c->detail, "%.190s", sub.msg);
		*refused = true;
		return NULL;
	}
	sl_ms_keyid_hex(sig->keyid, c->keyid);
	copy_visible(c->trusted_comment, sizeof c->trusted_comment, sig->trusted_comment);
	if (sig->legacy) {
		c->status = SL_SIG_LEGACY;
		snprintf(c->detail, sizeof c->detail,
			 "legacy 'Ed' signature (not prehashed) by key %s: sign again with minisign 0.8 or later", c->keyid);
		*refused = true;
	} else if (!(k = find_keyid(p, sig->keyid, officer, idx))) {
		c->status = SL_SIG_UNKNOWN_KEY;
		snprintf(c->detail, sizeof c->detail, "key %s is not in the policy", c->keyid);
	} else {
		c->key_index = (int)*idx;
		if (sl_ms_sig_verify_prehashed(sig, &k->key, h, &sub)) {
			c->status = SL_SIG_BAD;
			snprintf(c->detail, sizeof c->detail, "%s %s: %.100s", *officer ? "officer" : "submitter",
				 k->name, sub.msg);
			*refused = true;
			k = NULL;
		}
	}
	sl_ms_sig_free(sig);
	return k;
}

/* A verified signature by key K counted once per key: officers towards the
 * threshold, the submitter when it is the one the manifest names. */
static void count_one(const struct sl_policy_key *k, bool officer, bool *seen, const char *submitter,
		      struct sl_sig_check *c, struct sl_sig_result *res)
{
	if (*seen) {
		c->status = SL_SIG_DUPLICATE;
		snprintf(c->detail, sizeof c->detail, "%s %s signed more than once: counted once",
			 officer ? "officer" : "submitter", k->name);
		return;
	}
	*seen = true;
	if (officer) {
		res->officers_valid++;
		c->status = SL_SIG_OFFICER;
		c->release = true;
		snprintf(c->detail, sizeof c->detail, "officer %s", k->name);
		return;
	}
	c->status = SL_SIG_SUBMITTER;
	if (!submitter || !strcmp(submitter, k->name)) {
		res->submitter_ok = true;
		c->release = true;
		snprintf(c->detail, sizeof c->detail, "submitter %s", k->name);
	} else {
		snprintf(c->detail, sizeof c->detail,
			 "submitter %s, but the manifest names submitter %s", k->name, submitter);
	}
}

/* The outcome once every file is checked: the first refusing file, then the
 * threshold, then the submitter. */
static int verdict(const struct sl_policy *p, const char *submitter, const struct sl_sigfile *sigs,
		   size_t nsigs, const struct sl_sig_result *res, struct sl_diag *d)
{
	for (size_t i = 0; res->refused_signature && i < nsigs; i++) {
		const struct sl_sig_check *c = &res->checks[i];
		if (c->status == SL_SIG_BAD || c->status == SL_SIG_LEGACY || c->status == SL_SIG_MALFORMED)
			return sl_diag_set(d, SL_ERR_SIG, "%s: %s", sigs[i].name, c->detail);
	}
	if (res->officers_valid < p->threshold)
		return sl_diag_set(d, SL_ERR_THRESHOLD, "%u of the %u required officer signatures are valid",
				   res->officers_valid, p->threshold);
	if (res->submitter_required && !res->submitter_ok)
		return sl_diag_set(d, SL_ERR_POLICY, "no valid signature by the submitter%s%s",
				   submitter ? " " : "", submitter ? submitter : "");
	return SL_OK;
}

int sl_policy_verify_signatures(const struct sl_policy *p, const uint8_t *manifest, size_t mlen,
				const char *submitter, const struct sl_sigfile *sigs, size_t nsigs,
				struct sl_sig_result *res, struct sl_diag *d)
{
	struct sl_sig_result local;
	bool *off_seen = NULL, *sub_seen = NULL;
	uint8_t h[64];
	int rc;

	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	if (sodium_init() < 0)
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium failed to initialise");
	res->checks = calloc(nsigs ? nsigs : 1, sizeof *res->checks);
	off_seen = calloc(p->nofficers + 1, sizeof *off_seen);
	sub_seen = calloc(p->nsubmitters + 1, sizeof *sub_seen);
	if (!res->checks || !off_seen || !sub_seen) {
		free(off_seen);
		free(sub_seen);
		sl_sig_result_clear(res);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	res->n = nsigs;
	res->threshold = p->threshold;
	res->submitter_required = p->nsubmitters > 0;
	sl_ms_prehash(manifest, mlen, h);
	for (size_t i = 0; i < nsigs; i++) {
		bool officer = false;
		size_t idx = 0;
		const struct sl_policy_key *k = check_one(p, h, &sigs[i], &res->checks[i], &officer, &idx,
							  &res->refused_signature);
		if (k)
			count_one(k, officer, officer ? &off_seen[idx] : &sub_seen[idx], submitter,
				  &res->checks[i], res);
	}
	free(off_seen);
	free(sub_seen);
	rc = verdict(p, submitter, sigs, nsigs, res, d);
	if (res == &local)
		sl_sig_result_clear(res);
	return rc;
}
