/* Unit tests for the command line read as settings (common/util/args.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

enum { K_LINK = 256, K_FLAG, K_CONFIG };

static const struct option opts[] = {
	{ "link", required_argument, 0, K_LINK }, { "no-sandbox", no_argument, 0, K_FLAG },
	{ "config", required_argument, 0, K_CONFIG }, { "quiet", no_argument, 0, 'q' },
	{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};
static const int skip[] = { K_CONFIG, 'h', 0 }, stop[] = { 'h', 0 };

/* Records each setting; refuses the value "bad". */
static int set(void *user, int opt, const char *key, const char *value, struct sl_diag *d)
{
	char *log = user;
	size_t n = strlen(log);
	if (value && !strcmp(value, "bad"))
		return sl_diag_set(d, SL_ERR_RANGE, "%s 'bad': refused", key);
	snprintf(log + n, 512 - n, "%d:%s=%s;", opt, key, value ? value : "(flag)");
	return SL_OK;
}

static int run(char **argv, char *log, bool *refused, struct sl_diag *d)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	log[0] = '\0';
	return sl_args_set(argc, argv, "qh", opts, skip, set, log, refused, d);
}

Test(args, every_option_by_its_long_name_in_order_skipping_the_listed)
{
	char *argv[] = { "prog", "--link", "udp://a", "-q", "--config", "f", "--no-sa", "--help", "T", NULL };
	char log[512];
	struct sl_diag d = { "" };
	bool refused = true;

	cr_assert_eq(run(argv, log, &refused, &d), SL_OK, "%s", d.msg);
	cr_assert(!refused);
	cr_assert_str_eq(log, "256:--link=udp://a;113:--quiet=(flag);257:--no-sandbox=(flag);");
	cr_assert_str_eq(argv[optind], "T"); /* the arguments after the options */
}

Test(args, a_value_set_refuses_is_that_error)
{
	char *argv[] = { "prog", "--link", "bad", NULL };
	char log[512];
	struct sl_diag d = { "" };
	bool refused = true;

	cr_assert_eq(run(argv, log, &refused, &d), SL_ERR_RANGE);
	cr_assert(!refused);
	cr_assert_str_eq(d.msg, "--link 'bad': refused");
}

static void refusal(char *arg, const char *want)
{
	char *argv[] = { "prog", "-q", arg, NULL };
	char log[512];
	struct sl_diag d = { "" };
	bool refused = false;

	cr_assert_eq(run(argv, log, &refused, &d), SL_ERR_PARSE, "%s", arg);
	cr_assert(refused);
	cr_assert_str_eq(d.msg, want);
}

Test(args, refusals_say_what_getopt_would)
{
	refusal("--lnk", "unrecognized option '--lnk' (did you mean --link?)");
	refusal("--zzzzzz", "unrecognized option '--zzzzzz'");
	refusal("--link", "option '--link' requires an argument");
	refusal("--quiet=1", "option '--quiet' doesn't allow an argument");
	refusal("-x", "invalid option -- 'x'");
}

Test(args, peek_finds_config_and_stops_at_help)
{
	char *a1[] = { "prog", "--bogus", "--config", "one", "--config=two", "--link", "x", NULL };
	char *a2[] = { "prog", "--config", "one", "-h", "--config", "two", NULL };
	const char *config = NULL;

	cr_assert_eq(sl_args_peek(7, a1, "qh", opts, K_CONFIG, stop, &config), 0);
	cr_assert_str_eq(config, "two");
	config = NULL;
	cr_assert_eq(sl_args_peek(6, a2, "qh", opts, K_CONFIG, stop, &config), 'h');
	cr_assert_str_eq(config, "one");
}
