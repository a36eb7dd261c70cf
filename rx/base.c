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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta.h"
#include "pace.h"
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

/* Copy n bytes of sfd into dfd: copy_file_range, or read and write where the
 * filesystems cannot (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP). */
static int copy_bytes(struct rx_ctx *c, int sfd, int dfd, uint64_t n)
{
	loff_t in = 0, out = 0;
	int plain = 0;

	while ((uint64_t)out < n) {
		size_t want = n - (uint64_t)out > (1u << 30) ? (1u << 30) : (size_t)(n - (uint64_t)out);
		ssize_t k;
		if (!plain) {
			k = copy_file_range(sfd, &in, dfd, &out, want, 0);
			if (k < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
				plain = 1;
				continue;
			}
			if (k <= 0)
				return k == 0 ? SL_ERR_HASH : SL_ERR_IO; /* 0: the base file is shorter */
			continue;
		}
		want = want > c->chunkcap ? c->chunkcap : want;
		k = pread(sfd, c->hashbuf, want, in);
		if (k <= 0)
			return k == 0 ? SL_ERR_HASH : SL_ERR_IO;
		if (sl_pwrite_all(dfd, c->hashbuf, (size_t)k, (uint64_t)out))
			return SL_ERR_IO;
		in += k;
		out += k;
	}
	return SL_OK;
}

/* One taken file: copy, hash, mode, time. SL_ERR_HASH: not the listed
 * content (named by the caller); other errors with why. */
static int fill_one(struct rx_ctx *c, struct rx_xfer *x, int bdata, const struct sl_manifest_file *f,
		    const struct sl_manifest_file *src, char *why, size_t wl)
{
	struct timespec t[2] = { f->mtime, f->mtime };
	struct sl_diag d = { "" };
	struct stat st;
	uint8_t sha[32];
	uint64_t n = 0;
	int sfd, dfd = -1, r;

	if (!src)
		return SL_ERR_HASH; /* sl_delta_check vouched for every one: never here */
	sfd = sl_openat_beneath(bdata, src->path, O_RDONLY, 0);
	if (sfd < 0 || fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size) {
		if (sfd >= 0)
			close(sfd);
		return SL_ERR_HASH; /* gone, a link, not a file or another size: not the base's content */
	}
	unlinkat(x->data_fd, f->path, 0); /* left by an interrupted try */
	dfd = sl_openat_beneath(x->data_fd, f->path, O_RDWR | O_CREAT | O_EXCL, 0600); /* read back to hash */
	r = dfd < 0 ? SL_ERR_IO : SL_OK;
	if (dfd < 0)
		snprintf(d.msg, sizeof d.msg, "creating it: %s", strerror(-dfd));
	if (!r)
		r = copy_bytes(c, sfd, dfd, f->size);
	if (!r && (r = sl_sha256_fd(dfd, sha, &n, NULL, NULL, &d)) == SL_OK &&
	    (n != f->size || memcmp(sha, f->sha256, 32)))
		r = SL_ERR_HASH;
	if (!r && (fchmod(dfd, (mode_t)f->mode) != 0 || (x->manifest->version >= 2 && futimens(dfd, t) != 0)))
		r = SL_ERR_IO;
	if (r && r != SL_ERR_HASH)
		snprintf(why, wl, "data/%s: copying it from the base: %s", f->path, d.msg[0] ? d.msg : strerror(errno));
	close(sfd);
	if (dfd >= 0)
		close(dfd);
	if (!r) {
		c->st.base_files++;
		c->st.base_bytes += f->size;
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

int rx_base_fill(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl)
{
	const struct sl_manifest *m = x->manifest;
	struct sl_delta_base b;
	char list[2400] = "";
	uint64_t t0 = sl_now_ns();
	size_t nbad = 0;
	int bfd, bdata, r = SL_OK;

	if (!m->has_base)
		return SL_OK;
	if ((r = load_base(c, m, &b, &bfd, why, wl)))
		return r;
	bdata = sl_openat_beneath(bfd, "data", O_RDONLY | O_DIRECTORY, 0);
	for (size_t i = 0; i < m->ntaken && bdata >= 0; i++) {
		const struct sl_manifest_file *f = &m->taken[i], *src = sl_delta_base_find(&b, f->sha256);
		r = fill_one(c, x, bdata, f, src, why, wl);
		if (r == SL_ERR_HASH)
			name_bad(list, sizeof list, ++nbad, f->path, src ? src->path : NULL);
		else if (r)
			break;
		r = SL_OK;
	}
	if (bdata < 0) {
		snprintf(why, wl, "base %s: %s/%s/data cannot be opened (%s)", m->base_hex, c->cfg->release_dir,
			 m->base_hex, strerror(-bdata));
		r = SL_ERR_POLICY;
	} else if (!r && nbad) {
		snprintf(why, wl, "base %s changed after its release: %zu file%s taken from it no longer ha%s the "
			 "content the delta names: %s%s (send a full transfer)", m->base_hex, nbad, nbad == 1 ? "" : "s",
			 nbad == 1 ? "s" : "ve", list, nbad > 5 ? " (and more)" : "");
		r = SL_ERR_HASH;
	}
	if (!r)
		sl_log(c->log, SL_LOG_INFO, "transfer %s: %zu files (%llu bytes) copied from base %s and hashed in %.2f s",
		       x->hex, m->ntaken, (unsigned long long)m->taken_bytes, m->base_hex,
		       (double)(sl_now_ns() - t0) / 1e9);
	if (bdata >= 0)
		close(bdata);
	close(bfd);
	sl_delta_base_free(&b);
	return r;
}
