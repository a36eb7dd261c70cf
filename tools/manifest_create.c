/* manifest_create.c — `sluice manifest create`: walk a tree, refuse what a
 * transfer cannot carry (all at once), hash the rest, write the manifest. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "fileio.h"
#include "hashfiles.h"
#include "manifest.h"
#include "pathname.h"
#include "tree.h"
#include "units.h"

#define P "manifest create"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice manifest create DATA-DIR --submitter NAME --purpose TEXT --sequence N\n"
		"                              --enclave E --link L [--expires 7d] [-o MANIFEST]\n"
		"                              [--threads N] [--force]\n\n"
		"Hashes every file under DATA-DIR (normally T/data) and writes the manifest\n"
		"(default: MANIFEST next to DATA-DIR, i.e. T/manifest). Symbolic links,\n"
		"devices, FIFOs, sockets, unreadable entries and names the format cannot\n"
		"carry are refused, each listed with its reason; then nothing is written.\n"
		"--expires is the validity window from now (30, 30s, 5m, 2h, 7d).\n"
		"An existing manifest is replaced only with --force. See sluice-manifest(1).\n");
}

struct collect {
	struct sl_hash_job *jobs;
	size_t n, cap;
	size_t refused, empty_dirs;
	uint64_t bytes;
	const char *root;
	char last_dir[4096];
	bool last_dir_empty;
};

static void refuse(struct collect *c, const char *path, const char *why)
{
	char enc[3 * 4096 + 1];
	if (sl_pct_encode((const uint8_t *)path, strnlen(path, 4095), SL_PCT_PATH, enc, sizeof enc) == (size_t)-1)
		snprintf(enc, sizeof enc, "(unprintable)");
	fprintf(stderr, "refused: %s/%s: %s\n", c->root, enc, why);
	c->refused++;
}

/* A directory with nothing under it is not transferred: note it. */
static void note_empty_dir(struct collect *c, const char *next_path)
{
	size_t l = strlen(c->last_dir);
	char v[512];
	if (!c->last_dir_empty)
		return;
	if (next_path && !strncmp(next_path, c->last_dir, l) && next_path[l] == '/')
		return;
	fprintf(stderr, "note: %s/%s: empty directory, not transferred\n", c->root, cli_visible(c->last_dir, v, sizeof v));
	c->empty_dirs++;
}

static int on_entry(void *ctx, const char *path, const struct stat *st, int err)
{
	struct collect *c = ctx;
	struct sl_diag d;

	note_empty_dir(c, path);
	c->last_dir_empty = false;
	if (err) {
		refuse(c, path[0] ? path : ".", err == EACCES ? "unreadable directory (permission denied)" :
			       err == ENAMETOOLONG ? "path too long or too deep" : strerror(err));
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		if (sl_path_check((const uint8_t *)path, strlen(path), &d))
			refuse(c, path, d.msg);
		snprintf(c->last_dir, sizeof c->last_dir, "%s", path);
		c->last_dir_empty = true;
		return 0;
	}
	if (S_ISLNK(st->st_mode))
		refuse(c, path, "symbolic link (a transfer carries regular files only)");
	else if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode))
		refuse(c, path, "device file");
	else if (S_ISFIFO(st->st_mode))
		refuse(c, path, "FIFO (named pipe)");
	else if (S_ISSOCK(st->st_mode))
		refuse(c, path, "socket");
	else if (!S_ISREG(st->st_mode))
		refuse(c, path, "not a regular file");
	else if (sl_path_check((const uint8_t *)path, strlen(path), &d))
		refuse(c, path, d.msg);
	else {
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 256;
			struct sl_hash_job *nj = realloc(c->jobs, nc * sizeof *nj);
			if (!nj)
				return SL_ERR_NOMEM;
			c->jobs = nj;
			c->cap = nc;
		}
		memset(&c->jobs[c->n], 0, sizeof c->jobs[0]);
		c->jobs[c->n].path = strdup(path);
		if (!c->jobs[c->n].path)
			return SL_ERR_NOMEM;
		c->bytes += (uint64_t)st->st_size;
		c->n++;
	}
	return 0;
}

