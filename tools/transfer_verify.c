/* transfer_verify.c — `sluice manifest verify`: a transfer directory's
 * manifest, signatures and files (see transfer_verify.h). */
#include "transfer_verify.h"
#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safefs.h"
#include "hashfiles.h"
#include "minisign.h"
#include "pathname.h"
#include "sigfiles.h"
#include "sha256.h"
#include "tree.h"

#define MAX_PROBLEMS 10000

static int problem(struct tv_report *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int problem(struct tv_report *r, int code, const char *fmt, ...)
{
	va_list ap;
	if (r->nproblems >= MAX_PROBLEMS)
		return code;
	if (sl_grow(&r->problems, r->nproblems, &r->cap_, sizeof *r->problems))
		return code;
	r->problems[r->nproblems].code = code;
	va_start(ap, fmt);
	vsnprintf(r->problems[r->nproblems].what, sizeof r->problems[0].what, fmt, ap);
	va_end(ap);
	r->nproblems++;
	return code;
}

/* Printable form of a raw on-disk or manifest path: its manifest encoding. */
static const char *shown(const char *path, char *buf, size_t len)
{
	size_t plen = strlen(path);
	if (plen > 300)
		plen = 300;
	if (sl_pct_encode((const uint8_t *)path, plen, SL_PCT_PATH, buf, len) == (size_t)-1)
		snprintf(buf, len, "(unprintable)");
	return buf;
}

void tv_report_free(struct tv_report *r)
{
	if (!r)
		return;
	sl_manifest_free(r->manifest);
	free(r->manifest_text);
	sl_sigfiles_free(r->sigs, r->nsigs);
	sl_sig_result_clear(&r->sigcheck);
	free(r->problems);
	free(r);
}

/* Top level: only manifest, data and safe *.minisig. */
static void check_top(int dfd, struct tv_report *r)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char b[1024];

	if (!dir) {
		if (fd >= 0)
			close(fd);
		problem(r, SL_ERR_IO, "cannot list the transfer directory: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			problem(r, SL_ERR_IO, "%s: %s", shown(n, b, sizeof b), strerror(errno));
			continue;
		}
		if (!strcmp(n, "data")) {
			if (!S_ISDIR(st.st_mode))
				problem(r, SL_ERR_INVAL, "data: not a directory");
		} else if (!strcmp(n, "manifest") || sl_sigfile_named(n)) {
			if (sl_sigfile_named(n) && !sl_sigfile_name_ok(n))
				problem(r, SL_ERR_NAME, "%s: signature file name is not a safe NAME.minisig ([A-Za-z0-9._-])",
					shown(n, b, sizeof b));
			else if (!S_ISREG(st.st_mode))
				problem(r, SL_ERR_INVAL, "%s: not a regular file", shown(n, b, sizeof b));
		} else {
			problem(r, SL_ERR_INVAL, "%s: unexpected entry in the transfer directory (only manifest, *.minisig and data/)",
				shown(n, b, sizeof b));
		}
	}
	closedir(dir);
}

struct extra_ctx {
	struct tv_report *r;
	const struct sl_manifest *m;
	bool times;          /* compare modification times */
	bool *dir_seen;      /* per m->dirs[i], version 2 */
};

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void time_problem(struct tv_report *r, const char *what, struct timespec disk, struct timespec want)
{
	char t1[SL_MTIME_UTC_BUF], t2[SL_MTIME_UTC_BUF];
	problem(r, SL_ERR_HASH, "%s: modified %s on disk, the manifest says %s (the receiver sets the manifest's "
		"times; --ignore-times skips this check)", what, sl_mtime_format_utc(disk, t1, sizeof t1),
		sl_mtime_format_utc(want, t2, sizeof t2));
}

/* A directory under data/: version 2 lists every one, with its time. */
static void check_dir_entry(struct extra_ctx *x, const char *path, const struct stat *st, const char *shown_path)
{
	long k;
	if (!x->m || x->m->version < 2)
		return; /* version 1: directories are not represented */
	k = sl_manifest_find_dir(x->m, path);
	if (k < 0) {
		problem(x->r, SL_ERR_INVAL, "data/%s: directory not in the manifest", shown_path);
		return;
	}
	x->dir_seen[k] = true;
	if (x->times && !same_time(st->st_mtim, x->m->dirs[k].mtime)) {
		char w[1100];
		snprintf(w, sizeof w, "data/%s/", shown_path);
		time_problem(x->r, w, st->st_mtim, x->m->dirs[k].mtime);
		return;
	}
	x->r->dirs_ok++;
}

