/* hex.h — hexadecimal digits and strings, the one decoder.
 *
 * Formats say which case they allow: manifests, ids and digests are
 * lowercase (SL_HEX_LOWER), percent-escapes uppercase (SL_HEX_UPPER), text
 * written by others either (SL_HEX_ANY). A digit of the other case is
 * refused, so a format has one spelling of each value.
 */
#ifndef SL_HEX_H
#define SL_HEX_H

#include <stddef.h>
#include <stdint.h>

enum sl_hex_case { SL_HEX_LOWER, SL_HEX_UPPER, SL_HEX_ANY };

/* The value (0..15) of hex digit c in that case, or -1. */
int sl_hex_digit(char c, enum sl_hex_case cs);

/* Exactly 2n digits hex[0, len) into out[0, n): SL_OK, or SL_ERR_PARSE (a
 * length other than 2n, or a character that is no digit of that case). */
int sl_hex_decode(const char *hex, size_t len, enum sl_hex_case cs, uint8_t *out, size_t n);

#endif
