/* repair.h — repair codes: what a receiver lacks, typed by a person.
 *
 * The only thing that ever crosses from the high side back to the low side,
 * and it crosses through a person: when a transfer times out, sluice-rx
 * writes a short code (at most SL_REPAIR_MAX_CHARS characters) naming the
 * blocks it cannot decode yet and how many more rows each needs; sluice-tx
 * send --repair CODE sends exactly those, with new rows. A code carries
 * nothing but 20 bits of the transfer id (so it binds to one transfer), the
 * first pass number whose rows are new, block numbers and counts. Where
 * the list does not fit, the code says "send a full pass" instead.
 *
 * Format (normative text: PROTOCOL.md §9): Crockford base32 symbols (5
 * bits each; O, I, L read as 0, 1, 1; case and '-' ignored), grouped by 4
 * with '-'; the last two symbols are a Reed-Solomon check over GF(32), so
 * any one or two wrong symbols, among them every single typo and every
 * swap of two neighbours, are refused.
 *
 * sl_repair_decode() takes untrusted text (a person types it) and never
 * reads past its NUL; every field it returns is range-checked.
 */
#ifndef SL_REPAIR_H
#define SL_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SL_REPAIR_MAX_CHARS 40   /* the printed code, separators included */
#define SL_REPAIR_MAX_SYMS 31    /* symbols, check included (GF(32) code length) */
#define SL_REPAIR_MAX_ENTRIES 48 /* more cannot fit in 29 data symbols */
#define SL_REPAIR_MAX_BLOCK ((1ull << 48) - 1)

struct sl_repair_entry {
	uint64_t block;          /* block number within the transfer (PROTOCOL.md §1) */
	uint16_t need;           /* more distinct rows it needs, 1..254; 0: the whole block
				  * (no row of it arrived, its k is unknown) */
};

struct sl_repair {
	uint32_t tag;            /* the transfer id's first 20 bits */
	uint16_t pass;           /* first pass whose rows the receiver has not been sent */
	int full;                /* 1: send a full pass (entries unused) */
	size_t n;                /* entries, blocks strictly ascending */
	struct sl_repair_entry e[SL_REPAIR_MAX_ENTRIES];
};

/* The 20-bit tag of a transfer id. */
uint32_t sl_repair_tag(const uint8_t id[16]);

/* Write the code for transfer `id` into out (NUL-terminated): entries e[0..n)
 * (blocks strictly ascending, need <= 254), or "send a full pass" when
 * full is set, n is 0 or the entries do not fit. Returns 1 if the entries
 * were written, 0 if the code is a full-pass code, SL_ERR_INVAL if the
 * entries are not ascending or out of range. */
int sl_repair_encode(const uint8_t id[16], uint16_t pass, int full, const struct sl_repair_entry *e,
		     size_t n, char out[SL_REPAIR_MAX_CHARS + 1]);

/* Parse a typed code: SL_OK, or SL_ERR_PARSE with what is wrong in d (a
 * character that is not in the alphabet, a check that does not match, an
 * impossible field). */
int sl_repair_decode(const char *text, struct sl_repair *r, struct sl_diag *d);

/* The code was made for transfer id (its tag matches). */
int sl_repair_matches(const struct sl_repair *r, const uint8_t id[16]);

#endif