static int extra_entry(void *ctx, const char *path, const struct stat *st, int err)
{
	struct extra_ctx *x = ctx;
	char b[1024];
	if (err) {
		problem(x->r, SL_ERR_IO, "data/%s: %s", shown(path, b, sizeof b), strerror(err));
		return 0;
	}
	if (S_ISDIR(st->st_mode)) {
		check_dir_entry(x, path, st, shown(path, b, sizeof b));
		return 0;
	}
	if (S_ISLNK(st->st_mode)) {
		problem(x->r, SL_ERR_INVAL, "data/%s: symbolic link (not allowed in a transfer)", shown(path, b, sizeof b));
		return 0;
	}
	if (!x->m || !sl_manifest_lookup(x->m, path))
		problem(x->r, SL_ERR_INVAL, "data/%s: not in the manifest", shown(path, b, sizeof b));
	else if (!S_ISREG(st->st_mode))
		problem(x->r, SL_ERR_INVAL, "data/%s: not a regular file", shown(path, b, sizeof b));
	return 0;
}

/* Walks data/ for what the manifest does not list, and its directories. */
static void check_tree(int datafd, struct tv_report *r, const struct tv_opts *opt)
{
	const struct sl_manifest *m = r->manifest;
	struct extra_ctx x = { r, m, !opt->ignore_times, NULL };
	char b[1024];

	if (m && m->ndirs && !(x.dir_seen = calloc(m->ndirs, sizeof *x.dir_seen))) {
		problem(r, SL_ERR_NOMEM, "out of memory");
		return;
	}
	sl_tree_walk_flags(datafd, SL_WALK_NO_STAT_FILES, extra_entry, &x);
	for (size_t i = 0; m && i < m->ndirs; i++)
		if (!x.dir_seen[i])
			problem(r, SL_ERR_NOTFOUND, "data/%s/: directory missing (or not a directory)",
				shown(m->dirs[i].path, b, sizeof b));
	free(x.dir_seen);
}

struct prog {
	const struct tv_opts *opt;
	uint64_t total;
};

static void on_progress(void *ctx, uint64_t done, size_t files)
{
	(void)files;
	struct prog *p = ctx;
	p->opt->progress(p->opt->progress_ctx, done, p->total);
}

