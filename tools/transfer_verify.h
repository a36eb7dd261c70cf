/* transfer_verify.h — verify a transfer directory (`sluice manifest verify`;
 * only the CLI uses it: the signature files are read by sl_sigfiles_load,
 * common/fs/sigfiles.h, which sluice-tx uses too).
 *
 * A transfer directory (common/MANIFEST.md, "Transfer directory") is
 *     T/manifest          the signed manifest text
 *     T/NAME.minisig      one signature per signer (safe names, sl_sigfile_name_ok)
 *     T/data/...          exactly the files the manifest lists
 * and nothing else.
 *
 * tv_verify(dir, policy, ...) checks, and reports every failure it
 * finds (not just the first):
 *  - the manifest parses (with the policy's limits, or the defaults);
 *  - the top level holds only manifest, data and *.minisig with safe names;
 *  - with a policy: the signatures satisfy it (threshold of distinct officer
 *    keys, submitter signature, no bad/legacy/malformed file) and the manifest
 *    passes sl_policy_check_manifest() at opt->now;
 *  - without a policy (policy NULL: the sender's syntax-only mode): every
 *    signature file parses as a prehashed ED minisign signature; nothing is
 *    said about who signed, and zero signatures is acceptable;
 *  - every listed file exists under T/data as a regular file reached without
 *    symlinks, with the listed size, mode and SHA-256;
 *  - version 2: every listed directory exists as a directory, and every
 *    directory under T/data is listed; unless opt->ignore_times, every file
 *    and directory has exactly (to the nanosecond) the listed modification
 *    time;
 *  - nothing else (file, symlink, device...) exists under T/data.
 * Returns SL_OK only if all holds. Otherwise the code of the first problem
 * (its message in diag); the report lists them all. The report is produced
 * whenever the directory could be opened (then *out is set even on failure).
 */
#ifndef SL_TOOLS_TRANSFER_VERIFY_H
#define SL_TOOLS_TRANSFER_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "manifest.h"
#include "policy.h"
#include "sigfiles.h"

struct tv_problem {
	int code;              /* negative sl_err */
	char what[1200];       /* "data/a%20b.txt: SHA-256 differs", ... */
};

struct tv_report {
	struct sl_manifest *manifest;      /* NULL if it did not parse */
	uint8_t *manifest_text;
	size_t manifest_len;
	size_t nsigs;
	struct sl_sigfile *sigs;           /* loaded signature files (name, data) */
	struct sl_sig_result sigcheck;     /* with a policy */
	size_t files_ok;
	size_t dirs_ok;                    /* version 2: listed, present, time right */
	uint64_t bytes_hashed;
	size_t nproblems;
	struct tv_problem *problems;
	size_t cap_;                       /* private */
};

struct tv_opts {
	int64_t now;                       /* validity check time; 0 = time(NULL) */
	unsigned threads;                  /* hashing threads; 0 = auto */
	bool ignore_times;                 /* do not compare modification times */
	void (*progress)(void *ctx, uint64_t bytes_done, uint64_t bytes_total);
	void *progress_ctx;
};

int tv_verify(const char *dir, const struct sl_policy *p, const struct tv_opts *opt,
		       struct tv_report **out, struct sl_diag *d);
void tv_report_free(struct tv_report *r);

#endif
