/* manifest_verify.c — `sluice manifest verify`: a transfer directory against
 * a policy: signatures and threshold, policy checks, every file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "policy.h"
#include "transfer_verify.h"
#include "units.h"

#define P "manifest verify"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice manifest verify T --policy POLICY [--at TIME] [--ignore-times] [--threads N] [--quiet]\n"
		"       sluice manifest verify T --no-policy [--ignore-times] [--threads N] [--quiet]\n\n"
		"Checks the transfer directory T (T/manifest, T/*.minisig, T/data): the\n"
		"signatures against the policy's officer keys and threshold (distinct keys,\n"
		"prehashed ED only), the submitter signature if the policy lists submitters,\n"
		"enclave/link binding, validity window (at TIME if given: YYYY-MM-DDTHH:MM:SSZ\n"
		"or unix seconds), limits and name rules, every file under T/data against\n"
		"its size, mode, SHA-256 and modification time, and (version 2 manifests)\n"
		"every directory and its time. --ignore-times skips the times. Exit 0 only\n"
		"if everything holds; every failure is named. --no-policy checks syntax,\n"
		"files and signature format only.\n"
		"See sluice-manifest(1).\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	p->line.total = total;
	cli_progress_update(p, done);
}

static void print_summary(const struct tv_report *r, const struct sl_policy *p, bool ignore_times)
{
	char b[32];

	if (r->manifest)
		printf("transfer %s: %zu files, %s, submitter %s, sequence %llu\n", r->manifest->id_hex,
		       sl_manifest_all(r->manifest), sl_fmt_bytes(r->manifest->total_bytes + r->manifest->taken_bytes, b, sizeof b), r->manifest->submitter,
		       (unsigned long long)r->manifest->sequence);
	if (p && r->sigcheck.checks) {
		printf("signatures:\n");
		for (size_t i = 0; i < r->sigcheck.n; i++) {
			const struct sl_sig_check *k = &r->sigcheck.checks[i];
			printf("  %-32s %-30s %s\n", r->sigs[i].name, sl_sig_status_name(k->status), k->detail);
			if (k->trusted_comment[0])
				printf("  %-32s trusted comment: %s\n", "", k->trusted_comment);
		}
		if (r->sigcheck.n == 0)
			printf("  (none)\n");
		printf("officers: %u valid of %u required", r->sigcheck.officers_valid, r->sigcheck.threshold);
		if (r->sigcheck.submitter_required)
			printf("; submitter signature: %s", r->sigcheck.submitter_ok ? "valid" : "MISSING");
		printf("\n");
	} else if (!p) {
		printf("signatures: %zu file%s (format checked only: --no-policy)\n", r->nsigs, r->nsigs == 1 ? "" : "s");
	}
	if (r->manifest)
		printf("files: %zu of %zu match (%s hashed)\n", r->files_ok, sl_manifest_all(r->manifest),
		       sl_fmt_bytes(r->bytes_hashed, b, sizeof b));
	if (r->manifest && r->manifest->version >= 2)
		printf("directories: %zu of %zu match%s\n", r->dirs_ok, r->manifest->ndirs,
		       ignore_times ? " (times not compared: --ignore-times)" : "");
	else if (r->manifest)
		printf("directories: not listed (manifest format version 1)\n");
}

int manifest_verify_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "no-policy", no_argument, NULL, 'N' },
		{ "at", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 'j' },
		{ "ignore-times", no_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ppath = NULL;
	bool nopolicy = false, quiet = false;
	struct tv_opts o = { 0 };
	struct tv_report *r = NULL;
	struct sl_policy *p = NULL;
	struct cli_progress prog;
	struct sl_diag d;
	uint64_t n;
	int c, rc;

	while ((c = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': ppath = optarg; break;
		case 'N': nopolicy = true; break;
		case 'a':
			if (cli_parse_time(optarg, &o.now) || o.now == 0)
				return cli_usage_error(P, "--at takes YYYY-MM-DDTHH:MM:SSZ or unix seconds");
			break;
		case 'j':
			if (sl_parse_decimal(optarg, 0, 64, &n))
				return cli_usage_error(P, "--threads '%s': expected a number from 0 (auto) to 64", optarg);
			o.threads = (unsigned)n;
			break;
		case 'q': quiet = true; break;
		case 'T': o.ignore_times = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: return cli_usage_error(P, "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(P, "expected one transfer directory T");
	if (!ppath == !nopolicy)
		return cli_usage_error(P, "give --policy POLICY (or --no-policy for a syntax-only check)");
	if (ppath && (rc = sl_policy_load(ppath, &p, &d)))
		return cli_fail(P, rc, "%s", d.msg);

	cli_progress_init(&prog, "hashing", 0);
	if (!quiet && prog.on) {
		o.progress = on_progress;
		o.progress_ctx = &prog;
	}
	rc = tv_verify(argv[optind], p, &o, &r, &d);
	cli_progress_done(&prog);
	if (!r) {
		sl_policy_free(p);
		return cli_fail(P, rc, "%s", d.msg);
	}
	if (!quiet)
		print_summary(r, p, o.ignore_times);
	for (size_t i = 0; i < r->nproblems; i++)
		fprintf(stderr, "FAIL: %s\n", r->problems[i].what);
	if (rc == SL_OK) {
		if (!quiet)
			printf("verdict: %s\n", p ? "ACCEPTED: signatures, policy and every file hold" :
						   "OK: manifest, signature format and every file hold (no policy applied)");
	} else {
		printf("verdict: REFUSED (%zu problem%s)\n", r->nproblems, r->nproblems == 1 ? "" : "s");
	}
	/* Exit 3 only when nothing could be checked for system reasons. */
	int code = rc == SL_OK ? EXIT_OK : EXIT_REFUSED;
	if (rc != SL_OK && !r->manifest && cli_exit_code(rc) == EXIT_SYSTEM)
		code = EXIT_SYSTEM;
	tv_report_free(r);
	sl_policy_free(p);
	return code;
}
