/* manifest_show.c — `sluice manifest show`: what an officer reads before
 * signing. Everything printed is ASCII-safe for a terminal; names with
 * non-ASCII characters are shown escaped and flagged. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "grow.h"
#include "cmds.h"
#include "safefs.h"
#include "manifest.h"
#include "manifest_delta.h"
#include "sha256.h"
#include "units.h"

#define P "manifest show"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice manifest show MANIFEST [--base OLD-MANIFEST] [--files] [--top N]\n\n"
		"A delta (made with 'manifest create --base') is shown with its difference\n"
		"first: bytes to send against the whole tree, and with --base (the manifest of\n"
		"the release it applies to) the added, changed, moved and removed paths.\n"
		"Summarises a manifest for review: transfer id, submitter, purpose, validity,\n"
		"binding, counts and sizes per top-level directory and per extension, the\n"
		"range of modification times, empty directories, the largest files, and\n"
		"every name with non-ASCII characters (escaped as \\u{XXXX}, flagged '!').\n"
		"--files lists every directory and file with its time. See sluice-manifest(1).\n");
}

struct group {
	char key[80];
	size_t files;
	uint64_t bytes;
};

struct groups {
	struct group *g;
	size_t n, cap;
};

static struct group *group_get(struct groups *gs, const char *key, size_t klen)
{
	char k[80];
	snprintf(k, sizeof k, "%.*s", (int)(klen < sizeof k - 1 ? klen : sizeof k - 1), key);
	for (size_t i = 0; i < gs->n; i++)
		if (!strcmp(gs->g[i].key, k))
			return &gs->g[i];
	if (sl_grow(&gs->g, gs->n, &gs->cap, sizeof *gs->g))
		return NULL;
	memset(&gs->g[gs->n], 0, sizeof gs->g[0]);
	memcpy(gs->g[gs->n].key, k, sizeof k);
	return &gs->g[gs->n++];
}

static int by_bytes(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int file_by_size(const void *a, const void *b, void *arg)
{
	const struct sl_manifest *sm = arg;
	const struct sl_manifest_file *x = sl_manifest_at(sm, *(const size_t *)a), *y = sl_manifest_at(sm, *(const size_t *)b);
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return strcmp(x->path, y->path);
}

static void print_groups(const char *title, const char *col, struct groups *gs, size_t max)
{
	char b[32], v[400];
	qsort(gs->g, gs->n, sizeof *gs->g, by_bytes);
	printf("\n%s\n  %8s  %12s  %s\n", title, "files", "bytes", col);
	for (size_t i = 0; i < gs->n && i < max; i++)
		printf("  %8zu  %12s  %s%s\n", gs->g[i].files, sl_fmt_bytes(gs->g[i].bytes, b, sizeof b),
		       cli_has_non_ascii(gs->g[i].key) ? "! " : "", cli_visible(gs->g[i].key, v, sizeof v));
	if (gs->n > max)
		printf("  ... and %zu more\n", gs->n - max);
}

static void span(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
}

/* Marks the directories that hold something; returns how many are empty. */
static size_t mark_parents(const struct sl_manifest *m, bool *full)
{
	size_t empty = 0;
	for (size_t i = 0; i < m->ndirs + sl_manifest_all(m); i++) {
		const char *p = i < m->ndirs ? m->dirs[i].path : sl_manifest_at(m, i - m->ndirs)->path;
		const char *slash = strrchr(p, '/');
		if (!slash)
			continue;
		char *parent = strndup(p, (size_t)(slash - p));
		long k = parent ? sl_manifest_find_dir(m, parent) : -1;
		if (k >= 0)
			full[k] = true;
		free(parent);
	}
	for (size_t i = 0; i < m->ndirs; i++)
		empty += !full[i];
	return empty;
}

