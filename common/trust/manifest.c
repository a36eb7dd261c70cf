/* manifest.c — strict parser and canonical emitter of the manifest format. */
#include "manifest.h"
#include "grow.h"
#include "hex.h"
#include "units.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "pathname.h"
#include "sha256.h"


void sl_manifest_default_limits(struct sl_manifest_limits *lim)
{
	lim->max_manifest_bytes = SL_MANIFEST_DEFAULT_MAX_BYTES;
	lim->max_files = SL_MANIFEST_DEFAULT_MAX_FILES;
	lim->max_total_bytes = SL_MANIFEST_DEFAULT_MAX_TOTAL;
}

#define TIME_MAX_SECONDS SL_TIME_MAX_SECONDS

/* ---- small parsers -------------------------------------------------------- */

static int parse_id(const char *s, size_t n, uint8_t id[SL_ID_BYTES])
{
	return sl_hex_decode(s, n, SL_HEX_LOWER, id, SL_ID_BYTES);
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
	uint32_t cp;
	size_t at = sl_find_invisible(p, n, &cp);
	if (at != (size_t)-1)
		return sl_diag_set(d, SL_ERR_PARSE, "invisible character U+%04X in purpose at offset %zu "
				   "(format, separator or default-ignorable code point)", cp, at);
	return SL_OK;
}

/* ---- modification times ---------------------------------------------------- */

bool sl_mtime_ok(struct timespec t)
{
	return t.tv_sec >= 0 && t.tv_sec <= TIME_MAX_SECONDS && t.tv_nsec >= 0 && t.tv_nsec <= 999999999;
}

int sl_mtime_parse(const char *s, size_t len, struct timespec *t)
{
	const char *dot = memchr(s, '.', len);
	uint64_t sec, ns;
	int rc;

	if (!dot || (size_t)(s + len - dot) != 10)
		return SL_ERR_PARSE;
	rc = sl_parse_decimal_canon_n(s, (size_t)(dot - s), 0, TIME_MAX_SECONDS, &sec);
	if (rc)
		return rc;
	if (sl_parse_decimal_n(dot + 1, 9, 0, 999999999, &ns))
		return SL_ERR_PARSE;
	t->tv_sec = (time_t)sec;
	t->tv_nsec = (long)ns;
	return SL_OK;
}

const char *sl_mtime_format(struct timespec t, char *buf, size_t len)
{
	snprintf(buf, len, "%lld.%09ld", (long long)t.tv_sec, (long)t.tv_nsec);
	return buf;
}

