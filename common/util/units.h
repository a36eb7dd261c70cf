/* units.h — parsing of the quantities users type on command lines.
 *
 * Contract (the CLI's documented units):
 *   rates  "250M", "1G", "9600", "1.5G": bits per second, k/M/G = powers of 1000;
 *   sizes  "64K", "1M", "4096": bytes, K/M/G = powers of 1024;
 *   fractions "0.02" or "2%": a probability in [0, 1];
 *   durations "30", "30s", "5m", "2h", "7d": seconds.
 * Each parser rejects trailing garbage, negative values and overflow, and
 * returns SL_ERR_PARSE or SL_ERR_RANGE with a message in diag.
 */
#ifndef SL_UNITS_H
#define SL_UNITS_H

#include <stdint.h>
#include "error.h"

int sl_parse_rate(const char *s, uint64_t *bits_per_s, struct sl_diag *d);
int sl_parse_size(const char *s, uint64_t *bytes, struct sl_diag *d);
int sl_parse_fraction(const char *s, double *p, struct sl_diag *d);
int sl_parse_duration(const char *s, uint64_t *seconds, struct sl_diag *d);
/* A plain non-negative real number ("12.5", no unit) in [lo, hi]; `what`
 * names it in diag ("--overhead '-3': expected a number from 0 to 1000"). */
int sl_parse_real(const char *what, const char *s, double lo, double hi, double *out, struct sl_diag *d);

/* The one decimal reader: s is digits only (no sign, space or suffix) and its
 * value in [lo, hi]. SL_OK, SL_ERR_PARSE (not a number) or SL_ERR_RANGE; no
 * message: the caller says what the number is for. */
int sl_parse_decimal(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* The same over s[0, n) (not NUL-terminated: a field of a line). */
int sl_parse_decimal_n(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out);
/* The same in the one spelling a format writes: no leading zero ("0" itself
 * is fine, "007" is SL_ERR_PARSE), for numbers in files sluice reads back. */
int sl_parse_decimal_canon_n(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out);

/* A whole number in [lo, hi], decimal, nothing else; `what` names it in diag
 * ("--passes '0': expected a whole number from 1 to 1000"). */
int sl_parse_count(const char *what, const char *s, unsigned long lo, unsigned long hi,
		   unsigned long *out, struct sl_diag *d);

/* Format helpers for human output: "1.23 GB", "250 Mbit/s". buf >= 32 bytes. */
const char *sl_fmt_bytes(uint64_t bytes, char *buf, size_t len);
const char *sl_fmt_rate(double bits_per_s, char *buf, size_t len);

#endif
