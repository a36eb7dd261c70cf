/* pathname.c — name rules, percent-encoding, UTF-8, case-fold collisions. */
#include "pathname.h"
#include "hex.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>

/* Decode one UTF-8 sequence at s[0..len); returns its length (1..4) and the
 * code point, or 0 if invalid (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_next(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2; v = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; v = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

bool sl_cp_invisible(uint32_t cp)
{
	return uc_is_property_default_ignorable_code_point(cp) || uc_is_general_category(cp, UC_CATEGORY_Cf) ||
	       uc_is_general_category(cp, UC_CATEGORY_Zl) || uc_is_general_category(cp, UC_CATEGORY_Zp);
}

size_t sl_find_invisible(const uint8_t *s, size_t len, uint32_t *cp)
{
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_next(s + i, len - i, cp);
		if (!n)
			return (size_t)-1; /* callers validate first */
		if (sl_cp_invisible(*cp))
			return i;
		i += n;
	}
	return (size_t)-1;
}

bool sl_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

int sl_component_check(const uint8_t *c, size_t len, struct sl_diag *d)
{
	size_t i = 0;

	if (len == 0)
		return sl_diag_set(d, SL_ERR_NAME, "empty name component");
	if (len == 1 && c[0] == '.')
		return sl_diag_set(d, SL_ERR_NAME, "component '.'");
	if (len == 2 && c[0] == '.' && c[1] == '.')
		return sl_diag_set(d, SL_ERR_NAME, "component '..' (parent directory)");
	if (len == 4 && c[0] == '.' && !strncasecmp((const char *)c + 1, "git", 3))
		return sl_diag_set(d, SL_ERR_NAME, "component '%.4s' (.git in any case)", (const char *)c);
	if (len > SL_NAME_MAX_BYTES)
		return sl_diag_set(d, SL_ERR_NAME, "component of %zu bytes (limit %d)", len, SL_NAME_MAX_BYTES);
	while (i < len) {
		uint32_t cp;
		size_t n;
		if (c[i] == 0)
			return sl_diag_set(d, SL_ERR_NAME, "NUL byte at offset %zu", i);
		if (c[i] == '/')
			return sl_diag_set(d, SL_ERR_NAME, "'/' inside a component");
		n = utf8_next(c + i, len - i, &cp);
		if (!n)
			return sl_diag_set(d, SL_ERR_NAME, "invalid UTF-8 at offset %zu", i);
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			return sl_diag_set(d, SL_ERR_NAME, "control character U+%04X at offset %zu", cp, i);
		if (cp >= 0x80 && sl_cp_invisible(cp))
			return sl_diag_set(d, SL_ERR_NAME, "invisible character U+%04X at offset %zu "
					   "(format, separator or default-ignorable code point)", cp, i);
		i += n;
	}
	return SL_OK;
}

int sl_path_check(const uint8_t *p, size_t len, struct sl_diag *d)
{
	size_t start = 0, depth = 0;

	if (len == 0)
		return sl_diag_set(d, SL_ERR_NAME, "empty path");
	if (p[0] == '/')
		return sl_diag_set(d, SL_ERR_NAME, "absolute path (leading '/')");
	if (len > SL_PATH_MAX_BYTES)
		return sl_diag_set(d, SL_ERR_NAME, "path of %zu bytes (limit %d)", len, SL_PATH_MAX_BYTES);
	if (p[len - 1] == '/')
		return sl_diag_set(d, SL_ERR_NAME, "trailing '/'");
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (++depth > SL_PATH_MAX_DEPTH)
			return sl_diag_set(d, SL_ERR_NAME, "deeper than %d components", SL_PATH_MAX_DEPTH);
		if (i == start)
			return sl_diag_set(d, SL_ERR_NAME, "empty component ('//')");
		int rc = sl_component_check(p + start, i - start, d);
		if (rc)
			return rc;
		start = i + 1;
	}
	return SL_OK;
}