/* Format version, directories and the range of modification times. */
static void print_tree_summary(const struct sl_manifest *m, size_t empty)
{
	char t1[SL_MTIME_UTC_BUF], t2[SL_MTIME_UTC_BUF];
	struct timespec lo = { 0, 0 }, hi = { 0, 0 };

	if (m->version < 2) {
		printf("  directories       not listed (format version 1: parents of files only, no times)\n");
		return;
	}
	printf("  directories       %zu (%zu empty)\n", m->ndirs, empty);
	for (size_t i = 0; i < m->nfiles; i++) {
		struct timespec t = m->files[i].mtime;
		if (i == 0 || t.tv_sec < lo.tv_sec || (t.tv_sec == lo.tv_sec && t.tv_nsec < lo.tv_nsec))
			lo = t;
		if (i == 0 || t.tv_sec > hi.tv_sec || (t.tv_sec == hi.tv_sec && t.tv_nsec > hi.tv_nsec))
			hi = t;
	}
	printf("  files modified    %s to %s (UTC)\n", sl_mtime_format_utc(lo, t1, sizeof t1),
	       sl_mtime_format_utc(hi, t2, sizeof t2));
}

static void print_dirs(const struct sl_manifest *m, const bool *full, size_t empty, bool all)
{
	char v[1200], t[SL_MTIME_UTC_BUF];
	size_t shown = 0;

	if (empty && !all) {
		printf("\nEmpty directories (created by the receiver as listed)\n");
		for (size_t i = 0; i < m->ndirs && shown < 50; i++) {
			if (full[i])
				continue;
			printf("  %s%s/\n", cli_has_non_ascii(m->dirs[i].path) ? "! " : "",
			       cli_visible(m->dirs[i].path, v, sizeof v));
			shown++;
		}
		if (empty > shown)
			printf("  ... and %zu more (use --files)\n", empty - shown);
	}
	if (all && m->ndirs) {
		printf("\nAll directories (mode, modified UTC, path; '(empty)' holds nothing)\n");
		for (size_t i = 0; i < m->ndirs; i++)
			printf("  %04o %s %s%s/%s\n", m->dirs[i].mode, sl_mtime_format_utc(m->dirs[i].mtime, t, sizeof t),
			       cli_has_non_ascii(m->dirs[i].path) ? "! " : "", cli_visible(m->dirs[i].path, v, sizeof v),
			       full[i] ? "" : " (empty)");
	}
}

/* Groups per top-level directory and per extension; counts executables. */
static size_t group_files(const struct sl_manifest *m, struct groups *dirs, struct groups *exts)
{
	size_t exec = 0;
	for (size_t i = 0; i < sl_manifest_all(m); i++) {
		const struct sl_manifest_file *f = sl_manifest_at(m, i);
		const char *slash = strchr(f->path, '/');
		const char *base = strrchr(f->path, '/');
		const char *dot;
		struct group *g;
		base = base ? base + 1 : f->path;
		dot = strrchr(base, '.');
		g = slash ? group_get(dirs, f->path, (size_t)(slash - f->path) + 1) : group_get(dirs, "(top level)", 11);
		if (g) {
			g->files++;
			g->bytes += f->size;
		}
		if (dot && dot != base && dot[1]) {
			char e[40];
			size_t k = 0;
			for (const char *q = dot; *q && k < sizeof e - 1; q++)
				e[k++] = (*q >= 'A' && *q <= 'Z') ? (char)(*q + 32) : *q;
			e[k] = '\0';
			g = group_get(exts, e, k);
		} else {
			g = group_get(exts, "(no extension)", 14);
		}
		if (g) {
			g->files++;
			g->bytes += f->size;
		}
		exec += f->mode == 0755;
	}
	return exec;
}

