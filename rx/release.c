/* release.c — verify a staged transfer and release it atomically, or not at all.
 *
 * A catalog's verdict is verdict.c's (rx_verify_core, rx_verify_tail): the
 * first time as it completes (place.c, verify.c), again at release.
 *
 * rx_try_release(): with every chunk staged, check all of that again (time
 * has passed), then finish STATE/release/<id>/ {manifest, *.minisig, data/...}
 * (only the signature files sl_sig_result marks for release: verified, by a
 * key of the policy; the others are named in the audit line and the log),
 * whose files the writer thread created beneath the tree (openat2, no symlinks)
 * and hashed as the chunks came; any size or hash mismatch rejects the whole
 * transfer. The heavy parts run on a thread (finish.c), in steps rx_tick
 * comes back for: a job verifies the catalog again (rx_verify_core); its
 * verdict, the ledger's and the base's checks, activation, the hasher's
 * verdict and a delta's copy are done here; the job then finishes the tree
 * (files, sizes, modes, times, syncfs); its verdict, and then (commit.c):
 * intent marker, ledger record, one renameat2(RENAME_NOREPLACE) into
 * RELEASE/<id>, audit, clean up, here, each step finished by rx_recover()
 * after a crash.
 *
 * Only a verdict rejects (hash, size, signatures, policy, ledger refusal).
 * A step that fails for the disk (full, I/O error) or memory keeps
 * everything staged and the release is tried again (storage.c:
 * rx_storage_held); once the intent is written, only rx_commit's steps are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pace.h"
#include "rx.h"
#include "safefs.h"
#include "sha256.h"

/* x's release failed with r: SL_ERR_IO, NOMEM or AGAIN keep its staging for
 * another try (1; err, if not 0, is counted: rx_storage_failed), anything
 * else is a verdict (0: the caller rejects). Hashing that stopped on a read
 * error starts over at the next try. */
static int defer(struct rx_ctx *c, struct rx_xfer *x, int r, int err, const char *why)
{
	char hwhy[8];

	if (r != SL_ERR_IO && r != SL_ERR_NOMEM && r != SL_ERR_AGAIN)
		return 0;
	if (err)
		rx_storage_failed(c, x, why, err);
	if (x->hasher && rx_hasher_kick(x->hasher, x, hwhy, sizeof hwhy) != SL_OK) {
		rx_tree_restart_hashing(x);
		if (x->state == RX_X_ACTIVE)
			rx_tree_open(c, x);
	}
	rx_storage_held(c, x, why);
	return 1;
}

/* The release failed with r before its intent: the disk or memory defers
 * it (kept, tried again), anything else is a verdict that rejects. */
static void not_released(struct rx_ctx *c, struct rx_xfer *x, int r, int err, const char *reason)
{
	rx_rjob_cancel(x);
	if (defer(c, x, r, r == SL_ERR_IO ? err : 0, reason))
		return; /* the disk, not the transfer: kept, tried again */
	rx_xfer_reject(c, x, reason);
}

/* The tree's steps that need the receive thread, once the catalog verified
 * again: x active with its tree open, staged data durable, the hasher's
 * verdict, a delta's files copied from its base. SL_OK; SL_ERR_AGAIN with
 * *later when a thread (writer, hasher, base copy) still works on x (rx_tick
 * comes back; x->rjob dropped); or the failure, reason in reason. */
static int tree_ready(struct rx_ctx *c, struct rx_xfer *x, int *later, char *reason, size_t rlen)
{
	int r;

	*later = 0;
	if (x->state != RX_X_ACTIVE && (r = rx_xfer_activate(c, x)) != SL_OK) {
		*later = x->state != RX_X_REJECTED; /* staging files cannot be opened now (logged), or rejected */
		snprintf(reason, rlen, "cannot make the transfer active (%s)", sl_strerror(r));
		return SL_ERR_AGAIN;
	}
	if (rx_xfer_checkpoint(c, x) != SL_OK) {
		snprintf(reason, rlen, "staged data or its done map could not be made durable");
		return SL_ERR_IO;
	}
	r = x->tree ? SL_OK : rx_tree_open(c, x);
	if (r) {
		snprintf(reason, rlen, "cannot create the transfer's files in the release staging area (%s; "
			 "details in the log)", sl_strerror(r));
		return r;
	}
	if (!x->hasher) {
		snprintf(reason, rlen, "the staged files are not being hashed");
		return SL_ERR_IO;
	}
	if (x->writer && (rx_writer_busy(x->writer, x) || rx_hasher_busy(x->hasher, x))) {
		/* the tree was opened again (a restart, a deferral): hashed again from
		 * its first byte on the hasher thread, not waited for here */
		x->release_writer = 1;
		*later = 1;
		return SL_ERR_AGAIN;
	}
	r = rx_hasher_wait(x->hasher, x, reason, rlen);
	if (!r)
		r = rx_base_fill(c, x, reason, rlen); /* a delta: the files taken from its base */
	if (r == SL_ERR_AGAIN && x->basejob)
		*later = 1; /* copying files from the base: rx_tick comes back when it is done */
	return r;
}

