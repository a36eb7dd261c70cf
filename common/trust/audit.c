/* audit.c — opening, repairing and appending to the hash-chained audit log
 * (see audit.h; reading and checking are in audit_scan.c, audit_verify.c). */
#include "audit_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "timefmt.h"

struct sl_audit {
	int fd, dirfd;
	uint64_t seq;
	uint64_t size;       /* end of the last entry */
	bool dirty;          /* a failed append left bytes after size that could not be cut */
	char chain[65];
	char head_name[256];
	const struct sl_logger *log;
};

static const char keep_advice[] = "keep the files as evidence and move them aside to start a new log";

void sl_audit_close(struct sl_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a);
}

void sl_audit_get_head(const struct sl_audit *a, struct sl_audit_head *h)
{
	h->seq = a->seq;
	memcpy(h->chain, a->chain, 65);
}

/* Refuse a log that a crash cannot explain; the log stays untouched. */
static int judge(const char *name, const struct sl_audit *a, const struct sl_audit_scan *s,
		 const struct sl_audit_head *fh, enum sl_audit_anchor st, struct sl_diag *d)
{
	if (st == SL_AUDIT_ANCHOR_SHORT)
		return sl_diag_set(d, SL_ERR_CORRUPT, "audit log %s ends at entry #%llu, but %s names entry "
				   "#%llu: entries were removed from its end (or the log was replaced); %s",
				   name, (unsigned long long)s->seq, a->head_name,
				   (unsigned long long)fh->seq, keep_advice);
	if (st == SL_AUDIT_ANCHOR_DIFFERS)
		return sl_diag_set(d, SL_ERR_CORRUPT, "audit log %s: entry #%llu is not the one %s names "
				   "(its chain differs): the log was replaced or rewritten; %s", name,
				   (unsigned long long)fh->seq, a->head_name, keep_advice);
	if (s->bad_line && !s->tail)
		return sl_diag_set(d, SL_ERR_CORRUPT, "audit log %s: chain broken at line %llu, which %s, "
				   "and lines follow it: the log was edited or damaged there; %s", name,
				   (unsigned long long)s->bad_line, s->why, keep_advice);
	return SL_OK;
}

/* Cut a torn tail back to the last good entry and record the cut. */
static int cut_tail(struct sl_audit *a, const char *name, const struct sl_audit_scan *s,
		    struct sl_diag *d)
{
	char sha[65], why[512];
	uint64_t bytes = s->size - s->good;

	sl_sha256_hex(s->tail_sha, sha);
	if (ftruncate(a->fd, (off_t)s->good) != 0 || fsync(a->fd) != 0)
		return sl_diag_errno(d, "audit log %s: cutting its torn last line", name);
	snprintf(why, sizeof why, "cut %llu bytes after entry #%llu: the last line %s; their SHA-256 %s",
		 (unsigned long long)bytes, (unsigned long long)s->seq, s->why, sha);
	sl_log(a->log, SL_LOG_WARN, "audit log %s: %s", name, why);
	return sl_audit_append(a, "cut", NULL, NULL, why, d);
}

static int open_log(struct sl_audit *a, int dirfd, const char *name, const struct sl_audit_head *fh,
		    struct sl_diag *d)
{
	a->fd = openat(dirfd, name, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (a->fd < 0 && errno == ENOENT && fh)
		return sl_diag_set(d, SL_ERR_CORRUPT, "audit log %s is missing, but %s names entry #%llu: "
				   "the log was removed; %s", name, a->head_name,
				   (unsigned long long)fh->seq, keep_advice);
	if (a->fd < 0 && errno == ENOENT)
		a->fd = openat(dirfd, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			       0640);
	if (a->fd < 0)
		return sl_diag_errno(d, "audit log %s", name);
	return SL_OK;
}

int sl_audit_open(int dirfd, const char *name, const struct sl_logger *log,
		  struct sl_audit **out, struct sl_diag *d)
{
	struct sl_audit *a = calloc(1, sizeof *a);
	struct sl_audit_head fh = { 0, "" };
	enum sl_audit_anchor st = SL_AUDIT_ANCHOR_NONE;
	struct sl_diag hd = { "" };
	struct sl_audit_scan s;
	int r, have;

