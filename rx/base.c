/* base.c — a delta's files taken from its base release (manifest v3).
 *
 * rx_base_check(), at every verification of the catalog: the base is in
 * the ledger (released here), RELEASE/<base>/manifest reads beneath the
 * release tree without symbolic links and has the SHA-256 the signed delta
 * names, every take line's content and size is a file of that manifest's
 * tree, and the whole new tree fits --max-staging (the copies are staged
 * like received bytes). Each failure is a verdict naming the base.
 *
 * rx_base_fill(), once the sent files are hashed: each taken file is copied
 * out of RELEASE/<base>/data/<path of a base file with its content>, opened
 * beneath that directory without following symbolic links, into the staged
 * tree (copy_file_range: filesystems that can share extents do; a plain
 * copy where they cannot), then the copy is hashed like received bytes and
 * gets its mode and time. Any file whose copy does not have its listed
 * SHA-256 and size (the base was changed after release) refuses the whole
 * transfer, naming the base and those files. The base is only read.
 *
 * The copy runs on a thread of its own (a job per transfer, with its own
 * descriptors and copies of the names), so the receive loop keeps draining
 * the link while gigabytes are copied: rx_base_fill() starts it and says
 * SL_ERR_AGAIN, rx_tick() calls the release again once it is done, and
 * rx_base_fill() then gives its verdict. rx_base_cancel() stops and joins a
 * job (the tree is closed, the transfer dropped, the receiver stops).
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delta.h"
#include "pace.h"
#include "pool.h"
#include "rx.h"
#include "safefs.h"

/* The base's manifest, indexed; *bfd its directory RELEASE/<base>. */
static int load_base(struct rx_ctx *c, const struct sl_manifest *m, struct sl_delta_base *b, int *bfd, char *why,
		     size_t wl)
{
	struct sl_diag d = { "" };
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	*bfd = -1;
	memset(b, 0, sizeof *b);
	if (!sl_ledger_has_id(c->ledger, m->base_id)) {
		snprintf(why, wl, "base %s was never released here (not in the ledger): send a full transfer, or a "
			 "delta on a release this side has", m->base_hex);
		return SL_ERR_POLICY;
	}
	*bfd = sl_openat_beneath(c->release_fd, m->base_hex, O_RDONLY | O_DIRECTORY, 0);
	if (*bfd < 0) {
		snprintf(why, wl, "base %s is not in %s (%s): it was released, then moved or removed; send a full "
			 "transfer, or a delta on a release this side has", m->base_hex, c->cfg->release_dir,
			 strerror(-*bfd));
		return SL_ERR_POLICY;
	}
	r = sl_read_file_beneath(*bfd, "manifest", (size_t)c->policy->limits.max_manifest_bytes, &text, &len, &d);
	if (!r)
		r = sl_delta_base_parse(text, len, &c->policy->limits, b, &d);
	free(text);
	if (!r)
		r = sl_delta_check(m, b, &d);
	if (r) {
		if (strncmp(d.msg, "base ", 5))
			snprintf(why, wl, "base %s: %s/%s/manifest: %s", m->base_hex, c->cfg->release_dir, m->base_hex, d.msg);
		else
			snprintf(why, wl, "%s", d.msg);
		close(*bfd);
		*bfd = -1;
		sl_delta_base_free(b);
		return r == SL_ERR_NOMEM ? r : SL_ERR_POLICY;
	}
	return SL_OK;
}

int rx_base_check(struct rx_ctx *c, const struct sl_manifest *m, char *why, size_t wl)
{
	struct sl_delta_base b;
	int bfd, r;

	if (!m->has_base)
		return SL_OK;
	if (m->taken_bytes > c->cfg->max_staging || m->total_bytes > c->cfg->max_staging - m->taken_bytes) {
		snprintf(why, wl, "delta on base %s: its whole tree (%llu bytes, %llu of them taken from the base) is "
			 "larger than --max-staging %llu", m->base_hex,
			 (unsigned long long)(m->total_bytes + m->taken_bytes), (unsigned long long)m->taken_bytes,
			 (unsigned long long)c->cfg->max_staging);
		return SL_ERR_TOOBIG;
	}
	r = load_base(c, m, &b, &bfd, why, wl);
	if (r)
		return r;
	close(bfd);
	sl_delta_base_free(&b);
	return SL_OK;
}

struct rx_take {
	char *path, *src;            /* in the new tree, in the base's */
	uint64_t size;
	uint8_t sha256[32];
	unsigned mode;
	struct timespec mtime;
};

