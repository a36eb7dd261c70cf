/* audit_scan.c — reading an audit log and its head file (see audit_impl.h). */
#include "audit_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hex.h"
#include "safefs.h"
#include "sha256.h"
#include "units.h"

#define SCAN_BUF (16 * SL_AUDIT_MAX_LINE)
#define CHAIN_FIELD 71 /* " chain=" and 64 hex digits */

void sl_audit_chain_next(const char prev[65], const char *body, size_t len, char out[65])
{
	struct sl_sha256 *h;
	uint8_t dig[32];

	if (sl_sha256_new(&h) == 0) {
		sl_sha256_update(h, prev, 64);
		sl_sha256_update(h, " ", 1);
		sl_sha256_update(h, body, len);
		sl_sha256_final(h, dig);
		sl_sha256_free(h);
	} else {
		memset(dig, 0, sizeof dig);
	}
	sl_sha256_hex(dig, out);
}

/* Is line[0..n) (without its LF) entry `want` chained to prev? On success
 * next gets its chain; otherwise why says what is wrong with it. */
static int check_line(const char *line, size_t n, uint64_t want, const char prev[65],
		      char next[65], char *why, size_t cap)
{
	const char *sp = memchr(line, ' ', n);
	uint64_t seq;

	if (memchr(line, '\0', n)) {
		snprintf(why, cap, "contains NUL bytes");
		return -1;
	}
	if (!sp || sl_parse_decimal_canon_n(line, (size_t)(sp - line), 1, UINT64_MAX, &seq)) {
		snprintf(why, cap, "does not start with an entry number");
		return -1;
	}
	if (n < (size_t)(sp - line) + CHAIN_FIELD || memcmp(line + n - CHAIN_FIELD, " chain=", 7) != 0) {
		snprintf(why, cap, "(entry #%llu) has no chain field at its end", (unsigned long long)seq);
		return -1;
	}
	sl_audit_chain_next(prev, line, n - CHAIN_FIELD, next);
	if (memcmp(next, line + n - 64, 64) != 0) {
		snprintf(why, cap, "(entry #%llu) does not chain to the entry before it", (unsigned long long)seq);
		return -1;
	}
	if (seq != want) {
		snprintf(why, cap, "is entry #%llu where #%llu was due", (unsigned long long)seq,
			 (unsigned long long)want);
		return -1;
	}
	return 0;
}

/* Bytes from..to of fd: is there no LF in them but (maybe) the last byte?
 * Hashes them into sha. Returns 1 (a tail), 0 (lines follow) or SL_ERR_IO. */
static int tail_only(int fd, uint64_t from, uint64_t to, uint8_t sha[32], char *buf,
		     struct sl_diag *d)
{
	struct sl_sha256 *h;
	int tail = 1;

	if (sl_sha256_new(&h))
		return sl_diag_set(d, SL_ERR_NOMEM, "SHA-256 context");
	while (from < to) {
		size_t want = to - from < SCAN_BUF ? (size_t)(to - from) : SCAN_BUF;
		ssize_t got = pread(fd, buf, want, (off_t)from);
		if (got <= 0) {
			sl_sha256_free(h);
			return got < 0 ? sl_diag_errno(d, "reading the audit log")
				       : sl_diag_set(d, SL_ERR_IO, "the audit log shrank while being read");
		}
		char *nl = memchr(buf, '\n', (size_t)got);
		if (nl && from + (uint64_t)(nl - buf) + 1 < to)
			tail = 0;
		sl_sha256_update(h, buf, (size_t)got);
		from += (uint64_t)got;
	}
	sl_sha256_final(h, sha);
	sl_sha256_free(h);
	return tail;
}

static void note_anchors(const struct sl_audit_head *anchor, enum sl_audit_anchor *state,
			 size_t n, uint64_t seq, const char chain[65])
{
	for (size_t i = 0; i < n; i++)
		if (anchor[i].seq == seq)
			state[i] = memcmp(anchor[i].chain, chain, 64) == 0 ? SL_AUDIT_ANCHOR_HELD
									 : SL_AUDIT_ANCHOR_DIFFERS;
}

/* Read more of the file into buf after dropping the consumed `*pos` bytes. */
static ssize_t refill(int fd, char *buf, size_t *len, size_t *pos, uint64_t *off, uint64_t size)
{
	uint64_t at;
	size_t room;
	ssize_t got;

	memmove(buf, buf + *pos, *len - *pos);
	*off += *pos;
	*len -= *pos;
	*pos = 0;
	at = *off + *len;
	room = SCAN_BUF - *len;
	if (size - at < room)
		room = (size_t)(size - at);
	if (room == 0)
		return 0;
	do
		got = pread(fd, buf + *len, room, (off_t)at);
	while (got < 0 && errno == EINTR);
	if (got > 0)
		*len += (size_t)got;
	return got;
}

static int scan_lines(int fd, char *buf, const struct sl_audit_head *anchor,
		      enum sl_audit_anchor *state, size_t n, struct sl_audit_scan *s, struct sl_diag *d)
{
	size_t len = 0, pos = 0;
	uint64_t off = 0;

