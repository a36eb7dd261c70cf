/* verdict.c — a catalog's verdict (see release.c for what a release checks).
 *
 * rx_verify_core(): the catalog decodes, its manifest is the one the
 * transfer header named, the manifest parses under the policy's limits and
 * is for this transfer id and stream length, the signatures reach the
 * threshold, the manifest fits the policy (enclave, link, validity, names);
 * it touches nothing but its input and output, so verify.c and finish.c
 * run it on a thread. rx_verify_tail(): the ledger has not seen its id or a
 * higher sequence, a delta's base is released here and holds what the delta
 * takes from it (base.c); on the receive thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rx.h"
#include "sha256.h"

int rx_verify_core(const struct rx_vin *in, struct rx_vout *out)
{
	struct sl_catalog *cat = malloc(sizeof *cat);
	struct sl_sigfile sigs[SL_CATALOG_MAX_ENTRIES];
	struct sl_sig_result res;
	struct sl_manifest *m = NULL;
	struct sl_diag d = { "" };
	char *reason = out->reason;
	size_t rlen = sizeof out->reason;
	uint8_t sha[32];
	int r;

	out->m = NULL;
	out->keep = 1;
	out->dropped[0] = reason[0] = '\0';
	if (!cat) {
		snprintf(reason, rlen, "out of memory");
		return SL_ERR_NOMEM;
	}
	r = sl_catalog_decode(in->catalog, in->hdr->catalog_len, cat, &d);
	if (r) {
		snprintf(reason, rlen, "%s", d.msg);
		goto out;
	}
	sl_sha256(cat->e[0].data, cat->e[0].len, sha);
	sl_sha256_hex(sha, out->manifest_hex);
	if (memcmp(sha, in->hdr->manifest_sha256, 32) != 0) {
		r = SL_ERR_HASH;
		snprintf(reason, rlen, "the catalog's manifest is not the one the transfer header names");
		goto out;
	}
	r = sl_manifest_parse(cat->e[0].data, cat->e[0].len, &in->policy->limits, &m, &d);
	if (r) {
		snprintf(reason, rlen, "manifest: %s", d.msg);
		goto out;
	}
	if (memcmp(m->id, in->id, 16) != 0) {
		r = SL_ERR_POLICY;
		snprintf(reason, rlen, "manifest transfer id %s does not match the wire's %s", m->id_hex, in->hex);
		goto out;
	}
	if (m->total_bytes != in->hdr->total_bytes) {
		r = SL_ERR_POLICY;
		snprintf(reason, rlen, "manifest totals %llu bytes, the transfer header %llu",
			 (unsigned long long)m->total_bytes, (unsigned long long)in->hdr->total_bytes);
		goto out;
	}
	for (unsigned i = 1; i < cat->n; i++) {
		if (!sl_sigfile_name_ok(cat->e[i].name)) {
			r = SL_ERR_NAME;
			snprintf(reason, rlen, "signature file name '%s' is not acceptable", cat->e[i].name);
			goto out;
		}
		sigs[i - 1].name = cat->e[i].name;
		sigs[i - 1].data = cat->e[i].data;
		sigs[i - 1].len = cat->e[i].len;
	}
	memset(&res, 0, sizeof res);
	r = sl_policy_verify_signatures(in->policy, cat->e[0].data, cat->e[0].len, m->submitter, sigs,
					cat->n - 1, &res, &d);
	for (size_t i = 0; i < res.n; i++)
		out->keep |= res.checks[i].release ? 1ull << (i + 1) : 0;
	sl_sig_dropped_text(&res, sigs, out->dropped, sizeof out->dropped);
	sl_sig_result_clear(&res);
	if (r) {
		snprintf(reason, rlen, "signatures: %s", d.msg);
		goto out;
	}
	r = sl_policy_check_manifest(in->policy, m, (int64_t)time(NULL), &d);
	if (r) {
		snprintf(reason, rlen, "policy: %s", d.msg);
		goto out;
	}
	out->m = m;
	m = NULL;
out:
	sl_manifest_free(m);
	free(cat);
	return r;
}

int rx_verify_tail(struct rx_ctx *c, struct rx_xfer *x, struct rx_vout *out)
{
	struct sl_manifest *m = out->m;
	struct sl_diag d = { "" };
	int r;

	memcpy(x->manifest_hex, out->manifest_hex, sizeof x->manifest_hex);
	r = sl_ledger_check(c->ledger, m->link, m->id, m->sequence, &c->policy->sequence, &d);
	if (r) {
		snprintf(out->reason, sizeof out->reason, "ledger: %s", d.msg);
		return r;
	}
	r = rx_base_check(c, m, out->reason, sizeof out->reason);
	if (r)
		return r;
	sl_manifest_free(x->manifest);
	x->manifest = m;
	out->m = NULL;
	if (!x->catalog_ok)
		sl_log(c->log, SL_LOG_INFO, "transfer %s: manifest verified (%zu files, sequence %llu, "
		       "submitter %s)", x->hex, x->manifest->nfiles,
		       (unsigned long long)x->manifest->sequence, x->manifest->submitter);
	x->catalog_ok = 1;
	return SL_OK;
}
