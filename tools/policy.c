/* policy.c — `sluice policy create|show`: write and read the receiver's trust policy. */
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "safefs.h"
#include "pathname.h"
#include "policy.h"
#include "units.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice policy create --officer PUB... --threshold N [--submitter PUB...]\n"
		"                            --enclave E --link L -o POLICY [settings]\n"
		"       sluice policy show POLICY\n\n"
		"PUB is a minisign public key file; the key's name is taken from a sluice\n"
		"key comment ('sluice officer NAME: ...'), else from the file name (NAME.pub).\n"
		"Settings: --max-files N  --max-bytes SIZE  --max-manifest-bytes SIZE\n"
		"          --max-validity DURATION  --clock-skew DURATION  --sequence-window N\n"
		"          --sequence-max-step N  --names any|portable  --case-collisions allow|refuse\n"
		"See sluice-policy(1).\n");
}

/* Name of a key: "sluice ROLE NAME: ..." comment, else basename without .pub. */
static int key_name(const char *path, const char *comment, char *name, size_t len)
{
	char role[16], n[80];
	if (sscanf(comment, "sluice %15s %79[^:]:", role, n) == 2 && sl_label_ok(n)) {
		snprintf(name, len, "%.64s", n);
		return 0;
	}
	char *copy = strdup(path), *b;
	if (!copy)
		return -1;
	b = basename(copy);
	size_t bl = strlen(b);
	if (bl > 4 && !strcmp(b + bl - 4, ".pub"))
		b[bl - 4] = '\0';
	snprintf(name, len, "%s", b);
	free(copy);
	return sl_label_ok(name) ? 0 : -1;
}

static int add_key_file(struct sl_policy *p, bool officer, const char *path)
{
	uint8_t *buf;
	size_t len;
	struct sl_diag d;
	struct sl_ms_pubkey pk;
	char comment[256], name[SL_LABEL_MAX + 1];
	int rc = sl_read_file(path, 4096, &buf, &len, &d);
	if (rc)
		return cli_fail("policy", rc, "%s", d.msg);
	rc = sl_ms_pubkey_parse(buf, len, &pk, comment, sizeof comment, &d);
	free(buf);
	if (rc)
		return cli_fail("policy", rc, "%s: %s", path, d.msg);
	if (key_name(path, comment, name, sizeof name))
		return cli_fail("policy", SL_ERR_INVAL, "%s: cannot tell the key's name: rename the file NAME.pub", path);
	if (!strncmp(comment, "sluice ", 7) && strncmp(comment + 7, officer ? "officer " : "submitter ", officer ? 8 : 10))
		fprintf(stderr, "sluice policy: warning: %s was made as a %s key, listed here as %s\n", path,
			officer ? "submitter" : "officer", officer ? "officer" : "submitter");
	rc = sl_policy_add_key(p, officer, name, &pk, &d);
	if (rc) /* a duplicate is a refused input, not a system error */
		return cli_fail("policy", rc == SL_ERR_EXISTS ? SL_ERR_INVAL : rc, "%s: %s", path, d.msg);
	return EXIT_OK;
}

/* A number, size or duration option of `policy create` into *p; 0 or an exit status. */
static int set_number(struct sl_policy *p, int c, const char *arg)
{
	struct sl_diag d;
	unsigned long n;
	uint64_t v;

	switch (c) {
	case 't':
	case 'F':
	case 'W':
	case 'X':
		/* the ranges the policy parser accepts (sluice-rx must load what this writes) */
		if (sl_parse_count(c == 't' ? "--threshold" : c == 'F' ? "--max-files" :
				   c == 'W' ? "--sequence-window" : "--sequence-max-step",
				   arg, c == 'W' ? 0 : 1,
				   c == 't' ? 256 : c == 'F' ? ULONG_MAX :
				   c == 'W' ? SL_POLICY_MAX_WINDOW : SL_POLICY_MAX_MAX_STEP, &n, &d))
			return cli_usage_error("policy", "%s", d.msg);
		if (c == 't')
			p->threshold = (unsigned)n;
		else if (c == 'F')
			p->limits.max_files = n;
		else if (c == 'W')
			p->sequence.window = n;
		else
			p->sequence.max_step = n;
		return EXIT_OK;
	case 'B':
	case 'M':
		if (sl_parse_size(arg, &v, &d))
			return cli_usage_error("policy", "%s: %s", arg, d.msg);
		*(c == 'B' ? &p->limits.max_total_bytes : &p->limits.max_manifest_bytes) = v;
		return EXIT_OK;
	default: /* 'V', 'K' */
		if (sl_parse_duration(arg, &v, &d))
			return cli_usage_error("policy", "%s: %s", arg, d.msg);
		*(c == 'V' ? &p->max_validity : &p->clock_skew) = v;
		return EXIT_OK;
	}
}

