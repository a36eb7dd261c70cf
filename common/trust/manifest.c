/* manifest.c — strict parser and canonical emitter of the manifest format. */
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "pathname.h"
#include "sha256.h"

#define HEADER_LINES 11 /* first file line is line 12 */

void sl_manifest_default_limits(struct sl_manifest_limits *lim)
{
	lim->max_manifest_bytes = SL_MANIFEST_DEFAULT_MAX_BYTES;
	lim->max_files = SL_MANIFEST_DEFAULT_MAX_FILES;
	lim->max_total_bytes = SL_MANIFEST_DEFAULT_MAX_TOTAL;
}

/* ---- time ---------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

#define TIME_MAX_SECONDS 253402300799ll /* 9999-12-31T23:59:59Z */

const char *sl_time_format(int64_t t, char *buf, size_t len)
{
	int64_t y, days;
	unsigned mo, da, sod;

	if (t < 0 || t > TIME_MAX_SECONDS) {
		snprintf(buf, len, "(out of range)");
		return buf;
	}
	days = t / 86400;
	sod = (unsigned)(t % 86400);
	civil_from_days(days, &y, &mo, &da);
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, mo, da,
		 sod / 3600, sod / 60 % 60, sod % 60);
	return buf;
}

static int digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int sl_time_parse(const char *s, size_t len, int64_t *t)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, se, md;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return SL_ERR_PARSE;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return SL_ERR_PARSE;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
		return SL_ERR_RANGE;
	md = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d < 1 || d > md)
		return SL_ERR_RANGE;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return SL_OK;
}

/* ---- small parsers -------------------------------------------------------- */

/* Canonical decimal: no sign, no leading zeros, <= max. */
static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return SL_ERR_PARSE;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SL_ERR_PARSE;
		unsigned dgt = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - dgt) / 10)
			return SL_ERR_RANGE;
		x = x * 10 + dgt;
	}
	if (x > max)
		return SL_ERR_RANGE;
	*v = x;
	return SL_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_id(const char *s, size_t n, uint8_t id[SL_ID_BYTES])
{
	if (n != 2 * SL_ID_BYTES)
		return SL_ERR_PARSE;
	for (size_t i = 0; i < SL_ID_BYTES; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return SL_ERR_PARSE;
		id[i] = (uint8_t)(h << 4 | l);
	}
	return SL_OK;
}

static void id_to_hex(const uint8_t id[SL_ID_BYTES], char hex[SL_ID_HEX])
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < SL_ID_BYTES; i++) {
		hex[2 * i] = hx[id[i] >> 4];
		hex[2 * i + 1] = hx[id[i] & 15];
	}
	hex[2 * SL_ID_BYTES] = '\0';
}

/* Purpose text: 1..SL_PURPOSE_MAX bytes of UTF-8, no control characters,
 * no leading or trailing space. */
static int purpose_check(const uint8_t *p, size_t n, struct sl_diag *d)
{
	if (n == 0)
		return sl_diag_set(d, SL_ERR_PARSE, "empty purpose");
	if (n > SL_PURPOSE_MAX)
		return sl_diag_set(d, SL_ERR_TOOBIG, "purpose of %zu bytes (limit %d)", n, SL_PURPOSE_MAX);
	if (p[0] == ' ' || p[n - 1] == ' ')
		return sl_diag_set(d, SL_ERR_PARSE, "purpose starts or ends with a space");
	if (!sl_utf8_valid(p, n))
		return sl_diag_set(d, SL_ERR_PARSE, "purpose is not valid UTF-8");
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7F || (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F))
			return sl_diag_set(d, SL_ERR_PARSE, "control character in purpose at offset %zu", i);
	}
	return SL_OK;
}

/* ---- lines ---------------------------------------------------------------- */

struct cursor {
	const char *p, *end;
	unsigned line;
};