static void print_header(const struct sl_manifest *m, const uint8_t digest[32], size_t exec)
{
	char b[32], t1[32], t2[32], s1[32], hex[SL_SHA256_HEX], purpose[4 * SL_PURPOSE_MAX + 64];
	int64_t now = (int64_t)time(NULL);

	printf("Transfer %s (manifest format version %u)\n", m->id_hex, m->version);
	printf("  manifest SHA-256  %s\n", sl_sha256_hex(digest, hex));
	printf("  submitter         %s\n", m->submitter);
	printf("  purpose           %s\n", cli_text(m->purpose, purpose, sizeof purpose));
	printf("  enclave / link    %s / %s\n", m->enclave, m->link);
	printf("  sequence          %llu\n", (unsigned long long)m->sequence);
	span(m->expires - m->created, s1, sizeof s1);
	printf("  valid             %s to %s (%s)\n", sl_time_format(m->created, t1, sizeof t1),
	       sl_time_format(m->expires, t2, sizeof t2), s1);
	if (now > m->expires) {
		span(now - m->expires, s1, sizeof s1);
		printf("                    EXPIRED %s ago: the receiver will refuse it\n", s1);
	} else if (now < m->created) {
		span(m->created - now, s1, sizeof s1);
		printf("                    NOT YET VALID: starts in %s\n", s1);
	} else {
		span(m->expires - now, s1, sizeof s1);
		printf("                    expires in %s\n", s1);
	}
	printf("  files             %zu (%zu executable, mode 0755)%s\n", sl_manifest_all(m), exec,
	       m->has_base ? " in the whole new tree" : "");
	printf("  total size        %s (%llu bytes)\n", sl_fmt_bytes(m->total_bytes + m->taken_bytes, b, sizeof b),
	       (unsigned long long)(m->total_bytes + m->taken_bytes));
}

static void print_largest(const struct sl_manifest *m, size_t top)
{
	size_t n = sl_manifest_all(m), *order = malloc((n ? n : 1) * sizeof *order);
	char b[32], v[1200];

	if (!order)
		return;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, file_by_size, (void *)m);
	printf("\nLargest files\n");
	for (size_t i = 0; i < n && i < top; i++) {
		const struct sl_manifest_file *f = sl_manifest_at(m, order[i]);
		printf("  %12s  %s%s\n", sl_fmt_bytes(f->size, b, sizeof b), cli_has_non_ascii(f->path) ? "! " : "",
		       cli_visible(f->path, v, sizeof v));
	}
	free(order);
}

static void print_non_ascii(const struct sl_manifest *m, size_t nonascii, bool all)
{
	char v[1200], t[1200];
	size_t shown = 0;

	if (!nonascii)
		return;
	printf("\nNames with non-ASCII characters (escaped, then as text with invisible characters escaped)\n");
	for (size_t i = 0; i < m->ndirs + sl_manifest_all(m) && (all || shown < 50); i++) {
		bool isdir = i < m->ndirs;
		const char *p = isdir ? m->dirs[i].path : sl_manifest_at(m, i - m->ndirs)->path;
		if (!cli_has_non_ascii(p))
			continue;
		printf("  ! %s%s\n      \"%s%s\"\n", cli_visible(p, v, sizeof v), isdir ? "/" : "",
		       cli_text(p, t, sizeof t), isdir ? "/" : "");
		shown++;
	}
	if (shown < nonascii)
		printf("  ... and %zu more (use --files)\n", nonascii - shown);
}

static void print_all_files(const struct sl_manifest *m, bool all)
{
	char v[1200], hex[SL_SHA256_HEX];

	if (!all) {
		printf("\n(use --files to list all %zu files with their SHA-256%s)\n", sl_manifest_all(m),
		       m->version >= 2 ? " and times, and all directories" : "");
		return;
	}
	printf("\nAll files (mode, size, %sSHA-256, %spath)\n", m->version >= 2 ? "modified UTC, " : "",
	       m->has_base ? "sent or taken from the base, " : "");
	for (size_t i = 0, j = 0; i + j < sl_manifest_all(m);) { /* path order, both kinds */
		bool take = j < m->ntaken && (i == m->nfiles || strcmp(m->taken[j].path, m->files[i].path) < 0);
		const struct sl_manifest_file *f = take ? &m->taken[j++] : &m->files[i++];
		char t[SL_MTIME_UTC_BUF + 8] = "";
		if (m->version >= 2) {
			sl_mtime_format_utc(f->mtime, t, SL_MTIME_UTC_BUF);
			strcat(t, " ");
		}
		if (m->has_base)
			strcat(t, take ? "take " : "sent ");
		printf("  %04o %14llu %s%s %s%s\n", f->mode, (unsigned long long)f->size, t, sl_sha256_hex(f->sha256, hex),
		       cli_has_non_ascii(f->path) ? "! " : "", cli_visible(f->path, v, sizeof v));
	}
}

