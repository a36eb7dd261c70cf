/* manifest_create.c — `sluice manifest create`: walk a tree, refuse what a
 * transfer cannot carry (all at once), deal with symbolic links as told, hash
 * the files on every core, write the manifest (directories, files, times). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "cmds.h"
#include "create_tree.h"
#include "delta.h"
#include "safefs.h"
#include "hashfiles.h"
#include "linkcopy.h"
#include "manifest.h"
#include "pathname.h"
#include "units.h"

#define P "manifest create"

enum links_mode { LINKS_REFUSE, LINKS_SKIP, LINKS_COPY_INSIDE };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice manifest create DATA-DIR --submitter NAME --purpose TEXT --sequence N\n"
		"                              --enclave E --link L [--expires 7d] [-o MANIFEST]\n"
		"                              [--symlinks refuse|skip|copy-inside] [--threads N] [--force]\n"
		"                              [--base OLD-MANIFEST]\n\n"
		"Hashes every file under DATA-DIR (normally T/data) on all cores and writes the\n"
		"manifest (default: MANIFEST next to DATA-DIR, i.e. T/manifest): every directory\n"
		"(empty ones too) and every file, with modification times. Devices, FIFOs,\n"
		"sockets, unreadable entries and names the format cannot carry are refused,\n"
		"each listed with its reason; then nothing is written. Hard links are carried\n"
		"as independent files (listed). Symbolic links are refused and listed, unless\n"
		"  --symlinks skip         leaves them out (listed; they stay in DATA-DIR)\n"
		"  --symlinks copy-inside  replaces, in DATA-DIR, each link whose target lies\n"
		"                          inside DATA-DIR by a copy of its target (a directory\n"
		"                          whole); targets outside and cycles are refused\n"
		"--base OLD-MANIFEST makes a delta (manifest version 3): the new tree whole, each\n"
		"file whose content is in OLD-MANIFEST's tree (any path) taken from that release\n"
		"on the receiver instead of sent; OLD-MANIFEST is the last released manifest.\n"
		"--expires is the validity window from now (30, 30s, 5m, 2h, 7d).\n"
		"An existing manifest is replaced only with --force. See sluice-manifest(1).\n");
}

struct create_opts {
	const char *submitter, *purpose, *enclave, *link, *root, *base;
	char *out;
	uint64_t expires, sequence, threads;
	enum links_mode links;
	bool force;
};

static int parse_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option opts[] = {
		{ "submitter", required_argument, NULL, 's' }, { "purpose", required_argument, NULL, 'p' },
		{ "sequence", required_argument, NULL, 'n' },  { "enclave", required_argument, NULL, 'e' },
		{ "link", required_argument, NULL, 'l' },      { "expires", required_argument, NULL, 'x' },
		{ "threads", required_argument, NULL, 'j' },   { "symlinks", required_argument, NULL, 'L' },
		{ "force", no_argument, NULL, 'f' },           { "help", no_argument, NULL, 'h' },
		{ "base", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	const char *seq = NULL;
	struct sl_diag d;
	int c;

	o->expires = 7 * 86400;
	while ((c = getopt_long(argc, argv, "o:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->submitter = optarg; break;
		case 'p': o->purpose = optarg; break;
		case 'n': seq = optarg; break;
		case 'e': o->enclave = optarg; break;
		case 'l': o->link = optarg; break;
		case 'x':
			if (sl_parse_duration(optarg, &o->expires, &d) || o->expires == 0)
				return cli_usage_error(P, "--expires %s: %s", optarg, o->expires ? d.msg : "must be above zero");
			break;
		case 'j':
			if (sl_parse_decimal(optarg, 0, 64, &o->threads))
				return cli_usage_error(P, "--threads '%s': expected a number from 0 (auto) to 64", optarg);
			break;
		case 'L':
			if (!strcmp(optarg, "refuse"))
				o->links = LINKS_REFUSE;
			else if (!strcmp(optarg, "skip"))
				o->links = LINKS_SKIP;
			else if (!strcmp(optarg, "copy-inside"))
				o->links = LINKS_COPY_INSIDE;
			else
				return cli_usage_error(P, "--symlinks takes refuse, skip or copy-inside");
			break;
		case 'f': o->force = true; break;
		case 'B': o->base = optarg; break;
		case 'o': free(o->out); o->out = strdup(optarg); break;
		case 'h': usage(stdout); return -1;
		default: return cli_usage_error(P, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(P, "expected one DATA-DIR");
	o->root = argv[optind];
	if (!o->submitter || !o->purpose || !seq || !o->enclave || !o->link)
		return cli_usage_error(P, "--submitter, --purpose, --sequence, --enclave and --link are required");
	if (sl_parse_decimal(seq, 0, INT64_MAX, &o->sequence))
		return cli_usage_error(P, "--sequence '%s': expected a number from 0 to 2^63-1", seq);
	if (!sl_label_ok(o->submitter) || !sl_label_ok(o->enclave) || !sl_label_ok(o->link))
		return cli_usage_error(P, "submitter, enclave and link are names: [A-Za-z0-9][A-Za-z0-9._-]*, at most 64");
	return EXIT_OK;
}

static char *default_output(const char *datadir)
{
	char *copy = strdup(datadir), *dir, *out;
	size_t l;
	if (!copy)
		return NULL;
	l = strlen(copy);
	while (l > 1 && copy[l - 1] == '/')
		copy[--l] = '\0';
	dir = dirname(copy);
	if (asprintf(&out, "%s/manifest", dir) < 0)
		out = NULL;
	free(copy);
	return out;
}

/* ---- symbolic links --------------------------------------------------------- */