static int next_line(struct cursor *c, const char **s, size_t *n, struct sl_diag *d)
{
	const char *nl;

	c->line++;
	if (c->p == c->end)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: manifest ends early (no 'end' line)", c->line);
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!nl)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: no line feed at end of line (truncated manifest?)", c->line);
	for (const char *q = c->p; q < nl; q++) {
		unsigned char ch = (unsigned char)*q;
		if (ch == '\r')
			return sl_diag_set(d, SL_ERR_PARSE, "line %u: carriage return (CRLF line ends are not allowed)", c->line);
		if (ch < 0x20 || ch > 0x7E)
			return sl_diag_set(d, SL_ERR_PARSE, "line %u: byte 0x%02X at column %zu (the manifest is printable ASCII)",
					   c->line, ch, (size_t)(q - c->p) + 1);
	}
	*s = c->p;
	*n = (size_t)(nl - c->p);
	c->p = nl + 1;
	return SL_OK;
}

/* Expect "KEY VALUE"; returns value. */
static int keyed_line(struct cursor *c, const char *key, const char **v, size_t *vn, struct sl_diag *d)
{
	const char *s;
	size_t n, kl = strlen(key);
	int rc = next_line(c, &s, &n, d);
	if (rc)
		return rc;
	if (n < kl + 1 || memcmp(s, key, kl) || s[kl] != ' ') {
		size_t w = 0;
		while (w < n && s[w] != ' ')
			w++;
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: expected '%s', found '%.*s'", c->line, key,
				   (int)(w > 40 ? 40 : w), s);
	}
	*v = s + kl + 1;
	*vn = n - kl - 1;
	if (*vn == 0)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: empty value for '%s'", c->line, key);
	return SL_OK;
}

static int label_field(struct cursor *c, const char *key, char out[SL_LABEL_MAX + 1], struct sl_diag *d)
{
	const char *v;
	size_t n;
	int rc = keyed_line(c, key, &v, &n, d);
	if (rc)
		return rc;
	if (n > SL_LABEL_MAX)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s longer than %d characters", c->line, key, SL_LABEL_MAX);
	memcpy(out, v, n);
	out[n] = '\0';
	if (!sl_label_ok(out))
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s '%s' is not a name ([A-Za-z0-9][A-Za-z0-9._-]*)",
				   c->line, key, out);
	return SL_OK;
}

static int number_field(struct cursor *c, const char *key, uint64_t max, uint64_t *v, struct sl_diag *d)
{
	const char *s;
	size_t n;
	int rc = keyed_line(c, key, &s, &n, d);
	if (rc)
		return rc;
	rc = parse_u64(s, n, max, v);
	if (rc == SL_ERR_RANGE)
		return sl_diag_set(d, SL_ERR_RANGE, "line %u: %s %.*s exceeds %llu", c->line, key,
				   (int)(n > 24 ? 24 : n), s, (unsigned long long)max);
	if (rc)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s is not a canonical decimal number", c->line, key);
	return SL_OK;
}

static int time_field(struct cursor *c, const char *key, int64_t *t, struct sl_diag *d)
{
	const char *s;
	size_t n;
	int rc = keyed_line(c, key, &s, &n, d);
	if (rc)
		return rc;
	rc = sl_time_parse(s, n, t);
	if (rc)
		return sl_diag_set(d, SL_ERR_PARSE, "line %u: %s is not a UTC time YYYY-MM-DDTHH:MM:SSZ", c->line, key);
	return SL_OK;
}

/* ---- validation shared by parse and seal ---------------------------------- */

static int cmp_path(const char *a, const char *b)
{
	return strcmp(a, b); /* bytewise, unsigned in glibc */
}

static long find_in(const struct sl_manifest_file *f, size_t n, const char *path, size_t plen)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *a = (const unsigned char *)f[mid].path;
		int c = strncmp((const char *)a, path, plen);
		if (c == 0)
			c = a[plen] ? 1 : 0;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

long sl_manifest_find(const struct sl_manifest *m, const char *path)
{
	return find_in(m->files, m->nfiles, path, strlen(path));
}

/* where(): "line N" for parsed manifests, the path otherwise. */
static void where(char *buf, size_t len, bool parsed, size_t i, const char *path)
{
	if (parsed) {
		snprintf(buf, len, "line %zu", i + HEADER_LINES + 1);
	} else {
		char enc[200];
		size_t plen = strlen(path);
		if (sl_pct_encode((const uint8_t *)path, plen > 60 ? 60 : plen, SL_PCT_PATH, enc, sizeof enc) == (size_t)-1)
			enc[0] = '\0';
		snprintf(buf, len, "'%s%s'", enc, plen > 60 ? "..." : "");
	}
}