const char *sl_mtime_format_utc(struct timespec t, char *buf, size_t len)
{
	char s[32];
	if (!sl_mtime_ok(t))
		snprintf(buf, len, "(out of range: %lld.%09ld)", (long long)t.tv_sec, (long)t.tv_nsec);
	else
		snprintf(buf, len, "%.19s.%09ldZ", sl_time_format(t.tv_sec, s, sizeof s), (long)t.tv_nsec);
	return buf;
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
	rc = sl_parse_decimal_canon_n(s, n, 0, max, v);
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

/* Binary search over an array of structs whose first member is `char *path`,
 * sorted by path, for path[0..plen). */
static long find_in(const void *base, size_t n, size_t stride, const char *path, size_t plen)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *a = *(const unsigned char *const *)((const char *)base + mid * stride);
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

_Static_assert(offsetof(struct sl_manifest_file, path) == 0, "find_in needs path first");
_Static_assert(offsetof(struct sl_manifest_dir, path) == 0, "find_in needs path first");

static long find_file(const struct sl_manifest *m, size_t n, const char *path, size_t plen)
{
	return find_in(m->files, n, sizeof *m->files, path, plen);
}

static long find_dir(const struct sl_manifest *m, size_t n, const char *path, size_t plen)
{
	return find_in(m->dirs, n, sizeof *m->dirs, path, plen);
}

long sl_manifest_find(const struct sl_manifest *m, const char *path)
{
	return find_file(m, m->nfiles, path, strlen(path));
}

long sl_manifest_find_dir(const struct sl_manifest *m, const char *path)
{
	return find_dir(m, m->ndirs, path, strlen(path));
}

long sl_manifest_find_taken(const struct sl_manifest *m, const char *path)
{
	return find_in(m->taken, m->ntaken, sizeof *m->taken, path, strlen(path));
}

const struct sl_manifest_file *sl_manifest_lookup(const struct sl_manifest *m, const char *path)
{
	long i = sl_manifest_find(m, path);
	if (i >= 0)
		return &m->files[i];
	i = sl_manifest_find_taken(m, path);
	return i >= 0 ? &m->taken[i] : NULL;
}

size_t sl_manifest_all(const struct sl_manifest *m)
{
	return m->nfiles + m->ntaken;
}

const struct sl_manifest_file *sl_manifest_at(const struct sl_manifest *m, size_t i)
{
	return i < m->nfiles ? &m->files[i] : &m->taken[i - m->nfiles];
}

/* The first file ending after off. It is not empty: the file before it
 * ends at or before off and it starts there (offsets are contiguous), so it
 * starts at or before off and ends after it. */
size_t sl_manifest_file_at(const struct sl_manifest_file *files, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (files[mid].offset + files[mid].size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Lines of the header: "sluice-manifest" to "bytes" ("taken-bytes"). */
static unsigned header_lines(const struct sl_manifest *m)
{
	return m->version >= 3 ? 15 : m->version >= 2 ? 12 : 11;
}

/* where(): "line N" for parsed manifests (line > 0), the path otherwise. */
static void where(char *buf, size_t len, size_t line, const char *path)
{
	if (line) {
		snprintf(buf, len, "line %zu", line);
	} else {
		char enc[200];
		size_t plen = strlen(path);
		if (sl_pct_encode((const uint8_t *)path, plen > 60 ? 60 : plen, SL_PCT_PATH, enc, sizeof enc) == (size_t)-1)
			enc[0] = '\0';
		snprintf(buf, len, "'%s%s'", enc, plen > 60 ? "..." : "");
	}
}

/* The name rules, order against the entry before, mode and time of one
 * directory or file line. */
static int check_entry(const char *path, const char *prev, unsigned mode, bool is_dir, struct timespec mtime,
		       size_t line, struct sl_diag *d)
{
	char w[256];
	int rc = sl_path_check((const uint8_t *)path, strlen(path), d);

	if (rc) {
		char reason[sizeof d->msg];
		where(w, sizeof w, line, path);
		snprintf(reason, sizeof reason, "%s", d ? d->msg : "");
		return sl_diag_set(d, rc, "%s: path refused: %s", w, reason);
	}
	where(w, sizeof w, line, path);
	if (is_dir && mode != 0755)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: directory mode %o (directories are 0755)", w, mode);
	if (!is_dir && mode != 0644 && mode != 0755)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: mode %o (only 0644 and 0755)", w, mode);
	if (!sl_mtime_ok(mtime))
		return sl_diag_set(d, SL_ERR_RANGE, "%s: modification time outside 1970..9999", w);
	if (prev) {
		int c = cmp_path(prev, path);
		if (c == 0)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: duplicate path", w);
		if (c > 0)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: not in bytewise order (must sort before the line above)", w);
	}
	return SL_OK;
}

/* dirs[i] against dirs[0..i): its parent is listed before it. */
static int check_dir(const struct sl_manifest *m, size_t i, size_t line, struct sl_diag *d)
{
	const struct sl_manifest_dir *e = &m->dirs[i];
	const char *slash;
	char w[256];
	int rc = check_entry(e->path, i ? m->dirs[i - 1].path : NULL, e->mode, true, e->mtime, line, d);

	if (rc)
		return rc;
	slash = strrchr(e->path, '/');
	if (slash && find_dir(m, i, e->path, (size_t)(slash - e->path)) < 0) {
		where(w, sizeof w, line, e->path);
		return sl_diag_set(d, SL_ERR_NAME, "%s: its parent directory is not listed", w);
	}
	return SL_OK;
}

/* f (files[i] or taken[i]) against the file line before it (prev, of
 * either kind), every directory and, in version 1, files[0..i). */
static int check_file(const struct sl_manifest *m, const struct sl_manifest_file *f, size_t i, const char *prev,
		      size_t line, struct sl_diag *d)
{
	size_t plen = strlen(f->path);
	const char *slash = strrchr(f->path, '/');
	char w[256];
	int rc = check_entry(f->path, prev, f->mode, false, f->mtime, line, d);

	if (rc)
		return rc;
	where(w, sizeof w, line, f->path);
	if (m->version >= 2) {
		if (slash && find_dir(m, m->ndirs, f->path, (size_t)(slash - f->path)) < 0)
			return sl_diag_set(d, SL_ERR_NAME, "%s: the directory of this file is not listed", w);
		if (find_dir(m, m->ndirs, f->path, plen) >= 0)
			return sl_diag_set(d, SL_ERR_NAME, "%s: also listed as a directory", w);
		return SL_OK;
	}
	/* Version 1: a file that is a directory prefix of this one sorts before it. */
	for (size_t j = 0; j < plen; j++) {
		if (f->path[j] != '/')
			continue;
		long k = find_file(m, i, f->path, j);
		if (k >= 0)
			return sl_diag_set(d, SL_ERR_NAME, "%s: a listed file is also a directory of this path (line %ld)",
					   w, k + (long)header_lines(m) + 1);
	}
	return SL_OK;
}

/* ---- parse ---------------------------------------------------------------- */

struct parser {
	struct cursor c;
	struct sl_manifest *m;
	const struct sl_manifest_limits *lim;
	size_t cap, used;             /* of m->pool_ */
	uint64_t sum, tsum;           /* sizes of file lines, of take lines */
	const char *prev;             /* path of the last file or take line */
	struct sl_diag *d;
};

static int parse_version(struct parser *ps)
{
	const char *s;
	size_t n;
	int rc = next_line(&ps->c, &s, &n, ps->d);

	if (rc)
		return rc;
	if (n < 17 || memcmp(s, "sluice-manifest ", 16))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line 1: not a sluice manifest (expected 'sluice-manifest %d')",
				   SL_MANIFEST_VERSION);
	if (n != 17 || s[16] < '1' || s[16] > '3')
		return sl_diag_set(ps->d, SL_ERR_UNSUPPORTED,
				   "line 1: manifest format version '%.*s' (this sluice reads versions 1, 2 and 3)",
				   (int)(n - 16 > 24 ? 24 : n - 16), s + 16);
	ps->m->version = (unsigned)(s[16] - '0');
	return SL_OK;
}

/* Percent-decode a field into the pool. */
static int decode_into_pool(struct parser *ps, const char *s, size_t n, enum sl_pct_mode mode, char **out,
			    size_t *outlen, struct sl_diag *sub)
{
	uint8_t *pb = (uint8_t *)ps->m->pool_ + ps->used;
	int rc = sl_pct_decode(s, n, mode, pb, ps->cap - ps->used, outlen, sub);
	if (rc)
		return rc;
	*out = (char *)pb;
	ps->used += *outlen + 1;
	return SL_OK;
}

static int parse_purpose(struct parser *ps)
{
	const char *s;
	size_t n, plen;
	struct sl_diag sub;
	int rc = keyed_line(&ps->c, "purpose", &s, &n, ps->d);

	if (rc)
		return rc;
	rc = decode_into_pool(ps, s, n, SL_PCT_TEXT, &ps->m->purpose, &plen, &sub);
	if (!rc)
		rc = purpose_check((const uint8_t *)ps->m->purpose, plen, &sub);
	if (rc)
		return sl_diag_set(ps->d, rc, "line %u: purpose: %s", ps->c.line, sub.msg);
	return SL_OK;
}

/* Version 3: "base ID SHA256", the release this delta applies to. */
static int parse_base(struct parser *ps)
{
	struct sl_manifest *m = ps->m;
	const char *s;
	size_t n;
	int rc = keyed_line(&ps->c, "base", &s, &n, ps->d);

	if (rc)
		return rc;
	if (n != 2 * SL_ID_BYTES + 1 + 64 || s[2 * SL_ID_BYTES] != ' ' || parse_id(s, 2 * SL_ID_BYTES, m->base_id) ||
	    sl_sha256_from_hex(s + 2 * SL_ID_BYTES + 1, 64, m->base_sha256))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: base is not a transfer id (32 lowercase hex digits), "
				   "a space and a SHA-256 (64 lowercase hex digits)", ps->c.line);
	if (!memcmp(m->base_id, m->id, SL_ID_BYTES))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: a transfer cannot be its own base", ps->c.line);
	id_to_hex(m->base_id, m->base_hex);
	m->has_base = true;
	return SL_OK;
}

static int parse_header(struct parser *ps)
{
	struct sl_manifest *m = ps->m;
	struct cursor *c = &ps->c;
	const char *s;
	size_t n;
	int rc;

	if ((rc = keyed_line(c, "id", &s, &n, ps->d)))
		return rc;
	if (parse_id(s, n, m->id))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: id is not 32 lowercase hex digits", c->line);
	id_to_hex(m->id, m->id_hex);
	if ((rc = number_field(c, "sequence", INT64_MAX, &m->sequence, ps->d)))
		return rc;
	if ((rc = time_field(c, "created", &m->created, ps->d)) || (rc = time_field(c, "expires", &m->expires, ps->d)))
		return rc;
	if (m->expires <= m->created)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: expires is not after created", c->line);
	if ((rc = label_field(c, "submitter", m->submitter, ps->d)) || (rc = parse_purpose(ps)))
		return rc;
	if ((rc = label_field(c, "enclave", m->enclave, ps->d)) || (rc = label_field(c, "link", m->link, ps->d)))
		return rc;
	return m->version >= 3 ? parse_base(ps) : SL_OK;
}

/* Minimal line lengths, to refuse counts the text cannot hold before
 * allocating anything for them. */
#define MIN_FILE_LINE_V1 79 /* "file " 64 hex " 0 0644 a\n" */
#define MIN_FILE_LINE_V2 91 /* the same with " 0.000000000" */
#define MIN_DIR_LINE 23     /* "dir 0755 0.000000000 a\n" */

/* Version 3: "taken N" and "taken-bytes B" after "bytes"; room is what
 * the text has left for them after the file lines. */
static int parse_taken_counts(struct parser *ps, uint64_t room)
{
	struct sl_manifest *m = ps->m;
	struct cursor *c = &ps->c;
	uint64_t v;
	int rc;

	if ((rc = number_field(c, "taken", ps->lim->max_files, &v, ps->d)))
		return rc;
	if (v > room / MIN_FILE_LINE_V2)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: taken %llu, but the rest of the manifest cannot hold "
				   "that many lines", c->line, (unsigned long long)v);
	if (v + m->nfiles == 0)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: a transfer lists at least one file", c->line);
	if (v + m->nfiles > ps->lim->max_files)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: files and taken add up to more than the limit of %llu",
				   c->line, (unsigned long long)ps->lim->max_files);
	m->ntaken = (size_t)v;
	if ((rc = number_field(c, "taken-bytes", ps->lim->max_total_bytes, &m->taken_bytes, ps->d)))
		return rc;
	if (m->taken_bytes > ps->lim->max_total_bytes - m->total_bytes)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: bytes and taken-bytes add up to more than the limit "
				   "of %llu", c->line, (unsigned long long)ps->lim->max_total_bytes);
	return SL_OK;
}

