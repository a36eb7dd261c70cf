/* repair.c — repair codes (see repair.h; format in PROTOCOL.md §9).
 *
 * Bits, most significant first, packed into 5-bit symbols and padded with
 * zero bits to a whole symbol:
 *   version 2 (= 1) | full 1 | tag 20 | EG(pass)
 *   list only: EG(n - 1) | n x { EG(block - next) | EG(need) }
 * where EG is the order-0 exponential-Golomb code of an unsigned number and
 * next is the previous entry's block + 1 (0 for the first). Then two check
 * symbols c1 c0 that make the symbol string, read as a polynomial over
 * GF(32) (x^5 + x^2 + 1, alpha = 2) with the first symbol the highest
 * coefficient, vanish at alpha and alpha^2: a Reed-Solomon code of
 * distance 3 at any length up to 31 symbols.
 */
#include "repair.h"

#include <string.h>

#define VERSION 1
#define CHECK_SYMS 2
#define DATA_BITS ((SL_REPAIR_MAX_SYMS - CHECK_SYMS) * 5)

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* ---- GF(32) ---- */

static unsigned gf_mul(unsigned a, unsigned b)
{
	unsigned r = 0;

	for (; b; b >>= 1) {
		if (b & 1)
			r ^= a;
		a <<= 1;
		if (a & 0x20)
			a ^= 0x25; /* x^5 = x^2 + 1 */
	}
	return r;
}

/* The two check symbols of data symbols s[0..n): remainder of s(x)·x^2 by
 * g(x) = (x + a)(x + a^2) = x^2 + 6x + 8. */
static void check_syms(const uint8_t *s, size_t n, uint8_t out[2])
{
	unsigned r1 = 0, r0 = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned fb = s[i] ^ r1;
		r1 = r0 ^ gf_mul(fb, 6);
		r0 = gf_mul(fb, 8);
	}
	out[0] = (uint8_t)r1;
	out[1] = (uint8_t)r0;
}

/* The codeword s[0..n) evaluated at x (Horner): 0 at alpha and alpha^2 for
 * a valid code. */
static unsigned eval_at(const uint8_t *s, size_t n, unsigned x)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = gf_mul(v, x) ^ s[i];
	return v;
}

/* ---- bits ---- */

struct bits {
	uint8_t b[DATA_BITS];   /* one bit per byte: simple and bounded */
	size_t len, pos;
};

static int put_bits(struct bits *w, uint64_t v, unsigned n)
{
	if (w->len + n > DATA_BITS)
		return -1;
	while (n--)
		w->b[w->len++] = (uint8_t)(v >> n & 1);
	return 0;
}

static int put_eg(struct bits *w, uint64_t v)
{
	uint64_t x = v + 1;
	unsigned nb = 0;

	if (v >= (1ull << 62))
		return -1;
	while (nb < 64 && (x >> nb))
		nb++;
	return put_bits(w, 0, nb - 1) || put_bits(w, x, nb) ? -1 : 0;
}

static int get_bits(struct bits *r, unsigned n, uint64_t *v)
{
	*v = 0;
	if (r->pos + n > r->len)
		return -1;
	while (n--)
		*v = *v << 1 | r->b[r->pos++];
	return 0;
}

static int get_eg(struct bits *r, uint64_t *v)
{
	unsigned zeros = 0;
	uint64_t x;

	while (r->pos < r->len && r->b[r->pos] == 0) {
		if (++zeros > 61)
			return -1;
		r->pos++;
	}
	if (get_bits(r, zeros + 1, &x))
		return -1;
	*v = x - 1;
	return 0;
}

/* ---- encoding ---- */

uint32_t sl_repair_tag(const uint8_t id[16])
{
	return (uint32_t)id[0] << 12 | (uint32_t)id[1] << 4 | (uint32_t)(id[2] >> 4);
}

