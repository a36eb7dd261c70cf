/* linkcopy.c — resolve symbolic links inside a tree and replace them by
 * copies of their targets (see linkcopy.h). */
#include "linkcopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefs.h"

#define LC_PATH 4096

static int read_link(int rootfd, const char *path, char *buf, size_t cap)
{
	ssize_t n = readlinkat(rootfd, path, buf, cap - 1);
	if (n < 0)
		return errno;
	if ((size_t)n >= cap - 1)
		return ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

/* An absolute target: its part below root_abs, or NULL if it is outside. */
static const char *below_root(const char *root_abs, const char *t)
{
	size_t rl = strlen(root_abs);
	if (rl == 1 && root_abs[0] == '/')
		return t + 1;
	if (strncmp(t, root_abs, rl))
		return NULL;
	if (t[rl] == '\0')
		return t + rl;
	return t[rl] == '/' ? t + rl + 1 : NULL;
}

/* pend = link text, then "/" and what was left to resolve. An absolute text
 * restarts at the root (*clen = 0). */
static int set_pending(char *pend, size_t cap, const char *text, const char *rest, const char *root_abs,
		       size_t *clen, struct sl_diag *d)
{
	char tail[2 * LC_PATH];
	const char *t = text;

	snprintf(tail, sizeof tail, "%s", rest);
	if (text[0] == '/') {
		t = below_root(root_abs, text);
		if (!t)
			return sl_diag_set(d, SL_ERR_NAME, "target '%.300s' is outside the tree", text);
		*clen = 0;
	}
	if ((size_t)snprintf(pend, cap, "%s/%s", t, tail) >= cap)
		return sl_diag_set(d, SL_ERR_NAME, "target path too long");
	return SL_OK;
}

/* Steps one component `c` (length cl) from cur[0..*clen); a link met is
 * spliced into pend. */
static int step(int rootfd, const char *root_abs, char *cur, size_t *clen, const char *c, size_t cl,
		char *pend, size_t pcap, const char **p, unsigned *hops, struct sl_diag *d)
{
	size_t old = *clen;
	char text[LC_PATH];
	struct stat st;
	int e;

	if (cl == 2 && c[0] == '.' && c[1] == '.') {
		if (*clen == 0)
			return sl_diag_set(d, SL_ERR_NAME, "target leaves the tree ('..' above its top)");
		while (*clen > 0 && cur[*clen - 1] != '/')
			(*clen)--;
		if (*clen > 0)
			(*clen)--;
		cur[*clen] = '\0';
		return SL_OK;
	}
	if (*clen + 1 + cl >= LC_PATH)
		return sl_diag_set(d, SL_ERR_NAME, "target path too long");
	if (*clen)
		cur[(*clen)++] = '/';
	memcpy(cur + *clen, c, cl);
	*clen += cl;
	cur[*clen] = '\0';
	if (fstatat(rootfd, cur, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? sl_diag_set(d, SL_ERR_NOTFOUND, "target does not exist ('%.300s' is missing)", cur)
				       : sl_diag_errno(d, "%.300s", cur);
	if (S_ISLNK(st.st_mode)) {
		if (++*hops > LC_MAX_HOPS)
			return sl_diag_set(d, SL_ERR_NAME, "more than %d links on the way (a loop?)", LC_MAX_HOPS);
		if ((e = read_link(rootfd, cur, text, sizeof text))) {
			errno = e;
			return sl_diag_errno(d, "reading link %.300s", cur);
		}
		*clen = old;
		cur[old] = '\0';
		e = set_pending(pend, pcap, text, *p, root_abs, clen, d);
		*p = pend;
		return e;
	}
	if (**p && !S_ISDIR(st.st_mode))
		return sl_diag_set(d, SL_ERR_NAME, "'%.300s' on the way is not a directory", cur);
	return SL_OK;
}

int lc_resolve(int rootfd, const char *root_abs, const char *path, char **target, struct stat *st,
		    struct sl_diag *d)
{
	char cur[LC_PATH], pend[2 * LC_PATH + 2], text[LC_PATH];
	const char *slash = strrchr(path, '/'), *p;
	size_t clen = slash ? (size_t)(slash - path) : 0;
	unsigned hops = 1;
	int rc, e;

	*target = NULL;
	if (clen >= sizeof cur)
		return sl_diag_set(d, SL_ERR_NAME, "path too long");
	memcpy(cur, path, clen);
	cur[clen] = '\0';
	if ((e = read_link(rootfd, path, text, sizeof text))) {
		errno = e;
		return sl_diag_errno(d, "reading the link");
	}
	if ((rc = set_pending(pend, sizeof pend, text, "", root_abs, &clen, d)))
		return rc;
	cur[clen] = '\0';
	for (p = pend; *p;) {
		const char *c = p;
		size_t cl = strcspn(p, "/");
		p += cl;
		if (*p == '/')
			p++;
		if (cl == 0 || (cl == 1 && c[0] == '.'))
			continue;
		if ((rc = step(rootfd, root_abs, cur, &clen, c, cl, pend, sizeof pend, &p, &hops, d)))
			return rc;
	}
	if (clen == 0 ? fstat(rootfd, st) != 0 : fstatat(rootfd, cur, st, AT_SYMLINK_NOFOLLOW) != 0)
		return sl_diag_errno(d, "%.300s", clen ? cur : "(top of the tree)");
	*target = strdup(cur);
	return *target ? SL_OK : sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
}

/* ---- copies ---------------------------------------------------------------- */

struct lc {
	int rootfd;
	const char *root_abs;
	bool dry;
	lc_report_fn report;
	void *ctx;
	const char *top;                      /* the link being replaced */
	const char *locs[LC_MAX_HOPS];   /* directories holding the links being expanded */
	size_t nlocs;
	int rc;                               /* first problem */
};

static int note(struct lc *c, const char *link, const char *target, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int note(struct lc *c, const char *link, const char *target, int code, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	c->report(c->ctx, link, target, why);
	if (!c->rc)
		c->rc = code;
	return code;
}

/* A regular file: a hard link where allowed, else a copy of its bytes with
 * its mode and modification time. */
static int copy_file(struct lc *c, const char *src, const struct stat *st, int dstfd, const char *name)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, st->st_mtim };
	int in, out, rc = 0;

	if (c->dry || linkat(c->rootfd, src, dstfd, name, 0) == 0)
		return SL_OK;
	in = sl_openat_beneath(c->rootfd, src, O_RDONLY, 0);
	if (in < 0)
		return note(c, c->top, src, SL_ERR_IO, "reading '%.300s': %s", src, strerror(errno));
	out = openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0 || sl_copy_bytes(in, out, UINT64_MAX, NULL, 0, NULL, NULL) != SL_OK || fchmod(out, st->st_mode & 0777) != 0 || futimens(out, ts) != 0)
		rc = note(c, c->top, src, SL_ERR_IO, "copying '%.300s': %s", src, strerror(errno));
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

static int expand(struct lc *c, const char *link, int dstfd, const char *name);
static int copy_dir(struct lc *c, const char *src, const struct stat *st, int dstfd, const char *name);

static char *join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0)
		return NULL;
	return p;
}