static int parse_counts(struct parser *ps)
{
	struct sl_manifest *m = ps->m;
	struct cursor *c = &ps->c;
	uint64_t v, room = (uint64_t)(c->end - c->p);
	int rc;

	if (m->version >= 2) {
		if ((rc = number_field(c, "dirs", ps->lim->max_files, &v, ps->d)))
			return rc;
		if (v > room / MIN_DIR_LINE)
			return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: dirs %llu, but the rest of the manifest cannot hold "
					   "that many lines", c->line, (unsigned long long)v);
		m->ndirs = (size_t)v;
		room -= v * MIN_DIR_LINE;
	}
	if ((rc = number_field(c, "files", ps->lim->max_files, &v, ps->d)))
		return rc;
	if (v == 0 && m->version < 3)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: a transfer lists at least one file", c->line);
	if (v > room / (m->version >= 2 ? MIN_FILE_LINE_V2 : MIN_FILE_LINE_V1))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: files %llu, but the rest of the manifest cannot hold "
				   "that many lines", c->line, (unsigned long long)v);
	m->nfiles = (size_t)v;
	if ((rc = number_field(c, "bytes", ps->lim->max_total_bytes, &m->total_bytes, ps->d)))
		return rc;
	if (m->version >= 3 && (rc = parse_taken_counts(ps, room - v * MIN_FILE_LINE_V2)))
		return rc;
	m->dirs = calloc(m->ndirs ? m->ndirs : 1, sizeof *m->dirs);
	m->files = calloc(m->nfiles ? m->nfiles : 1, sizeof *m->files);
	m->taken = calloc(m->ntaken ? m->ntaken : 1, sizeof *m->taken);
	if (!m->dirs || !m->files || !m->taken)
		return sl_diag_set(ps->d, SL_ERR_NOMEM, "out of memory");
	return SL_OK;
}