static bool safe_char(uint8_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~+@,=:", c) != NULL;
}

bool sl_pct_literal(uint8_t c, enum sl_pct_mode mode)
{
	switch (mode) {
	case SL_PCT_TEXT:
		return c >= 0x20 && c <= 0x7E && c != '%';
	case SL_PCT_PATH:
		return c == '/' || safe_char(c);
	default:
		return safe_char(c);
	}
}

size_t sl_pct_encoded_len(const uint8_t *in, size_t len, enum sl_pct_mode mode)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += sl_pct_literal(in[i], mode) ? 1 : 3;
	return n;
}

size_t sl_pct_encode(const uint8_t *in, size_t len, enum sl_pct_mode mode, char *out, size_t outsz)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (sl_pct_literal(in[i], mode)) {
			if (o + 1 >= outsz)
				return (size_t)-1;
			out[o++] = (char)in[i];
		} else {
			if (o + 3 >= outsz)
				return (size_t)-1;
			out[o++] = '%';
			out[o++] = hx[in[i] >> 4];
			out[o++] = hx[in[i] & 15];
		}
	}
	if (o >= outsz)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

int sl_pct_decode(const char *in, size_t len, enum sl_pct_mode mode, uint8_t *out, size_t outsz,
		  size_t *outlen, struct sl_diag *d)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)in[i];
		if (o + 1 >= outsz)
			return sl_diag_set(d, SL_ERR_TOOBIG, "encoded text too long");
		if (c == '%') {
			int h, l;
			if (i + 2 >= len)
				return sl_diag_set(d, SL_ERR_PARSE, "truncated %%-escape at column %zu", i + 1);
			h = sl_hex_digit(in[i + 1], SL_HEX_UPPER);
			l = sl_hex_digit(in[i + 2], SL_HEX_UPPER);
			if (h < 0 || l < 0)
				return sl_diag_set(d, SL_ERR_PARSE,
						   "bad %%-escape at column %zu (two uppercase hex digits required)", i + 1);
			c = (uint8_t)(h << 4 | l);
			if (mode == SL_PCT_PATH && c == '/')
				return sl_diag_set(d, SL_ERR_PARSE, "escaped '/' (%%2F) at column %zu: a name cannot contain '/'", i + 1);
			if (sl_pct_literal(c, mode))
				return sl_diag_set(d, SL_ERR_PARSE,
						   "non-canonical escape %%%c%c at column %zu ('%c' must be written as itself)",
						   in[i + 1], in[i + 2], i + 1, c);
			i += 2;
		} else if (!sl_pct_literal(c, mode)) {
			if (c >= 0x20 && c <= 0x7E)
				return sl_diag_set(d, SL_ERR_PARSE, "unescaped '%c' at column %zu", c, i + 1);
			return sl_diag_set(d, SL_ERR_PARSE, "unescaped byte 0x%02X at column %zu", c, i + 1);
		}
		out[o++] = c;
	}
	out[o] = '\0';
	*outlen = o;
	return SL_OK;
}

static bool portable_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int sl_path_portable(const char *path, struct sl_diag *d)
{
	bool start = true;
	for (const char *p = path; *p; p++) {
		if (*p == '/') {
			start = true;
			continue;
		}
		if (start && *p == '-')
			return sl_diag_set(d, SL_ERR_NAME, "component starts with '-' (not portable)");
		if (!portable_char(*p)) {
			if ((unsigned char)*p >= 0x21 && (unsigned char)*p <= 0x7E)
				return sl_diag_set(d, SL_ERR_NAME, "character '%c' outside the portable set [A-Za-z0-9._-]", *p);
			return sl_diag_set(d, SL_ERR_NAME, "byte 0x%02X outside the portable set [A-Za-z0-9._-]",
					   (unsigned char)*p);
		}
		start = false;
	}
	return SL_OK;
}

