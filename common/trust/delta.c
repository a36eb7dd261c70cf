/* delta.c — index a base manifest by content; check a delta against it. */
#include "delta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathname.h"
#include "sha256.h"

static int by_hash_cmp(const void *a, const void *b)
{
	const struct sl_manifest_file *x = *(const struct sl_manifest_file *const *)a;
	const struct sl_manifest_file *y = *(const struct sl_manifest_file *const *)b;
	int c = memcmp(x->sha256, y->sha256, 32);
	return c ? c : strcmp(x->path, y->path);
}

int sl_delta_base_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
			struct sl_delta_base *b, struct sl_diag *d)
{
	int rc;

	memset(b, 0, sizeof *b);
	if ((rc = sl_manifest_parse(text, len, lim, &b->m, d)))
		return rc;
	sl_sha256(text, len, b->sha256);
	b->n = sl_manifest_all(b->m);
	b->by_hash = malloc((b->n ? b->n : 1) * sizeof *b->by_hash);
	if (!b->by_hash) {
		sl_delta_base_free(b);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < b->n; i++)
		b->by_hash[i] = sl_manifest_at(b->m, i);
	qsort(b->by_hash, b->n, sizeof *b->by_hash, by_hash_cmp);
	return SL_OK;
}

void sl_delta_base_free(struct sl_delta_base *b)
{
	sl_manifest_free(b->m);
	free(b->by_hash);
	memset(b, 0, sizeof *b);
}

const struct sl_manifest_file *sl_delta_base_find(const struct sl_delta_base *b, const uint8_t sha256[32])
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) { /* the first entry not below sha256 */
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(b->by_hash[mid]->sha256, sha256, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && !memcmp(b->by_hash[lo]->sha256, sha256, 32) ? b->by_hash[lo] : NULL;
}

/* "a%20b, c (and N more)" of the taken files the base lacks. */
static size_t missing_list(const struct sl_manifest *m, const struct sl_delta_base *b, char *out, size_t len)
{
	size_t bad = 0, at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->ntaken; i++) {
		const struct sl_manifest_file *f = &m->taken[i], *g = sl_delta_base_find(b, f->sha256);
		char enc[3 * 120 + 1];
		if (g && g->size == f->size)
			continue;
		if (bad++ < 5 && at < len) {
			size_t pl = strlen(f->path);
			sl_pct_encode((const uint8_t *)f->path, pl > 120 ? 120 : pl, SL_PCT_PATH, enc, sizeof enc);
			at += (size_t)snprintf(out + at, len - at, "%s%s%s", bad > 1 ? ", " : "", enc, pl > 120 ? "..." : "");
		}
	}
	if (bad > 5 && at < len)
		snprintf(out + at, len - at, " (and %zu more)", bad - 5);
	return bad;
}

int sl_delta_check(const struct sl_manifest *m, const struct sl_delta_base *b, struct sl_diag *d)
{
	char h1[SL_SHA256_HEX], h2[SL_SHA256_HEX], list[900];
	size_t bad;

	if (!m->has_base)
		return SL_OK;
	if (memcmp(b->m->id, m->base_id, SL_ID_BYTES))
		return sl_diag_set(d, SL_ERR_POLICY, "base %s: the manifest given is of transfer %s", m->base_hex,
				   b->m->id_hex);
	if (memcmp(b->sha256, m->base_sha256, 32))
		return sl_diag_set(d, SL_ERR_HASH, "base %s: its manifest has SHA-256 %s, the delta names %s",
				   m->base_hex, sl_sha256_hex(b->sha256, h1), sl_sha256_hex(m->base_sha256, h2));
	bad = missing_list(m, b, list, sizeof list);
	if (bad)
		return sl_diag_set(d, SL_ERR_HASH, "base %s holds no file with the content of %zu file%s taken from it: %s",
				   m->base_hex, bad, bad == 1 ? "" : "s", list);
	return SL_OK;
}