static void print_link(struct create_tree *t, const char *label, const struct ct_link *l, const char *why)
{
	char b[4096], v[4096];
	fprintf(stderr, "%s: %s -> %s: %s\n", label, ct_shown(t, l->path, b, sizeof b),
		ct_shown_target(l->target, v, sizeof v), why);
}

struct link_report {
	struct create_tree *t;
	size_t problems;
	char **seen;          /* links reported already: one met inside several */
	size_t nseen;         /* copied directories is named once */
};

static void on_link_problem(void *ctx, const char *link, const char *target, const char *why)
{
	struct link_report *r = ctx;
	struct ct_link l = { (char *)link, (char *)target };
	char **ns;

	for (size_t i = 0; i < r->nseen; i++)
		if (!strcmp(r->seen[i], link))
			return;
	if ((ns = realloc(r->seen, (r->nseen + 1) * sizeof *ns)) && (ns[r->nseen] = strdup(link))) {
		r->seen = ns;
		r->nseen++;
	} else if (ns) {
		r->seen = ns;
	}
	print_link(r->t, "refused", &l, why);
	r->problems++;
}

static void link_report_free(struct link_report *r)
{
	for (size_t i = 0; i < r->nseen; i++)
		free(r->seen[i]);
	free(r->seen);
}

/* --symlinks copy-inside: check every link first (nothing is changed if any
 * is refused), then replace each by a copy of its target. */
static int copy_links(struct create_tree *t, const char *root_abs)
{
	struct link_report r = { t, 0, NULL, 0 };
	struct sl_diag d;
	int rc = SL_OK;

	for (size_t i = 0; i < t->nlinks; i++) {
		if (sl_path_check((const uint8_t *)t->links[i].path, strlen(t->links[i].path), &d))
			on_link_problem(&r, t->links[i].path, t->links[i].target, d.msg);
		else
			lc_replace(t->rootfd, root_abs, t->links[i].path, true, on_link_problem, &r);
	}
	t->refused += r.problems;
	if (r.problems || t->refused)
		rc = SL_ERR_NAME;
	for (size_t i = 0; i < t->nlinks && !rc; i++) {
		if (lc_replace(t->rootfd, root_abs, t->links[i].path, false, on_link_problem, &r))
			rc = cli_fail(P, SL_ERR_IO, "%s: copying the target of a symbolic link failed (listed above); "
				      "links before it were replaced by copies already", t->root);
		else
			print_link(t, "copied", &t->links[i], "replaced by a copy of its target (--symlinks copy-inside)");
	}
	link_report_free(&r);
	return rc;
}

/* Deals with the links the walk found; SL_OK when the tree can go on to be
 * hashed (walked again after copies), else an exit code was printed. */
static int handle_links(struct create_tree *t, enum links_mode mode, const char *root_abs)
{
	if (t->nlinks == 0)
		return SL_OK;
	if (mode == LINKS_SKIP) {
		for (size_t i = 0; i < t->nlinks; i++)
			print_link(t, "skipped", &t->links[i], "symbolic link left out (--symlinks skip)");
		fprintf(stderr, "note: %zu symbolic link%s left out; %s in %s, where 'sluice manifest verify' names "
			"them\n", t->nlinks, t->nlinks == 1 ? "" : "s", t->nlinks == 1 ? "it stays" : "they stay", t->root);
		return SL_OK;
	}
	if (mode == LINKS_REFUSE) {
		for (size_t i = 0; i < t->nlinks; i++)
			print_link(t, "refused", &t->links[i], "symbolic link");
		t->refused += t->nlinks;
		fprintf(stderr, "%zu symbolic link%s: a transfer carries regular files and directories only. Either\n"
			"  --symlinks skip         leave them out (they stay in %s), or\n"
			"  --symlinks copy-inside  replace each whose target lies inside %s by a copy\n"
			"                          of its target (a directory whole; %s is changed)\n",
			t->nlinks, t->nlinks == 1 ? "" : "s", t->root, t->root, t->root);
		return SL_ERR_NAME;
	}
	int rc = copy_links(t, root_abs); /* lists link problems; copies only if nothing is refused */
	if (rc)
		return rc;
	ct_free(t);
	if ((rc = ct_walk(t)))
		return rc;
	for (size_t i = 0; i < t->nlinks; i++)
		print_link(t, "refused", &t->links[i], "symbolic link appeared while copying links");
	t->refused += t->nlinks;
	return t->refused ? SL_ERR_NAME : SL_OK;
}

