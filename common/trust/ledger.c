/* ledger.c — append-only, fsync'd ledger of accepted transfers. */
#include "ledger.h"
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "hex.h"
#include "pathname.h"
#include "safefs.h"
#include "units.h"

#define HEADER "sluice-ledger 1\n"
#define LEDGER_MAX_BYTES (1ull << 30)

struct entry {
	char link[SL_LABEL_MAX + 1];
	uint64_t seq;
	uint8_t id[SL_ID_BYTES];
	int64_t time;
};

struct sl_ledger {
	int fd;
	size_t n, cap;
	struct entry *e;
	off_t size;
};

static void hex(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* Checksum: the first 8 bytes of BLAKE2b-256 of the line before " sum". */
static void line_sum(const char *s, size_t n, char out[17])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof h, (const uint8_t *)s, n, NULL, 0);
	hex(h, 8, out);
}

static int format_line(const struct entry *e, char *buf, size_t len)
{
	char idh[SL_ID_HEX], sum[17];
	int n;
	hex(e->id, SL_ID_BYTES, idh);
	n = snprintf(buf, len, "accept %s %llu %s %lld", e->link, (unsigned long long)e->seq, idh, (long long)e->time);
	if (n < 0 || (size_t)n + 18 >= len)
		return -1;
	line_sum(buf, (size_t)n, sum);
	return n + snprintf(buf + n, len - (size_t)n, " %s\n", sum);
}

/* "accept LINK SEQ ID TIME CHECK" (MANIFEST.md, section 6): 0 with *e, or -1. */
static int parse_line(const char *s, size_t n, struct entry *e)
{
	char line[256], sum[17], want[17], *nl, *f[5], *save = NULL, *tok;
	unsigned k = 0;
	uint64_t t;
	int neg;

	if (n >= sizeof line || n < 20)
		return -1;
	memcpy(line, s, n);
	line[n] = '\0';
	nl = strrchr(line, ' ');
	if (!nl || strlen(nl + 1) != 16)
		return -1;
	line_sum(line, (size_t)(nl - line), want);
	memcpy(sum, nl + 1, 17);
	if (sodium_memcmp(sum, want, 16) != 0)
		return -1;
	*nl = '\0';
	for (tok = strtok_r(line, " ", &save); tok && k < 5; tok = strtok_r(NULL, " ", &save))
		f[k++] = tok;
	if (k != 5 || tok || strcmp(f[0], "accept") || strlen(f[1]) > SL_LABEL_MAX || !sl_label_ok(f[1]))
		return -1;
	neg = f[4][0] == '-'; /* accepted-at is whatever the clock said */
	if (sl_parse_decimal(f[2], 0, UINT64_MAX, &e->seq) ||
	    sl_hex_decode(f[3], strlen(f[3]), SL_HEX_LOWER, e->id, SL_ID_BYTES) ||
	    sl_parse_decimal(f[4] + neg, 0, INT64_MAX, &t))
		return -1;
	memcpy(e->link, f[1], strlen(f[1]) + 1);
	e->time = neg ? -(int64_t)t : (int64_t)t;
	return 0;
}

static int add_entry(struct sl_ledger *l, const struct entry *e)
{
	if (sl_grow(&l->e, l->n, &l->cap, sizeof *l->e))
		return SL_ERR_NOMEM;
	l->e[l->n++] = *e;
	return SL_OK;
}

void sl_ledger_close(struct sl_ledger *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd); /* releases the lock */
	free(l->e);
	free(l);
}

/* The ledger file opened, locked and checked: its descriptor in l->fd, its size in *size. */
static int open_locked(struct sl_ledger *l, const char *path, off_t *size, struct sl_diag *d)
{
	struct stat st;

	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->fd < 0)
		return sl_diag_errno(d, "ledger %s", path);
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? sl_diag_set(d, SL_ERR_AGAIN, "ledger %s is in use by another process", path)
					    : sl_diag_errno(d, "ledger %s: lock", path);
	if (fstat(l->fd, &st) != 0)
		return sl_diag_errno(d, "ledger %s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > LEDGER_MAX_BYTES)
		return sl_diag_set(d, SL_ERR_CORRUPT, "ledger %s: not a regular file or larger than 1 GiB", path);
	*size = st.st_size;
	return SL_OK;
}

/* The entries of buf[0, len) into l, after the header; a torn last line is
 * cut off the file (*repaired), a damaged one before the end refused. */
static int replay(struct sl_ledger *l, const char *path, const char *buf, size_t len,
		  const struct sl_logger *lg, bool *repaired, struct sl_diag *d)
{
	size_t pos, good;
	unsigned ln = 1;
	int rc;

	if (len < strlen(HEADER) || memcmp(buf, HEADER, strlen(HEADER)))
		return sl_diag_set(d, SL_ERR_CORRUPT, "ledger %s: line 1 is not 'sluice-ledger 1'", path);
	pos = good = strlen(HEADER);
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		struct entry e;
		ln++;
		if (parse_line(buf + pos, end - pos, &e) != 0 || !nl) {
			if (nl && end + 1 < len)
				return sl_diag_set(d, SL_ERR_CORRUPT, "ledger %s: line %u is damaged "
						   "(not at the end: refusing to guess)", path, ln);
			/* The last line: a torn append. Cut it off. */
			sl_log(lg, SL_LOG_WARN, "ledger %s: line %u is incomplete (interrupted write): removed", path, ln);
			if (ftruncate(l->fd, (off_t)good) != 0 || fsync(l->fd) != 0)
				return sl_diag_errno(d, "ledger %s: repair", path);
			if (repaired)
				*repaired = true;
			break;
		}
		if ((rc = add_entry(l, &e)))
			return sl_diag_set(d, rc, "out of memory");
		pos = good = end + 1;
	}
	l->size = (off_t)good;
	return SL_OK;
}

