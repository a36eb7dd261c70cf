/* audit_verify.c — read-only check of an audit log against its anchors,
 * and splitting a line into fields (see audit.h). */
#include "audit_impl.h"
#include "hex.h"
#include "units.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most serious finding first: entries gone, then a rewritten log, then
 * a break in the chain, then an unreadable head file. */
static int verdict(const char *name, const struct sl_audit_state *st, const struct sl_audit_head *given,
		   const struct sl_diag *head_err, struct sl_diag *d)
{
	const struct sl_audit_head *h[2] = { &st->file_head, given };
	const enum sl_audit_anchor s[2] = { st->file_anchor, st->given_anchor };
	char who[2][300];

	snprintf(who[0], sizeof who[0], "%s names", st->head_file);
	snprintf(who[1], sizeof who[1], "the given head is");
	for (int i = 0; i < 2; i++) {
		if (s[i] == SL_AUDIT_ANCHOR_SHORT && st->missing)
			return sl_diag_set(d, SL_ERR_CORRUPT, "%s is missing, but %s entry #%llu: the log "
					   "was removed", name, who[i], (unsigned long long)h[i]->seq);
		if (s[i] == SL_AUDIT_ANCHOR_SHORT)
			return sl_diag_set(d, SL_ERR_CORRUPT, "%s ends at entry #%llu, but %s entry #%llu: "
					   "entries were removed from its end (or the log was replaced)",
					   name, (unsigned long long)st->entries, who[i],
					   (unsigned long long)h[i]->seq);
	}
	for (int i = 0; i < 2; i++)
		if (s[i] == SL_AUDIT_ANCHOR_DIFFERS)
			return sl_diag_set(d, SL_ERR_CORRUPT, "%s: entry #%llu is not the one %s (its chain "
					   "differs): the log was replaced or rewritten", name,
					   (unsigned long long)h[i]->seq, i ? "given" : st->head_file);
	if (st->bad_line && !st->torn_tail)
		return sl_diag_set(d, SL_ERR_CORRUPT, "%s: chain broken at line %llu, which %s, and lines "
				   "follow it: the log was edited or damaged there", name,
				   (unsigned long long)st->bad_line, st->bad_why);
	if (head_err->msg[0])
		return sl_diag_set(d, SL_ERR_CORRUPT, "%s", head_err->msg);
	return SL_OK;
}

int sl_audit_verify(int dirfd, const char *name, const struct sl_audit_head *given,
		    struct sl_audit_state *st, struct sl_diag *d)
{
	struct sl_audit_head anchor[2] = { { 0, "" }, { 0, "" } };
	enum sl_audit_anchor state[2] = { SL_AUDIT_ANCHOR_NONE, SL_AUDIT_ANCHOR_NONE };
	struct sl_diag head_err = { "" };
	struct sl_audit_scan s;
	int fd, r;

	memset(st, 0, sizeof *st);
	if (sl_audit_head_name(name, st->head_file, sizeof st->head_file))
		return sl_diag_set(d, SL_ERR_NAME, "%s: name too long", name);
	/* The head file first: rx writes it after the log, so whatever it
	 * names is in the log read below, even while rx is appending. */
	r = sl_audit_head_read(dirfd, st->head_file, &st->file_head, &head_err);
	st->head_file_present = r == SL_OK;
	if (r == SL_OK || r == SL_ERR_NOTFOUND)
		head_err.msg[0] = '\0';
	anchor[0] = st->head_file_present ? st->file_head : anchor[0];
	if (given && given->seq)
		anchor[1] = *given;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		return sl_diag_errno(d, "audit log %s", name);
	if (fd < 0) {
		st->missing = true;
		for (int i = 0; i < 2; i++)
			state[i] = anchor[i].seq ? SL_AUDIT_ANCHOR_SHORT : SL_AUDIT_ANCHOR_NONE;
	} else {
		r = sl_audit_scan(fd, anchor, state, 2, &s, d);
		close(fd);
		if (r)
			return r;
		st->entries = s.seq;
		st->head.seq = s.seq;
		memcpy(st->head.chain, s.chain, 65);
		st->bad_line = s.bad_line;
		st->torn_tail = s.bad_line && s.tail;
		st->tail_bytes = s.size - s.good;
		snprintf(st->bad_why, sizeof st->bad_why, "%s", s.why);
	}
	st->file_anchor = state[0];
	st->given_anchor = state[1];
	r = verdict(name, st, given, &head_err, d);
	if (r == SL_OK && st->missing)
		r = sl_diag_set(d, SL_ERR_NOTFOUND, "%s does not exist (sluice-rx has not run here yet?)", name);
	return r;
}

int sl_audit_parse_line(const char *line, char *buf, size_t buflen, struct sl_audit_entry *e)
{
	char *f[7], *save = NULL, *tok;
	unsigned n = 0;
	static const char *const keys[] = { "xfer=", "manifest=", "reason=", "chain=" };

	if (strlen(line) + 1 > buflen)
		return SL_ERR_TOOBIG;
	strcpy(buf, line);
	buf[strcspn(buf, "\n")] = '\0';
	for (tok = strtok_r(buf, " ", &save); tok && n < 7; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 7 || tok)
		return SL_ERR_PARSE;
	for (unsigned i = 0; i < 4; i++) {
		if (strncmp(f[3 + i], keys[i], strlen(keys[i])) != 0)
			return SL_ERR_PARSE;
		f[3 + i] += strlen(keys[i]);
	}
	if (sl_parse_decimal(f[0], 0, UINT64_MAX, &e->seq))
		return SL_ERR_PARSE;
	e->time = f[1];
	e->event = f[2];
	e->xfer = f[3];
	e->manifest = f[4];
	e->chain = f[6];
	/* decode reason in place */
	{
		char *s = f[5], *o = f[5];
		while (*s) {
			int h = *s == '%' ? sl_hex_digit(s[1], SL_HEX_ANY) : -1;
			int l = h >= 0 ? sl_hex_digit(s[2], SL_HEX_ANY) : -1;
			if (l >= 0) {
				*o++ = (char)(h << 4 | l);
				s += 3;
			} else {
				*o++ = *s++;
			}
		}
		*o = '\0';
	}
	e->reason = f[5];
	return SL_OK;
}
