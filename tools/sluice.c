/* sluice.c — the admin CLI: the table of subcommands, run by cli_verbs_run
 * (cli.c). Each verb lives in a file of its own (manifest's verbs and
 * status with a helper file or two) as `int NAME_main(int argc, char
 * **argv)` (cmds.h) and prints its own usage on --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"

static int version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("sluice %s\n", SLUICE_VERSION);
	return 0;
}

static const struct cli_verb subcommands[] = {
	/* name, function, one line (in the order a user meets them) */
	{ "version", version_main, "print the version" },
	{ "keygen", keygen_main, "make officer/submitter signing keys or a link key" },
	{ "policy", policy_main, "write or show the receiver's trust policy" },
	{ "manifest", manifest_main, "create, show, sign and verify transfer manifests" },
	{ "status", status_main, "show a receiver's health, progress and recent outcomes" },
	{ "doctor", doctor_main, "check this host, the link key, policy and directories" },
	{ "linksim", linksim_main, "relay through a software model of a diode (rate, queue, loss)" },
};

static const struct cli_verbs sluice_commands = {
	.head = "Usage: sluice COMMAND [ARGS...]\n\n"
		"sluice administers one-way transfers into an isolated enclave.\n\n"
		"Commands:\n",
	.tail = "\nRun 'sluice COMMAND --help' for a command's options; man sluice-COMMAND for details.\n",
	.v = subcommands,
	.n = sizeof subcommands / sizeof subcommands[0],
	.width = 10,
};

int main(int argc, char **argv)
{
	int status;

	if (argc >= 2 && !strcmp(argv[1], "help")) {
		cli_verbs_usage(stdout, &sluice_commands);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version"))
		return version_main(argc - 1, argv + 1);
	if (cli_verbs_run(&sluice_commands, argc, argv, &status))
		return status;
	fprintf(stderr, "sluice: unknown command '%s' (try 'sluice --help')\n", argv[1]);
	return EXIT_USAGE;
}
