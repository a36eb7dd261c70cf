/* audit.c — hash-chained audit log (see audit.h). */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

struct sl_audit {
	int fd;
	uint64_t seq;
	char chain[65];
};

static void chain_next(const char *prev, const char *body, size_t len, char out[65])
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

/* Walk the log line by line, checking the chain; leaves the head in
 * chain/seq. Returns 0, or SL_ERR_CORRUPT at the first bad line. */
static int scan(int fd, char chain[65], uint64_t *seq, int *torn, struct sl_diag *d)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int r = SL_OK, dupfd = dup(fd);

	memset(chain, '0', 64);
	chain[64] = '\0';
	*seq = 0;
	*torn = 0;
	if (dupfd < 0 || !(f = fdopen(dupfd, "r"))) {
		if (dupfd >= 0)
			close(dupfd);
		return sl_diag_errno(d, "audit log");
	}
	rewind(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		char *mark, want[65];
		lineno++;
		if (line[n - 1] != '\n') {
			*torn = 1;
			sl_diag_set(d, SL_OK, "audit log: line %llu is torn (crash while writing); "
				    "continuing after it", (unsigned long long)lineno);
			break;
		}
		line[--n] = '\0';
		mark = strstr(line, " chain=");
		if (!mark || strlen(mark + 7) != 64) {
			r = sl_diag_set(d, SL_ERR_CORRUPT, "audit log: line %llu has no chain field",
					(unsigned long long)lineno);
			break;
		}
		chain_next(chain, line, (size_t)(mark - line), want);
		if (memcmp(want, mark + 7, 64) != 0) {
			r = sl_diag_set(d, SL_ERR_CORRUPT, "audit log: chain broken at line %llu "
					"(the log was edited or truncated there)", (unsigned long long)lineno);
			break;
		}
		memcpy(chain, want, 65);
		*seq = strtoull(line, NULL, 10);
	}
	free(line);
	fclose(f);
	return r;
}

int sl_audit_open(int dirfd, const char *name, struct sl_audit **out, struct sl_diag *d)
{
	struct sl_audit *a = calloc(1, sizeof *a);
	int torn, r;

	*out = NULL;
	if (!a)
		return SL_ERR_NOMEM;
	a->fd = openat(dirfd, name, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (a->fd < 0) {
		r = sl_diag_errno(d, "audit log %s", name);
		free(a);
		return r;
	}
	r = scan(a->fd, a->chain, &a->seq, &torn, d);
	if (r) {
		close(a->fd);
		free(a);
		return r;
	}
	if (torn && write(a->fd, "\n", 1) != 1) {
		r = sl_diag_errno(d, "audit log %s", name);
		close(a->fd);
		free(a);
		return r;
	}
	*out = a;
	return SL_OK;
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

int sl_audit_append(struct sl_audit *a, const char *event, const char *xfer_hex,
		    const char *manifest_hex, const char *reason, struct sl_diag *d)
{
	char line[4096], enc[3000], ts[32], chain[65];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	encode_reason(reason && *reason ? reason : "-", enc, sizeof enc);
	n = snprintf(line, sizeof line, "%llu %s %s xfer=%s manifest=%s reason=%s",
		     (unsigned long long)(a->seq + 1), ts, event, xfer_hex ? xfer_hex : "-",
		     manifest_hex ? manifest_hex : "-", enc);
	if (n < 0 || (size_t)n > sizeof line - 80)
		return sl_diag_set(d, SL_ERR_TOOBIG, "audit line too long");
	chain_next(a->chain, line, (size_t)n, chain);
	n += snprintf(line + n, sizeof line - (size_t)n, " chain=%s\n", chain);
	if (write(a->fd, line, (size_t)n) != n || fsync(a->fd) != 0)
		return sl_diag_errno(d, "writing the audit log");
	memcpy(a->chain, chain, 65);
	a->seq++;
	return SL_OK;
}

void sl_audit_close(struct sl_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}

int sl_audit_verify(int dirfd, const char *name, uint64_t *lines, struct sl_diag *d)
{
	char chain[65];
	int torn, r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return sl_diag_errno(d, "audit log %s", name);
	r = scan(fd, chain, lines, &torn, d);
	close(fd);
	return r;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
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
	e->seq = strtoull(f[0], NULL, 10);
	e->time = f[1];
	e->event = f[2];
	e->xfer = f[3];
	e->manifest = f[4];
	e->chain = f[6];
	/* decode reason in place */
	{
		char *s = f[5], *o = f[5];
		while (*s) {
			if (*s == '%' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
				*o++ = (char)(hexv(s[1]) << 4 | hexv(s[2]));
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