struct fold_ent {
	uint8_t *folded;   /* NFC(casefold(NFD(name))), not NUL-terminated */
	size_t flen;
	const char *orig;  /* points into a path; compared over len bytes */
	size_t len;
};

static int fold_cmp(const void *a, const void *b)
{
	const struct fold_ent *x = a, *y = b;
	size_t m = x->flen < y->flen ? x->flen : y->flen;
	int c = memcmp(x->folded, y->folded, m);
	if (c)
		return c;
	if (x->flen != y->flen)
		return x->flen < y->flen ? -1 : 1;
	m = x->len < y->len ? x->len : y->len;
	c = memcmp(x->orig, y->orig, m);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* Unicode canonical caseless form of s[0..len): full case folding between
 * canonical decomposition and composition (libunistring's u8_casefold with
 * NFC), so "\u00e9" and "e\u0301", "Stra\u00dfe" and "STRASSE" fold alike. */
static int fold(struct fold_ent *e, const char *s, size_t len)
{
	e->folded = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFC, NULL, &e->flen);
	if (e->folded)
		return SL_OK;
	/* not expected: paths are validated UTF-8; compare the bytes as they are */
	e->folded = malloc(len ? len : 1);
	if (!e->folded)
		return SL_ERR_NOMEM;
	memcpy(e->folded, s, len);
	e->flen = len;
	return SL_OK;
}

/* Every path and every directory prefix of it, folded. */
static int fold_all(const char *const *paths, size_t n, struct fold_ent **out, size_t *nout)
{
	struct fold_ent *e = NULL;
	size_t ne = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(paths[i]);
		for (size_t j = 0; j <= len; j++) {
			if (j < len && paths[i][j] != '/')
				continue;
			if (sl_grow(&e, ne, &cap, sizeof *e))
				goto nomem;
			e[ne].orig = paths[i];
			e[ne].len = j;
			if (fold(&e[ne], paths[i], j))
				goto nomem;
			ne++;
		}
	}
	*out = e;
	*nout = ne;
	return SL_OK;
nomem:
	for (size_t i = 0; i < ne; i++)
		free(e[i].folded);
	free(e);
	return SL_ERR_NOMEM;
}

int sl_casefold_collision(const char *const *paths, size_t n, struct sl_diag *d)
{
	struct fold_ent *e;
	size_t ne;
	int rc = fold_all(paths, n, &e, &ne);

	if (rc)
		return sl_diag_set(d, rc, "out of memory");
	if (ne)
		qsort(e, ne, sizeof *e, fold_cmp);
	for (size_t i = 1; i < ne; i++) {
		if (e[i - 1].flen != e[i].flen || memcmp(e[i - 1].folded, e[i].folded, e[i].flen))
			continue;
		if (e[i - 1].len == e[i].len && !memcmp(e[i - 1].orig, e[i].orig, e[i].len))
			continue; /* the same directory reached twice */
		/* as the manifest writes them: names that look alike differ here */
		char a[200], b[200];
		if (sl_pct_encode((const uint8_t *)e[i - 1].orig, e[i - 1].len, SL_PCT_PATH, a, sizeof a) == (size_t)-1)
			snprintf(a, sizeof a, "(long name)");
		if (sl_pct_encode((const uint8_t *)e[i].orig, e[i].len, SL_PCT_PATH, b, sizeof b) == (size_t)-1)
			snprintf(b, sizeof b, "(long name)");
		rc = sl_diag_set(d, SL_ERR_NAME, "'%s' and '%s' are equal after case folding and Unicode normalisation", a, b);
		break;
	}
	for (size_t i = 0; i < ne; i++)
		free(e[i].folded);
	free(e);
	return rc;
}

bool sl_label_ok(const char *s)
{
	size_t n = 0;
	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; s[n]; n++)
		if (!portable_char(s[n]) || n >= 64)
			return false;
	return true;
}