	*out = NULL;
	if (!a)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	a->fd = -1;
	a->log = log;
	a->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (a->dirfd < 0) {
		free(a);
		return sl_diag_errno(d, "audit log %s", name);
	}
	if (sl_audit_head_name(name, a->head_name, sizeof a->head_name)) {
		r = sl_diag_set(d, SL_ERR_NAME, "audit log %s: name too long", name);
		goto fail;
	}
	r = sl_audit_head_read(dirfd, a->head_name, &fh, &hd);
	if (r && r != SL_ERR_NOTFOUND) { /* does not parse: refuse, like a broken chain */
		r = sl_diag_set(d, r, "audit log %s: %s; %s", name, hd.msg, keep_advice);
		goto fail;
	}
	have = r == SL_OK;
	r = open_log(a, dirfd, name, have ? &fh : NULL, d);
	if (!r)
		r = sl_audit_scan(a->fd, &fh, &st, have ? 1 : 0, &s, d);
	if (!r)
		r = judge(name, a, &s, &fh, st, d);
	if (r)
		goto fail;
	a->seq = s.seq;
	a->size = s.good;
	memcpy(a->chain, s.chain, 65);
	if (s.bad_line) {
		r = cut_tail(a, name, &s, d); /* appends, which logs and writes the head */
	} else if (a->seq && (!have || fh.seq != a->seq)) {
		struct sl_audit_head h;
		sl_audit_get_head(a, &h);
		r = sl_audit_head_write(a->dirfd, a->head_name, &h, d);
	}
	if (r)
		goto fail;
	if (a->seq && !s.bad_line)
		sl_log(a->log, SL_LOG_INFO, "audit #%llu head %s", (unsigned long long)a->seq, a->chain);
	*out = a;
	return SL_OK;
fail:
	sl_audit_close(a);
	return r;
}

static void encode_reason(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == '=') {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

/* Write and sync one whole line; on failure cut the file back to the last
 * entry, so the next append does not land after half a line. */
static int write_line(struct sl_audit *a, const char *line, size_t n, struct sl_diag *d)
{
	ssize_t w;

	if (a->dirty) {
		if (ftruncate(a->fd, (off_t)a->size) != 0 || fsync(a->fd) != 0)
			return sl_diag_errno(d, "cutting a failed append off the audit log");
		a->dirty = false;
	}
	do
		w = write(a->fd, line, n);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)n && fsync(a->fd) == 0)
		return SL_OK;
	if (w >= 0 && w < (ssize_t)n)
		errno = ENOSPC; /* a short write: the disk or a file size limit is full */
	sl_diag_errno(d, "writing the audit log");
	if (w > 0 && (ftruncate(a->fd, (off_t)a->size) != 0 || fsync(a->fd) != 0))
		a->dirty = true;
	return SL_ERR_IO;
}

int sl_audit_append(struct sl_audit *a, const char *event, const char *xfer_hex,
		    const char *manifest_hex, const char *reason, struct sl_diag *d)
{
	char line[SL_AUDIT_MAX_LINE], enc[3000], ts[32], chain[65];
	struct sl_diag ld = { "" };
	struct sl_audit_head h;
	int n, r;

	sl_time_format((int64_t)time(NULL), ts, sizeof ts);
	encode_reason(reason && *reason ? reason : "-", enc, sizeof enc);
	n = snprintf(line, sizeof line, "%llu %s %s xfer=%s manifest=%s reason=%s",
		     (unsigned long long)(a->seq + 1), ts, event, xfer_hex ? xfer_hex : "-",
		     manifest_hex ? manifest_hex : "-", enc);
	if (n < 0 || (size_t)n > sizeof line - 80)
		return sl_diag_set(d, SL_ERR_TOOBIG, "audit line too long");
	sl_audit_chain_next(a->chain, line, (size_t)n, chain);
	n += snprintf(line + n, sizeof line - (size_t)n, " chain=%s\n", chain);
	r = write_line(a, line, (size_t)n, &ld);
	if (r) {
		sl_log(a->log, SL_LOG_ERR, "audit: entry #%llu (%s %s) was NOT recorded: %s",
		       (unsigned long long)(a->seq + 1), event, xfer_hex ? xfer_hex : "", ld.msg);
		return sl_diag_set(d, r, "%s", ld.msg);
	}
	memcpy(a->chain, chain, 65);
	a->seq++;
	a->size += (uint64_t)n;
	sl_log(a->log, SL_LOG_INFO, "audit #%llu head %s", (unsigned long long)a->seq, a->chain);
	sl_audit_get_head(a, &h);
	r = sl_audit_head_write(a->dirfd, a->head_name, &h, &ld);
	if (r) {
		sl_log(a->log, SL_LOG_WARN, "audit: entry #%llu recorded, but %s was not updated (%s): "
		       "it still names an older entry", (unsigned long long)a->seq, a->head_name, ld.msg);
		return sl_diag_set(d, r, "%s", ld.msg);
	}
	return SL_OK;
}