static int put_list(struct bits *w, const struct sl_repair_entry *e, size_t n)
{
	uint64_t next = 0;

	if (put_eg(w, n - 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put_eg(w, e[i].block - next) || put_eg(w, e[i].need))
			return -1;
		else
			next = e[i].block + 1;
	return 0;
}

static void format(const struct bits *w, char *out)
{
	uint8_t s[SL_REPAIR_MAX_SYMS];
	size_t ns = (w->len + 4) / 5, o = 0;

	for (size_t i = 0; i < ns; i++) {
		unsigned v = 0;
		for (size_t j = 0; j < 5; j++) {
			size_t bit = i * 5 + j;
			v = v << 1 | (bit < w->len ? w->b[bit] : 0);
		}
		s[i] = (uint8_t)v;
	}
	check_syms(s, ns, s + ns);
	ns += CHECK_SYMS;
	for (size_t i = 0; i < ns; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[s[i]];
	}
	out[o] = '\0';
}

int sl_repair_encode(const uint8_t id[16], uint16_t pass, int full, const struct sl_repair_entry *e,
		     size_t n, char out[SL_REPAIR_MAX_CHARS + 1])
{
	struct bits w;
	int list = !full && n > 0 && n <= SL_REPAIR_MAX_ENTRIES;

	for (size_t i = 0; i < n; i++)
		if (e[i].need > 254 || e[i].block > SL_REPAIR_MAX_BLOCK || (i && e[i].block <= e[i - 1].block))
			return SL_ERR_INVAL;
	w.len = 0;
	put_bits(&w, VERSION, 2);
	put_bits(&w, 0, 1);
	put_bits(&w, sl_repair_tag(id), 20);
	put_eg(&w, pass);
	if (list && put_list(&w, e, n) == 0) {
		format(&w, out);
		return 1;
	}
	w.len = 0;
	put_bits(&w, VERSION, 2);
	put_bits(&w, 1, 1);
	put_bits(&w, sl_repair_tag(id), 20);
	put_eg(&w, pass);
	format(&w, out);
	return 0;
}

/* ---- decoding ---- */

static int sym_of(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		ch = (char)(ch - 'a' + 'A');
	if (ch == 'O')
		ch = '0';
	else if (ch == 'I' || ch == 'L')
		ch = '1';
	for (int i = 0; i < 32; i++)
		if (alphabet[i] == ch)
			return i;
	return -1;
}

/* The symbols of a typed code, separators dropped, check verified. */
static int read_syms(const char *text, uint8_t *s, size_t *ns, struct sl_diag *d)
{
	size_t n = 0;

	for (size_t i = 0; text[i]; i++) {
		int v;
		if (text[i] == '-' || text[i] == ' ')
			continue;
		v = sym_of(text[i]);
		if (v < 0)
			return sl_diag_set(d, SL_ERR_PARSE, "character %zu of the repair code is not one "
					   "of 0-9 A-Z (without U): a typo?", i + 1);
		if (n == SL_REPAIR_MAX_SYMS)
			return sl_diag_set(d, SL_ERR_PARSE, "the repair code is too long: more than %d "
					   "characters besides '-'", SL_REPAIR_MAX_SYMS);
		s[n++] = (uint8_t)v;
	}
	if (n < 7)
		return sl_diag_set(d, SL_ERR_PARSE, "the repair code is too short (%zu characters "
				   "besides '-'; a code has at least 7)", n);
	if (eval_at(s, n, 2) || eval_at(s, n, 4))
		return sl_diag_set(d, SL_ERR_PARSE, "the repair code's check characters do not match: "
				   "a character is mistyped or two are swapped; read it again from "
				   "`sluice status --repair`");
	*ns = n;
	return SL_OK;
}

static int parse_list(struct bits *b, struct sl_repair *r)
{
	uint64_t n, next = 0, v;

	if (get_eg(b, &n) || n + 1 > SL_REPAIR_MAX_ENTRIES)
		return -1;
	r->n = (size_t)n + 1;
	for (size_t i = 0; i < r->n; i++) {
		if (get_eg(b, &v) || v > SL_REPAIR_MAX_BLOCK - next)
			return -1;
		r->e[i].block = next + v;
		next = r->e[i].block + 1;
		if (get_eg(b, &v) || v > 254)
			return -1;
		r->e[i].need = (uint16_t)v;
	}
	return 0;
}

int sl_repair_decode(const char *text, struct sl_repair *r, struct sl_diag *d)
{
	uint8_t s[SL_REPAIR_MAX_SYMS];
	size_t ns = 0;
	struct bits b;
	uint64_t v, full;
	int rc = read_syms(text, s, &ns, d);

	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	b.len = (ns - CHECK_SYMS) * 5;
	b.pos = 0;
	for (size_t i = 0; i < b.len; i++)
		b.b[i] = (uint8_t)(s[i / 5] >> (4 - i % 5) & 1);
	if (get_bits(&b, 2, &v) || v != VERSION)
		return sl_diag_set(d, SL_ERR_PARSE, "repair code of an unknown version (%llu)",
				   (unsigned long long)v);
	get_bits(&b, 1, &full);
	get_bits(&b, 20, &v);
	r->tag = (uint32_t)v;
	r->full = (int)full;
	if (get_eg(&b, &v) || v > 65535)
		return sl_diag_set(d, SL_ERR_PARSE, "repair code: pass number out of range");
	r->pass = (uint16_t)v;
	if (!full && parse_list(&b, r))
		return sl_diag_set(d, SL_ERR_PARSE, "repair code: its block list is cut short or out of range");
	/* only the zero padding of the last symbol may follow */
	if (b.len - b.pos >= 5)
		return sl_diag_set(d, SL_ERR_PARSE, "repair code: %zu characters too many after the block list",
				   (b.len - b.pos) / 5);
	while (b.pos < b.len)
		if (b.b[b.pos++])
			return sl_diag_set(d, SL_ERR_PARSE, "repair code: non-zero padding");
	return SL_OK;
}

int sl_repair_matches(const struct sl_repair *r, const uint8_t id[16])
{
	return r->tag == sl_repair_tag(id);
}