/* One option of `policy create` into *p (or *out); 0 or an exit status. */
static int set_option(struct sl_policy *p, int c, const char *arg, const char **out)
{
	switch (c) {
	case 'O':
	case 'S':
		return add_key_file(p, c == 'O', arg);
	case 't': case 'F': case 'W': case 'X': case 'B': case 'M': case 'V': case 'K':
		return set_number(p, c, arg);
	case 'e':
	case 'l':
		if (!sl_label_ok(arg))
			return cli_usage_error("policy", "'%s' is not a name ([A-Za-z0-9][A-Za-z0-9._-]*)", arg);
		snprintf(c == 'e' ? p->enclave : p->link, SL_LABEL_MAX + 1, "%s", arg);
		return EXIT_OK;
	case 'N':
		if (strcmp(arg, "any") && strcmp(arg, "portable"))
			return cli_usage_error("policy", "--names takes 'any' or 'portable'");
		p->portable_names = !strcmp(arg, "portable");
		return EXIT_OK;
	case 'C':
		if (strcmp(arg, "allow") && strcmp(arg, "refuse"))
			return cli_usage_error("policy", "--case-collisions takes 'allow' or 'refuse'");
		p->refuse_case_collisions = !strcmp(arg, "refuse");
		return EXIT_OK;
	case 'o':
		*out = arg;
		return EXIT_OK;
	default:
		return cli_usage_error("policy", "unknown option");
	}
}

/* The policy built from the options, written to OUT; an exit status. */
static int write_policy(struct sl_policy *p, const char *out)
{
	struct sl_diag d;
	char *text = NULL;
	size_t len;
	int rc;

	if (!p->enclave[0] || !p->link[0] || !p->threshold)
		return cli_usage_error("policy", "--enclave, --link and --threshold are required");
	rc = sl_policy_emit(p, &text, &len, &d);
	if (!rc)
		rc = sl_write_file(out, text, len, 0644, true, &d);
	free(text);
	if (rc)
		return cli_fail("policy", rc, "%s", d.msg);
	printf("wrote %s: enclave %s, link %s, %u of %zu officers, %zu submitter key%s\n", out, p->enclave, p->link,
	       p->threshold, p->nofficers, p->nsubmitters, p->nsubmitters == 1 ? "" : "s");
	return EXIT_OK;
}

static int create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "officer", required_argument, NULL, 'O' },
		{ "submitter", required_argument, NULL, 'S' },
		{ "threshold", required_argument, NULL, 't' },
		{ "enclave", required_argument, NULL, 'e' },
		{ "link", required_argument, NULL, 'l' },
		{ "max-files", required_argument, NULL, 'F' },
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-manifest-bytes", required_argument, NULL, 'M' },
		{ "max-validity", required_argument, NULL, 'V' },
		{ "clock-skew", required_argument, NULL, 'K' },
		{ "sequence-window", required_argument, NULL, 'W' },
		{ "sequence-max-step", required_argument, NULL, 'X' },
		{ "names", required_argument, NULL, 'N' },
		{ "case-collisions", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_policy *p;
	const char *out = NULL;
	int c, rc = EXIT_OK;

	if (sl_policy_new(&p))
		return cli_fail("policy", SL_ERR_NOMEM, "out of memory");
	while (!rc && (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			sl_policy_free(p);
			return EXIT_OK;
		}
		rc = set_option(p, c, optarg, &out);
	}
	if (!rc && optind != argc)
		rc = cli_usage_error("policy", "unexpected argument '%s'", argv[optind]);
	else if (!rc && !out)
		rc = cli_usage_error("policy", "-o POLICY is required");
	if (!rc)
		rc = write_policy(p, out);
	sl_policy_free(p);
	return rc;
}

static int show(int argc, char **argv)
{
	struct sl_policy *p;
	struct sl_diag d;
	char kid[17], a[32], b[32];
	int rc;

	if (argc != 2)
		return cli_usage_error("policy", "show takes one POLICY file");
	if ((rc = sl_policy_load(argv[1], &p, &d)))
		return cli_fail("policy", rc, "%s", d.msg);
	printf("policy %s\n  enclave          %s\n  link             %s\n  threshold        %u of %zu officers\n",
	       argv[1], p->enclave, p->link, p->threshold, p->nofficers);
	for (size_t i = 0; i < p->nofficers; i++) {
		sl_ms_keyid_hex(p->officers[i].key.keyid, kid);
		printf("  officer          %-20s key id %s\n", p->officers[i].name, kid);
	}
	for (size_t i = 0; i < p->nsubmitters; i++) {
		sl_ms_keyid_hex(p->submitters[i].key.keyid, kid);
		printf("  submitter        %-20s key id %s\n", p->submitters[i].name, kid);
	}
	if (!p->nsubmitters)
		printf("  submitters       none listed: no submitter signature required\n");
	printf("  max-files        %llu\n  max-bytes        %s\n  max-manifest     %s\n"
	       "  max-validity     %llus\n  clock-skew       %llus\n  sequence-window  %llu\n"
	       "  sequence-max-step %llu\n  names            %s\n  case-collisions  %s\n",
	       (unsigned long long)p->limits.max_files, sl_fmt_bytes(p->limits.max_total_bytes, a, sizeof a),
	       sl_fmt_bytes(p->limits.max_manifest_bytes, b, sizeof b), (unsigned long long)p->max_validity,
	       (unsigned long long)p->clock_skew, (unsigned long long)p->sequence.window,
	       (unsigned long long)p->sequence.max_step,
	       p->portable_names ? "portable" : "any", p->refuse_case_collisions ? "refuse" : "allow");
	sl_policy_free(p);
	return EXIT_OK;
}

int policy_main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("policy", "expected 'create' or 'show'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "create"))
		return create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return show(argc - 1, argv + 1);
	return cli_usage_error("policy", "unknown subcommand '%s'", argv[1]);
}