/* Checks files[i] against files[0..i): order, duplicates, prefix collisions. */
static int check_file(const struct sl_manifest *m, size_t i, bool parsed, struct sl_diag *d)
{
	const struct sl_manifest_file *f = &m->files[i];
	char w[256];
	size_t plen = strlen(f->path);
	int rc;

	rc = sl_path_check((const uint8_t *)f->path, plen, d);
	if (rc) {
		char reason[sizeof d->msg];
		where(w, sizeof w, parsed, i, f->path);
		snprintf(reason, sizeof reason, "%s", d ? d->msg : "");
		return sl_diag_set(d, rc, "%s: path refused: %s", w, reason);
	}
	if (f->mode != 0644 && f->mode != 0755) {
		where(w, sizeof w, parsed, i, f->path);
		return sl_diag_set(d, SL_ERR_PARSE, "%s: mode %o (only 0644 and 0755)", w, f->mode);
	}
	if (i > 0) {
		int c = cmp_path(m->files[i - 1].path, f->path);
		if (c == 0) {
			where(w, sizeof w, parsed, i, f->path);
			return sl_diag_set(d, SL_ERR_PARSE, "%s: duplicate path", w);
		}
		if (c > 0) {
			where(w, sizeof w, parsed, i, f->path);
			return sl_diag_set(d, SL_ERR_PARSE, "%s: not in bytewise order (must sort before the line above)", w);
		}
	}
	/* A file that is a directory prefix of this one sorts before it. */
	for (size_t j = 0; j < plen; j++) {
		if (f->path[j] != '/')
			continue;
		long k = find_in(m->files, i, f->path, j);
		if (k >= 0) {
			where(w, sizeof w, parsed, i, f->path);
			return sl_diag_set(d, SL_ERR_NAME, "%s: a listed file is also a directory of this path (line %ld)",
					   w, k + HEADER_LINES + 1);
		}
	}
	return SL_OK;
}

/* ---- parse ---------------------------------------------------------------- */

int sl_manifest_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
		      struct sl_manifest **out, struct sl_diag *d)
{
	struct sl_manifest_limits dl;
	struct cursor c = { (const char *)text, (const char *)text + len, 0 };
	struct sl_manifest *m;
	const char *s;
	size_t n, poolused = 0;
	uint64_t v, sum = 0;
	int rc;

	if (!lim) {
		sl_manifest_default_limits(&dl);
		lim = &dl;
	}
	*out = NULL;
	if (len > lim->max_manifest_bytes)
		return sl_diag_set(d, SL_ERR_TOOBIG, "manifest of %zu bytes exceeds the limit of %llu", len,
				   (unsigned long long)lim->max_manifest_bytes);
	m = calloc(1, sizeof *m);
	if (!m)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	m->pool_ = malloc(len + 1);
	if (!m->pool_) {
		free(m);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}

