/* commit.c — the steps of a release once the transfer is verified, and
 * finishing them after a crash (rx_recover).
 *
 * rx_try_release (release.c) verifies everything and finishes the tree
 * STATE/release/<id>/; then:
 *   1. intent   STATE/xfer/<id>/release, written atomically (file, rename and
 *               directory synced; STATE/xfer synced first so that <id> is):
 *               link, sequence, manifest SHA-256, a summary, and the number S
 *               of the audit log's last entry at that moment.
 *   2. ledger   the id recorded (one pwrite, fdatasync).
 *   3. rename   STATE/release/<id> -> RELEASE/<id> (RENAME_NOREPLACE), both
 *               directories synced.
 *   4. audit    one "released" entry (one write, fsync).
 *   5. cleanup  STATE/xfer/<id> removed, the intent with it.
 * The intent is text, one field a line: "sluice-rx-release 1", "link L",
 * "sequence N", "manifest HEX", "audit-seq S", "summary TEXT".
 * A crash before 1 leaves a staged transfer, which a repeat pass releases
 * after verifying it all again. From 1 on the transfer is accepted:
 * rx_commit() does each step that is not done yet, in order, and rx_recover()
 * calls it at the next start for every intent it finds. Done or not done is
 * read from the state the step leaves:
 *   ledger  done iff the ledger holds the id (a torn append is cut off when
 *           the ledger is opened, so it is there whole or not at all);
 *   rename  done iff STATE/release/<id> is gone: after step 1 only the rename
 *           removes it (RELEASE/<id> itself may already have been taken away
 *           by whoever consumes releases);
 *   audit   done iff the audit log holds an entry "released xfer=<id>"
 *           numbered above S: that entry can only be written after the
 *           intent, and entries are numbered in order, so only the tail
 *           written since is read (audit_scan.c). When the rename is done in
 *           the same call, the entry cannot exist yet and is not looked for.
 * A step starts only once the one before is durable and is skipped once it
 * is done, so a crash at any point, followed by restarts (which may crash
 * in turn), ends in exactly one ledger record, one rename and one "released"
 * entry, and nothing half-done in RELEASE (a rename is atomic).
 *
 * A marker "released" (empty) of an older sluice-rx, which wrote it after
 * the ledger, and a staged transfer that the ledger holds but no marker
 * names (that older order crashed between the two), are finished the same
 * way with what the ledger and the staging area tell: the manifest hash is
 * then not in the audit entry, and the whole audit log is searched.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_find.h"
#include "hex.h"
#include "pace.h"
#include "pathname.h"
#include "rx.h"
#include "safefs.h"
#include "units.h"

#define INTENT "release"
#define OLD_INTENT "released"
#define INTENT_MAGIC "sluice-rx-release 1\n"
#define AUDIT_LOG "audit.log" /* as rx_setup opens it */

int rx_intent_write(struct rx_ctx *c, const struct rx_xfer *x, struct rx_intent *in, const char *dropped,
		    char *why, size_t wl)
{
	const struct sl_manifest *m = x->manifest;
	struct sl_diag d = { "" };
	struct sl_audit_head head;
	char buf[2048];
	int n;

	memset(in, 0, sizeof *in);
	memcpy(in->id, x->id, sizeof in->id);
	memcpy(in->hex, x->hex, sizeof in->hex);
	snprintf(in->link, sizeof in->link, "%s", m->link);
	in->sequence = m->sequence;
	memcpy(in->manifest_hex, x->manifest_hex, sizeof in->manifest_hex);
	char base[120] = "";
	if (m->has_base)
		snprintf(base, sizeof base, ", base %s (%zu files, %llu bytes taken from it)", m->base_hex, m->ntaken,
			 (unsigned long long)m->taken_bytes);
	snprintf(in->summary, sizeof in->summary, "%zu files, %llu bytes, sequence %llu%s%s%s", sl_manifest_all(m),
		 (unsigned long long)(m->total_bytes + m->taken_bytes), (unsigned long long)m->sequence, base,
		 dropped && dropped[0] ? "; signature files not released: " : "", dropped ? dropped : "");
	sl_audit_get_head(c->audit, &head);
	in->audit_seq = head.seq;
	n = snprintf(buf, sizeof buf, INTENT_MAGIC "link %s\nsequence %llu\nmanifest %s\naudit-seq %llu\n"
		     "summary %s\n", in->link, (unsigned long long)in->sequence, in->manifest_hex,
		     (unsigned long long)in->audit_seq, in->summary);
	if (n < 0 || (size_t)n >= sizeof buf) {
		snprintf(why, wl, "release marker too long");
		return SL_ERR_TOOBIG;
	}
	if (sl_fsync_dir(c->xfer_fd, ".") != SL_OK) {
		snprintf(why, wl, "cannot sync the staging directory: %s", strerror(errno));
		return SL_ERR_IO;
	}
	if (sl_write_file_atomic(x->dirfd, INTENT, buf, (size_t)n, 0600, &d) != SL_OK) {
		unlinkat(x->dirfd, INTENT, 0); /* perhaps there, not durable: not an intent */
		snprintf(why, wl, "cannot write the release marker: %s", d.msg);
		return SL_ERR_IO;
	}
	return SL_OK;
}