/* Split s[0..n) into nf fields at single spaces; the last takes the rest. */
static int split_fields(struct parser *ps, const char *s, size_t n, size_t nf, const char **fld, size_t *fl,
			const char *what)
{
	const char *q = s;
	for (size_t k = 0; k < nf; k++) {
		const char *sp = k + 1 < nf ? memchr(q, ' ', (size_t)(s + n - q)) : s + n;
		if (!sp)
			return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: %s", ps->c.line, what);
		fld[k] = q;
		fl[k] = (size_t)(sp - q);
		if (fl[k] == 0)
			return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: empty field or double space", ps->c.line);
		q = sp + 1;
	}
	if (memchr(fld[nf - 1], ' ', fl[nf - 1]))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: space in path (spaces are written %%20)", ps->c.line);
	return SL_OK;
}

static int parse_path_field(struct parser *ps, const char *s, size_t n, char **out)
{
	struct sl_diag sub;
	size_t plen;
	int rc = decode_into_pool(ps, s, n, SL_PCT_PATH, out, &plen, &sub);
	if (rc)
		return sl_diag_set(ps->d, rc, "line %u: path: %s", ps->c.line, sub.msg);
	if (memchr(*out, 0, plen))
		return sl_diag_set(ps->d, SL_ERR_NAME, "line %u: path refused: NUL byte (%%00)", ps->c.line);
	return SL_OK;
}

static int parse_mtime_field(struct parser *ps, const char *s, size_t n, struct timespec *t)
{
	int rc = sl_mtime_parse(s, n, t);
	if (rc == SL_ERR_RANGE)
		return sl_diag_set(ps->d, rc, "line %u: modification time after the year 9999", ps->c.line);
	if (rc)
		return sl_diag_set(ps->d, rc, "line %u: modification time is not SECONDS.NNNNNNNNN (canonical decimal "
				   "seconds, nine digits of nanoseconds)", ps->c.line);
	return SL_OK;
}

static int parse_mode_field(struct parser *ps, const char *s, size_t n, bool is_dir, unsigned *mode)
{
	if (n == 4 && !memcmp(s, "0755", 4))
		*mode = 0755;
	else if (!is_dir && n == 4 && !memcmp(s, "0644", 4))
		*mode = 0644;
	else
		return sl_diag_set(ps->d, SL_ERR_PARSE, is_dir ? "line %u: directory mode must be 0755" :
				   "line %u: mode must be 0644 or 0755", ps->c.line);
	return SL_OK;
}

static int parse_dir_line(struct parser *ps, size_t i)
{
	struct sl_manifest_dir *e = &ps->m->dirs[i];
	const char *s, *fld[3];
	size_t n, fl[3];
	int rc = next_line(&ps->c, &s, &n, ps->d);

	if (rc)
		return rc;
	if (n < 4 || memcmp(s, "dir ", 4)) {
		if (n >= 5 && !memcmp(s, "file ", 5))
			return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: a 'file' line after %zu dir lines, but the header "
					   "says dirs %zu", ps->c.line, i, ps->m->ndirs);
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: expected a 'dir' line", ps->c.line);
	}
	if ((rc = split_fields(ps, s + 4, n - 4, 3, fld, fl, "a dir line has three fields: mode mtime path")) ||
	    (rc = parse_mode_field(ps, fld[0], fl[0], true, &e->mode)) ||
	    (rc = parse_mtime_field(ps, fld[1], fl[1], &e->mtime)) ||
	    (rc = parse_path_field(ps, fld[2], fl[2], &e->path)))
		return rc;
	return check_dir(ps->m, i, ps->c.line, ps->d);
}

/* The next line is a "file" line (*take false) or, in version 3, a "take"
 * line (*take true); nf and nt lines of each came before it. */