	rc = next_line(&c, &s, &n, d);
	if (rc)
		goto fail;
	if (n != 17 || memcmp(s, "sluice-manifest ", 16)) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "line 1: not a sluice manifest (expected 'sluice-manifest 1')");
		goto fail;
	}
	if (s[16] != '1') {
		rc = sl_diag_set(d, SL_ERR_UNSUPPORTED, "line 1: manifest format version '%c' (this sluice reads version 1)", s[16]);
		goto fail;
	}
	m->version = 1;

	if ((rc = keyed_line(&c, "id", &s, &n, d)))
		goto fail;
	if (parse_id(s, n, m->id)) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: id is not 32 lowercase hex digits", c.line);
		goto fail;
	}
	id_to_hex(m->id, m->id_hex);
	if ((rc = number_field(&c, "sequence", INT64_MAX, &m->sequence, d)))
		goto fail;
	if ((rc = time_field(&c, "created", &m->created, d)) || (rc = time_field(&c, "expires", &m->expires, d)))
		goto fail;
	if (m->expires <= m->created) {
		rc = sl_diag_set(d, SL_ERR_RANGE, "line %u: expires is not after created", c.line);
		goto fail;
	}
	if ((rc = label_field(&c, "submitter", m->submitter, d)))
		goto fail;
	if ((rc = keyed_line(&c, "purpose", &s, &n, d)))
		goto fail;
	{
		uint8_t *pb = (uint8_t *)m->pool_ + poolused;
		size_t plen;
		struct sl_diag sub;
		rc = sl_pct_decode(s, n, SL_PCT_TEXT, pb, len + 1 - poolused, &plen, &sub);
		if (!rc)
			rc = purpose_check(pb, plen, &sub);
		if (rc) {
			rc = sl_diag_set(d, rc, "line %u: purpose: %s", c.line, sub.msg);
			goto fail;
		}
		m->purpose = (char *)pb;
		poolused += plen + 1;
	}
	if ((rc = label_field(&c, "enclave", m->enclave, d)) || (rc = label_field(&c, "link", m->link, d)))
		goto fail;
	if ((rc = number_field(&c, "files", lim->max_files, &v, d)))
		goto fail;
	if (v == 0) {
		rc = sl_diag_set(d, SL_ERR_RANGE, "line %u: a transfer lists at least one file", c.line);
		goto fail;
	}
	/* Each file line takes at least 79 bytes: refuse impossible counts before allocating. */
	if (v > (uint64_t)(c.end - c.p) / 79) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: files %llu, but the rest of the manifest cannot hold that many lines",
				 c.line, (unsigned long long)v);
		goto fail;
	}
	m->nfiles = (size_t)v;
	if ((rc = number_field(&c, "bytes", lim->max_total_bytes, &m->total_bytes, d)))
		goto fail;
	m->files = calloc(m->nfiles, sizeof *m->files);
	if (!m->files) {
		rc = sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
		goto fail;
	}

	for (size_t i = 0; i < m->nfiles; i++) {
		struct sl_manifest_file *f = &m->files[i];
		const char *fld[4];
		size_t fl[4], k = 0;
		const char *q;

		rc = next_line(&c, &s, &n, d);
		if (rc)
			goto fail;
		if (n < 5 || memcmp(s, "file ", 5)) {
			if (n == 3 && !memcmp(s, "end", 3))
				rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: 'end' after %zu file lines, but the header says files %zu",
						 c.line, i, m->nfiles);
			else
				rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: expected a 'file' line", c.line);
			goto fail;
		}
		q = s + 5;
		while (k < 4) {
			const char *sp = (k < 3) ? memchr(q, ' ', (size_t)(s + n - q)) : s + n;
			if (!sp) {
				rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: a file line has four fields: sha256 size mode path", c.line);
				goto fail;
			}
			fld[k] = q;
			fl[k] = (size_t)(sp - q);
			if (fl[k] == 0) {
				rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: empty field or double space", c.line);
				goto fail;
			}
			k++;
			q = sp + 1;
		}
		if (memchr(fld[3], ' ', fl[3])) {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: space in path (spaces are written %%20)", c.line);
			goto fail;
		}
		if (sl_sha256_from_hex(fld[0], fl[0], f->sha256)) {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: SHA-256 is not 64 lowercase hex digits", c.line);
			goto fail;
		}
		rc = parse_u64(fld[1], fl[1], lim->max_total_bytes, &f->size);
		if (rc) {
			rc = sl_diag_set(d, rc, rc == SL_ERR_RANGE ? "line %u: size exceeds the limit" :
					 "line %u: size is not a canonical decimal number", c.line);
			goto fail;
		}
		if (fl[2] == 4 && !memcmp(fld[2], "0644", 4)) {
			f->mode = 0644;
		} else if (fl[2] == 4 && !memcmp(fld[2], "0755", 4)) {
			f->mode = 0755;
		} else {
			rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: mode must be 0644 or 0755", c.line);
			goto fail;
		}
		{
			uint8_t *pb = (uint8_t *)m->pool_ + poolused;
			size_t plen;
			struct sl_diag sub;
			rc = sl_pct_decode(fld[3], fl[3], SL_PCT_PATH, pb, len + 1 - poolused, &plen, &sub);
			if (rc) {
				rc = sl_diag_set(d, rc, "line %u: path: %s", c.line, sub.msg);
				goto fail;
			}
			if (memchr(pb, 0, plen)) {
				rc = sl_diag_set(d, SL_ERR_NAME, "line %u: path refused: NUL byte (%%00)", c.line);
				goto fail;
			}
			f->path = (char *)pb;
			poolused += plen + 1;
		}
		if (f->size > lim->max_total_bytes - sum) {
			rc = sl_diag_set(d, SL_ERR_RANGE, "line %u: sizes add up to more than the limit of %llu bytes",
					 c.line, (unsigned long long)lim->max_total_bytes);
			goto fail;
		}
		f->offset = sum;
		sum += f->size;
		if ((rc = check_file(m, i, true, d)))
			goto fail;
	}
	if (sum != m->total_bytes) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "line %d: bytes %llu, but the file sizes add up to %llu", HEADER_LINES,
				 (unsigned long long)m->total_bytes, (unsigned long long)sum);
		goto fail;
	}
	rc = next_line(&c, &s, &n, d);
	if (rc)
		goto fail;
	if (n != 3 || memcmp(s, "end", 3)) {
		rc = sl_diag_set(d, SL_ERR_PARSE, n >= 5 && !memcmp(s, "file ", 5) ?
				 "line %u: more file lines than the header's files count" :
				 "line %u: expected 'end'", c.line);
		goto fail;
	}
	if (c.p != c.end) {
		rc = sl_diag_set(d, SL_ERR_PARSE, "line %u: data after the 'end' line", c.line + 1);
		goto fail;
	}
	*out = m;
	return SL_OK;
