/* transfer.h — verify a transfer directory.
 *
 * A transfer directory (common/MANIFEST.md, "Transfer directory") is
 *     T/manifest          the signed manifest text
 *     T/NAME.minisig      one signature per signer (safe names, sl_sigfile_name_ok)
 *     T/data/...          exactly the files the manifest lists
 * and nothing else.
 *
 * sl_transfer_verify(dir, policy, ...) checks, and reports every failure it
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
#ifndef SL_TRANSFER_H
#define SL_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "manifest.h"
#include "policy.h"

/* A transfer travels as a catalog of at most 64 entries (PROTOCOL.md 5.2,
 * SL_CATALOG_MAX_ENTRIES), the manifest and its signature files: 63 is all
 * a sender can send and all a verifier should accept. */
#define SL_TRANSFER_MAX_SIGS 63
#define SL_SIGFILE_MAX_BYTES 4096

struct sl_transfer_problem {
	int code;              /* negative sl_err */
	char what[1200];       /* "data/a%20b.txt: SHA-256 differs", ... */
};

struct sl_transfer_report {
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
	struct sl_transfer_problem *problems;
	size_t cap_;                       /* private */
};

struct sl_transfer_opts {
	int64_t now;                       /* validity check time; 0 = time(NULL) */
	unsigned threads;                  /* hashing threads; 0 = auto */
	bool ignore_times;                 /* do not compare modification times */
	void (*progress)(void *ctx, uint64_t bytes_done, uint64_t bytes_total);
	void *progress_ctx;
};

int sl_transfer_verify(const char *dir, const struct sl_policy *p, const struct sl_transfer_opts *opt,
		       struct sl_transfer_report **out, struct sl_diag *d);
void sl_transfer_report_free(struct sl_transfer_report *r);

/* Load every *.minisig at the top of dirfd (at most SL_TRANSFER_MAX_SIGS,
 * each at most SL_SIGFILE_MAX_BYTES, sorted by name). Names that are not
 * safe are an error (SL_ERR_NAME); messages name the file, not the
 * directory. Free with sl_sigfiles_free(). What sluice-tx sends. */
int sl_sigfiles_load(int dirfd, struct sl_sigfile **sigs, size_t *n, struct sl_diag *d);
void sl_sigfiles_free(struct sl_sigfile *sigs, size_t n);

#endif