int sl_ledger_open(const char *path, const struct sl_logger *lg, bool *repaired,
		   struct sl_ledger **out, struct sl_diag *d)
{
	struct sl_ledger *l;
	char what[PATH_MAX + 8];
	uint8_t *buf = NULL;
	size_t len = 0;
	off_t size = 0;
	int rc;

	if (repaired)
		*repaired = false;
	if (sodium_init() < 0)
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium failed to initialise");
	l = calloc(1, sizeof *l);
	if (!l)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	l->fd = -1;
	rc = open_locked(l, path, &size, d);
	if (!rc && size == 0) {
		if (pwrite(l->fd, HEADER, strlen(HEADER), 0) != (ssize_t)strlen(HEADER) || fsync(l->fd) != 0)
			rc = sl_diag_errno(d, "ledger %s: write header", path);
		l->size = (off_t)strlen(HEADER);
	} else if (!rc) {
		snprintf(what, sizeof what, "ledger %s", path);
		rc = sl_read_fd(l->fd, what, LEDGER_MAX_BYTES, &buf, &len, d);
		if (!rc)
			rc = replay(l, path, (const char *)buf, len, lg, repaired, d);
		free(buf);
	}
	if (rc) {
		sl_ledger_close(l);
		return rc;
	}
	*out = l;
	return SL_OK;
}

int sl_ledger_mark(const struct sl_ledger *l, const char *link, uint64_t *mark)
{
	bool found = false;
	uint64_t m = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->e[i].link, link))
			continue;
		if (!found || l->e[i].seq > m)
			m = l->e[i].seq;
		found = true;
	}
	if (!found)
		return SL_ERR_NOTFOUND;
	*mark = m;
	return SL_OK;
}

size_t sl_ledger_count(const struct sl_ledger *l)
{
	return l->n;
}

bool sl_ledger_has_id(const struct sl_ledger *l, const uint8_t id[SL_ID_BYTES])
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->e[i].id, id, SL_ID_BYTES))
			return true;
	return false;
}

/* A sequence above the mark (or the first of a link): at most max_step up. */
static int check_step(const char *link, uint64_t sequence, bool have_mark, uint64_t mark, uint64_t max_step,
		      struct sl_diag *d)
{
	if (sequence - mark <= max_step)
		return SL_OK;
	if (!have_mark)
		return sl_diag_set(d, SL_ERR_RANGE, "sequence %llu is above the policy's sequence-max-step %llu, "
				   "and link %s has no accepted transfer yet (its sequences count from 0)",
				   (unsigned long long)sequence, (unsigned long long)max_step, link);
	return sl_diag_set(d, SL_ERR_RANGE, "sequence %llu is %llu above the high-water mark %llu of link %s, "
			   "more than the policy's sequence-max-step %llu (accepting it would refuse every later "
			   "transfer numbered below it)", (unsigned long long)sequence,
			   (unsigned long long)(sequence - mark), (unsigned long long)mark, link,
			   (unsigned long long)max_step);
}

int sl_ledger_check(const struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		    uint64_t sequence, const struct sl_ledger_rules *rules, struct sl_diag *d)
{
	char idh[SL_ID_HEX];
	uint64_t mark = 0, window = rules->window;
	bool have_mark;

	hex(id, SL_ID_BYTES, idh);
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->e[i].id, id, SL_ID_BYTES))
			return sl_diag_set(d, SL_ERR_REPLAY, "transfer id %s was already accepted (link %s, sequence %llu)",
					   idh, l->e[i].link, (unsigned long long)l->e[i].seq);
	have_mark = sl_ledger_mark(l, link, &mark) == SL_OK;
	if (!have_mark || sequence > mark)
		return check_step(link, sequence, have_mark, mark, rules->max_step, d);
	if (window == 0 || mark - sequence >= window)
		return sl_diag_set(d, SL_ERR_REPLAY, "sequence %llu is not above the high-water mark %llu of link %s%s",
				   (unsigned long long)sequence, (unsigned long long)mark, link,
				   window ? " (and outside the sequence window)" : "");
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].seq == sequence && !strcmp(l->e[i].link, link))
			return sl_diag_set(d, SL_ERR_REPLAY, "sequence %llu of link %s was already accepted",
					   (unsigned long long)sequence, link);
	return SL_OK;
}

int sl_ledger_record(struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		     uint64_t sequence, const struct sl_ledger_rules *rules, int64_t now, struct sl_diag *d)
{
	struct entry e;
	char line[256];
	int n, rc;
	ssize_t w;

	if (!sl_label_ok(link))
		return sl_diag_set(d, SL_ERR_INVAL, "link '%s' is not a name", link);
	if ((rc = sl_ledger_check(l, link, id, sequence, rules, d)))
		return rc;
	memset(&e, 0, sizeof e);
	snprintf(e.link, sizeof e.link, "%s", link);
	e.seq = sequence;
	memcpy(e.id, id, SL_ID_BYTES);
	e.time = now;
	n = format_line(&e, line, sizeof line);
	if (n < 0)
		return sl_diag_set(d, SL_ERR_INVAL, "ledger line too long");
	if (l->n == l->cap) { /* reserve before writing, so memory and file agree */
		if ((rc = add_entry(l, &e)) != SL_OK)
			return sl_diag_set(d, rc, "out of memory");
		l->n--;
	}
	w = pwrite(l->fd, line, (size_t)n, l->size);
	if (w != n || fdatasync(l->fd) != 0) {
		rc = sl_diag_errno(d, "ledger: append");
		if (ftruncate(l->fd, l->size) == 0)
			fsync(l->fd);
		return rc;
	}
	l->size += n;
	l->e[l->n++] = e;
	return SL_OK;
}
