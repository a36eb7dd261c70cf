/* args.c — the command line as settings (see args.h). */
#include "args.h"

#include <stdio.h>
#include <string.h>

static bool listed(const int *list, int val)
{
	for (; list && *list; list++)
		if (*list == val)
			return true;
	return false;
}

/* What getopt would have printed for the option it just refused. */
static int refusal(int argc, char **argv, const struct option *opts, struct sl_diag *d)
{
	const char *el = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	size_t n;

	if (strncmp(el, "--", 2) != 0) {
		if (optopt)
			return sl_diag_set(d, SL_ERR_PARSE, "invalid option -- '%c'", optopt);
		return sl_diag_set(d, SL_ERR_PARSE, "invalid option '%s'", el);
	}
	n = strcspn(el + 2, "=");
	for (const struct option *o = opts; o->name; o++) {
		if (o->val != optopt || strncmp(o->name, el + 2, n) != 0)
			continue;
		if (el[2 + n] == '=' && o->has_arg == no_argument)
			return sl_diag_set(d, SL_ERR_PARSE, "option '--%s' doesn't allow an argument", o->name);
		return sl_diag_set(d, SL_ERR_PARSE, "option '--%s' requires an argument", o->name);
	}
	{
		char name[64];
		const char *near;

		snprintf(name, sizeof name, "%.*s", (int)n, el + 2);
		near = sl_conf_suggest(name, opts);
		if (near)
			return sl_diag_set(d, SL_ERR_PARSE, "unrecognized option '%s' (did you mean --%s?)",
					   el, near);
	}
	return sl_diag_set(d, SL_ERR_PARSE, "unrecognized option '%s'", el);
}

int sl_args_peek(int argc, char **argv, const char *shortopts, const struct option *opts,
		 int config_val, const int *stop, const char **config)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == config_val)
			*config = optarg;
		else if (c != '?' && c != ':' && listed(stop, c))
			return c;
	}
	return 0;
}

int sl_args_set(int argc, char **argv, const char *shortopts, const struct option *opts,
		const int *skip, sl_conf_set_fn set, void *user, bool *refused, struct sl_diag *d)
{
	char key[64];
	int c, r;

	*refused = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			*refused = true;
			return refusal(argc, argv, opts, d);
		}
		if (listed(skip, c))
			continue;
		snprintf(key, sizeof key, "--");
		for (const struct option *o = opts; o->name; o++)
			if (o->val == c) {
				snprintf(key, sizeof key, "--%s", o->name);
				break;
			}
		r = set(user, c, key, optarg, d);
		if (r != SL_OK)
			return r;
	}
	return SL_OK;
}