static int file_line_start(struct parser *ps, size_t nf, size_t nt, const char **s, size_t *n, bool *take)
{
	struct sl_manifest *m = ps->m;
	int rc = next_line(&ps->c, s, n, ps->d);
	if (rc)
		return rc;
	*take = m->version >= 3 && *n >= 5 && !memcmp(*s, "take ", 5);
	if (*take && nt == m->ntaken)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: more take lines than the header's taken %zu",
				   ps->c.line, m->ntaken);
	if (!*take && *n >= 5 && !memcmp(*s, "file ", 5) && nf == m->nfiles)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: more file lines than the header's files %zu",
				   ps->c.line, m->nfiles);
	if (*take || (*n >= 5 && !memcmp(*s, "file ", 5)))
		return SL_OK;
	if (*n == 3 && !memcmp(*s, "end", 3))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: 'end' after %zu file lines, but the header says files %zu",
				   ps->c.line, nf + nt, m->nfiles + m->ntaken);
	if (*n >= 4 && !memcmp(*s, "dir ", 4))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: a 'dir' line among the file lines (dir lines come "
				   "first, as many as the header's dirs)", ps->c.line);
	return sl_diag_set(ps->d, SL_ERR_PARSE, m->version >= 3 ? "line %u: expected a 'file' or 'take' line" :
			   "line %u: expected a 'file' line", ps->c.line);
}

/* Line k of the file and take lines; *nf and *nt count each kind so far. */
static int parse_file_line(struct parser *ps, size_t *nf, size_t *nt)
{
	bool v2 = ps->m->version >= 2, take;
	size_t nfld = v2 ? 5 : 4, n, fl[5], i;
	const char *s, *fld[5];
	struct sl_manifest_file *f;
	uint64_t *sum;
	int rc;

	if ((rc = file_line_start(ps, *nf, *nt, &s, &n, &take)))
		return rc;
	i = take ? (*nt)++ : (*nf)++;
	f = take ? &ps->m->taken[i] : &ps->m->files[i];
	sum = take ? &ps->tsum : &ps->sum;
	if ((rc = split_fields(ps, s + 5, n - 5, nfld, fld, fl, v2 ? "a file line has five fields: sha256 size mode "
			       "mtime path" : "a file line has four fields: sha256 size mode path")))
		return rc;
	if (sl_sha256_from_hex(fld[0], fl[0], f->sha256))
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: SHA-256 is not 64 lowercase hex digits", ps->c.line);
	rc = sl_parse_decimal_canon_n(fld[1], fl[1], 0, ps->lim->max_total_bytes, &f->size);
	if (rc)
		return sl_diag_set(ps->d, rc, rc == SL_ERR_RANGE ? "line %u: size exceeds the limit" :
				   "line %u: size is not a canonical decimal number", ps->c.line);
	if ((rc = parse_mode_field(ps, fld[2], fl[2], false, &f->mode)))
		return rc;
	if (v2 && (rc = parse_mtime_field(ps, fld[3], fl[3], &f->mtime)))
		return rc;
	if ((rc = parse_path_field(ps, fld[nfld - 1], fl[nfld - 1], &f->path)))
		return rc;
	if (f->size > ps->lim->max_total_bytes - ps->sum - ps->tsum)
		return sl_diag_set(ps->d, SL_ERR_RANGE, "line %u: sizes add up to more than the limit of %llu bytes",
				   ps->c.line, (unsigned long long)ps->lim->max_total_bytes);
	f->offset = take ? 0 : ps->sum;
	*sum += f->size;
	rc = check_file(ps->m, f, i, ps->prev, ps->c.line, ps->d);
	ps->prev = f->path;
	return rc;
}

static int parse_end(struct parser *ps)
{
	const char *s;
	size_t n;
	int rc;

	if (ps->sum != ps->m->total_bytes)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: bytes %llu, but the file sizes add up to %llu",
				   ps->m->version >= 3 ? 13 : header_lines(ps->m), (unsigned long long)ps->m->total_bytes,
				   (unsigned long long)ps->sum);
	if (ps->tsum != ps->m->taken_bytes)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: taken-bytes %llu, but the sizes of the take lines add "
				   "up to %llu", header_lines(ps->m), (unsigned long long)ps->m->taken_bytes,
				   (unsigned long long)ps->tsum);
	if ((rc = next_line(&ps->c, &s, &n, ps->d)))
		return rc;
	if (n != 3 || memcmp(s, "end", 3))
		return sl_diag_set(ps->d, SL_ERR_PARSE, n >= 5 && (!memcmp(s, "file ", 5) || !memcmp(s, "take ", 5)) ?
				   "line %u: more file lines than the header's files count" :
				   "line %u: expected 'end'", ps->c.line);
	if (ps->c.p != ps->c.end)
		return sl_diag_set(ps->d, SL_ERR_PARSE, "line %u: data after the 'end' line", ps->c.line + 1);
	return SL_OK;
}

int sl_manifest_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
		      struct sl_manifest **out, struct sl_diag *d)
{
	struct sl_manifest_limits dl;
	struct parser ps = { { (const char *)text, (const char *)text + len, 0 }, NULL, lim, len + 1, 0, 0, 0, NULL, d };
	int rc;

