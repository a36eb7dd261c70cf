/* pathname.h — file-name rules and the manifest's percent-encoding.
 *
 * Contract (common/MANIFEST.md, "Names"):
 *  - A path is 1..32 components joined by '/', at most 1024 bytes decoded,
 *    no leading or trailing '/', no empty component.
 *  - A component is 1..255 bytes of valid UTF-8 (shortest form, no
 *    surrogates, <= U+10FFFF) without NUL, '/', C0 controls, DEL or C1
 *    controls and without invisible characters (sl_cp_invisible); it is
 *    never ".", ".." or ".git" in any letter case.
 *  - Percent-encoding: bytes in the safe set [A-Za-z0-9] and - . _ ~ + @ , = :
 *    are written as themselves, every other byte as %XX (uppercase hex). In
 *    paths '/' is the separator and written as itself. Decoding is strict and
 *    canonical: lowercase hex, a truncated escape, an escaped safe byte or a
 *    literal unsafe byte is an error, so each name has exactly one encoding.
 *    Free text (the purpose) uses SL_PCT_TEXT: bytes 0x20..0x7E except '%'
 *    are literal, every other byte is %XX, with the same strictness.
 *  - Policy narrowing: "portable" components use only [A-Za-z0-9._-] and do not
 *    start with '-'; collision detection compares names in Unicode canonical
 *    caseless form (full case folding and NFC, libunistring).
 * All checks return SL_OK or SL_ERR_NAME (SL_ERR_PARSE for encoding errors)
 * with the reason in diag. No allocation except sl_casefold_collision().
 */
#ifndef SL_PATHNAME_H
#define SL_PATHNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define SL_PATH_MAX_BYTES 1024
#define SL_PATH_MAX_DEPTH 32
#define SL_NAME_MAX_BYTES 255

/* Invisible code points, refused in names and in the manifest's purpose:
 * Default_Ignorable_Code_Point, or general category Cf (format), Zl or Zp
 * (line and paragraph separators), from libunistring's tables (Unicode 14.0
 * for libunistring 1.0). Covers U+00AD, U+034F, U+061C, U+115F, U+1160,
 * U+180E, U+200B..200F, U+2028..202E, U+2060..206F, U+3164, U+FE00..FE0F,
 * U+FEFF, U+FFA0, U+FFF0..FFFB, U+E0000..E0FFF among others. */
bool sl_cp_invisible(uint32_t cp);
/* Byte offset of the first invisible code point in valid UTF-8 s[0..len)
 * (its value in *cp), or (size_t)-1 if there is none. */
size_t sl_find_invisible(const uint8_t *s, size_t len, uint32_t *cp);

/* True if s[0..len) is valid UTF-8 (strict). */
bool sl_utf8_valid(const uint8_t *s, size_t len);

/* One component (no '/'). */
int sl_component_check(const uint8_t *c, size_t len, struct sl_diag *d);
/* A whole decoded path; checks every component, depth and length. */
int sl_path_check(const uint8_t *p, size_t len, struct sl_diag *d);

enum sl_pct_mode {
	SL_PCT_NAME,  /* one component: safe set literal */
	SL_PCT_PATH,  /* a path: safe set and the '/' separator literal */
	SL_PCT_TEXT,  /* free text: 0x20..0x7E except '%' literal */
};
/* True if byte c is written as itself in this mode. */
bool sl_pct_literal(uint8_t c, enum sl_pct_mode mode);
/* Encoded length of in[0..len) (not counting a NUL). */
size_t sl_pct_encoded_len(const uint8_t *in, size_t len, enum sl_pct_mode mode);
/* Encode into out (size outsz, NUL-terminated); returns the encoded length,
 * or (size_t)-1 if it does not fit. */
size_t sl_pct_encode(const uint8_t *in, size_t len, enum sl_pct_mode mode, char *out, size_t outsz);
/* Strict decode of in[0..len) into out (capacity outsz >= len + 1,
 * NUL-terminated). In SL_PCT_PATH an escaped '/' (%2F) is an error. The
 * decoded bytes may contain NUL (%00); callers check them. */
int sl_pct_decode(const char *in, size_t len, enum sl_pct_mode mode, uint8_t *out, size_t outsz,
		  size_t *outlen, struct sl_diag *d);

/* Portable component: [A-Za-z0-9._-]+, not starting with '-'. Path: every
 * component portable. */
int sl_path_portable(const char *path, struct sl_diag *d);

/* Given n distinct paths (decoded, NUL-terminated), find two names that
 * differ but are equal after full Unicode case folding and canonical
 * normalisation (NFC of the case-folded NFD), counting directories as names
 * too ("Doc/a" vs "doc/b", "\u00e9" vs "e\u0301", "Stra\u00dfe" vs "STRASSE").
 * Returns SL_OK if none; SL_ERR_NAME with both names in diag otherwise;
 * SL_ERR_NOMEM. */
int sl_casefold_collision(const char *const *paths, size_t n, struct sl_diag *d);

/* Label used for submitter, officer, enclave and link names:
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
bool sl_label_ok(const char *s);

#endif
