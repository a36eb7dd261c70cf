/* Unit tests for configuration files (common/util/conf.c). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

enum { K_SIZE = 256, K_LINK, K_FLAG };

static const struct option opts[] = {
	{ "max-staging", required_argument, 0, K_SIZE }, { "link", required_argument, 0, K_LINK },
	{ "no-sandbox", no_argument, 0, K_FLAG }, { 0, 0, 0, 0 }
};

struct seen {
	char log[512];
};

/* Records each setting; refuses the value "bad". */
static int set(void *user, int opt, const char *key, const char *value, struct sl_diag *d)
{
	struct seen *s = user;
	size_t n = strlen(s->log);
	if (value && !strcmp(value, "bad"))
		return sl_diag_set(d, SL_ERR_RANGE, "%s 'bad': not a size", key);
	snprintf(s->log + n, sizeof s->log - n, "%d:%s=%s;", opt, key, value ? value : "(flag)");
	return SL_OK;
}

static int parse(const char *text, struct seen *s, unsigned *line, struct sl_diag *d)
{
	memset(s, 0, sizeof *s);
	return sl_conf_parse("rx.conf", text, strlen(text), opts, set, s, line, d);
}

Test(conf, settings_comments_and_flags)
{
	struct seen s;
	struct sl_diag d = { "" };
	unsigned line = 99;
	cr_assert_eq(parse("# comment\n; also\n\nmax-staging = 10G ; inline\r\nlink=udp://1.2.3.4:5\n"
			   "no-sandbox = no\n   # indented comment\n", &s, &line, &d), SL_OK, "%s", d.msg);
	cr_assert_str_eq(s.log, "256:max-staging=10G;257:link=udp://1.2.3.4:5;");
	cr_assert_eq(line, 0);
	cr_assert_eq(parse("no-sandbox = yes\n", &s, NULL, &d), SL_OK);
	cr_assert_str_eq(s.log, "258:no-sandbox=(flag);");
	cr_assert_eq(parse("", &s, NULL, &d), SL_OK);
}

Test(conf, unknown_key_names_file_line_and_nearest)
{
	struct seen s;
	struct sl_diag d;
	unsigned line;
	cr_assert_eq(parse("link = x\n\nmax-stagign = 10G\n", &s, &line, &d), SL_ERR_INVAL);
	cr_assert_str_eq(d.msg, "rx.conf:3: unknown key 'max-stagign' (did you mean max-staging?)");
	cr_assert_eq(line, 3);
	cr_assert_eq(parse("colour = red\n", &s, NULL, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "rx.conf:1: unknown key 'colour' (the keys are the long options") != NULL, "%s", d.msg);
}

Test(conf, refusals_carry_their_line)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "link = a\nmax-staging = bad\n", "rx.conf:2: max-staging 'bad': not a size" },
		{ "link = a\nlink = b\n", "rx.conf:2: 'link' is set twice" },
		{ "link\n", "rx.conf:1: expected 'key = value'" },
		{ "[rx]\nlink = a\n", "rx.conf:1: sections ([...]) are not used" },
		{ "link = a\n  max-staging = 1G\n", "rx.conf:2: starts with a space or tab" },
		{ "link =\n", "rx.conf:1: 'link' has no value" },
		{ "no-sandbox = maybe\n", "rx.conf:1: no-sandbox 'maybe': expected yes or no" },
		{ "link = a\x01\n", "rx.conf:1: a control character" },
	};
	struct seen s;
	struct sl_diag d;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_neq(parse(cases[i].text, &s, NULL, &d), SL_OK, "case %zu accepted", i);
		cr_assert(!strncmp(d.msg, cases[i].msg, strlen(cases[i].msg)), "case %zu: %s", i, d.msg);
	}
	/* nothing after the first error is applied */
	cr_assert_neq(parse("bogus = 1\nlink = a\n", &s, NULL, &d), SL_OK);
	cr_assert_str_eq(s.log, "");
}

Test(conf, nul_bytes_and_long_lines)
{
	struct seen s;
	struct sl_diag d;
	char big[400];
	memset(&s, 0, sizeof s);
	cr_assert_neq(sl_conf_parse("rx.conf", "link = a\0b\n", 11, opts, set, &s, NULL, &d), SL_OK);
	cr_assert(strstr(d.msg, "rx.conf:1: a NUL byte") != NULL, "%s", d.msg);
	snprintf(big, sizeof big, "link = %0300d\nmax-staging = 1G\n", 1);
	cr_assert_neq(parse(big, &s, NULL, &d), SL_OK);
	cr_assert(strstr(d.msg, "rx.conf:1: line longer than") != NULL, "%s", d.msg);
}

Test(conf, suggestions)
{
	cr_assert_str_eq(sl_conf_suggest("max-stagign", opts), "max-staging");
	cr_assert_str_eq(sl_conf_suggest("max-stag", opts), "max-staging");
	cr_assert_str_eq(sl_conf_suggest("lnik", opts), "link");
	cr_assert_null(sl_conf_suggest("policy", opts));
	cr_assert_null(sl_conf_suggest("x", opts));
}

Test(conf, secrets_must_be_private)
{
	char path[] = "/tmp/sluice-conf-XXXXXX";
	struct sl_diag d;
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert_eq(sl_conf_check_secret("link key", path, &d), SL_OK, "%s", d.msg);
	chmod(path, 0640);
	cr_assert_eq(sl_conf_check_secret("link key", path, &d), SL_ERR_INVAL);
	cr_assert(strstr(d.msg, "mode 0640") && strstr(d.msg, "run: chmod 600 "), "%s", d.msg);
	chmod(path, 0604);
	cr_assert_eq(sl_conf_check_secret("link key", path, &d), SL_ERR_INVAL);
	unlink(path);
	cr_assert_eq(sl_conf_check_secret("link key", path, &d), SL_ERR_IO);
	cr_assert_eq(sl_conf_check_secret("link key", "/tmp", &d), SL_ERR_INVAL);
}