static void check_files(int datafd, struct tv_report *r, const struct tv_opts *opt)
{
	const struct sl_manifest *m = r->manifest;
	size_t n = sl_manifest_all(m);
	struct sl_hash_job *jobs = calloc(n ? n : 1, sizeof *jobs);
	struct prog pg = { opt, m->total_bytes + m->taken_bytes };
	char b[1024], h1[SL_SHA256_HEX], h2[SL_SHA256_HEX];

	if (!jobs) {
		problem(r, SL_ERR_NOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		jobs[i].path = sl_manifest_at(m, i)->path;
	sl_hash_files(datafd, jobs, n, opt->threads, opt->progress ? on_progress : NULL, &pg);
	for (size_t i = 0; i < n; i++) {
		const struct sl_manifest_file *f = sl_manifest_at(m, i);
		const struct sl_hash_job *j = &jobs[i];
		shown(f->path, b, sizeof b);
		r->bytes_hashed += j->size;
		if (j->err) {
			problem(r, j->err, "data/%s: %s", b, j->msg);
		} else if (j->size != f->size) {
			problem(r, SL_ERR_HASH, "data/%s: size %llu, the manifest says %llu", b,
				(unsigned long long)j->size, (unsigned long long)f->size);
		} else if (memcmp(j->sha256, f->sha256, 32)) {
			problem(r, SL_ERR_HASH, "data/%s: SHA-256 %s, the manifest says %s", b,
				sl_sha256_hex(j->sha256, h1), sl_sha256_hex(f->sha256, h2));
		} else if (j->mode != f->mode) {
			problem(r, SL_ERR_HASH, "data/%s: mode %04o on disk, the manifest says %04o", b, j->mode, f->mode);
		} else if (m->version >= 2 && !opt->ignore_times && !same_time(j->mtime, f->mtime)) {
			char w[1100];
			snprintf(w, sizeof w, "data/%s", b);
			time_problem(r, w, j->mtime, f->mtime);
		} else {
			r->files_ok++;
		}
	}
	free(jobs);
}

int tv_verify(const char *dir, const struct sl_policy *p, const struct tv_opts *opt,
		       struct tv_report **out, struct sl_diag *d)
{
	struct tv_opts dopt = { 0 };
	struct tv_report *r;
	struct sl_diag sub;
	int dfd, datafd = -1, rc;
	int64_t now;

	*out = NULL;
	if (!opt)
		opt = &dopt;
	now = opt->now ? opt->now : (int64_t)time(NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? sl_diag_set(d, SL_ERR_NOTFOUND, "%s: no such directory", dir)
				       : sl_diag_errno(d, "%s", dir);
	r = calloc(1, sizeof *r);
	if (!r) {
		close(dfd);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	}
	check_top(dfd, r);

	rc = sl_read_file_beneath(dfd, "manifest", p ? p->limits.max_manifest_bytes : SL_MANIFEST_DEFAULT_MAX_BYTES,
			    &r->manifest_text, &r->manifest_len, &sub);
	if (rc) {
		problem(r, rc, "%s", sub.msg); /* names the file already */
	} else {
		rc = sl_manifest_parse(r->manifest_text, r->manifest_len, p ? &p->limits : NULL, &r->manifest, &sub);
		if (rc)
			problem(r, rc, "manifest: %s", sub.msg);
	}

	rc = sl_sigfiles_load(dfd, true, &r->sigs, &r->nsigs, &sub);
	if (rc)
		problem(r, rc, "signatures: %s", sub.msg);
	if (p && r->manifest) {
		rc = sl_policy_verify_signatures(p, r->manifest_text, r->manifest_len, r->manifest->submitter, r->sigs,
						 r->nsigs, &r->sigcheck, &sub);
		if (rc) {
			/* One problem per refused signature file, then the verdict. */
			for (size_t i = 0; i < r->sigcheck.n; i++) {
				const struct sl_sig_check *c = &r->sigcheck.checks[i];
				if (c->status == SL_SIG_BAD || c->status == SL_SIG_LEGACY || c->status == SL_SIG_MALFORMED)
					problem(r, SL_ERR_SIG, "%s: %s", r->sigs[i].name, c->detail);
			}
			if (rc != SL_ERR_SIG)
				problem(r, rc, "signatures: %s", sub.msg);
		}
		rc = sl_policy_check_manifest(p, r->manifest, now, &sub);
		if (rc)
			problem(r, rc, "policy: %s", sub.msg);
	} else if (!p) {
		for (size_t i = 0; i < r->nsigs; i++) {
			struct sl_ms_sig *s = NULL;
			rc = sl_ms_sig_parse(r->sigs[i].data, r->sigs[i].len, &s, &sub);
			if (rc)
				problem(r, SL_ERR_SIG, "%s: %s", r->sigs[i].name, sub.msg);
			else if (s->legacy)
				problem(r, SL_ERR_SIG, "%s: legacy 'Ed' signature (not prehashed): refused", r->sigs[i].name);
			sl_ms_sig_free(s);
		}
	}

	datafd = openat(dfd, "data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (datafd < 0) {
		problem(r, errno == ENOENT ? SL_ERR_NOTFOUND : SL_ERR_IO, "data: %s",
			errno == ENOENT ? "missing (the files live in T/data)" : strerror(errno));
	} else {
		if (r->manifest)
			check_files(datafd, r, opt);
		check_tree(datafd, r, opt);
		close(datafd);
	}
	close(dfd);
	*out = r;
	if (r->nproblems)
		return sl_diag_set(d, r->problems[0].code, "%s%s", r->problems[0].what,
				   r->nproblems > 1 ? " (and more)" : "");
	return SL_OK;
}