static int show(const struct sl_manifest *m, const uint8_t digest[32], bool all, size_t top,
		const struct sl_delta_base *base)
{
	struct groups dirs = { 0 }, exts = { 0 };
	size_t nonascii = 0, empty, exec = group_files(m, &dirs, &exts);
	bool *full = calloc(m->ndirs ? m->ndirs : 1, sizeof *full);

	if (!full)
		return cli_fail(P, SL_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < sl_manifest_all(m); i++)
		nonascii += cli_has_non_ascii(sl_manifest_at(m, i)->path);
	for (size_t i = 0; i < m->ndirs; i++)
		nonascii += cli_has_non_ascii(m->dirs[i].path);
	empty = mark_parents(m, full);
	print_header(m, digest, exec);
	if (m->has_base && show_delta(m, base, all)) {
		free(full);
		free(dirs.g);
		free(exts.g);
		return cli_fail(P, SL_ERR_HASH, "--base is not the base this delta names (above)");
	}
	if (m->has_base)
		printf("\nThe whole new tree\n");
	print_tree_summary(m, empty);
	printf("  non-ASCII names   %zu%s\n", nonascii, nonascii ? " (listed below, escaped)" : "");
	print_groups("By top-level directory", "directory", &dirs, 30);
	print_groups("By type (extension)", "extension", &exts, 15);
	print_largest(m, top);
	print_dirs(m, full, empty, all);
	print_non_ascii(m, nonascii, all);
	print_all_files(m, all);
	free(full);
	free(dirs.g);
	free(exts.g);
	return EXIT_OK;
}

static int load_base(const char *path, const struct sl_manifest *m, struct sl_delta_base *b)
{
	struct sl_diag d;
	uint8_t *text;
	size_t len;
	int rc;

	if (!m->has_base)
		return cli_usage_error(P, "--base: this manifest is not a delta (it names no base)");
	if ((rc = sl_read_file(path, SL_MANIFEST_DEFAULT_MAX_BYTES, &text, &len, &d)))
		return cli_fail(P, rc, "--base: %s", d.msg);
	rc = sl_delta_base_parse(text, len, NULL, b, &d);
	free(text);
	return rc ? cli_fail(P, rc, "--base %s: %s", path, d.msg) : EXIT_OK;
}

int manifest_show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "files", no_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 't' },
		{ "base", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base_path = NULL;
	struct sl_delta_base base = { 0 };
	bool all = false;
	uint64_t top = 10;
	uint8_t *text, digest[32];
	size_t len;
	struct sl_manifest *m;
	struct sl_diag d;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': all = true; break;
		case 'b': base_path = optarg; break;
		case 't':
			if (sl_parse_decimal(optarg, 1, 1000000, &top))
				return cli_usage_error(P, "--top takes a positive number");
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return cli_usage_error(P, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(P, "expected one MANIFEST");
	if ((rc = sl_read_file(argv[optind], SL_MANIFEST_DEFAULT_MAX_BYTES, &text, &len, &d)))
		return cli_fail(P, rc, "%s", d.msg);
	rc = sl_manifest_parse(text, len, NULL, &m, &d);
	sl_sha256(text, len, digest);
	free(text);
	if (rc)
		return cli_fail(P, rc, "%s: %s (not a valid manifest: do not sign it)", argv[optind], d.msg);
	if (base_path && (rc = load_base(base_path, m, &base))) {
		sl_manifest_free(m);
		return rc;
	}
	rc = show(m, digest, all, (size_t)top, base_path ? &base : NULL);
	sl_delta_base_free(&base);
	sl_manifest_free(m);
	return rc;
}