struct rx_basejob {
	struct sl_pool *pool;        /* one helper: the copy */
	int data_fd, bdata;          /* the staged tree's data/ and the base's (dups) */
	struct rx_take *t;
	size_t n;
	int times;                   /* set modification times (version 2 and 3) */
	uint8_t *buf;
	size_t cap;
	atomic_int done, cancel;
	int r;                       /* verdict, with why (r != SL_ERR_HASH) or list */
	char why[3000], list[2400];
	size_t nbad;
	uint64_t files, bytes, t0;
	char base_hex[SL_ID_HEX];
};

/* One taken file: copy, hash, mode, time. SL_ERR_HASH: not the listed
 * content (named by the caller); other errors with j->why. */
static int fill_one(struct rx_basejob *j, const struct rx_take *f)
{
	struct timespec t[2] = { f->mtime, f->mtime };
	struct sl_diag d = { "" };
	struct stat st;
	uint8_t sha[32];
	uint64_t n = 0;
	int sfd, dfd = -1, r;

	if (!f->src)
		return SL_ERR_HASH; /* sl_delta_check vouched for every one: never here */
	sfd = sl_openat_beneath(j->bdata, f->src, O_RDONLY, 0);
	if (sfd < 0 || fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size) {
		if (sfd >= 0)
			close(sfd);
		return SL_ERR_HASH; /* gone, a link, not a file or another size: not the base's content */
	}
	unlinkat(j->data_fd, f->path, 0); /* left by an interrupted try */
	dfd = sl_openat_beneath(j->data_fd, f->path, O_RDWR | O_CREAT | O_EXCL, 0600); /* read back to hash */
	r = dfd < 0 ? SL_ERR_IO : SL_OK;
	if (dfd < 0)
		snprintf(d.msg, sizeof d.msg, "creating it: %s", strerror(-dfd));
	if (!r && (r = sl_copy_bytes(sfd, dfd, f->size, j->buf, j->cap, &j->cancel, &n)) == SL_OK && n != f->size)
		r = SL_ERR_HASH; /* the base file is shorter */
	if (!r && (r = sl_sha256_fd(dfd, NULL, j->buf, j->cap, f->size, sha, &n, NULL, NULL, &d)) == SL_OK &&
	    (n != f->size || memcmp(sha, f->sha256, 32)))
		r = SL_ERR_HASH;
	if (!r && (fchmod(dfd, (mode_t)f->mode) != 0 || (j->times && futimens(dfd, t) != 0)))
		r = SL_ERR_IO;
	if (r && r != SL_ERR_HASH && r != SL_ERR_AGAIN)
		snprintf(j->why, sizeof j->why, "data/%s: copying it from the base: %s", f->path,
			 d.msg[0] ? d.msg : strerror(errno));
	close(sfd);
	if (dfd >= 0)
		close(dfd);
	if (!r) {
		j->files++;
		j->bytes += f->size;
	}
	return r;
}

/* "a, b (base path c), ..." of the first five */
static void name_bad(char *list, size_t len, size_t nbad, const char *path, const char *src)
{
	size_t at = strlen(list);
	if (nbad <= 5 && at < len)
		snprintf(list + at, len - at, "%s%.200s", nbad > 1 ? ", " : "", path);
	at = strlen(list);
	if (nbad <= 5 && at < len && src && strcmp(src, path))
		snprintf(list + at, len - at, " (base path %.200s)", src);
}

static void run_job(void *arg, unsigned worker)
{
	struct rx_basejob *j = arg;
	int r = SL_OK;

	for (size_t i = 0; i < j->n && !r; i++) {
		r = fill_one(j, &j->t[i]);
		if (r == SL_ERR_HASH) {
			name_bad(j->list, sizeof j->list, ++j->nbad, j->t[i].path, j->t[i].src);
			r = SL_OK;
		}
	}
	if (!r && j->nbad) {
		snprintf(j->why, sizeof j->why, "base %s changed after its release: %zu file%s taken from it no longer "
			 "ha%s the content the delta names: %s%s (send a full transfer)", j->base_hex, j->nbad,
			 j->nbad == 1 ? "" : "s", j->nbad == 1 ? "s" : "ve", j->list, j->nbad > 5 ? " (and more)" : "");
		r = SL_ERR_HASH;
	}
	(void)worker;
	j->r = r;
	atomic_store(&j->done, 1);
}

static void job_free(struct rx_basejob *j)
{
	sl_pool_free(j->pool); /* waits for the copy */
	for (size_t i = 0; j->t && i < j->n; i++) {
		free(j->t[i].path);
		free(j->t[i].src);
	}
	free(j->t);
	free(j->buf);
	if (j->data_fd >= 0)
		close(j->data_fd);
	if (j->bdata >= 0)
		close(j->bdata);
	free(j);
}

