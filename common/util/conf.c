/* conf.c — configuration files: libinih splits lines, this file counts them,
 * checks keys and text, and hands values to the program (see conf.h). */
#include "conf.h"

#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "units.h"

#define MAX_KEYS 128

struct parse {
	const char *file;
	const char *text, *end, *pos;    /* the input and how far the reader got */
	unsigned line;                   /* the line last handed to libinih */
	const struct option *opts;
	size_t nopts;
	bool seen[MAX_KEYS];
	sl_conf_set_fn set;
	void *user;
	int err;                         /* the first error and its line */
	unsigned err_line;
	struct sl_diag d;
};

static void fail(struct parse *p, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct parse *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return;
	p->err = err;
	p->err_line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->d.msg, sizeof p->d.msg, fmt, ap);
	va_end(ap);
}

/* Why a line (without its LF) is refused before libinih sees it, or NULL. */
static const char *bad_line(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[n - 1] == '\r')
		n--;
	for (size_t j = 0; j < n; j++) {
		unsigned char ch = (unsigned char)s[j];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return ch == 0 ? "a NUL byte: not a text file" : "a control character: not a text file";
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '#' || s[i] == ';')
		return NULL;
	if (s[i] == '[')
		return "sections ([...]) are not used: write 'key = value' lines only";
	if (i > 0)
		return "starts with a space or tab: a setting starts at the beginning of its line";
	return NULL;
}

/* libinih's reader: one line per call, so p->line is the line being parsed.
 * A line refused here, or too long for libinih's buffer, is recorded and
 * handed over empty. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *nl, *why;
	size_t n;

	if (p->pos >= p->end || num < 2)
		return NULL;
	nl = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
	n = nl ? (size_t)(nl - p->pos) : (size_t)(p->end - p->pos);
	p->line++;
	str[0] = '\0';
	if (n + 1 > (size_t)num - 1) {
		fail(p, SL_ERR_RANGE, "line longer than %d characters", num - 2);
	} else if ((why = bad_line(p->pos, n))) {
		fail(p, SL_ERR_PARSE, "%s", why);
	} else {
		memcpy(str, p->pos, n);
		str[n] = '\n';
		str[n + 1] = '\0';
	}
	p->pos += n + (nl ? 1 : 0);
	return str;
}

static int flag_value(const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	const struct option *o = NULL;
	size_t i;
	int r;

	(void)section; /* always "": section lines are refused by the reader */
	if (p->err)
		return 1; /* after the first error nothing more is applied */
	for (i = 0; i < p->nopts && !o; i++)
		if (!strcmp(p->opts[i].name, name))
			o = &p->opts[i];
	if (!o) {
		const char *near = sl_conf_suggest(name, p->opts);
		if (near)
			fail(p, SL_ERR_INVAL, "unknown key '%s' (did you mean %s?)", name, near);
		else
			fail(p, SL_ERR_INVAL, "unknown key '%s' (the keys are the long options: see --help)",
			     name);
		return 0;
	}
	i--;
	if (p->seen[i]) {
		fail(p, SL_ERR_INVAL, "'%s' is set twice (or continued on an indented line)", name);
		return 0;
	}
	p->seen[i] = true;
	if (!*value) {
		fail(p, SL_ERR_PARSE, "'%s' has no value", name);
		return 0;
	}
	if (o->has_arg == no_argument) {
		int on = flag_value(value);
		if (on < 0) {
			fail(p, SL_ERR_PARSE, "%s '%s': expected yes or no", name, value);
			return 0;
		}
		if (!on)
			return 1;
		value = NULL;
	}
	p->d.msg[0] = '\0';
	r = p->set(p->user, o->val, name, value, &p->d);
	if (r) {
		char why[sizeof p->d.msg];
		snprintf(why, sizeof why, "%s", p->d.msg[0] ? p->d.msg : sl_strerror(r));
		fail(p, r, "%s", why);
		return 0;
	}
	return 1;
}