void rx_intent_drop(struct rx_ctx *c, const char *hex)
{
	char path[64];

	snprintf(path, sizeof path, "%s/%s", hex, INTENT);
	if (unlinkat(c->xfer_fd, path, 0) == 0)
		sl_fsync_dir(c->xfer_fd, hex);
}

/* The value of line "KEY VALUE\n" at *p (of the `end - *p` bytes there), its
 * length in *n; *p moves past the line. NULL when the line is not KEY's. */
static const char *intent_line(const char **p, const char *end, const char *key, size_t *n)
{
	size_t kl = strlen(key);
	const char *v, *nl;

	if ((size_t)(end - *p) <= kl || memcmp(*p, key, kl) || (*p)[kl] != ' ')
		return NULL;
	v = *p + kl + 1;
	if (!(nl = memchr(v, '\n', (size_t)(end - v))))
		return NULL;
	*n = (size_t)(nl - v);
	*p = nl + 1;
	return v;
}

/* The fields of a release marker's text (after its magic line), as
 * rx_intent_write wrote them: 0, or -1 if a line is missing or malformed. */
static int intent_parse(const char *p, const char *end, struct rx_intent *in)
{
	const char *v;
	size_t n;
	uint8_t digest[32];

	if (!(v = intent_line(&p, end, "link", &n)) || n > SL_LABEL_MAX)
		return -1;
	memcpy(in->link, v, n);
	in->link[n] = '\0';
	if (!sl_label_ok(in->link) || !(v = intent_line(&p, end, "sequence", &n)) ||
	    sl_parse_decimal_n(v, n, 0, UINT64_MAX, &in->sequence) ||
	    !(v = intent_line(&p, end, "manifest", &n)) ||
	    sl_hex_decode(v, n, SL_HEX_LOWER, digest, sizeof digest))
		return -1;
	memcpy(in->manifest_hex, v, 64);
	in->manifest_hex[64] = '\0';
	if (!(v = intent_line(&p, end, "audit-seq", &n)) || sl_parse_decimal_n(v, n, 0, UINT64_MAX, &in->audit_seq))
		return -1;
	if (!(v = intent_line(&p, end, "summary", &n)))
		return -1;
	snprintf(in->summary, sizeof in->summary, "%.*s", (int)n, v);
	return 0;
}

/* The intent STATE/xfer/<hex>/release. Returns 0 with every field, or -1
 * with only id and hex (no such file, the empty marker of an older
 * sluice-rx, or unreadable). */
int rx_intent_read(struct rx_ctx *c, const char *hex, const uint8_t id[16], struct rx_intent *in)
{
	char path[64];
	uint8_t *buf = NULL;
	size_t len = 0, ml = strlen(INTENT_MAGIC);
	int ok;

	memset(in, 0, sizeof *in);
	memcpy(in->id, id, sizeof in->id);
	snprintf(in->hex, sizeof in->hex, "%s", hex);
	snprintf(path, sizeof path, "%s/%s", hex, INTENT);
	if (sl_read_file_beneath(c->xfer_fd, path, 4096, &buf, &len, NULL) != SL_OK)
		return -1;
	ok = len > ml && !memcmp(buf, INTENT_MAGIC, ml) &&
	     intent_parse((char *)buf + ml, (char *)buf + len, in) == 0;
	if (!ok) {
		sl_log(c->log, SL_LOG_WARN, "transfer %s: release marker unreadable; finishing the release "
		       "with what the ledger holds", hex);
		memset(in, 0, sizeof *in);
		memcpy(in->id, id, sizeof in->id);
		snprintf(in->hex, sizeof in->hex, "%s", hex);
	}
	free(buf);
	return ok ? 0 : -1;
}

