/* manifest_delta.c — the "Delta" section of `sluice manifest show`.
 *
 * A file of the new tree is: unchanged (taken, same path and content in the
 * base), moved (taken, its content at another path in the base: "old ->
 * new"), changed (sent, its path is a file of the base) or added (sent, a new
 * path). Removed: a path of the base that is no file of the new tree. The
 * same for directories (added, removed). */
#include "manifest_delta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sha256.h"
#include "units.h"

#define LIST_MAX 50

struct counts {
	size_t added, changed, moved, unchanged, removed, dadded, dremoved;
};

static void line(const char *tag, const char *path, const char *dirmark, const char *from)
{
	char v[1200], w[1200];
	if (from)
		printf("  %-8s %s%s -> %s%s\n", tag, cli_has_non_ascii(from) ? "! " : "", cli_visible(from, w, sizeof w),
		       cli_has_non_ascii(path) ? "! " : "", cli_visible(path, v, sizeof v));
	else
		printf("  %-8s %s%s%s\n", tag, cli_has_non_ascii(path) ? "! " : "", cli_visible(path, v, sizeof v), dirmark);
}

static int sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Is sha256 the content of a file the delta takes (sorted shas, n)? */
static bool taken_sha(const uint8_t (*shas)[32], size_t n, const uint8_t sha256[32])
{
	return n && bsearch(sha256, shas, n, 32, sha_cmp) != NULL;
}

/* Counts one more of a kind; true if it is to be printed (pass 1, below max). */
static bool next(size_t *c, int pass, size_t max)
{
	return (*c)++ < max && pass;
}

/* pass 0 counts, pass 1 prints (at most `max` lines of each kind). */
static void walk(const struct sl_manifest *m, const struct sl_delta_base *b, const uint8_t (*shas)[32],
		 struct counts *k, int pass, size_t max)
{
	const struct sl_manifest *o = b->m;
	struct counts n = { 0 };

	for (size_t i = 0; i < sl_manifest_all(m); i++) {
		const struct sl_manifest_file *f = sl_manifest_at(m, i), *old = sl_manifest_lookup(o, f->path);
		const struct sl_manifest_file *src;
		if (i >= m->nfiles && old && !memcmp(old->sha256, f->sha256, 32)) {
			n.unchanged++;
		} else if (i >= m->nfiles) {
			src = sl_delta_base_find(b, f->sha256);
			if (next(&n.moved, pass, max))
				line("moved", f->path, "", src ? src->path : "(not in the base)");
		} else if (old) {
			if (next(&n.changed, pass, max))
				line("changed", f->path, "", NULL);
		} else if (next(&n.added, pass, max)) {
			line("added", f->path, "", NULL);
		}
	}
	for (size_t i = 0; i < sl_manifest_all(o); i++) {
		const struct sl_manifest_file *f = sl_manifest_at(o, i);
		/* gone, and not moved (a moved file's old path shows as its source) */
		if (!sl_manifest_lookup(m, f->path) && !taken_sha(shas, m->ntaken, f->sha256) &&
		    next(&n.removed, pass, max))
			line("removed", f->path, "", NULL);
	}
	for (size_t i = 0; i < m->ndirs; i++)
		if (sl_manifest_find_dir(o, m->dirs[i].path) < 0 && next(&n.dadded, pass, max))
			line("added", m->dirs[i].path, "/", NULL);
	for (size_t i = 0; i < o->ndirs; i++)
		if (sl_manifest_find_dir(m, o->dirs[i].path) < 0 && next(&n.dremoved, pass, max))
			line("removed", o->dirs[i].path, "/", NULL);
	if (!pass)
		*k = n;
}

static void more(const char *what, size_t n, size_t max)
{
	if (n > max)
		printf("  ... and %zu more %s (use --files)\n", n - max, what);
}

int show_delta(const struct sl_manifest *m, const struct sl_delta_base *b, bool all)
{
	char b1[32], b2[32], hex[SL_SHA256_HEX];
	struct sl_diag d;
	struct counts k;
	uint8_t (*shas)[32];
	size_t max = all ? (size_t)-1 : LIST_MAX;

	printf("\nDelta (what changes in the release this applies to)\n");
	printf("  base              %s\n", m->base_hex);
	printf("  base manifest     SHA-256 %s\n", sl_sha256_hex(m->base_sha256, hex));
	printf("  bytes to send     %s of %s in the whole tree (%zu of %zu files)\n",
	       sl_fmt_bytes(m->total_bytes, b1, sizeof b1), sl_fmt_bytes(m->total_bytes + m->taken_bytes, b2, sizeof b2),
	       m->nfiles, sl_manifest_all(m));
	if (!b) {
		printf("  sent              %zu files (added or changed), taken from the base: %zu\n"
		       "  (give the base's manifest with --base OLD-MANIFEST to see what is added, changed,\n"
		       "   moved and removed)\n", m->nfiles, m->ntaken);
		for (size_t i = 0; i < m->nfiles && i < max; i++)
			line("sent", m->files[i].path, "", NULL);
		more("sent files", m->nfiles, max);
		return 0;
	}
	if (sl_delta_check(m, b, &d)) {
		printf("  REFUSED: %s\n  (this is not the base the delta names: do not sign it against this base)\n", d.msg);
		return 1;
	}
	if (!(shas = malloc((m->ntaken ? m->ntaken : 1) * 32))) {
		printf("  (out of memory)\n");
		return 1;
	}
	for (size_t i = 0; i < m->ntaken; i++)
		memcpy(shas[i], m->taken[i].sha256, 32);
	qsort(shas, m->ntaken, 32, sha_cmp);
	walk(m, b, (const uint8_t (*)[32])shas, &k, 0, max);
	printf("  files             %zu added, %zu changed, %zu moved, %zu removed, %zu unchanged\n", k.added,
	       k.changed, k.moved, k.removed, k.unchanged);
	printf("  directories       %zu added, %zu removed\n", k.dadded, k.dremoved);
	if (k.added + k.changed + k.moved + k.removed + k.dadded + k.dremoved == 0) {
		free(shas);
		return 0;
	}
	printf("\n  (moved: old path -> new path; files that are gone leave the release)\n");
	walk(m, b, (const uint8_t (*)[32])shas, &k, 1, max);
	free(shas);
	more("added files", k.added, max);
	more("changed files", k.changed, max);
	more("moved files", k.moved, max);
	more("removed files", k.removed, max);
	more("added directories", k.dadded, max);
	more("removed directories", k.dremoved, max);
	return 0;
}
