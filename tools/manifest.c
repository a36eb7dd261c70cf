/* manifest.c — `sluice manifest VERB`: dispatch to create, show, sign, verify. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"

#define NVERBS (sizeof verbs / sizeof verbs[0])

static const struct cli_verb verbs[] = {
	{ "create", manifest_create_main, "hash a directory tree and write its manifest" },
	{ "show", manifest_show_main, "what an officer reads before signing" },
	{ "sign", manifest_sign_main, "sign a manifest with a minisign secret key" },
	{ "verify", manifest_verify_main, "check signatures, policy and every file of a transfer" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sluice manifest VERB [ARGS...]\n\n");
	cli_verbs_list(f, verbs, NVERBS, 8);
	fprintf(f, "\nRun 'sluice manifest VERB --help'; see sluice-manifest(1).\n");
}

int manifest_main(int argc, char **argv)
{
	const struct cli_verb *v;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	v = cli_verb_find(verbs, NVERBS, argv[1]);
	if (v)
		return v->fn(argc - 1, argv + 1);
	return cli_usage_error("manifest", "unknown verb '%s'", argv[1]);
}