	for (;;) {
		char *nl = memchr(buf + pos, '\n', len - pos), next[65];
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		if (ll >= SL_AUDIT_MAX_LINE) {
			s->bad_line = s->seq + 1;
			snprintf(s->why, sizeof s->why, "is longer than any entry (%d bytes or more)",
				 SL_AUDIT_MAX_LINE);
			return SL_OK;
		}
		if (!nl) {
			ssize_t got = off + len < s->size ? refill(fd, buf, &len, &pos, &off, s->size) : 0;
			if (got < 0)
				return sl_diag_errno(d, "reading the audit log");
			if (got > 0)
				continue;
			if (len > pos) {
				s->bad_line = s->seq + 1;
				snprintf(s->why, sizeof s->why, "has no newline (a write was interrupted)");
			}
			return SL_OK;
		}
		if (check_line(buf + pos, ll, s->seq + 1, s->chain, next, s->why, sizeof s->why)) {
			s->bad_line = s->seq + 1;
			return SL_OK;
		}
		s->seq++;
		memcpy(s->chain, next, 65);
		note_anchors(anchor, state, n, s->seq, s->chain);
		pos += ll + 1;
		s->good = off + pos;
	}
}

int sl_audit_scan(int fd, const struct sl_audit_head *anchor, enum sl_audit_anchor *state,
		  size_t n, struct sl_audit_scan *s, struct sl_diag *d)
{
	struct stat st;
	char *buf;
	int r;

	memset(s, 0, sizeof *s);
	memset(s->chain, '0', 64);
	for (size_t i = 0; i < n; i++)
		state[i] = SL_AUDIT_ANCHOR_NONE;
	if (fstat(fd, &st) != 0)
		return sl_diag_errno(d, "audit log");
	s->size = (uint64_t)st.st_size;
	buf = malloc(SCAN_BUF);
	if (!buf)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	r = scan_lines(fd, buf, anchor, state, n, s, d);
	if (r == SL_OK && s->bad_line) {
		r = tail_only(fd, s->good, s->size, s->tail_sha, buf, d);
		if (r >= 0) {
			s->tail = r == 1;
			r = SL_OK;
		}
	}
	free(buf);
	for (size_t i = 0; i < n; i++)
		if (anchor[i].seq && state[i] == SL_AUDIT_ANCHOR_NONE)
			state[i] = s->bad_line && !s->tail ? SL_AUDIT_ANCHOR_UNCHECKED
							   : SL_AUDIT_ANCHOR_SHORT;
	return r;
}

int sl_audit_head_parse(const char *text, struct sl_audit_head *h)
{
	static const char lower[] = "0123456789abcdef";
	const char *p = text + (*text == '#'), *colon = strchr(p, ':');
	size_t i;

	if (!colon || sl_parse_decimal_canon_n(p, (size_t)(colon - p), 1, UINT64_MAX, &h->seq))
		return SL_ERR_PARSE;
	p = colon + 1;
	for (i = 0; i < 64; i++) {
		int v = sl_hex_digit(p[i], SL_HEX_ANY); /* typed by people: either case, kept lowercase */
		if (v < 0)
			return SL_ERR_PARSE;
		h->chain[i] = lower[v];
	}
	h->chain[64] = '\0';
	for (p += 64; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return SL_ERR_PARSE;
	return SL_OK;
}

int sl_audit_head_name(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	int w;

	if (n > 4 && strcmp(name + n - 4, ".log") == 0)
		n -= 4;
	w = snprintf(out, cap, "%.*s.head", (int)n, name);
	return w < 0 || (size_t)w >= cap ? SL_ERR_NAME : SL_OK;
}

int sl_audit_head_read(int dirfd, const char *head_name, struct sl_audit_head *h,
		       struct sl_diag *d)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r = sl_read_file_beneath(dirfd, head_name, 256, &data, &len, d);

	if (r == SL_ERR_TOOBIG || r == SL_ERR_INVAL)
		return sl_diag_set(d, SL_ERR_CORRUPT, "%s is not a head file (too large or not a "
				   "regular file)", head_name);
	if (r)
		return r;
	data[len] = '\0';
	if (strlen((char *)data) != len || sl_audit_head_parse((char *)data, h) != SL_OK)
		r = sl_diag_set(d, SL_ERR_CORRUPT, "%s does not hold SEQ:HEX (it was edited or damaged)",
				head_name);
	free(data);
	return r;
}

int sl_audit_head_write(int dirfd, const char *head_name, const struct sl_audit_head *h,
			struct sl_diag *d)
{
	char text[96];
	int n = snprintf(text, sizeof text, "%llu:%s\n", (unsigned long long)h->seq, h->chain);
	int r = sl_write_file_atomic(dirfd, head_name, text, (size_t)n, 0640, d);

	if (r == SL_OK && fsync(dirfd) != 0)
		r = sl_diag_errno(d, "syncing the directory of %s", head_name);
	return r;
}