/* x->rjob's VERIFY phase is over: its verdict, the ledger's and the base's
 * checks (x->manifest set), the tree made ready, then its FINISH phase. */
static void verified(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;
	char reason[1400];
	int r = j->r, err = j->err, later;

	j->t_verified = sl_now_ns();
	if (!r)
		r = rx_verify_tail(c, x, &j->out);
	if (r) {
		snprintf(reason, sizeof reason, "%s", j->out.reason);
		not_released(c, x, r, err, reason);
		return;
	}
	r = tree_ready(c, x, &later, reason, sizeof reason);
	if (x->state == RX_X_REJECTED)
		return; /* by its activation (the tree's hash): its job went with its staging */
	if (r && later) {
		rx_rjob_cancel(x); /* verified again when it comes back */
		return;
	}
	if (r) {
		not_released(c, x, r, errno, reason);
		return;
	}
	rx_rjob_finish(c, x);
}

/* Steps 2-5 (commit.c) of an accepted release; t0: when its try began. */
static void commit_steps(struct rx_ctx *c, struct rx_xfer *x, uint64_t t0)
{
	char reason[1400] = "", how[64];
	struct rx_intent in;
	unsigned did;
	int r, err;

	/* From here the transfer is accepted: what a crash interrupts,
	 * rx_recover() finishes at the next start (commit.c); what the disk
	 * interrupts is tried again while the receiver runs. */
	if (rx_intent_read(c, x->hex, x->id, &in) != 0) {
		defer(c, x, SL_ERR_IO, EIO, "reading the release marker back");
		return;
	}
	snprintf(how, sizeof how, "verified in %.2f s", (double)(sl_now_ns() - t0) / 1e9);
	r = rx_commit(c, &in, how, &did, reason, sizeof reason);
	err = errno;
	switch (r) {
	case RX_C_REFUSED:
		rx_intent_drop(c, x->hex);
		x->accepted = 0;
		rx_xfer_reject(c, x, reason);
		return;
	case RX_C_STUCK:
		if (!x->release_wait) /* once, not at every retry */
			sl_audit_append(c->audit, "stuck", x->hex, in.manifest_hex[0] ? in.manifest_hex : NULL,
					reason, NULL);
		/* fall through */
	case RX_C_PENDING:
		/* In the ledger or not yet, the intent stands: the steps left are
		 * tried again (storage.c), and at the next start in any case. */
		sl_log(c->log, SL_LOG_ERR, "transfer %s accepted, release not finished: %s; tried again",
		       x->hex, reason);
		defer(c, x, SL_ERR_IO, err == ENOSPC || err == EDQUOT || err == EIO ? err : 0,
				 reason);
		return;
	case RX_C_RELEASED:
		sl_log(c->log, SL_LOG_INFO, "transfer %s RELEASED to %s/%s: %s, %s", x->hex,
		       c->cfg->release_dir, x->hex, in.summary, how);
		c->st.released++;
		break;
	}
	/* Released: never received again. */
	rx_xfer_release_staging(c, x);
	x->state = RX_X_RELEASED;
}

/* x->rjob's FINISH phase is over: its verdict, then the tree closed and the
 * intent written (step 1), and the commit's steps. */
