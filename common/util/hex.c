/* hex.c — hexadecimal digits and strings (hex.h). */
#include "hex.h"

#include "error.h"

int sl_hex_digit(char c, enum sl_hex_case cs)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (cs != SL_HEX_UPPER && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (cs != SL_HEX_LOWER && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sl_hex_decode(const char *hex, size_t len, enum sl_hex_case cs, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return SL_ERR_PARSE;
	for (size_t i = 0; i < n; i++) {
		int h = sl_hex_digit(hex[2 * i], cs), l = sl_hex_digit(hex[2 * i + 1], cs);
		if (h < 0 || l < 0)
			return SL_ERR_PARSE;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return SL_OK;
}