/* Move STATE/release/<id> to RELEASE/<id>, never replacing anything, and
 * sync both directories. *moved: the rename happened (an error after it
 * means it may not survive a crash). */
static int final_rename(struct rx_ctx *c, const char *hex, int *moved, char *why, size_t wl)
{
	*moved = 0;
	if (renameat2(c->relstage_fd, hex, c->release_fd, hex, RENAME_NOREPLACE) != 0) {
		snprintf(why, wl, "rename into the release directory: %s", strerror(errno));
		return SL_ERR_IO;
	}
	*moved = 1;
	if (fsync(c->release_fd) != 0 || fsync(c->relstage_fd) != 0) {
		snprintf(why, wl, "syncing the release directories after the rename: %s", strerror(errno));
		return SL_ERR_IO;
	}
	return SL_OK;
}

/* Step 2. 0: recorded now or before; else the ledger's error, reason in why. */
static int ledger_step(struct rx_ctx *c, const struct rx_intent *in, int staged, unsigned *did,
		       char *why, size_t wl)
{
	struct sl_diag d = { "" };
	int r;

	if (sl_ledger_has_id(c->ledger, in->id))
		return SL_OK;
	if (!staged) {
		snprintf(why, wl, "its verified files are gone from %s/release/%s", c->cfg->state_dir, in->hex);
		return SL_ERR_NOTFOUND;
	}
	if (!in->link[0]) {
		snprintf(why, wl, "its release marker is unreadable and the ledger does not hold it");
		return SL_ERR_CORRUPT;
	}
	r = sl_ledger_record(c->ledger, in->link, in->id, in->sequence, &c->policy->sequence,
			     (int64_t)time(NULL), &d);
	if (r) {
		snprintf(why, wl, "ledger: %s", d.msg);
		return r;
	}
	*did |= RX_DID_LEDGER;
	return SL_OK;
}

enum rx_commit rx_commit(struct rx_ctx *c, const struct rx_intent *in, const char *how,
			 unsigned *did, char *why, size_t wl)
{
	struct sl_diag d = { "" };
	char reason[1100];
	struct stat st;
	int staged, moved = 0, durable = 1, r;

	*did = 0;
	staged = fstatat(c->relstage_fd, in->hex, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!staged && errno != ENOENT) {
		snprintf(why, wl, "%s/release/%s: %s", c->cfg->state_dir, in->hex, strerror(errno));
		return RX_C_PENDING;
	}
	r = ledger_step(c, in, staged, did, why, wl);
	if (r)
		return r != SL_ERR_IO && r != SL_ERR_NOMEM ? RX_C_REFUSED : RX_C_PENDING;
	rx_crashpoint(c, "ledger");
	if (staged) {
		r = final_rename(c, in->hex, &moved, why, wl);
		if (r && !moved)
			return RX_C_STUCK; /* the caller audits it, once */
		*did |= RX_DID_RENAME;
		durable = r == SL_OK;
		if (!durable)
			sl_log(c->log, SL_LOG_ERR, "transfer %s is in %s/%s but %s: a crash now could undo the "
			       "release; it is checked again at the next start", in->hex, c->cfg->release_dir,
			       in->hex, why);
	}
	rx_crashpoint(c, "renamed");
	r = moved ? 0 : sl_audit_find_after(c->state_fd, AUDIT_LOG, in->audit_seq, "released", in->hex, &d);
	if (r < 0) {
		snprintf(why, wl, "cannot tell whether its release was audited: %s", d.msg);
		return RX_C_PENDING;
	}
	if (r == 0) {
		snprintf(reason, sizeof reason, "%s%s%s", in->summary, in->summary[0] ? ", " : "", how);
		if (sl_audit_append(c->audit, "released", in->hex, in->manifest_hex[0] ? in->manifest_hex : NULL,
				    reason, &d) != SL_OK) {
			snprintf(why, wl, "released, but not audited yet: %s", d.msg);
			return RX_C_PENDING;
		}
		*did |= RX_DID_AUDIT;
	}
	rx_crashpoint(c, "audited");
	if (durable)
		sl_remove_tree(c->xfer_fd, in->hex, NULL);
	return RX_C_RELEASED;
}

