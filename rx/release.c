/* release.c — verify a staged transfer and release it atomically, or not at all.
 *
 * rx_verify_catalog(): the catalog decodes, its manifest is the one the
 * transfer header named, the manifest parses under the policy's limits and
 * is for this transfer id and stream length, the signatures reach the
 * threshold, the manifest fits the policy (enclave, link, validity, names)
 * and the ledger has not seen its id or a higher sequence.
 *
 * rx_try_release(): with every chunk staged, check all of that again (time
 * has passed), then finish STATE/release/<id>/ {manifest, *.minisig, data/...},
 * whose files direct.c created O_EXCL beneath the tree (openat2, no symlinks)
 * and hashed as the chunks came; any size or hash mismatch rejects the whole
 * transfer. Then: syncfs, ledger record, marker,
 * one renameat2(RENAME_NOREPLACE) into RELEASE/<id>, audit, clean up.
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

const char *const rx_crash_points[] = { "verified", "ledger", "marker", "renamed", "audited", NULL };

void rx_crashpoint(const struct rx_ctx *c, const char *point)
{
	if (!c->cfg->crash_at || strcmp(c->cfg->crash_at, point) != 0)
		return;
	sl_log(c->log, SL_LOG_ERR, "crash point %s: exiting at once (test build)", point);
	_exit(RX_CRASH_STATUS);
}

int rx_verify_catalog(struct rx_ctx *c, struct rx_xfer *x, char *reason, size_t rlen)
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
	r = sl_ledger_check(c->ledger, m->link, m->id, m->sequence, c->policy->sequence_window, &d);
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

/* Finish STATE/release/<id>: the files were written in place and hashed
 * as they came (direct.c); a tree that could not be set up while the data
 * arrived (or was left by an earlier run) is set up now, from the staged
 * stream. Returns 0 or an error with reason. */
static int build_tree(struct rx_ctx *c, struct rx_xfer *x, char *reason, size_t rlen)
{
	int r = x->tree ? SL_OK : rx_tree_open(c, x);

	if (r) {
		snprintf(reason, rlen, "cannot create the transfer's files in the release staging "
			 "area (%s; details in the log)", sl_strerror(r));
		return r;
	}
	return rx_tree_finish(c, x, reason, rlen);
}

/* Move STATE/release/<id> to RELEASE/<id>, never replacing anything. */
static int final_rename(struct rx_ctx *c, const char *hex, char *reason, size_t rlen)
{
	if (renameat2(c->relstage_fd, hex, c->release_fd, hex, RENAME_NOREPLACE) != 0) {
		snprintf(reason, rlen, "rename into the release directory: %s", strerror(errno));
		return SL_ERR_IO;
	}
	fsync(c->release_fd);
	return SL_OK;
}

void rx_try_release(struct rx_ctx *c, struct rx_xfer *x)
{
	char reason[1400];
	struct sl_diag d = { "" };
	uint64_t t0 = 0;
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (x->state != RX_X_ACTIVE && rx_xfer_activate(c, x) != SL_OK)
		return; /* staging files cannot be opened now (logged) or rejected */
	if (rx_xfer_checkpoint(c, x) != SL_OK) {
		rx_xfer_timeout(c, x, "staging storage failed");
		return;
	}
	r = rx_verify_catalog(c, x, reason, sizeof reason);
	if (!r)
		r = build_tree(c, x, reason, sizeof reason);
	if (r) {
		rx_xfer_reject(c, x, reason);
		return;
	}
	rx_crashpoint(c, "verified");
	r = sl_ledger_record(c->ledger, x->manifest->link, x->manifest->id, x->manifest->sequence,
			     c->policy->sequence_window, (int64_t)time(NULL), &d);
	if (r) {
		snprintf(reason, sizeof reason, "ledger: %s", d.msg);
		rx_xfer_reject(c, x, reason);
		return;
	}
	/* From here the transfer is accepted: a crash before the rename is
	 * finished by rx_recover() at the next start. */
	rx_crashpoint(c, "ledger");
	sl_write_file_atomic(x->dirfd, "released", "", 0, 0600, NULL);
	rx_crashpoint(c, "marker");
	r = final_rename(c, x->hex, reason, sizeof reason);
	if (r) {
		sl_log(c->log, SL_LOG_ERR, "transfer %s accepted but not moved into place: %s; "
		       "it stays in %s/release/%s", x->hex, reason, c->cfg->state_dir, x->hex);
		sl_audit_append(c->audit, "stuck", x->hex, x->manifest_hex, reason, NULL);
		return;
	}
	rx_crashpoint(c, "renamed");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(reason, sizeof reason, "%zu files, %llu bytes, sequence %llu, verified in %.2f s",
		 x->manifest->nfiles, (unsigned long long)x->manifest->total_bytes,
		 (unsigned long long)x->manifest->sequence,
		 (double)((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - t0) / 1e9);
	sl_audit_append(c->audit, "released", x->hex, x->manifest_hex, reason, NULL);
	rx_crashpoint(c, "audited");
	sl_log(c->log, SL_LOG_INFO, "transfer %s RELEASED to %s/%s: %s", x->hex, c->cfg->release_dir,
	       x->hex, reason);
	c->st.released++;
	if (x->state == RX_X_ACTIVE) {
		rx_xfer_deactivate(c, x);
	}
	x->state = RX_X_RELEASED;
	if (x->dirfd >= 0) {
		close(x->dirfd);
		x->dirfd = -1;
	}
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
