/* units.c — rates, sizes, fractions and durations typed by people. */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The non-negative finite number at the start of s (no sign, no space):
 * SL_OK with *v and *end after it, else SL_ERR_PARSE with a message. */
static int real_prefix(const char *what, const char *s, double *v, char **end, struct sl_diag *d)
{
	if (!s || !*s)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: empty value", what);
	if (*s == '-' || *s == '+' || *s == ' ')
		return sl_diag_set(d, SL_ERR_PARSE, "%s '%s': expected a non-negative number", what, s);
	errno = 0;
	*v = strtod(s, end);
	if (*end == s || errno == ERANGE || !isfinite(*v))
		return sl_diag_set(d, SL_ERR_PARSE, "%s '%s': not a number", what, s);
	return SL_OK;
}

/* Parse a non-negative decimal number with an optional single-letter suffix
 * chosen from `suffixes`, each with a multiplier in `mults`. */
static int parse_scaled(const char *what, const char *s, const char *suffixes,
			const double *mults, double *out, struct sl_diag *d)
{
	char *end;
	double v;
	const char *p;
	int r = real_prefix(what, s, &v, &end, d);

	if (r)
		return r;
	if (*end) {
		p = strchr(suffixes, *end);
		if (!p || end[1])
			return sl_diag_set(d, SL_ERR_PARSE, "%s '%s': unknown unit '%s' (use one of: %s)",
					   what, s, end, suffixes);
		v *= mults[p - suffixes];
	}
	*out = v;
	return SL_OK;
}

int sl_parse_rate(const char *s, uint64_t *bits_per_s, struct sl_diag *d)
{
	static const double m[] = { 1e3, 1e6, 1e9 };
	double v;
	int r = parse_scaled("rate", s, "kMG", m, &v, d);
	if (r)
		return r;
	if (v < 1.0 || v > 1e12)
		return sl_diag_set(d, SL_ERR_RANGE, "rate '%s': must be between 1 bit/s and 1000G", s);
	*bits_per_s = (uint64_t)v;
	return SL_OK;
}

int sl_parse_size(const char *s, uint64_t *bytes, struct sl_diag *d)
{
	static const double m[] = { 1024.0, 1048576.0, 1073741824.0 };
	double v;
	int r = parse_scaled("size", s, "KMG", m, &v, d);
	if (r)
		return r;
	if (v > 9.0e15)
		return sl_diag_set(d, SL_ERR_RANGE, "size '%s': too large", s);
	if (v != floor(v))
		return sl_diag_set(d, SL_ERR_PARSE, "size '%s': not a whole number of bytes", s);
	*bytes = (uint64_t)v;
	return SL_OK;
}

int sl_parse_fraction(const char *s, double *p, struct sl_diag *d)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return sl_diag_set(d, SL_ERR_PARSE, "fraction '%s': expected e.g. 0.02 or 2%%", s ? s : "");
	if (real_prefix("fraction", s, &v, &end, d))
		return SL_ERR_PARSE;
	if (*end == '%' && end[1] == '\0')
		v /= 100.0;
	else if (*end)
		return sl_diag_set(d, SL_ERR_PARSE, "fraction '%s': unexpected '%s'", s, end);
	if (v < 0.0 || v > 1.0)
		return sl_diag_set(d, SL_ERR_RANGE, "fraction '%s': must be between 0 and 1 (0%%..100%%)", s);
	*p = v;
	return SL_OK;
}

int sl_parse_real(const char *what, const char *s, double lo, double hi, double *out, struct sl_diag *d)
{
	char *end;
	double v;

	if (real_prefix(what, s, &v, &end, d) || *end || v < lo || v > hi)
		return sl_diag_set(d, SL_ERR_PARSE, "%s '%s': expected a number from %g to %g", what,
				   s ? s : "", lo, hi);
	*out = v;
	return SL_OK;
}

int sl_parse_duration(const char *s, uint64_t *seconds, struct sl_diag *d)
{
	static const double m[] = { 1, 60, 3600, 86400 };
	double v;
	int r = parse_scaled("duration", s, "smhd", m, &v, d);
	if (r)
		return r;
	if (v > 100.0 * 365 * 86400)
		return sl_diag_set(d, SL_ERR_RANGE, "duration '%s': longer than 100 years", s);
	*seconds = (uint64_t)v;
	return SL_OK;
}

int sl_parse_decimal(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return s ? sl_parse_decimal_n(s, strlen(s), lo, hi, out) : SL_ERR_PARSE;
}

int sl_parse_decimal_n(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return SL_ERR_PARSE;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SL_ERR_PARSE;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return SL_ERR_RANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return SL_ERR_RANGE;
	*out = v;
	return SL_OK;
}

int sl_parse_decimal_canon_n(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (n > 1 && s[0] == '0')
		return SL_ERR_PARSE;
	return sl_parse_decimal_n(s, n, lo, hi, out);
}

int sl_parse_count(const char *what, const char *s, unsigned long lo, unsigned long hi,
		   unsigned long *out, struct sl_diag *d)
{
	uint64_t v;

	if (!sl_parse_decimal(s, lo, hi, &v)) {
		*out = (unsigned long)v;
		return SL_OK;
	}
	return sl_diag_set(d, SL_ERR_RANGE, "%s '%s': expected a whole number from %lu to %lu", what,
			   s ? s : "", lo, hi);
}

const char *sl_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned i = 0;
	while (v >= 1024.0 && i < 5) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.2f %s", v, u[i]);
	return buf;
}

const char *sl_fmt_rate(double bps, char *buf, size_t len)
{
	static const char *const u[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	unsigned i = 0;
	while (bps >= 1000.0 && i < 4) {
		bps /= 1000.0;
		i++;
	}
	snprintf(buf, len, "%.*f %s", i ? 2 : 0, bps, u[i]);
	return buf;
}
