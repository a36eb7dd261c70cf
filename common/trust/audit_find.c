/* audit_find.c — entries at the end of an audit log (see audit_find.h). */
#include "audit_find.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

#define FIRST_WINDOW (64u << 10)

struct query {
	uint64_t after;
	const char *event, *xfer;   /* NULL: only the numbers are wanted */
	int found, have_first;
	uint64_t first, last;       /* numbers of the first and last entry read */
};

static int whole_chain(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Read the entries from byte `start` to the end; unless start is 0, the
 * first line is skipped (it may begin before start). */
static int scan_window(FILE *f, off_t start, struct query *q)
{
	char *line = NULL, *buf = NULL;
	size_t cap = 0, bcap = 0;
	ssize_t n;
	int r = SL_OK;

	q->found = q->have_first = 0;
	q->first = q->last = 0;
	clearerr(f);
	if (fseeko(f, start, SEEK_SET) != 0)
		return SL_ERR_IO;
	if (start > 0 && getline(&line, &cap, f) < 0)
		goto out;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct sl_audit_entry e;
		if (line[n - 1] != '\n')
			break; /* torn tail */
		if ((size_t)n + 1 > bcap) {
			char *nb = realloc(buf, (size_t)n + 1);
			if (!nb) {
				r = SL_ERR_NOMEM;
				goto out;
			}
			buf = nb;
			bcap = (size_t)n + 1;
		}
		if (sl_audit_parse_line(line, buf, bcap, &e) != SL_OK || !whole_chain(e.chain))
			continue;
		if (!q->have_first) {
			q->first = e.seq;
			q->have_first = 1;
		}
		q->last = e.seq;
		if (q->event && e.seq > q->after && !strcmp(e.event, q->event) && !strcmp(e.xfer, q->xfer))
			q->found = 1;
	}
out:
	if (r == SL_OK && ferror(f))
		r = SL_ERR_IO;
	free(line);
	free(buf);
	return r;
}

/* Whether a window holds all that the query needs. */
static int enough(const struct query *q)
{
	if (!q->event)
		return q->have_first;
	return q->found || (q->have_first && q->first <= q->after);
}

/* Windows from the end of the file, doubling, until enough() or the whole file. */
static int scan(int dirfd, const char *name, struct query *q, struct sl_diag *d)
{
	struct stat st;
	FILE *f;
	int r = SL_OK, fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	q->found = q->have_first = 0;
	if (fd < 0)
		return errno == ENOENT ? SL_OK : sl_diag_errno(d, "audit log %s", name);
	if (fstat(fd, &st) != 0 || !(f = fdopen(fd, "r"))) {
		r = sl_diag_errno(d, "audit log %s", name);
		close(fd);
		return r;
	}
	for (uint64_t win = FIRST_WINDOW;; win *= 2) {
		off_t start = (uint64_t)st.st_size > win ? st.st_size - (off_t)win : 0;
		r = scan_window(f, start, q);
		if (r) {
			if (r == SL_ERR_IO)
				sl_diag_errno(d, "reading audit log %s", name);
			break;
		}
		if (start == 0 || enough(q))
			break;
	}
	fclose(f);
	return r;
}

int sl_audit_last_seq(int dirfd, const char *name, uint64_t *seq, struct sl_diag *d)
{
	struct query q = { 0 };
	int r = scan(dirfd, name, &q, d);

	if (r)
		return r;
	*seq = q.have_first ? q.last : 0;
	return SL_OK;
}

int sl_audit_find_after(int dirfd, const char *name, uint64_t after, const char *event,
			const char *xfer_hex, struct sl_diag *d)
{
	struct query q = { .after = after, .event = event, .xfer = xfer_hex };
	int r = scan(dirfd, name, &q, d);

	return r ? r : q.found;
}
