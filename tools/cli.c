/* cli.c — shared helpers of the officer-facing verbs (see cli.h) and the
 * dispatcher of a table of verbs (cli_verbs_run), used by sluice.c and
 * manifest.c. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "clock.h"
#include "error.h"
#include "manifest.h"
#include "pathname.h"
#include "units.h"

int cli_exit_code(int err)
{
	switch (err) {
	case SL_OK:
		return EXIT_OK;
	case SL_ERR_IO:
	case SL_ERR_NOMEM:
	case SL_ERR_CRYPTO:
	case SL_ERR_NOTFOUND:
	case SL_ERR_EXISTS:
	case SL_ERR_AGAIN:
		return EXIT_SYSTEM;
	default:
		return EXIT_REFUSED;
	}
}

int cli_fail(const char *prog, int err, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sluice %s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cli_exit_code(err);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sluice %s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'sluice %s --help')\n", prog);
	return EXIT_USAGE;
}

void cli_verbs_usage(FILE *f, const struct cli_verbs *c)
{
	fprintf(f, "%s", c->head);
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, "  %-*s %s\n", c->width, c->v[i].name, c->v[i].description);
	fprintf(f, "%s", c->tail);
}

bool cli_verbs_run(const struct cli_verbs *c, int argc, char **argv, int *status)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_verbs_usage(argc < 2 ? stderr : stdout, c);
		*status = argc < 2 ? EXIT_USAGE : EXIT_OK;
		return true;
	}
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(argv[1], c->v[i].name)) {
			*status = c->v[i].fn(argc - 1, argv + 1);
			return true;
		}
	return false;
}

void cli_passphrase_free(char *p)
{
	if (p)
		sodium_free(p);
}

enum { PASS_MAX = 1024 };

static char *read_tty(const char *prompt)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct termios old, quiet;
	char *buf;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	buf = sodium_malloc(PASS_MAX);
	if (!buf) {
		close(fd);
		return NULL;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy */
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 < PASS_MAX)
			buf[n++] = c;
	}
	buf[n] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	return buf;
}

char *cli_passphrase(const char *prog, const char *file, const char *prompt, bool confirm)
{
	char *p = NULL;
	const char *env = getenv("SLUICE_PASSPHRASE");

	if (file) {
		FILE *f = fopen(file, "re");
		size_t n;
		if (!f) {
			cli_fail(prog, SL_ERR_IO, "passphrase file %s: %s", file, strerror(errno));
			return NULL;
		}
		p = sodium_malloc(PASS_MAX);
		if (!p) {
			fclose(f);
			return NULL;
		}
		if (!fgets(p, PASS_MAX, f))
			p[0] = '\0';
		fclose(f);
		n = strcspn(p, "\r\n");
		p[n] = '\0';
	} else if (env) {
		size_t n = strlen(env);
		if (n + 1 > PASS_MAX) {
			cli_fail(prog, SL_ERR_RANGE, "SLUICE_PASSPHRASE is longer than %d bytes", PASS_MAX - 1);
			return NULL;
		}
		p = sodium_malloc(PASS_MAX);
		if (!p)
			return NULL;
		memcpy(p, env, n + 1);
	} else {
		p = read_tty(prompt);
		if (!p) {
			cli_fail(prog, SL_ERR_INVAL, "no terminal to ask for the passphrase: use --passphrase-file FILE or "
				 "SLUICE_PASSPHRASE (or --unencrypted for keygen)");
			return NULL;
		}
		if (confirm) {
			char *again = read_tty("Passphrase (again): ");
			bool same = again && strlen(again) == strlen(p) && sodium_memcmp(again, p, strlen(p)) == 0;
			cli_passphrase_free(again);
			if (!same) {
				cli_passphrase_free(p);
				cli_fail(prog, SL_ERR_INVAL, "the passphrases differ");
				return NULL;
			}
		}
	}
	if (!p[0]) {
		cli_passphrase_free(p);
		cli_fail(prog, SL_ERR_INVAL, "empty passphrase (use --unencrypted for a key without one)");
		return NULL;
	}
	return p;
}

void cli_progress_init(struct cli_progress *p, const char *what, uint64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	sl_progress_start(&p->line, total, sl_now_ns());
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
	uint64_t now = sl_now_ns();
	char text[160];

	if (!p->on || !sl_progress_due(&p->line, now))
		return;
	sl_progress_line(&p->line, done, NULL, 0, now, text, sizeof text);
	fprintf(stderr, "\r%s: %s   ", p->what, text);
}

void cli_progress_items(struct cli_progress *p, uint64_t bytes, uint64_t items, const char *unit)
{
	uint64_t now = sl_now_ns();
	char text[160], b[32];

	if (!p->on || !sl_progress_due(&p->line, now))
		return;
	sl_progress_line(&p->line, items, unit, 0, now, text, sizeof text);
	fprintf(stderr, "\r%s: %s, %s   ", p->what, text, sl_fmt_bytes(bytes, b, sizeof b));
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->on && p->line.drawn)
		fprintf(stderr, "\r\033[K");
}

bool cli_has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* Decode one UTF-8 code point (lenient: the library validated names). */
static size_t next_cp(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		return 3;
	}
	if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
		*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
		      (s[3] & 0x3F);
		return 4;
	}
	return 0;
}

/* Controls, and what names and purposes refuse as invisible (pathname.h). */
static bool invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || sl_cp_invisible(cp);
}

/* s into out, a byte that is not UTF-8 as \xHH. With ascii (cli_visible)
 * every code point outside printable ASCII becomes \u{XXXX}, '\' is doubled
 * and a cut is marked "..."; without (cli_text) only the invisible ones are
 * escaped. */
static char *escape(const char *s, char *out, size_t outsz, bool ascii)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	while (*p && o + 12 < outsz) {
		uint32_t cp;
		size_t n = next_cp(p, &cp);
		if (n == 0) {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02X", *p);
			p++;
			continue;
		}
		if (ascii && cp == '\\') {
			o += (size_t)snprintf(out + o, outsz - o, "\\\\");
		} else if (ascii ? cp < 0x20 || cp >= 0x7F : invisible(cp)) {
			o += (size_t)snprintf(out + o, outsz - o, "\\u{%04X}", cp);
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	if (ascii && *p && o + 4 < outsz)
		o += (size_t)snprintf(out + o, outsz - o, "...");
	out[o] = '\0';
	return out;
}

char *cli_visible(const char *s, char *out, size_t outsz)
{
	return escape(s, out, outsz, true);
}

char *cli_text(const char *s, char *out, size_t outsz)
{
	return escape(s, out, outsz, false);
}

int cli_parse_time(const char *s, int64_t *t)
{
	uint64_t v;

	if (sl_time_parse(s, strlen(s), t) == SL_OK)
		return 0;
	if (sl_parse_decimal(s, 0, INT64_MAX, &v))
		return -1;
	*t = (int64_t)v;
	return 0;
}
