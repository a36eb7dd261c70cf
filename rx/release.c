/* release.c — verify a staged transfer and release it atomically, or not at all.
 *
 * rx_verify_catalog(): the catalog decodes, its manifest is the one the
 * transfer header named, the manifest parses under the policy's limits and
 * is for this transfer id and stream length, the signatures reach the
 * threshold, the manifest fits the policy (enclave, link, validity, names)
 * and the ledger has not seen its id or a higher sequence.
 *
 * rx_try_release(): with every chunk staged, check all of that again (time
 * has passed), then finish STATE/release/<id>/ {manifest, *.minisig, data/...}
 * (only the signature files sl_sig_result marks for release: verified, by a
 * key of the policy; the others are named in the audit line and the log),
 * whose files direct.c created O_EXCL beneath the tree (openat2, no symlinks)
 * and hashed as the chunks came; any size or hash mismatch rejects the whole
 * transfer. Then: syncfs, ledger record, marker,
 * one renameat2(RENAME_NOREPLACE) into RELEASE/<id>, audit, clean up.
 *
 * Only a verdict rejects (hash, size, signatures, policy, ledger refusal).
 * A step that fails for the disk (full, I/O error: SL_ERR_IO) or memory
 * keeps everything staged and the release is tried again (storage.c:
 * rx_storage_defer); once the ledger has it, only the steps after it are.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "rx.h"
#include "safefs.h"
#include "sha256.h"

/* rx_verify_catalog(), and which catalog entries are released (bit i:
 * entry i; the manifest, entry 0, always) with the others named in
 * `dropped` (keep and dropped may be NULL). */