/* The 16-byte id named by a staging directory (32 lowercase hex digits). */
static int hex_id(const char *hex, uint8_t id[16])
{
	return sl_hex_decode(hex, strlen(hex), SL_HEX_LOWER, id, 16) == SL_OK ? 0 : -1;
}

static void did_text(unsigned did, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s%s", did & RX_DID_LEDGER ? " ledger" : "", did & RX_DID_RENAME ? " rename" : "",
		 did & RX_DID_AUDIT ? " audit" : "", did ? "" : " cleanup only");
}

/* A staging directory at start: finish a release it holds, else know it again. */
static void recover_one(struct rx_ctx *c, const char *hex, const uint8_t id[16])
{
	char path[64], why[1200], steps[64];
	struct rx_intent in;
	struct stat st;
	unsigned did = 0;
	int marked;

	snprintf(path, sizeof path, "%s/%s", hex, INTENT);
	marked = fstatat(c->xfer_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	snprintf(path, sizeof path, "%s/%s", hex, OLD_INTENT);
	marked = marked || fstatat(c->xfer_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!marked && !sl_ledger_has_id(c->ledger, id)) {
		/* Staged but not released: know it again, so that symbols of a
		 * repeat pass are placed before its next transfer header. At most
		 * --max-staged of them: the rest stays on disk, untouched. */
		if (c->nstaged >= c->cfg->max_staged) {
			sl_log(c->log, SL_LOG_WARN, "transfer %s: staged, but --max-staged %u transfers are "
			       "already known; left on disk, not resumed", hex, c->cfg->max_staged);
			return;
		}
		rx_xfer_get(c, id, sl_now_ns());
		return;
	}
	rx_intent_read(c, hex, id, &in);
	switch (rx_commit(c, &in, "release completed after a restart", &did, why, sizeof why)) {
	case RX_C_RELEASED:
		did_text(did, steps, sizeof steps);
		sl_log(c->log, SL_LOG_INFO, "transfer %s: release finished after a restart (done now:%s)", hex,
		       steps);
		if (did & RX_DID_RENAME)
			c->st.released++;
		break;
	case RX_C_REFUSED:
		sl_log(c->log, SL_LOG_WARN, "transfer %s REJECTED at restart: %s", hex, why);
		rx_intent_drop(c, hex);
		sl_audit_append(c->audit, "rejected", hex, in.manifest_hex[0] ? in.manifest_hex : NULL, why, NULL);
		sl_remove_tree(c->xfer_fd, hex, NULL);
		sl_remove_tree(c->relstage_fd, hex, NULL);
		c->st.rejected++;
		break;
	case RX_C_STUCK:
		sl_audit_append(c->audit, "stuck", hex, in.manifest_hex[0] ? in.manifest_hex : NULL, why, NULL);
		sl_log(c->log, SL_LOG_ERR, "transfer %s accepted but not moved into place: %s; it stays in "
		       "%s/release/%s, tried again at the next start", hex, why, c->cfg->state_dir, hex);
		break;
	case RX_C_PENDING:
		sl_log(c->log, SL_LOG_ERR, "transfer %s: release not finished: %s; tried again at the next "
		       "start", hex, why);
		break;
	}
}

/* At start: finish every release begun (see the top of this file), and load
 * the state of transfers staged but not complete. */
int rx_recover(struct rx_ctx *c)
{
	int fd;
	DIR *dp;
	struct dirent *e;

	/* rx_setup may just have created the ledger, the audit log, xfer/ and
	 * release/: their names must be durable before a release relies on them. */
	if (sl_fsync_dir(c->state_fd, ".") != SL_OK) {
		sl_log(c->log, SL_LOG_ERR, "cannot sync %s: %s", c->cfg->state_dir, strerror(errno));
		return SL_ERR_IO;
	}
	fd = dup(c->xfer_fd);
	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return SL_ERR_IO;
	}
	while ((e = readdir(dp))) {
		uint8_t id[16];
		if (strlen(e->d_name) == 32 && hex_id(e->d_name, id) == 0)
			recover_one(c, e->d_name, id);
	}
	closedir(dp);
	return SL_OK;
}