/* One entry of a directory being copied. */
static int copy_entry(struct lc *c, int sfd, const char *src, const char *name, int dfd)
{
	struct stat st;
	char *child = join(src, name);
	int rc;

	if (!child)
		return note(c, c->top, src, SL_ERR_NOMEM, "out of memory");
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		rc = note(c, c->top, child, SL_ERR_IO, "'%.300s': %s", child, strerror(errno));
	else if (S_ISREG(st.st_mode))
		rc = copy_file(c, child, &st, dfd, name);
	else if (S_ISLNK(st.st_mode))
		rc = expand(c, child, dfd, name);
	else if (!S_ISDIR(st.st_mode))
		rc = note(c, child, "", SL_ERR_INVAL, "a device, FIFO or socket inside the directory to copy");
	else
		rc = copy_dir(c, child, &st, dfd, name);
	free(child);
	return rc;
}

/* A directory: a new one holding copies of its entries, then its mode and
 * modification time. */
static int copy_dir(struct lc *c, const char *src, const struct stat *st, int dstfd, const char *name)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, st->st_mtim };
	int sfd, dfd = -1, rc = SL_OK;
	struct dirent *de;
	DIR *dir;

	sfd = sl_openat_beneath(c->rootfd, src[0] ? src : ".", O_RDONLY | O_DIRECTORY, 0);
	if (sfd < 0 || !(dir = fdopendir(sfd))) {
		if (sfd >= 0)
			close(sfd);
		return note(c, c->top, src, SL_ERR_IO, "reading directory '%.300s': %s", src, strerror(errno));
	}
	if (!c->dry && (mkdirat(dstfd, name, 0700) != 0 ||
			(dfd = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
		rc = note(c, c->top, src, SL_ERR_IO, "creating a copy of '%.300s': %s", src, strerror(errno));
	while (!rc || c->dry) {
		errno = 0;
		if (!(de = readdir(dir)))
			break;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = copy_entry(c, dirfd(dir), src, de->d_name, dfd) ? c->rc : rc;
	}
	closedir(dir);
	if (dfd >= 0) {
		if (!rc && (fchmod(dfd, st->st_mode & 0777) != 0 || futimens(dfd, ts) != 0))
			rc = note(c, c->top, src, SL_ERR_IO, "copy of '%.300s': %s", src, strerror(errno));
		close(dfd);
	}
	return rc;
}

/* Does directory `dir` hold `loc` (or is it `loc`)? */
static bool holds(const char *dir, const char *loc)
{
	size_t dl = strlen(dir);
	return dl == 0 || (!strncmp(loc, dir, dl) && (loc[dl] == '\0' || loc[dl] == '/'));
}

/* The link `link` (met in the tree or in a directory being copied) becomes
 * dstfd/name: a copy of its target. */
static int expand(struct lc *c, const char *link, int dstfd, const char *name)
{
	char text[LC_PATH] = "", *target, *loc;
	const char *slash = strrchr(link, '/');
	struct sl_diag d;
	struct stat st;
	int rc;

	read_link(c->rootfd, link, text, sizeof text);
	if ((rc = lc_resolve(c->rootfd, c->root_abs, link, &target, &st, &d)))
		return note(c, link, text, rc, "%s", d.msg);
	if (S_ISREG(st.st_mode)) {
		rc = copy_file(c, target, &st, dstfd, name);
	} else if (!S_ISDIR(st.st_mode)) {
		rc = note(c, link, text, SL_ERR_INVAL, "the target is a device, FIFO or socket");
	} else if (!(loc = strndup(link, slash ? (size_t)(slash - link) : 0))) {
		rc = note(c, link, text, SL_ERR_NOMEM, "out of memory");
	} else {
		bool cycle = holds(target, loc);
		for (size_t i = 0; i < c->nlocs && !cycle; i++)
			cycle = holds(target, c->locs[i]);
		if (cycle)
			rc = note(c, link, text, SL_ERR_NAME, "a cycle: the target directory '%.300s' holds this link",
				  target[0] ? target : "(top of the tree)");
		else if (c->nlocs == LC_MAX_HOPS)
			rc = note(c, link, text, SL_ERR_NAME, "links inside copied directories nested too deep");
		else {
			c->locs[c->nlocs++] = loc;
			rc = copy_dir(c, target, &st, dstfd, name);
			c->nlocs--;
		}
		free(loc);
	}
	free(target);
	return rc;
}

int lc_replace(int rootfd, const char *root_abs, const char *path, bool dry_run,
		    lc_report_fn report, void *ctx)
{
	struct lc c = { rootfd, root_abs, dry_run, report, ctx, path, { NULL }, 0, SL_OK };
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char tmp[64], *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	struct stat pst, tst;
	int pfd, rc;

	pfd = !parent ? -1 : sl_openat_beneath(rootfd, parent[0] ? parent : ".", O_RDONLY | O_DIRECTORY, 0);
	free(parent);
	if (pfd < 0 || fstat(pfd, &pst) != 0) {
		rc = note(&c, path, "", SL_ERR_IO, "its directory: %s", strerror(errno));
		if (pfd >= 0)
			close(pfd);
		return rc;
	}
	for (int k = 0;; k++) {
		snprintf(tmp, sizeof tmp, ".sluice-copy.%d.%d", (int)getpid(), k);
		if (fstatat(pfd, tmp, &tst, AT_SYMLINK_NOFOLLOW) != 0 || k == 1000)
			break;
	}
	rc = expand(&c, path, pfd, tmp);
	if (!dry_run && rc)
		sl_remove_tree(pfd, tmp, NULL);
	if (!dry_run && !rc) {
		bool isdir = fstatat(pfd, tmp, &tst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(tst.st_mode);
		if (isdir ? renameat2(pfd, tmp, pfd, base, RENAME_EXCHANGE) != 0 : renameat(pfd, tmp, pfd, base) != 0) {
			rc = note(&c, path, "", SL_ERR_IO, "putting the copy in place: %s", strerror(errno));
			sl_remove_tree(pfd, tmp, NULL);
		} else if (isdir) {
			unlinkat(pfd, tmp, 0); /* the link, swapped out */
		}
		struct timespec ts[2] = { { 0, UTIME_OMIT }, pst.st_mtim };
		futimens(pfd, ts);
	}
	close(pfd);
	return rc;
}