static void on_progress(void *ctx, uint64_t done)
{
	cli_progress_update(ctx, done);
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

int manifest_create_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "submitter", required_argument, NULL, 's' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "sequence", required_argument, NULL, 'n' },
		{ "enclave", required_argument, NULL, 'e' },
		{ "link", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'x' },
		{ "threads", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *submitter = NULL, *purpose = NULL, *enclave = NULL, *link = NULL, *seq = NULL;
	char *out = NULL, *end, *text = NULL, t1[32], t2[32], sz[32];
	uint64_t expires = 7 * 86400, sequence, threads = 0;
	bool force = false, have_seq = false;
	struct collect col = { 0 };
	struct sl_manifest *m = NULL;
	struct sl_diag d;
	struct cli_progress prog;
	size_t tlen;
	int c, rc, dfd = -1;

	while ((c = getopt_long(argc, argv, "o:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': submitter = optarg; break;
		case 'p': purpose = optarg; break;
		case 'n': seq = optarg; have_seq = true; break;
		case 'e': enclave = optarg; break;
		case 'l': link = optarg; break;
		case 'x':
			if (sl_parse_duration(optarg, &expires, &d) || expires == 0)
				return cli_usage_error(P, "--expires %s: %s", optarg, expires ? d.msg : "must be above zero");
			break;
		case 'j':
			threads = strtoull(optarg, &end, 10);
			if (*end || threads > 64)
				return cli_usage_error(P, "--threads takes a number from 0 (auto) to 64");
			break;
		case 'f': force = true; break;
		case 'o': free(out); out = strdup(optarg); break;
		case 'h': usage(stdout); free(out); return EXIT_OK;
		default: free(out); return cli_usage_error(P, "unknown option");
		}
	}
	if (optind + 1 != argc) {
		free(out);
		return cli_usage_error(P, "expected one DATA-DIR");
	}
	if (!submitter || !purpose || !have_seq || !enclave || !link) {
		free(out);
		return cli_usage_error(P, "--submitter, --purpose, --sequence, --enclave and --link are required");
	}
	sequence = strtoull(seq, &end, 10);
	if (*end || !*seq || seq[0] == '-' || sequence > INT64_MAX) {
		free(out);
		return cli_usage_error(P, "--sequence takes a number from 0 to 2^63-1");
	}
	col.root = argv[optind];
	if (!out && !(out = default_output(col.root)))
		return cli_fail(P, SL_ERR_NOMEM, "out of memory");
	if (!force && access(out, F_OK) == 0) {
		rc = cli_fail(P, SL_ERR_EXISTS, "%s exists: signatures made over it would no longer match; use --force to replace it", out);
		goto done;
	}

	if ((rc = sl_manifest_new(&m))) {
		rc = cli_fail(P, rc, "cannot start a manifest");
		goto done;
	}
	snprintf(m->submitter, sizeof m->submitter, "%s", submitter);
	snprintf(m->enclave, sizeof m->enclave, "%s", enclave);
	snprintf(m->link, sizeof m->link, "%s", link);
	if (!sl_label_ok(submitter) || !sl_label_ok(enclave) || !sl_label_ok(link)) {
		rc = cli_usage_error(P, "submitter, enclave and link are names: [A-Za-z0-9][A-Za-z0-9._-]*, at most 64");
		goto done;
	}
	if ((rc = sl_manifest_set_purpose(m, purpose, &d))) {
		rc = cli_usage_error(P, "--purpose: %s", d.msg);
		goto done;
	}
	m->sequence = sequence;
	m->created = (int64_t)time(NULL);
	m->expires = m->created + (int64_t)expires;

	dfd = open(col.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = cli_fail(P, SL_ERR_IO, "%s: %s", col.root, strerror(errno));
		goto done;
	}
	rc = sl_tree_walk(dfd, on_entry, &col);
	if (!rc)
		note_empty_dir(&col, NULL);
	if (rc) {
		rc = cli_fail(P, rc, "out of memory while listing %s", col.root);
		goto done;
	}
	if (col.n == 0 && col.refused == 0) {
		rc = cli_fail(P, SL_ERR_RANGE, "%s holds no files: nothing to transfer", col.root);
		goto done;
	}

	cli_progress_init(&prog, "hashing", col.bytes);
	if (prog.on)
		fprintf(stderr, "hashing %zu files, %s\n", col.n, sl_fmt_bytes(col.bytes, sz, sizeof sz));
	sl_hash_files(dfd, col.jobs, col.n, (unsigned)threads, on_progress, &prog);
	cli_progress_done(&prog);
	for (size_t i = 0; i < col.n; i++) {
		if (col.jobs[i].err) {
			refuse(&col, col.jobs[i].path, col.jobs[i].msg);
			continue;
		}
		if ((rc = sl_manifest_add_file(m, col.jobs[i].path, col.jobs[i].size, col.jobs[i].sha256, col.jobs[i].mode))) {
			rc = cli_fail(P, rc, "out of memory");
			goto done;
		}
	}
	if (col.refused) {
		rc = cli_fail(P, SL_ERR_NAME, "%zu entr%s refused (listed above); no manifest written", col.refused,
			      col.refused == 1 ? "y" : "ies");
		goto done;
	}
	if ((rc = sl_manifest_seal(m, NULL, &d))) {
		rc = cli_fail(P, rc, "%s; no manifest written", d.msg);
		goto done;
	}
	if ((rc = sl_manifest_emit(m, &text, &tlen, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	if (force)
		unlink(out);
	if ((rc = sl_file_write(out, text, tlen, 0644, false, &d))) {
		rc = cli_fail(P, rc, "%s", d.msg);
		goto done;
	}
	printf("wrote %s: transfer %s, %zu files, %s, sequence %llu, valid %s to %s\n", out, m->id_hex, m->nfiles,
	       sl_fmt_bytes(m->total_bytes, sz, sizeof sz), (unsigned long long)m->sequence,
	       sl_time_format(m->created, t1, sizeof t1), sl_time_format(m->expires, t2, sizeof t2));
	printf("next: officers review with 'sluice manifest show %s' and sign it\n", out);
	rc = EXIT_OK;
done:
	if (dfd >= 0)
		close(dfd);
	for (size_t i = 0; i < col.n; i++)
		free((char *)col.jobs[i].path);
	free(col.jobs);
	free(text);
	free(out);
	sl_manifest_free(m);
	return rc;
}