fail:
	sl_manifest_free(m);
	return rc;
}

void sl_manifest_free(struct sl_manifest *m)
{
	if (!m)
		return;
	if (!m->pool_) {
		for (size_t i = 0; i < m->nfiles; i++)
			free(m->files[i].path);
		free(m->purpose);
	}
	free(m->files);
	free(m->pool_);
	free(m);
}

int sl_manifest_id_bytes(const struct sl_manifest *m, uint8_t id[SL_ID_BYTES])
{
	memcpy(id, m->id, SL_ID_BYTES);
	return SL_OK;
}

/* ---- build ---------------------------------------------------------------- */

int sl_manifest_new(struct sl_manifest **out)
{
	struct sl_manifest *m;
	if (sodium_init() < 0)
		return SL_ERR_CRYPTO;
	m = calloc(1, sizeof *m);
	if (!m)
		return SL_ERR_NOMEM;
	m->version = SL_MANIFEST_VERSION;
	randombytes_buf(m->id, sizeof m->id);
	id_to_hex(m->id, m->id_hex);
	*out = m;
	return SL_OK;
}

int sl_manifest_set_purpose(struct sl_manifest *m, const char *purpose, struct sl_diag *d)
{
	int rc = purpose_check((const uint8_t *)purpose, strlen(purpose), d);
	char *p;
	if (rc)
		return rc;
	p = strdup(purpose);
	if (!p)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	free(m->purpose);
	m->purpose = p;
	return SL_OK;
}

int sl_manifest_add_file(struct sl_manifest *m, const char *path, uint64_t size,
			 const uint8_t sha256[32], unsigned mode)
{
	if (m->nfiles == m->cap_) {
		size_t nc = m->cap_ ? m->cap_ * 2 : 64;
		struct sl_manifest_file *nf = realloc(m->files, nc * sizeof *nf);
		if (!nf)
			return SL_ERR_NOMEM;
		m->files = nf;
		m->cap_ = nc;
	}
	struct sl_manifest_file *f = &m->files[m->nfiles];
	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	if (!f->path)
		return SL_ERR_NOMEM;
	f->size = size;
	memcpy(f->sha256, sha256, 32);
	f->mode = mode;
	m->nfiles++;
	return SL_OK;
}

