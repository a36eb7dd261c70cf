/* create_tree.c — the walk of `sluice manifest create` (see create_tree.h). */
#include "create_tree.h"
#include "grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "pathname.h"
#include "tree.h"

#define HARD_LINKS_SHOWN 20

const char *ct_shown(const struct create_tree *t, const char *path, char *buf, size_t len)
{
	char enc[3 * 4096 + 1];
	if (sl_pct_encode((const uint8_t *)path, strnlen(path, 4095), SL_PCT_PATH, enc, sizeof enc) == (size_t)-1)
		snprintf(enc, sizeof enc, "(unprintable)");
	snprintf(buf, len, "%s/%s", t->root, enc);
	return buf;
}

const char *ct_shown_target(const char *target, char *buf, size_t len)
{
	return cli_visible(target, buf, len);
}

void ct_refuse(struct create_tree *t, const char *path, const char *why)
{
	char b[4096];
	fprintf(stderr, "refused: %s: %s\n", ct_shown(t, path, b, sizeof b), why);
	t->refused++;
}

static int add_dir(struct create_tree *t, const char *path, const struct stat *st)
{
	if (sl_grow(&t->dirs, t->ndirs, &t->capd, sizeof *t->dirs))
		return SL_ERR_NOMEM;
	t->dirs[t->ndirs].path = strdup(path);
	if (!t->dirs[t->ndirs].path)
		return SL_ERR_NOMEM;
	t->dirs[t->ndirs++].mtime = st->st_mtim;
	return SL_OK;
}

static int add_link(struct create_tree *t, const char *path, const struct stat *st)
{
	size_t cap = st->st_size > 0 && st->st_size < 65536 ? (size_t)st->st_size + 1 : 4096;
	char *target = malloc(cap);
	ssize_t n = target ? readlinkat(t->rootfd, path, target, cap - 1) : -1;
	struct ct_link *l;

	if (!target)
		return SL_ERR_NOMEM;
	if (n < 0)
		snprintf(target, cap, "(unreadable: %s)", strerror(errno));
	else
		target[n] = '\0';
	if (sl_grow(&t->links, t->nlinks, &t->capl, sizeof *t->links)) {
		free(target);
		return SL_ERR_NOMEM;
	}
	l = &t->links[t->nlinks];
	l->target = target;
	l->path = strdup(path);
	if (!l->path) {
		free(target);
		return SL_ERR_NOMEM;
	}
	t->nlinks++;
	return SL_OK;
}

static int add_file(struct create_tree *t, const char *path)
{
	if (sl_grow(&t->files, t->nfiles, &t->capf, sizeof *t->files))
		return SL_ERR_NOMEM;
	t->files[t->nfiles] = strdup(path);
	if (!t->files[t->nfiles])
		return SL_ERR_NOMEM;
	t->nfiles++;
	return SL_OK;
}

static int on_entry(void *ctx, const char *path, const struct stat *st, int err)
{
	struct create_tree *t = ctx;
	struct sl_diag d;

	if (err) {
		ct_refuse(t, path[0] ? path : ".", err == EACCES ? "unreadable directory (permission denied)" :
			  err == ENAMETOOLONG ? "path too long or too deep" : strerror(err));
		return err == ENOMEM ? SL_ERR_NOMEM : 0;
	}
	if (S_ISLNK(st->st_mode))
		return add_link(t, path, st);
	if (S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode))
		ct_refuse(t, path, "device file (a transfer carries regular files and directories only)");
	else if (S_ISFIFO(st->st_mode))
		ct_refuse(t, path, "FIFO (named pipe; a transfer carries regular files and directories only)");
	else if (S_ISSOCK(st->st_mode))
		ct_refuse(t, path, "socket (a transfer carries regular files and directories only)");
	else if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		ct_refuse(t, path, "neither a regular file nor a directory");
	else if (sl_path_check((const uint8_t *)path, strlen(path), &d))
		ct_refuse(t, path, d.msg);
	else
		return S_ISDIR(st->st_mode) ? add_dir(t, path, st) : add_file(t, path);
	return 0;
}

int ct_walk(struct create_tree *t)
{
	return sl_tree_walk_flags(t->rootfd, SL_WALK_NO_STAT_FILES, on_entry, t);
}

int ct_jobs(struct create_tree *t)
{
	/* calloc: fresh zero pages, first touched by the hashing threads */
	t->jobs = calloc(t->nfiles ? t->nfiles : 1, sizeof *t->jobs);
	if (!t->jobs)
		return SL_ERR_NOMEM;
	for (size_t i = 0; i < t->nfiles; i++)
		t->jobs[i].path = t->files[i];
	t->njobs = t->nfiles;
	return SL_OK;
}

void ct_free(struct create_tree *t)
{
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	for (size_t i = 0; i < t->ndirs; i++)
		free(t->dirs[i].path);
	for (size_t i = 0; i < t->nlinks; i++) {
		free(t->links[i].path);
		free(t->links[i].target);
	}
	free(t->files);
	free(t->jobs);
	free(t->dirs);
	free(t->links);
	t->files = NULL;
	t->jobs = NULL;
	t->dirs = NULL;
	t->links = NULL;
	t->nfiles = t->capf = t->njobs = t->ndirs = t->capd = t->nlinks = t->capl = 0;
	t->refused = 0;
}

struct hard {
	uint64_t dev, ino;
	size_t job;
};

static int by_inode(const void *a, const void *b)
{
	const struct hard *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->job < y->job ? -1 : x->job > y->job;
}

/* Length of the run of names of one file starting at h[i]. */
static size_t run(const struct hard *h, size_t n, size_t i)
{
	size_t j = i + 1;
	while (j < n && h[j].dev == h[i].dev && h[j].ino == h[i].ino)
		j++;
	return j - i;
}

void ct_note_hard_links(const struct create_tree *t)
{
	struct hard *h;
	size_t n = 0, groups = 0, names = 0, shown = 0;
	char b[4096];

	for (size_t i = 0; i < t->njobs; i++)
		n += !t->jobs[i].err && t->jobs[i].nlink > 1;
	if (n < 2 || !(h = malloc(n * sizeof *h)))
		return;
	n = 0;
	for (size_t i = 0; i < t->njobs; i++)
		if (!t->jobs[i].err && t->jobs[i].nlink > 1)
			h[n++] = (struct hard){ t->jobs[i].dev, t->jobs[i].ino, i };
	qsort(h, n, sizeof *h, by_inode);
	for (size_t i = 0, r; i < n; i += r)
		if ((r = run(h, n, i)) > 1) {
			groups++;
			names += r;
		}
	if (groups)
		fprintf(stderr, "note: %zu names are hard links to %zu file%s; each name is carried as an independent "
			"regular file (the receiver writes %zu separate files):\n", names, groups, groups == 1 ? "" : "s", names);
	for (size_t i = 0, r; i < n && shown < HARD_LINKS_SHOWN; i += r) {
		if ((r = run(h, n, i)) < 2)
			continue;
		for (size_t k = i; k < i + r; k++)
			fprintf(stderr, "%s%s", k == i ? "  " : " = ", ct_shown(t, t->jobs[h[k].job].path, b, sizeof b));
		fputc('\n', stderr);
		shown++;
	}
	if (groups > shown)
		fprintf(stderr, "  ... and %zu more\n", groups - shown);
	free(h);
}