/* ---- the manifest ---------------------------------------------------------- */

static void on_progress(void *ctx, uint64_t bytes, size_t files)
{
	cli_progress_items(ctx, bytes, files, "files");
}

/* Hashes every file (progress on a terminal) and adds directories and files
 * (with a base: files whose content it holds are taken from it). */
static int fill(struct create_tree *t, struct sl_manifest *m, unsigned threads, const struct sl_delta_base *base)
{
	struct cli_progress prog;
	uint64_t t0;
	double s;
	char sz[32];
	int rc;

	cli_progress_init(&prog, "hashing", t->njobs);
	t0 = sl_now_ns();
	sl_hash_files(t->rootfd, t->jobs, t->njobs, threads, on_progress, &prog);
	s = (double)(sl_now_ns() - t0) / 1e9;
	cli_progress_done(&prog);
	if (prog.on) {
		uint64_t bytes = 0;
		for (size_t i = 0; i < t->njobs; i++)
			bytes += t->jobs[i].size;
		fprintf(stderr, "hashed %zu files, %s, in %.2f s (%.0f files/s)\n", t->njobs,
			sl_fmt_bytes(bytes, sz, sizeof sz), s, s > 0 ? (double)t->njobs / s : 0.0);
	}
	ct_note_hard_links(t);
	for (size_t i = 0; i < t->ndirs; i++)
		if ((rc = sl_manifest_add_dir(m, t->dirs[i].path, 0755, t->dirs[i].mtime)))
			return cli_fail(P, rc, "out of memory");
	for (size_t i = 0; i < t->njobs; i++) {
		const struct sl_hash_job *j = &t->jobs[i];
		if (j->err) {
			ct_refuse(t, j->path, j->msg);
			continue;
		}
		if (!sl_mtime_ok(j->mtime)) {
			ct_refuse(t, j->path, "modification time before 1970 or after 9999 (set one with touch)");
			continue;
		}
		const struct sl_manifest_file *bf = base ? sl_delta_base_find(base, j->sha256) : NULL;
		if (bf && bf->size == j->size)
			rc = sl_manifest_take_file(m, j->path, j->size, j->sha256, j->mode, j->mtime);
		else
			rc = sl_manifest_add_file(m, j->path, j->size, j->sha256, j->mode, j->mtime);
		if (rc)
			return cli_fail(P, rc, "out of memory");
	}
	for (size_t i = 0; i < t->ndirs; i++)
		if (!sl_mtime_ok(t->dirs[i].mtime))
			ct_refuse(t, t->dirs[i].path, "modification time before 1970 or after 9999 (set one with touch)");
	return SL_OK;
}

static int write_manifest(const struct create_opts *o, struct sl_manifest *m)
{
	char *text = NULL, t1[32], t2[32], sz[32];
	struct sl_diag d;
	size_t tlen;
	int rc;

	if ((rc = sl_manifest_seal(m, NULL, &d)))
		return cli_fail(P, rc, "%s; no manifest written", d.msg);
	if ((rc = sl_manifest_emit(m, &text, &tlen, &d)))
		return cli_fail(P, rc, "%s", d.msg);
	if (o->force)
		unlink(o->out);
	rc = sl_write_file(o->out, text, tlen, 0644, false, &d);
	free(text);
	if (rc)
		return cli_fail(P, rc, "%s", d.msg);
	printf("wrote %s: transfer %s, %zu files in %zu directories, %s, sequence %llu, valid %s to %s\n", o->out,
	       m->id_hex, sl_manifest_all(m), m->ndirs, sl_fmt_bytes(m->total_bytes + m->taken_bytes, sz, sizeof sz),
	       (unsigned long long)m->sequence, sl_time_format(m->created, t1, sizeof t1),
	       sl_time_format(m->expires, t2, sizeof t2));
	if (m->has_base)
		printf("delta on base %s: %zu files (%s) sent, %zu taken from the base\n", m->base_hex, m->nfiles,
		       sl_fmt_bytes(m->total_bytes, sz, sizeof sz), m->ntaken);
	printf("next: officers review with 'sluice manifest show %s' and sign it\n", o->out);
	return EXIT_OK;
}