static int file_cmp(const void *a, const void *b)
{
	return cmp_path(((const struct sl_manifest_file *)a)->path, ((const struct sl_manifest_file *)b)->path);
}

int sl_manifest_seal(struct sl_manifest *m, const struct sl_manifest_limits *lim, struct sl_diag *d)
{
	struct sl_manifest_limits dl;
	uint64_t sum = 0;
	int rc;

	if (!lim) {
		sl_manifest_default_limits(&dl);
		lim = &dl;
	}
	if (!sl_label_ok(m->submitter) || !sl_label_ok(m->enclave) || !sl_label_ok(m->link))
		return sl_diag_set(d, SL_ERR_INVAL, "submitter, enclave and link must be names ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64)");
	if (!m->purpose)
		return sl_diag_set(d, SL_ERR_INVAL, "no purpose");
	if (m->sequence > INT64_MAX)
		return sl_diag_set(d, SL_ERR_RANGE, "sequence above 2^63-1");
	if (m->created < 0 || m->expires > TIME_MAX_SECONDS || m->expires <= m->created)
		return sl_diag_set(d, SL_ERR_RANGE, "validity window: expires must be after created (and before year 10000)");
	if (m->nfiles == 0)
		return sl_diag_set(d, SL_ERR_RANGE, "no files: a transfer lists at least one file");
	if (m->nfiles > lim->max_files)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%zu files exceed the limit of %llu", m->nfiles,
				   (unsigned long long)lim->max_files);
	qsort(m->files, m->nfiles, sizeof *m->files, file_cmp);
	for (size_t i = 0; i < m->nfiles; i++) {
		if (m->files[i].size > lim->max_total_bytes - sum)
			return sl_diag_set(d, SL_ERR_TOOBIG, "total size exceeds the limit of %llu bytes",
					   (unsigned long long)lim->max_total_bytes);
		m->files[i].offset = sum;
		sum += m->files[i].size;
		if ((rc = check_file(m, i, false, d)))
			return rc;
	}
	m->total_bytes = sum;
	return SL_OK;
}

int sl_manifest_emit(const struct sl_manifest *m, char **text, size_t *len, struct sl_diag *d)
{
	char *buf = NULL, t1[32], t2[32], hex[SL_SHA256_HEX];
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	char *enc;
	size_t elen;

	if (!f)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	elen = sl_pct_encoded_len((const uint8_t *)m->purpose, strlen(m->purpose), SL_PCT_TEXT) + 1;
	enc = malloc(elen > 3 * SL_PATH_MAX_BYTES + 1 ? elen : 3 * SL_PATH_MAX_BYTES + 1);
	if (!enc) {
		fclose(f);
		free(buf);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	sl_pct_encode((const uint8_t *)m->purpose, strlen(m->purpose), SL_PCT_TEXT, enc, elen);
	fprintf(f, "sluice-manifest %u\nid %s\nsequence %llu\ncreated %s\nexpires %s\n"
		   "submitter %s\npurpose %s\nenclave %s\nlink %s\nfiles %zu\nbytes %llu\n",
		m->version, m->id_hex, (unsigned long long)m->sequence,
		sl_time_format(m->created, t1, sizeof t1), sl_time_format(m->expires, t2, sizeof t2),
		m->submitter, enc, m->enclave, m->link, m->nfiles, (unsigned long long)m->total_bytes);
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct sl_manifest_file *fl = &m->files[i];
		if (sl_pct_encode((const uint8_t *)fl->path, strlen(fl->path), SL_PCT_PATH, enc,
				  3 * SL_PATH_MAX_BYTES + 1) == (size_t)-1) {
			fclose(f);
			free(buf);
			free(enc);
			return sl_diag_set(d, SL_ERR_INVAL, "path too long (manifest not sealed?)");
		}
		fprintf(f, "file %s %llu %04o %s\n", sl_sha256_hex(fl->sha256, hex),
			(unsigned long long)fl->size, fl->mode, enc);
	}
	fputs("end\n", f);
	free(enc);
	if (fclose(f) != 0) {
		free(buf);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	*text = buf;
	*len = blen;
	return SL_OK;
}