/* The job for x: names and descriptors of its own. */
static int job_new(struct rx_ctx *c, struct rx_xfer *x, const struct sl_delta_base *b, int bfd,
		   struct rx_basejob **out, char *why, size_t wl)
{
	const struct sl_manifest *m = x->manifest;
	struct rx_basejob *j = calloc(1, sizeof *j);

	if (!j)
		return SL_ERR_NOMEM;
	j->data_fd = j->bdata = -1;
	j->n = m->ntaken;
	j->times = m->version >= 2;
	j->cap = c->chunkcap;
	j->t0 = sl_now_ns();
	memcpy(j->base_hex, m->base_hex, sizeof j->base_hex);
	j->t = calloc(j->n ? j->n : 1, sizeof *j->t);
	j->buf = malloc(j->cap);
	if (!j->t || !j->buf) {
		job_free(j);
		return SL_ERR_NOMEM;
	}
	for (size_t i = 0; i < j->n; i++) {
		const struct sl_manifest_file *f = &m->taken[i], *src = sl_delta_base_find(b, f->sha256);
		struct rx_take *t = &j->t[i];
		t->path = strdup(f->path);
		t->src = src ? strdup(src->path) : NULL;
		t->size = f->size;
		memcpy(t->sha256, f->sha256, 32);
		t->mode = f->mode;
		t->mtime = f->mtime;
		if (!t->path || (src && !t->src)) {
			job_free(j);
			return SL_ERR_NOMEM;
		}
	}
	j->data_fd = fcntl(x->data_fd, F_DUPFD_CLOEXEC, 0);
	j->bdata = sl_openat_beneath(bfd, "data", O_RDONLY | O_DIRECTORY, 0);
	if (j->data_fd < 0 || j->bdata < 0) {
		snprintf(why, wl, "base %s: %s/%s/data cannot be opened (%s)", m->base_hex, c->cfg->release_dir,
			 m->base_hex, strerror(j->bdata < 0 ? -j->bdata : errno));
		job_free(j);
		return SL_ERR_POLICY;
	}
	*out = j;
	return SL_OK;
}

static int start_job(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	struct rx_basejob *j = NULL;
	struct sl_delta_base b;
	int bfd, r;

	if ((r = load_base(c, x->manifest, &b, &bfd, why, wl)))
		return r;
	r = job_new(c, x, &b, bfd, &j, why, wl);
	close(bfd);
	sl_delta_base_free(&b);
	if (r)
		return r;
	if (sl_pool_start_one("rx-base-copy", run_job, j, &j->pool, NULL) != SL_OK) {
		job_free(j);
		snprintf(why, wl, "cannot start the thread that copies from the base");
		return SL_ERR_NOMEM; /* not a verdict: tried again */
	}
	x->basejob = j;
	sl_log(c->log, SL_LOG_INFO, "transfer %s: copying %zu files (%llu bytes) from base %s", x->hex,
	       x->manifest->ntaken, (unsigned long long)x->manifest->taken_bytes, x->manifest->base_hex);
	return SL_ERR_AGAIN;
}

int rx_base_job_done(const struct rx_xfer *x)
{
	return x->basejob && atomic_load(&x->basejob->done);
}

void rx_base_wait(const struct rx_xfer *x)
{
	while (x->basejob && !atomic_load(&x->basejob->done)) {
		struct timespec t = { 0, 1000000 };
		nanosleep(&t, NULL);
	}
}

void rx_base_cancel(struct rx_xfer *x)
{
	if (!x->basejob)
		return;
	atomic_store(&x->basejob->cancel, 1);
	job_free(x->basejob);
	x->basejob = NULL;
}

int rx_base_fill(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	struct rx_basejob *j = x->basejob;
	int r;

	if (!x->manifest->has_base)
		return SL_OK;
	if (!j)
		return start_job(c, x, why, wl);
	if (!atomic_load(&j->done))
		return SL_ERR_AGAIN;
	x->basejob = NULL;
	r = j->r;
	c->st.base_files += j->files;
	c->st.base_bytes += j->bytes;
	if (r)
		snprintf(why, wl, "%s", j->why);
	else
		sl_log(c->log, SL_LOG_INFO, "transfer %s: %zu files (%llu bytes) copied from base %s and hashed in "
		       "%.2f s", x->hex, j->n, (unsigned long long)j->bytes, j->base_hex,
		       (double)(sl_now_ns() - j->t0) / 1e9);
	job_free(j);
	return r == SL_ERR_AGAIN ? SL_ERR_IO : r;
}
