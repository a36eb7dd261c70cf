/* Repair codes (common/proto/repair.c): round trip, length, the check
 * (every single typo and every swap of neighbours refused), the full-pass
 * fallback, binding to the transfer, and untrusted text. */
#include <criterion/criterion.h>
#include <string.h>

#include "repair.h"

static const uint8_t ID[16] = { 0x3f, 0xa2, 0x91, 0x04, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static size_t syms(const char *code)
{
	size_t n = 0;
	for (; *code; code++)
		n += *code != '-';
	return n;
}

Test(repair, round_trip)
{
	struct sl_repair_entry e[] = { { 3, 2 }, { 17, 11 }, { 18, 0 }, { 140, 1 }, { 141, 40 } };
	char code[SL_REPAIR_MAX_CHARS + 1];
	struct sl_repair r;
	struct sl_diag d = { "" };

	cr_assert_eq(sl_repair_encode(ID, 1, 0, e, 5, code), 1);
	cr_assert_leq(strlen(code), SL_REPAIR_MAX_CHARS, "%s", code);
	cr_assert_eq(sl_repair_decode(code, &r, &d), SL_OK, "%s: %s", code, d.msg);
	cr_assert_eq(r.full, 0);
	cr_assert_eq(r.pass, 1);
	cr_assert_eq(r.n, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(r.e[i].block, e[i].block);
		cr_assert_eq(r.e[i].need, e[i].need);
	}
	cr_assert(sl_repair_matches(&r, ID));
	/* typed in lower case, without dashes, with O for 0 and l for 1 */
	{
		char t[64];
		size_t o = 0;
		for (const char *p = code; *p; p++) {
			if (*p == '-')
				continue;
			t[o++] = *p == '0' ? 'o' : *p == '1' ? 'l' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		}
		t[o] = '\0';
		cr_assert_eq(sl_repair_decode(t, &r, &d), SL_OK, "%s: %s", t, d.msg);
		cr_assert_eq(r.n, 5);
	}
}

Test(repair, grouped_and_at_most_40_characters)
{
	struct sl_repair_entry e[SL_REPAIR_MAX_ENTRIES];
	char code[SL_REPAIR_MAX_CHARS + 1];
	size_t n;

	/* as many entries as fit: the longest code stays within 40 characters */
	for (n = 1; n <= SL_REPAIR_MAX_ENTRIES; n++) {
		e[n - 1].block = 2 * (n - 1);
		e[n - 1].need = 1;
		if (sl_repair_encode(ID, 3, 0, e, n, code) != 1)
			break;
		cr_assert_leq(strlen(code), 40, "%zu entries: %s", n, code);
		cr_assert_leq(syms(code), SL_REPAIR_MAX_SYMS);
	}
	cr_assert_gt(n, 8, "only %zu short entries fit", n - 1);
}

Test(repair, full_pass_fallback)
{
	struct sl_repair_entry e[SL_REPAIR_MAX_ENTRIES];
	char code[SL_REPAIR_MAX_CHARS + 1];
	struct sl_repair r;
	struct sl_diag d = { "" };

	for (size_t i = 0; i < 30; i++) {
		e[i].block = 1000 * i + 7;
		e[i].need = (uint16_t)(100 + i);
	}
	/* too many to fit: a full-pass code */
	cr_assert_eq(sl_repair_encode(ID, 2, 0, e, 30, code), 0);
	cr_assert_leq(strlen(code), 10, "%s", code);
	cr_assert_eq(sl_repair_decode(code, &r, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(r.full, 1);
	cr_assert_eq(r.pass, 2);
	cr_assert_eq(r.n, 0);
	/* asked for */
	cr_assert_eq(sl_repair_encode(ID, 5, 1, e, 1, code), 0);
	cr_assert_eq(sl_repair_decode(code, &r, &d), SL_OK);
	cr_assert(r.full && r.pass == 5);
	/* nothing listed */
	cr_assert_eq(sl_repair_encode(ID, 5, 0, e, 0, code), 0);
	/* not ascending, need out of range */
	e[1].block = e[0].block;
	cr_assert_eq(sl_repair_encode(ID, 1, 0, e, 2, code), SL_ERR_INVAL);
	e[1].block = e[0].block + 1;
	e[1].need = 255;
	cr_assert_eq(sl_repair_encode(ID, 1, 0, e, 2, code), SL_ERR_INVAL);
}

Test(repair, other_transfer_refused)
{
	struct sl_repair_entry e[] = { { 9, 4 } };
	char code[SL_REPAIR_MAX_CHARS + 1];
	uint8_t other[16];
	struct sl_repair r;

	memcpy(other, ID, 16);
	cr_assert_eq(sl_repair_encode(ID, 1, 0, e, 1, code), 1);
	cr_assert_eq(sl_repair_decode(code, &r, NULL), SL_OK);
	cr_assert(sl_repair_matches(&r, ID));
	other[2] ^= 0x10; /* the last bit of the tag */
	cr_assert_not(sl_repair_matches(&r, other));
	memcpy(other, ID, 16);
	other[0] ^= 0x80;
	cr_assert_not(sl_repair_matches(&r, other));
	memcpy(other, ID, 16);
	other[15] ^= 1; /* beyond the tag: a 1-in-a-million collision is the price of 4 characters */
	cr_assert(sl_repair_matches(&r, other));
}

static const char A[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Every single-character substitution and every swap of two neighbouring
 * characters (distinct, separators skipped) of these codes is refused. */
Test(repair, typos_and_transpositions_caught)
{
	struct sl_repair_entry e[SL_REPAIR_MAX_ENTRIES];
	char code[SL_REPAIR_MAX_CHARS + 1], t[SL_REPAIR_MAX_CHARS + 1];
	struct sl_repair r;
	unsigned tried = 0;

	for (size_t n = 0; n <= 12; n += 3) {
		for (size_t i = 0; i < n; i++) {
			e[i].block = 5 * i + n;
			e[i].need = (uint16_t)(i * 7 % 30);
		}
		sl_repair_encode(ID, (uint16_t)n, 0, e, n, code);
		cr_assert_eq(sl_repair_decode(code, &r, NULL), SL_OK, "%s", code);
		for (size_t p = 0; code[p]; p++) {
			if (code[p] == '-')
				continue;
			for (int a = 0; a < 32; a++) {
				if (A[a] == code[p])
					continue;
				strcpy(t, code);
				t[p] = A[a];
				cr_assert_neq(sl_repair_decode(t, &r, NULL), SL_OK, "%s -> %s accepted", code, t);
				tried++;
			}
			for (size_t q = p + 1; code[q]; q++) {
				if (code[q] == '-')
					continue;
				if (code[q] != code[p]) {
					strcpy(t, code);
					t[p] = code[q];
					t[q] = code[p];
					cr_assert_neq(sl_repair_decode(t, &r, NULL), SL_OK, "%s -> %s accepted",
						      code, t);
					tried++;
				}
				break;
			}
		}
	}
	cr_assert_gt(tried, 1000);
}

Test(repair, bad_text)
{
	struct sl_repair r;
	struct sl_diag d = { "" };
	char code[SL_REPAIR_MAX_CHARS + 1];

	cr_assert_eq(sl_repair_decode("", &r, &d), SL_ERR_PARSE);
	cr_assert_eq(sl_repair_decode("ABCD-EFGU-HJ", &r, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "character 9"), "%s", d.msg);
	cr_assert_eq(sl_repair_decode("0000-0000-0000-0000-0000-0000-0000-0000-0000", &r, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "too long"), "%s", d.msg);
	/* all zeros passes the check (the zero codeword) but is version 0 */
	cr_assert_eq(sl_repair_decode("0000000", &r, &d), SL_ERR_PARSE);
	cr_assert(strstr(d.msg, "version"), "%s", d.msg);
	sl_repair_encode(ID, 1, 1, NULL, 0, code);
	cr_assert_eq(sl_repair_decode(code, &r, &d), SL_OK, "%s", d.msg);
}