int sl_conf_parse(const char *file, const char *text, size_t len, const struct option *opts,
		  sl_conf_set_fn set, void *user, unsigned *err_line, struct sl_diag *d)
{
	struct parse *p = calloc(1, sizeof *p);
	int r, at;

	if (err_line)
		*err_line = 0;
	if (!p)
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", file);
	p->file = file;
	p->text = p->pos = text;
	p->end = text + len;
	p->opts = opts;
	p->set = set;
	p->user = user;
	while (opts[p->nopts].name)
		p->nopts++;
	if (p->nopts > MAX_KEYS) {
		free(p);
		return sl_diag_set(d, SL_ERR_INVAL, "%s: too many keys", file);
	}
	at = ini_parse_stream(reader, p, handler, p);
	if (at < 0) {
		free(p);
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", file);
	}
	if (at > 0 && (!p->err || (unsigned)at < p->err_line)) {
		/* libinih found this line first: neither key = value nor a comment */
		p->err = SL_ERR_PARSE;
		p->err_line = (unsigned)at;
		snprintf(p->d.msg, sizeof p->d.msg, "expected 'key = value' (or a # comment)");
	}
	r = p->err;
	if (r) {
		sl_diag_set(d, r, "%s:%u: %s", file, p->err_line, p->d.msg);
		if (err_line)
			*err_line = p->err_line;
	}
	free(p);
	return r;
}

int sl_conf_cmdline_only(const char *key, struct sl_diag *d)
{
	return sl_diag_set(d, SL_ERR_INVAL, "'%s' belongs on the command line, not in a configuration file",
			   key);
}

int sl_conf_check_secret(const char *what, const char *path, struct sl_diag *d)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return sl_diag_errno(d, "%s %s", what, path);
	if (!S_ISREG(st.st_mode))
		return sl_diag_set(d, SL_ERR_INVAL, "%s %s is not a regular file", what, path);
	if (st.st_mode & 077)
		return sl_diag_set(d, SL_ERR_INVAL, "%s %s is open to group or others (mode %04o): a "
				   "secret must be readable by its owner only; run: chmod 600 %s", what, path,
				   (unsigned)(st.st_mode & 07777), path);
	return SL_OK;
}

/* Optimal string alignment distance (edits and adjacent swaps), capped. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[3][64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *cur = row[i % 3], *prev = row[(i + 2) % 3], *prev2 = row[(i + 1) % 3];
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1], v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return row[la % 3][lb];
}

const char *sl_conf_suggest(const char *key, const struct option *opts)
{
	const char *best = NULL;
	unsigned bd = 3;
	size_t kl = strlen(key);

	for (size_t i = 0; opts[i].name; i++) {
		unsigned dist = distance(key, opts[i].name);
		if (kl >= 3 && !strncmp(opts[i].name, key, kl) && dist > 1)
			dist = 2; /* a prefix: "max-stag" for max-staging */
		if (dist < bd && dist < kl) {
			bd = dist;
			best = opts[i].name;
		}
	}
	return best;
}

int sl_conf_keep(struct sl_conf_strings *s, const char *key, const char *arg, const char **out,
		 struct sl_diag *d)
{
	char **n = realloc(s->v, (s->n + 1) * sizeof *n);

	if (!n)
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", key);
	s->v = n;
	if (!(n[s->n] = strdup(arg)))
		return sl_diag_set(d, SL_ERR_NOMEM, "%s: out of memory", key);
	*out = n[s->n++];
	return SL_OK;
}

void sl_conf_strings_free(struct sl_conf_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int sl_conf_count(const char *key, const char *arg, unsigned long lo, unsigned long hi, unsigned *out,
		  struct sl_diag *d)
{
	unsigned long v;
	int r = sl_parse_count(key, arg, lo, hi, &v, d);

	if (!r)
		*out = (unsigned)v;
	return r;
}