static void finished(struct rx_ctx *c, struct rx_xfer *x, uint64_t t)
{
	struct rx_rjob *j = x->rjob;
	char reason[1400], dropped[640];
	struct rx_intent in;
	uint64_t t0 = j->t0, tv = j->t_verified, tf = j->t_finish, now = sl_now_ns(), held = j->held_ns;
	uint64_t files = j->files;

	if (j->r) {
		snprintf(reason, sizeof reason, "%s", j->reason);
		not_released(c, x, j->r, j->err, reason);
		return;
	}
	if (rx_rjob_older(c, x))
		return; /* committed after the releases started before it: rx_tick comes back */
	snprintf(dropped, sizeof dropped, "%s", j->out.dropped);
	rx_rjob_cancel(x); /* over: dropped */
	rx_tree_close(x);
	rx_crashpoint(c, "verified");
	if (rx_intent_write(c, x, &in, dropped, reason, sizeof reason) != SL_OK) {
		defer(c, x, SL_ERR_IO, errno, reason); /* staging kept: tried again */
		return;
	}
	x->accepted = 1;
	rx_xfer_deactivate(c, x); /* every chunk is in: nothing more to receive */
	rx_crashpoint(c, "marker");
	commit_steps(c, x, t0);
	if (x->state == RX_X_RELEASED)
		sl_log(c->log, SL_LOG_INFO, "transfer %s: verified again in %.2f s, %llu files finished in %.2f s "
		       "on a thread; the receive thread spent %.3f s on the release (%.3f s of it closing the "
		       "tree and committing: intent, ledger, rename, audit, cleanup)", x->hex,
		       (double)(tv - t0) / 1e9, (unsigned long long)files, (double)(now - tf) / 1e9,
		       (double)(held + sl_now_ns() - t) / 1e9, (double)(sl_now_ns() - now) / 1e9);
}

void rx_try_release(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;
	uint64_t t = sl_now_ns();

	if (x->accepted) {
		commit_steps(c, x, t); /* the intent is written: only rx_commit's steps are left */
		return;
	}
	if (!j) {
		/* verified again (time has passed), on a thread: rx_tick comes back */
		if (rx_rjob_verify(c, x, RX_RJ_RELEASE) != SL_OK)
			defer(c, x, SL_ERR_NOMEM, 0, "cannot start the release's thread");
		else
			x->rjob->held_ns += sl_now_ns() - t;
		return;
	}
	if (j->kind != RX_RJ_RELEASE || !rx_rjob_done(x))
		return; /* being verified again for activation, or its thread is at work */
	if (j->phase == RX_RJ_VERIFY) {
		verified(c, x);
		if (x->rjob) /* its FINISH phase */
			x->rjob->held_ns += sl_now_ns() - t;
	} else {
		finished(c, x, t);
	}
}

/* rx_try_release with the reserve's room if the disk is tight. */
static void release_lent(struct rx_ctx *c, struct rx_xfer *x)
{
	int lend = rx_storage_tight(c);

	/* x's queued chunks written before the writer is held (rx_writer_flush) */
	if (lend && x->writer)
		rx_writer_flush(x->writer, x);
	if (lend)
		rx_storage_lend(c);
	rx_try_release(c, x);
	if (lend)
		rx_storage_restore(c);
}

void rx_release(struct rx_ctx *c, struct rx_xfer *x)
{
	if (x->rjob) {
		/* its job on a thread (finish.c): its verdict once it is in, never
		 * waited for here (rx_tick comes back) */
		if (x->rjob->kind == RX_RJ_RELEASE && rx_rjob_done(x))
			release_lent(c, x);
		return;
	}
	/* The writer (queued and spilled chunks) and the hasher still at work on
	 * x: released from rx_tick once they are done, not waited for here on
	 * the receive thread. */
	if (x->writer && !x->accepted && (rx_writer_busy(x->writer, x) || rx_hasher_busy(x->hasher, x))) {
		if (!x->release_writer)
			rx_writer_checkpoint(x->writer, x);
		x->release_writer = 1;
		return;
	}
	x->release_writer = 0;

	if (rx_storage_try(c, x))
		release_lent(c, x);
}

void rx_release_held(struct rx_ctx *c, uint64_t now, int ended)
{
	uint8_t (*ids)[16] = NULL;
	size_t n = 0, cap = 0;

	/* By id, looked up again each: a release can make another transfer
	 * go (a quota evicts it while x's activation spools a window). */
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x->release_wait && sl_grow(&ids, n, &cap, sizeof *ids) == SL_OK)
			memcpy(ids[n++], x->id, 16);
	for (size_t i = 0; i < n; i++) {
		struct rx_xfer *x = rx_xfer_find(c, ids[i]);
		if (!x || !x->release_wait)
			continue;
		if (rx_storage_due(x, now, ended))
			rx_release(c, x);
		/* Held up: out of the window, and not timed out for silence (not
		 * while its release is at work on a thread or waits for one). */
		if (x->release_wait && x->state == RX_X_ACTIVE && !x->rjob && !x->release_writer)
			rx_xfer_deactivate(c, x);
	}
	free(ids);
}
