/* manifest.c — `sluice manifest VERB`: dispatch to create, show, sign, verify. */
#include <stdio.h>

#include "cli.h"
#include "cmds.h"

static const struct cli_verb verbs[] = {
	{ "create", manifest_create_main, "hash a directory tree and write its manifest" },
	{ "show", manifest_show_main, "what an officer reads before signing" },
	{ "sign", manifest_sign_main, "sign a manifest with a minisign secret key" },
	{ "verify", manifest_verify_main, "check signatures, policy and every file of a transfer" },
};

static const struct cli_verbs manifest_verbs = {
	.head = "Usage: sluice manifest VERB [ARGS...]\n\n",
	.tail = "\nRun 'sluice manifest VERB --help'; see sluice-manifest(1).\n",
	.v = verbs,
	.n = sizeof verbs / sizeof verbs[0],
	.width = 8,
};

int manifest_main(int argc, char **argv)
{
	int status;

	if (cli_verbs_run(&manifest_verbs, argc, argv, &status))
		return status;
	return cli_usage_error("manifest", "unknown verb '%s'", argv[1]);
}