static int verify_catalog(struct rx_ctx *c, struct rx_xfer *x, char *reason, size_t rlen, uint64_t *keep,
			  char *dropped, size_t dlen)
{
	struct sl_catalog *cat = malloc(sizeof *cat);
	struct sl_sigfile sigs[SL_CATALOG_MAX_ENTRIES];
	struct sl_sig_result res;
	struct sl_manifest *m = NULL;
	struct sl_diag d = { "" };
	uint8_t sha[32];
	int r;

	if (!cat)
		return SL_ERR_NOMEM;
	r = rx_xfer_load_catalog(c, x);
	if (r) {
		snprintf(reason, rlen, "the staged catalog cannot be read back (%s)", sl_strerror(r));
		goto out;
	}
	r = sl_catalog_decode(x->catalog, x->hdr.catalog_len, cat, &d);
	if (r) {
		snprintf(reason, rlen, "%s", d.msg);
		goto out;
	}
	sl_sha256(cat->e[0].data, cat->e[0].len, sha);
	sl_sha256_hex(sha, x->manifest_hex);
	if (memcmp(sha, x->hdr.manifest_sha256, 32) != 0) {
		r = SL_ERR_HASH;
		snprintf(reason, rlen, "the catalog's manifest is not the one the transfer header names");
		goto out;
	}
	r = sl_manifest_parse(cat->e[0].data, cat->e[0].len, &c->policy->limits, &m, &d);
	if (r) {
		snprintf(reason, rlen, "manifest: %s", d.msg);
		goto out;
	}
	if (memcmp(m->id, x->id, 16) != 0) {
		r = SL_ERR_POLICY;
		snprintf(reason, rlen, "manifest transfer id %s does not match the wire's %s", m->id_hex, x->hex);
		goto out;
	}
	if (m->total_bytes != x->hdr.total_bytes) {
		r = SL_ERR_POLICY;
		snprintf(reason, rlen, "manifest totals %llu bytes, the transfer header %llu",
			 (unsigned long long)m->total_bytes, (unsigned long long)x->hdr.total_bytes);
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
	r = sl_policy_verify_signatures(c->policy, cat->e[0].data, cat->e[0].len, m->submitter, sigs,
					cat->n - 1, &res, &d);
	if (keep) {
		*keep = 1;
		for (size_t i = 0; i < res.n; i++)
			*keep |= res.checks[i].release ? 1ull << (i + 1) : 0;
	}
	if (dropped)
		sl_sig_dropped_text(&res, sigs, dropped, dlen);
	sl_sig_result_clear(&res);
	if (r) {
		snprintf(reason, rlen, "signatures: %s", d.msg);
		goto out;
	}
	r = sl_policy_check_manifest(c->policy, m, (int64_t)time(NULL), &d);
	if (r) {
		snprintf(reason, rlen, "policy: %s", d.msg);
		goto out;
	}
	r = sl_ledger_check(c->ledger, m->link, m->id, m->sequence, &c->policy->sequence, &d);
	if (r) {
		snprintf(reason, rlen, "ledger: %s", d.msg);
		goto out;
	}
	sl_manifest_free(x->manifest);
	x->manifest = m;
	m = NULL;
	if (!x->catalog_ok)
		sl_log(c->log, SL_LOG_INFO, "transfer %s: manifest verified (%zu files, sequence %llu, "
		       "submitter %s)", x->hex, x->manifest->nfiles,
		       (unsigned long long)x->manifest->sequence, x->manifest->submitter);
	x->catalog_ok = 1;
out:
	sl_manifest_free(m);
	free(cat);
	return r;
}

int rx_verify_catalog(struct rx_ctx *c, struct rx_xfer *x, char *reason, size_t rlen)
{
	return verify_catalog(c, x, reason, rlen, NULL, NULL, 0);
}

/* Finish STATE/release/<id>: the files were written in place and hashed
 * as they came (direct.c); a tree that could not be set up while the data
 * arrived (or was left by an earlier run) is set up now, from the staged
 * stream. Returns 0 or an error with reason. */
static int build_tree(struct rx_ctx *c, struct rx_xfer *x, uint64_t keep, char *reason, size_t rlen)
{
	int r = x->tree ? SL_OK : rx_tree_open(c, x);

	if (r) {
		snprintf(reason, rlen, "cannot create the transfer's files in the release staging "
			 "area (%s; details in the log)", sl_strerror(r));
		return r;
	}
	return rx_tree_finish(c, x, keep, reason, rlen);
}

/* Move STATE/release/<id> to RELEASE/<id>, never replacing anything. */
static int final_rename(struct rx_ctx *c, const char *hex, char *reason, size_t rlen)
{
	if (renameat2(c->relstage_fd, hex, c->release_fd, hex, RENAME_NOREPLACE) != 0) {
		int err = errno;
		snprintf(reason, rlen, "rename into the release directory: %s", strerror(err));
		errno = err;
		return SL_ERR_IO;
	}
	fsync(c->release_fd);
	return SL_OK;
}

void rx_try_release(struct rx_ctx *c, struct rx_xfer *x)
{
	char reason[1400] = "", dropped[640] = "";
	struct sl_diag d = { "" };
	uint64_t keep = 1;
	uint64_t t0 = 0;
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (x->accepted)
		goto accepted; /* in the ledger already: only the steps after it */
	if (x->state != RX_X_ACTIVE && rx_xfer_activate(c, x) != SL_OK)
		return; /* staging files cannot be opened now (logged) or rejected */
	if (rx_xfer_checkpoint(c, x) != SL_OK) {
		rx_storage_defer(c, x, SL_ERR_IO, 0, "staged data or its done map could not be made durable");
		return;
	}
	r = verify_catalog(c, x, reason, sizeof reason, &keep, dropped, sizeof dropped);
	if (!r)
		r = build_tree(c, x, keep, reason, sizeof reason);
	if (r) {
		if (rx_storage_defer(c, x, r, r == SL_ERR_IO ? errno : 0, reason))
			return; /* the disk, not the transfer: kept, tried again */
		rx_xfer_reject(c, x, reason);
		return;
	}
	r = sl_ledger_record(c->ledger, x->manifest->link, x->manifest->id, x->manifest->sequence,
			     &c->policy->sequence, (int64_t)time(NULL), &d);
	if (r) {
		int err = errno;
		snprintf(reason, sizeof reason, "ledger: %s", d.msg);
		if (rx_storage_defer(c, x, r, r == SL_ERR_IO ? err : 0, reason))
			return; /* not recorded (the ledger cut it off again): tried again */
		rx_xfer_reject(c, x, reason);
		return;
	}
	x->accepted = 1;
accepted:
	/* From here the transfer is accepted: a crash before the rename is
	 * finished by rx_recover() at the next start. */
	if (sl_write_file_atomic(x->dirfd, "released", "", 0, 0600, NULL) != SL_OK) {
		rx_storage_defer(c, x, SL_ERR_IO, errno, "writing the release marker");
		return;
	}
	r = final_rename(c, x->hex, reason, sizeof reason);
	if (r) {
		int err = errno, disk = err == ENOSPC || err == EDQUOT || err == EIO;
		if (!disk && !x->release_wait) {
			sl_log(c->log, SL_LOG_ERR, "transfer %s accepted but not moved into place: %s; "
			       "it stays in %s/release/%s", x->hex, reason, c->cfg->state_dir, x->hex);
			sl_audit_append(c->audit, "stuck", x->hex, x->manifest_hex, reason, NULL);
		}
		rx_storage_defer(c, x, r, disk ? err : 0, reason);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(reason, sizeof reason, "%zu files, %llu bytes, sequence %llu, verified in %.2f s%s%s",
		 x->manifest->nfiles, (unsigned long long)x->manifest->total_bytes,
		 (unsigned long long)x->manifest->sequence,
		 (double)((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - t0) / 1e9,
		 dropped[0] ? "; signature files not released: " : "", dropped);
	sl_audit_append(c->audit, "released", x->hex, x->manifest_hex, reason, NULL);
	sl_log(c->log, SL_LOG_INFO, "transfer %s RELEASED to %s/%s: %s", x->hex, c->cfg->release_dir,
	       x->hex, reason);
	c->st.released++;
	if (x->state == RX_X_ACTIVE) {
		rx_xfer_deactivate(c, x);
	}
	rx_xfer_release_staging(c, x);
	x->state = RX_X_RELEASED;
	sl_remove_tree(c->xfer_fd, x->hex, NULL);
}

/* The 16-byte id named by a staging directory (32 lowercase hex digits). */
static int hex_id(const char *hex, uint8_t id[16])
{
	char back[33];
	size_t n = 0;

	if (sodium_hex2bin(id, 16, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 16)
		return -1;
	sodium_bin2hex(back, sizeof back, id, 16);
	return strcmp(back, hex) == 0 ? 0 : -1;
}

/* At start: finish releases that were accepted but not renamed, and load
 * the state of transfers staged but not complete. */
int rx_recover(struct rx_ctx *c)
{
	int fd = dup(c->xfer_fd);
	DIR *dp;
	struct dirent *e;

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return SL_ERR_IO;
	}
	while ((e = readdir(dp))) {
		char marker[64], reason[512];
		struct stat st;
		if (strlen(e->d_name) != 32)
			continue;
		snprintf(marker, sizeof marker, "%s/released", e->d_name);
		if (fstatat(c->xfer_fd, marker, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			/* Staged but not released: know it again, so that symbols of a
			 * repeat pass are placed before its next transfer header. */
			uint8_t id[16];
			if (c->nstaged >= c->cfg->max_staged) {
				sl_log(c->log, SL_LOG_WARN, "transfer %s: staged, but --max-staged %u transfers "
				       "are already known; left on disk, not resumed", e->d_name, c->cfg->max_staged);
				continue;
			}
			if (hex_id(e->d_name, id) == 0)
				rx_xfer_get(c, id, sl_now_ns());
			continue;
		}
		if (fstatat(c->relstage_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (final_rename(c, e->d_name, reason, sizeof reason) == SL_OK) {
				sl_log(c->log, SL_LOG_INFO, "transfer %s: release finished after restart", e->d_name);
				sl_audit_append(c->audit, "released", e->d_name, NULL,
						"release completed after a restart", NULL);
			} else {
				sl_log(c->log, SL_LOG_ERR, "transfer %s: %s", e->d_name, reason);
				continue;
			}
		}
		sl_remove_tree(c->xfer_fd, e->d_name, NULL);
	}
	closedir(dp);
	return SL_OK;
}