static int start_manifest(const struct create_opts *o, struct sl_manifest **out)
{
	struct sl_manifest *m;
	struct sl_diag d;
	int rc;

	if ((rc = sl_manifest_new(&m)))
		return cli_fail(P, rc, "cannot start a manifest");
	snprintf(m->submitter, sizeof m->submitter, "%s", o->submitter);
	snprintf(m->enclave, sizeof m->enclave, "%s", o->enclave);
	snprintf(m->link, sizeof m->link, "%s", o->link);
	if ((rc = sl_manifest_set_purpose(m, o->purpose, &d))) {
		sl_manifest_free(m);
		return cli_usage_error(P, "--purpose: %s", d.msg);
	}
	m->sequence = o->sequence;
	m->created = (int64_t)time(NULL);
	m->expires = m->created + (int64_t)o->expires;
	*out = m;
	return EXIT_OK;
}

static int create_from(struct create_opts *o, struct create_tree *t, struct sl_manifest *m,
		       const struct sl_delta_base *base, char *root_abs);

/* --base: the old manifest, which the new one names. */
static int load_base(const char *path, struct sl_manifest *m, struct sl_delta_base *b)
{
	struct sl_diag d;
	uint8_t *text;
	size_t len;
	int rc = sl_read_file(path, SL_MANIFEST_DEFAULT_MAX_BYTES, &text, &len, &d);

	if (rc)
		return cli_fail(P, rc, "--base: %s", d.msg);
	rc = sl_delta_base_parse(text, len, NULL, b, &d);
	free(text);
	if (rc)
		return cli_fail(P, rc, "--base %s: %s", path, d.msg);
	sl_manifest_set_base(m, b->m->id, b->sha256);
	return EXIT_OK;
}

static int create(struct create_opts *o, struct create_tree *t, struct sl_manifest *m)
{
	char root_abs[PATH_MAX];
	struct sl_delta_base base = { 0 };
	int rc;

	if (o->base && (rc = load_base(o->base, m, &base)))
		return rc;
	rc = create_from(o, t, m, o->base ? &base : NULL, root_abs);
	sl_delta_base_free(&base);
	return rc;
}

static int create_from(struct create_opts *o, struct create_tree *t, struct sl_manifest *m,
		       const struct sl_delta_base *base, char *root_abs)
{
	int rc;

	t->root = o->root;
	t->rootfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->rootfd < 0 || !realpath(o->root, root_abs))
		return cli_fail(P, SL_ERR_IO, "%s: %s", o->root, strerror(errno));
	if ((rc = ct_walk(t)))
		return cli_fail(P, rc, "out of memory while listing %s", o->root);
	rc = handle_links(t, o->links, root_abs);
	if (rc && !t->refused)
		return rc == SL_ERR_NOMEM ? cli_fail(P, rc, "out of memory while listing %s", o->root) : rc;
	if (t->refused)
		return cli_fail(P, SL_ERR_NAME, "%zu entr%s refused (listed above); no manifest written", t->refused,
				t->refused == 1 ? "y" : "ies");
	if (t->nfiles == 0)
		return cli_fail(P, SL_ERR_RANGE, "%s holds no files: nothing to transfer", o->root);
	if (ct_jobs(t) || sl_manifest_reserve(m, t->ndirs, t->nfiles))
		return cli_fail(P, SL_ERR_NOMEM, "out of memory");
	if ((rc = fill(t, m, (unsigned)o->threads, base)))
		return rc;
	if (t->refused)
		return cli_fail(P, SL_ERR_NAME, "%zu entr%s refused (listed above); no manifest written", t->refused,
				t->refused == 1 ? "y" : "ies");
	return write_manifest(o, m);
}

int manifest_create_main(int argc, char **argv)
{
	struct create_opts o = { 0 };
	struct create_tree t = { .rootfd = -1 };
	struct sl_manifest *m = NULL;
	int rc = parse_args(argc, argv, &o);

	if (rc) {
		free(o.out);
		return rc < 0 ? EXIT_OK : rc;
	}
	if (!o.out && !(o.out = default_output(o.root)))
		return cli_fail(P, SL_ERR_NOMEM, "out of memory");
	if (!o.force && access(o.out, F_OK) == 0)
		rc = cli_fail(P, SL_ERR_EXISTS, "%s exists: signatures made over it would no longer match; use --force to "
			      "replace it", o.out);
	else if (!(rc = start_manifest(&o, &m)))
		rc = create(&o, &t, m);
	if (t.rootfd >= 0)
		close(t.rootfd);
	ct_free(&t);
	sl_manifest_free(m);
	free(o.out);
	return rc;
}