	if (!lim) {
		sl_manifest_default_limits(&dl);
		ps.lim = &dl;
	}
	*out = NULL;
	if (len > ps.lim->max_manifest_bytes)
		return sl_diag_set(d, SL_ERR_TOOBIG, "manifest of %zu bytes exceeds the limit of %llu", len,
				   (unsigned long long)ps.lim->max_manifest_bytes);
	ps.m = calloc(1, sizeof *ps.m);
	if (!ps.m || !(ps.m->pool_ = malloc(len + 1))) {
		free(ps.m);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	rc = parse_version(&ps);
	if (!rc)
		rc = parse_header(&ps);
	if (!rc)
		rc = parse_counts(&ps);
	for (size_t i = 0; !rc && i < ps.m->ndirs; i++)
		rc = parse_dir_line(&ps, i);
	for (size_t nf = 0, nt = 0; !rc && nf + nt < ps.m->nfiles + ps.m->ntaken;)
		rc = parse_file_line(&ps, &nf, &nt);
	if (!rc)
		rc = parse_end(&ps);
	if (rc) {
		sl_manifest_free(ps.m);
		return rc;
	}
	*out = ps.m;
	return SL_OK;
}

void sl_manifest_free(struct sl_manifest *m)
{
	if (!m)
		return;
	if (!m->pool_) {
		for (size_t i = 0; i < m->nfiles; i++)
			free(m->files[i].path);
		for (size_t i = 0; i < m->ndirs; i++)
			free(m->dirs[i].path);
		for (size_t i = 0; i < m->ntaken; i++)
			free(m->taken[i].path);
		free(m->purpose);
	}
	free(m->taken);
	free(m->files);
	free(m->dirs);
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

/* A file line appended to *arr (the sent or the taken files). */
static int append_file(struct sl_manifest_file **arr, size_t *n, size_t *cap, const char *path,
		       uint64_t size, const uint8_t sha256[32], unsigned mode, struct timespec mtime)
{
	struct sl_manifest_file *f;

	if (sl_grow(arr, *n, cap, sizeof **arr))
		return SL_ERR_NOMEM;
	f = &(*arr)[*n];
	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	if (!f->path)
		return SL_ERR_NOMEM;
	f->size = size;
	memcpy(f->sha256, sha256, 32);
	f->mode = mode;
	f->mtime = mtime;
	(*n)++;
	return SL_OK;
}

int sl_manifest_add_file(struct sl_manifest *m, const char *path, uint64_t size,
			 const uint8_t sha256[32], unsigned mode, struct timespec mtime)
{
	return append_file(&m->files, &m->nfiles, &m->cap_, path, size, sha256, mode, mtime);
}

void sl_manifest_set_base(struct sl_manifest *m, const uint8_t id[SL_ID_BYTES], const uint8_t sha256[32])
{
	m->version = SL_MANIFEST_VERSION_DELTA;
	m->has_base = true;
	memcpy(m->base_id, id, SL_ID_BYTES);
	id_to_hex(m->base_id, m->base_hex);
	memcpy(m->base_sha256, sha256, 32);
}

int sl_manifest_take_file(struct sl_manifest *m, const char *path, uint64_t size,
			  const uint8_t sha256[32], unsigned mode, struct timespec mtime)
{
	return append_file(&m->taken, &m->ntaken, &m->tcap_, path, size, sha256, mode, mtime);
}

int sl_manifest_add_dir(struct sl_manifest *m, const char *path, unsigned mode, struct timespec mtime)
{
	struct sl_manifest_dir *e;
	if (sl_grow(&m->dirs, m->ndirs, &m->dcap_, sizeof *m->dirs))
		return SL_ERR_NOMEM;
	e = &m->dirs[m->ndirs];
	e->path = strdup(path);
	if (!e->path)
		return SL_ERR_NOMEM;
	e->mode = mode;
	e->mtime = mtime;
	m->ndirs++;
	return SL_OK;
}

int sl_manifest_reserve(struct sl_manifest *m, size_t ndirs, size_t nfiles)
{
	if (m->pool_)
		return SL_ERR_INVAL;
	if (nfiles > m->cap_) {
		struct sl_manifest_file *nf = realloc(m->files, nfiles * sizeof *nf);
		if (!nf)
			return SL_ERR_NOMEM;
		m->files = nf;
		m->cap_ = nfiles;
	}
	if (ndirs > m->dcap_) {
		struct sl_manifest_dir *nd = realloc(m->dirs, ndirs * sizeof *nd);
		if (!nd)
			return SL_ERR_NOMEM;
		m->dirs = nd;
		m->dcap_ = ndirs;
	}
	return SL_OK;
}

static int file_cmp(const void *a, const void *b)
{
	return cmp_path(((const struct sl_manifest_file *)a)->path, ((const struct sl_manifest_file *)b)->path);
}

static int dir_cmp(const void *a, const void *b)
{
	return cmp_path(((const struct sl_manifest_dir *)a)->path, ((const struct sl_manifest_dir *)b)->path);
}

/* Are the n elements (each starting with `char *path`) in strictly
 * ascending order? Equal paths count as unsorted: the checks name them. */
static bool sorted(const void *base, size_t n, size_t stride)
{
	for (size_t i = 1; i < n; i++)
		if (cmp_path(*(char *const *)((const char *)base + (i - 1) * stride),
			     *(char *const *)((const char *)base + i * stride)) >= 0)
			return false;
	return true;
}

/* Is path[0..plen) among dirs[0..n) (unsorted)? Linear: for builders. */
static bool has_dir(const struct sl_manifest *m, const char *path, size_t plen)
{
	for (size_t i = 0; i < m->ndirs; i++)
		if (!strncmp(m->dirs[i].path, path, plen) && m->dirs[i].path[plen] == '\0')
			return true;
	return false;
}

/* Adds every proper prefix of path[0..plen) not listed yet. */
static int add_prefixes(struct sl_manifest *m, const char *path, size_t plen, struct timespec mtime)
{
	for (size_t j = 1; j < plen; j++) {
		if (path[j] != '/' || has_dir(m, path, j))
			continue;
		char *p = strndup(path, j);
		int rc = p ? sl_manifest_add_dir(m, p, 0755, mtime) : SL_ERR_NOMEM;
		free(p);
		if (rc)
			return rc;
	}
	return SL_OK;
}

int sl_manifest_add_parent_dirs(struct sl_manifest *m, struct timespec mtime)
{
	int rc = SL_OK;
	for (size_t i = 0; i < m->nfiles && !rc; i++)
		rc = add_prefixes(m, m->files[i].path, strlen(m->files[i].path), mtime);
	for (size_t i = 0; i < m->ntaken && !rc; i++)
		rc = add_prefixes(m, m->taken[i].path, strlen(m->taken[i].path), mtime);
	for (size_t i = 0; i < m->ndirs && !rc; i++) /* ndirs grows: new ones are complete already */
		rc = add_prefixes(m, m->dirs[i].path, strlen(m->dirs[i].path), mtime);
	return rc;
}

static int seal_header(const struct sl_manifest *m, const struct sl_manifest_limits *lim, struct sl_diag *d)
{
	if (m->version < 1 || m->version > 3)
		return sl_diag_set(d, SL_ERR_UNSUPPORTED, "manifest version %u (this sluice writes versions 1, 2 and 3)",
				   m->version);
	if ((m->version == 3) != m->has_base || (m->ntaken && !m->has_base))
		return sl_diag_set(d, SL_ERR_INVAL, "a manifest with a base (files taken from it) is version 3, and "
				   "only it");
	if (m->has_base && !memcmp(m->base_id, m->id, SL_ID_BYTES))
		return sl_diag_set(d, SL_ERR_INVAL, "a transfer cannot be its own base");
	if (!sl_label_ok(m->submitter) || !sl_label_ok(m->enclave) || !sl_label_ok(m->link))
		return sl_diag_set(d, SL_ERR_INVAL, "submitter, enclave and link must be names ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64)");
	if (!m->purpose)
		return sl_diag_set(d, SL_ERR_INVAL, "no purpose");
	if (m->sequence > INT64_MAX)
		return sl_diag_set(d, SL_ERR_RANGE, "sequence above 2^63-1");
	if (m->created < 0 || m->expires > TIME_MAX_SECONDS || m->expires <= m->created)
		return sl_diag_set(d, SL_ERR_RANGE, "validity window: expires must be after created (and before year 10000)");
	if (m->nfiles + m->ntaken == 0)
		return sl_diag_set(d, SL_ERR_RANGE, "no files: a transfer lists at least one file");
	if (m->nfiles + m->ntaken > lim->max_files || m->ndirs > lim->max_files)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%zu files and %zu directories: the limit is %llu of each",
				   m->nfiles + m->ntaken, m->ndirs, (unsigned long long)lim->max_files);
	if (m->version == 1) {
		if (m->ndirs)
			return sl_diag_set(d, SL_ERR_INVAL, "a version 1 manifest lists no directories");
		for (size_t i = 0; i < m->nfiles; i++)
			if (m->files[i].mtime.tv_sec || m->files[i].mtime.tv_nsec)
				return sl_diag_set(d, SL_ERR_INVAL, "a version 1 manifest carries no times");
	}
	return SL_OK;
}

int sl_manifest_seal(struct sl_manifest *m, const struct sl_manifest_limits *lim, struct sl_diag *d)
{
	struct sl_manifest_limits dl;
	const char *prev = NULL;
	uint64_t sum = 0;
	int rc;

	if (!lim) {
		sl_manifest_default_limits(&dl);
		lim = &dl;
	}
	if ((rc = seal_header(m, lim, d)))
		return rc;
	/* A walk adds them nearly in order: sort only if needed. */
	if (!sorted(m->dirs, m->ndirs, sizeof *m->dirs))
		qsort(m->dirs, m->ndirs, sizeof *m->dirs, dir_cmp);
	for (size_t i = 0; i < m->ndirs; i++)
		if ((rc = check_dir(m, i, 0, d)))
			return rc;
	if (!sorted(m->files, m->nfiles, sizeof *m->files))
		qsort(m->files, m->nfiles, sizeof *m->files, file_cmp);
	if (!sorted(m->taken, m->ntaken, sizeof *m->taken))
		qsort(m->taken, m->ntaken, sizeof *m->taken, file_cmp);
	m->total_bytes = m->taken_bytes = 0;
	/* In text order: both kinds merged by path. */
	for (size_t i = 0, j = 0; i + j < m->nfiles + m->ntaken;) {
		bool take = j < m->ntaken && (i == m->nfiles || cmp_path(m->taken[j].path, m->files[i].path) < 0);
		struct sl_manifest_file *f = take ? &m->taken[j] : &m->files[i];
		if (f->size > lim->max_total_bytes - sum)
			return sl_diag_set(d, SL_ERR_TOOBIG, "total size exceeds the limit of %llu bytes",
					   (unsigned long long)lim->max_total_bytes);
		f->offset = take ? 0 : m->total_bytes;
		*(take ? &m->taken_bytes : &m->total_bytes) += f->size;
		sum += f->size;
		if ((rc = check_file(m, f, take ? j : i, prev, 0, d)))
			return rc;
		prev = f->path;
		take ? j++ : i++;
	}
	return SL_OK;
}

/* ---- emit ----------------------------------------------------------------- */

/* Decimal digits of v at p; returns their count. */
static size_t put_u64(char *p, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

static size_t put_mtime(char *p, struct timespec t)
{
	size_t n = put_u64(p, (uint64_t)t.tv_sec);
	long ns = t.tv_nsec;
	p[n++] = '.';
	for (int i = 8; i >= 0; i--, ns /= 10)
		p[n + (size_t)i] = (char)('0' + ns % 10);
	return n + 9;
}

static size_t put_str(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return n;
}

/* An upper bound of the text's length: every path byte escaped. */
static size_t emit_bound(const struct sl_manifest *m, size_t header)
{
	size_t n = header + 5; /* "end\n" and a NUL */
	for (size_t i = 0; i < m->ndirs; i++)
		n += 4 + 5 + 22 + 1 + 3 * strlen(m->dirs[i].path) + 1;
	for (size_t i = 0; i < m->nfiles + m->ntaken; i++)
		n += 5 + 65 + 21 + 5 + 22 + 1 + 3 * strlen(sl_manifest_at(m, i)->path) + 1;
	return n;
}

static int put_path(char *p, size_t room, const char *path, size_t *n, struct sl_diag *d)
{
	size_t plen = strlen(path);
	if (plen > SL_PATH_MAX_BYTES || (*n = sl_pct_encode((const uint8_t *)path, plen, SL_PCT_PATH, p, room)) == (size_t)-1)
		return sl_diag_set(d, SL_ERR_INVAL, "path too long (manifest not sealed?)");
	return SL_OK;
}

static int emit_entries(const struct sl_manifest *m, char *buf, size_t cap, size_t *len, struct sl_diag *d)
{
	char *p = buf + *len, hex[SL_SHA256_HEX];
	size_t n = 0;

	for (size_t i = 0; i < m->ndirs; i++) {
		const struct sl_manifest_dir *e = &m->dirs[i];
		if (e->mode != 0755)
			return sl_diag_set(d, SL_ERR_INVAL, "directory mode %o (manifest not sealed?)", e->mode);
		p += put_str(p, "dir 0755 ");
		p += put_mtime(p, e->mtime);
		*p++ = ' ';
		if (put_path(p, cap - (size_t)(p - buf), e->path, &n, d))
			return SL_ERR_INVAL;
		p += n;
		*p++ = '\n';
	}
	for (size_t i = 0, j = 0; i + j < m->nfiles + m->ntaken;) {
		bool take = j < m->ntaken && (i == m->nfiles || cmp_path(m->taken[j].path, m->files[i].path) < 0);
		const struct sl_manifest_file *f = take ? &m->taken[j++] : &m->files[i++];
		if (f->mode != 0755 && f->mode != 0644)
			return sl_diag_set(d, SL_ERR_INVAL, "mode %o (manifest not sealed?)", f->mode);
		p += put_str(p, take ? "take " : "file ");
		p += put_str(p, sl_sha256_hex(f->sha256, hex));
		*p++ = ' ';
		p += put_u64(p, f->size);
		p += put_str(p, f->mode == 0755 ? " 0755 " : " 0644 ");
		if (m->version >= 2) {
			p += put_mtime(p, f->mtime);
			*p++ = ' ';
		}
		if (put_path(p, cap - (size_t)(p - buf), f->path, &n, d))
			return SL_ERR_INVAL;
		p += n;
		*p++ = '\n';
	}
	p += put_str(p, "end\n");
	*p = '\0';
	*len = (size_t)(p - buf);
	return SL_OK;
}

int sl_manifest_emit(const struct sl_manifest *m, char **text, size_t *len, struct sl_diag *d)
{
	char *enc, *buf, t1[32], t2[32], cnt[48] = "", base[128] = "", tk[80] = "", hex[SL_SHA256_HEX];
	size_t elen, hlen, cap;
	int n, rc;

	elen = sl_pct_encoded_len((const uint8_t *)m->purpose, strlen(m->purpose), SL_PCT_TEXT) + 1;
	if (!(enc = malloc(elen)))
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	sl_pct_encode((const uint8_t *)m->purpose, strlen(m->purpose), SL_PCT_TEXT, enc, elen);
	if (m->version >= 2)
		snprintf(cnt, sizeof cnt, "dirs %zu\n", m->ndirs);
	if (m->version >= 3) {
		snprintf(base, sizeof base, "base %s %s\n", m->base_hex, sl_sha256_hex(m->base_sha256, hex));
		snprintf(tk, sizeof tk, "taken %zu\ntaken-bytes %llu\n", m->ntaken, (unsigned long long)m->taken_bytes);
	}
	hlen = 700 + elen;
	cap = emit_bound(m, hlen);
	if (!(buf = malloc(cap))) {
		free(enc);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	n = snprintf(buf, hlen, "sluice-manifest %u\nid %s\nsequence %llu\ncreated %s\nexpires %s\n"
		     "submitter %s\npurpose %s\nenclave %s\nlink %s\n%s%sfiles %zu\nbytes %llu\n%s",
		     m->version, m->id_hex, (unsigned long long)m->sequence,
		     sl_time_format(m->created, t1, sizeof t1), sl_time_format(m->expires, t2, sizeof t2),
		     m->submitter, enc, m->enclave, m->link, base, cnt, m->nfiles, (unsigned long long)m->total_bytes, tk);
	free(enc);
	*len = (size_t)n;
	rc = n < 0 || (size_t)n >= hlen ? sl_diag_set(d, SL_ERR_INVAL, "header too long (manifest not sealed?)")
					: emit_entries(m, buf, cap, len, d);
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	return SL_OK;
}
