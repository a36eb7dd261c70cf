/* policy.h — the receiver's trust root: officers, threshold, submitters,
 * enclave/link binding, limits and name rules.
 *
 * Contract (format in common/MANIFEST.md, "Policy"): sl_policy_parse() is
 * strict (unknown keys, repeated settings, duplicate names, duplicate public
 * keys or key ids, a threshold above the officer count are errors).
 *
 * Acceptance of a transfer is two independent checks, both required:
 *  - sl_policy_verify_signatures(): at least `threshold` distinct officer
 *    public keys with valid prehashed ED signatures (signature and global
 *    signature); if the policy lists submitters, also one valid signature by
 *    the submitter key whose name is the manifest's `submitter`. Submitter
 *    signatures never count toward the officer threshold. Any signature file
 *    that is malformed, legacy "Ed" or does not verify under the key it names
 *    refuses the transfer; signatures by keys the policy does not list, and
 *    repeated signatures by one key, are reported and not counted.
 *  - sl_policy_check_manifest(): enclave and link match, validity window
 *    (created - skew <= now <= expires + skew, expires - created <= max
 *    validity), limits, submitter listed, policy name rules.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "ledger.h"
#include "manifest.h"
#include "minisign.h"

#define SL_POLICY_DEFAULT_MAX_VALIDITY (30ull * 86400)
#define SL_POLICY_DEFAULT_CLOCK_SKEW 300ull
#define SL_POLICY_MAX_DURATION (100ull * 365 * 86400)   /* max-validity, clock-skew */
#define SL_POLICY_MAX_WINDOW 1000000ull                  /* sequence-window */
/* sequence-max-step: how far one accepted transfer may raise a link's mark.
 * A million leaves room for any run of abandoned or refused sequence numbers,
 * and keeps 2^63-1 out of reach (over 9 * 10^12 accepted transfers). */
#define SL_POLICY_DEFAULT_MAX_STEP 1000000ull
#define SL_POLICY_MAX_MAX_STEP 9223372036854775807ull    /* 2^63-1, the largest sequence */

struct sl_policy_key {
	char name[SL_LABEL_MAX + 1];
	struct sl_ms_pubkey key;
};

struct sl_policy {
	char enclave[SL_LABEL_MAX + 1];
	char link[SL_LABEL_MAX + 1];
	unsigned threshold;
	size_t nofficers, nsubmitters;
	struct sl_policy_key *officers, *submitters;
	struct sl_manifest_limits limits;  /* max-manifest-bytes, max-files, max-bytes */
	uint64_t max_validity;             /* seconds; expires - created */
	uint64_t clock_skew;               /* seconds */
	struct sl_ledger_rules sequence;   /* sequence-window, sequence-max-step: see ledger.h */
	bool portable_names;               /* names portable */
	bool refuse_case_collisions;       /* case-collisions refuse */
};

/* An empty policy with the defaults (no keys, threshold 0: not valid until filled). */
int sl_policy_new(struct sl_policy **out);
int sl_policy_parse(const uint8_t *text, size_t len, struct sl_policy **out, struct sl_diag *d);
int sl_policy_load(const char *path, struct sl_policy **out, struct sl_diag *d);
void sl_policy_free(struct sl_policy *p);
/* Adds a key; SL_ERR_EXISTS for a duplicate name, public key or key id
 * (across officers and submitters). */
int sl_policy_add_key(struct sl_policy *p, bool officer, const char *name,
		      const struct sl_ms_pubkey *key, struct sl_diag *d);
/* Checks the whole policy (threshold, binding) as the parser does. */
int sl_policy_validate(const struct sl_policy *p, struct sl_diag *d);
/* Canonical text (malloc'd). */
int sl_policy_emit(const struct sl_policy *p, char **text, size_t *len, struct sl_diag *d);

int sl_policy_check_manifest(const struct sl_policy *p, const struct sl_manifest *m,
			     int64_t now, struct sl_diag *d);

/* A signature as received: file name (e.g. "manifest.alice.minisig") and bytes. */
struct sl_sigfile {
	const char *name;
	const uint8_t *data;
	size_t len;
};

enum sl_sig_status {
	SL_SIG_OFFICER = 0,     /* valid, counted for officer `key_index` */
	SL_SIG_SUBMITTER,       /* valid, by submitter `key_index` */
	SL_SIG_DUPLICATE,       /* valid, but this key already signed: not counted */
	SL_SIG_UNKNOWN_KEY,     /* key id not in the policy: not counted */
	SL_SIG_BAD,             /* does not verify (manifest or trusted comment altered) */
	SL_SIG_LEGACY,          /* legacy "Ed" algorithm: refused */
	SL_SIG_MALFORMED,       /* not a minisign signature file, or a bad name */
};

struct sl_sig_check {
	enum sl_sig_status status;
	int key_index;          /* officer or submitter index, -1 if none */
	char keyid[17];         /* minisign key id (hex) if the file parsed */
	char detail[200];       /* one line: why, or who */
	char trusted_comment[128]; /* first bytes; tab as space, other non-printable or non-ASCII bytes as '?' */
	bool release;           /* released with the transfer: see sl_sig_result */
};

struct sl_sig_result {
	size_t n;
	struct sl_sig_check *checks;   /* n entries, malloc'd; sl_sig_result_clear() */
	unsigned officers_valid;       /* distinct officer keys */
	unsigned threshold;
	bool submitter_required;
	bool submitter_ok;
	bool refused_signature;        /* a BAD, LEGACY or MALFORMED file was present */
};
/* Which files a receiver releases (checks[i].release): the first valid
 * signature file of each officer key and, when the policy lists submitters,
 * the first valid one by the manifest's submitter (by any listed submitter
 * if `submitter` was NULL). Every other file is dropped: unknown keys,
 * second signatures by one key, signatures by another submitter, and files
 * that do not verify (which also refuse the transfer). Only verified
 * signatures by keys of the policy reach the release directory. */

const char *sl_sig_status_name(enum sl_sig_status s);

/* Returns SL_OK if the signatures satisfy the policy; SL_ERR_THRESHOLD if
 * too few distinct officers; SL_ERR_POLICY if the submitter signature is
 * missing; SL_ERR_SIG if any signature file is bad, legacy or malformed.
 * `submitter` is the manifest's submitter name (NULL: any listed submitter).
 * `res` (may be NULL) gets the per-file findings. */
int sl_policy_verify_signatures(const struct sl_policy *p, const uint8_t *manifest, size_t mlen,
				const char *submitter, const struct sl_sigfile *sigs, size_t nsigs,
				struct sl_sig_result *res, struct sl_diag *d);
void sl_sig_result_clear(struct sl_sig_result *res);

/* The files of `res` that are not released, for a log or audit line:
 * "NAME (why), NAME (why)" in at most outlen - 1 bytes (NUL-terminated;
 * outlen >= 32); files that do not fit are counted: ", and N more". Names
 * are printed as they are if sl_sigfile_name_ok(), else percent-encoded; the
 * reasons hold key ids and policy names, never bytes of the files. Returns
 * how many files are dropped ("" and 0 if none). */
size_t sl_sig_dropped_text(const struct sl_sig_result *res, const struct sl_sigfile *sigs, char *out,
			   size_t outlen);

/* Safe name of a signature file: 1..128 bytes of [A-Za-z0-9._-], ending in
 * ".minisig", not starting with '.' or '-'. */
bool sl_sigfile_name_ok(const char *name);

#endif
