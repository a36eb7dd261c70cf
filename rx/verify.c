/* verify.c — a complete catalog verified on a thread of its own.
 *
 * Verifying the catalog of a transfer of a million files (syncing
 * catalog.part, reading it back, the manifest's SHA-256, parsing it, the
 * signatures, the policy's checks of every name) takes seconds; on the
 * receive thread the datagrams that follow the catalog in the pass would
 * wait in the socket buffer meanwhile, and overflow it. So once every
 * catalog piece is in, place.c starts a job here: a thread, rx-verify
 * (sl_pool_start_one, as the writer's; created after the sandbox, like
 * base.c's: the seccomp filter allows clone with CLONE_THREAD only) that syncs and reads a duplicate of catalog.part's
 * descriptor and runs rx_verify_core (verdict.c) on its own copies. It never
 * touches the transfer; it reads the policy, which a reload frees only after
 * rx_verify_poll(c, 1) (main.c), and teardown only after every transfer is
 * freed (each job cancelled).
 *
 * Meanwhile the receive thread goes on placing decoded chunks into the
 * stream file, as before the catalog was complete (unvouched staging,
 * bounded by --max-unvouched). rx_tick picks the verdict up
 * (rx_verify_poll, poll.c: this file only says which jobs are over and
 * hands their verdicts up), and place.c finishes it on the receive thread: the
 * ledger and a delta's base, then the catalog kept and the tree opened
 * (the stream's chunks go to the writer thread, writer.c), or the
 * transfer rejected, exactly as when it was verified in line.
 *
 * One job per transfer (x->vjob), RX_VERIFY_JOBS at once: a sender that
 * completes many catalogs at once makes the receiver hold no more of them
 * in memory than when they were verified in line; the others wait
 * (x->verify_wait, set and cleared only here) and start as jobs end.
 * rx_verify_cancel joins a job and drops its verdict, or gives up the
 * wait: a transfer rejected, dropped, freed or whose layout changes
 * (xfer.c). quota.c does not evict a transfer while its catalog is
 * verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pace.h"
#include "pool.h"
#include "rx.h"
#include "safefs.h"

struct rx_vjob {
	struct sl_pool *pool;       /* its thread, rx-verify (common/util/pool.h) */
	int done;                   /* atomic: the thread has finished */
	int fd;                     /* a duplicate of catalog.part's */
	struct sl_xfer_hdr hdr;
	uint8_t id[16];
	char hex[33];
	const struct sl_policy *policy;
	uint8_t *catalog;
	int r;
	int err;                    /* errno of a failed sync or read (r SL_ERR_IO) */
	unsigned *running;          /* c->nverify, less one when joined */
	uint64_t t0;
	struct rx_vout out;
};

static void run(void *arg, unsigned worker)
{
	struct rx_vjob *j = arg;
	size_t len = j->hdr.catalog_len;

	(void)worker;
	j->catalog = malloc(len ? len : 1);
	if (!j->catalog) {
		j->r = SL_ERR_NOMEM;
		snprintf(j->out.reason, sizeof j->out.reason, "out of memory for the catalog");
	} else if (fdatasync(j->fd) != 0 || sl_pread_all(j->fd, j->catalog, len, 0) != 0) {
		j->r = SL_ERR_IO;
		j->err = errno ? errno : EIO;
		snprintf(j->out.reason, sizeof j->out.reason, "cannot sync or read the catalog back: %s",
			 strerror(j->err));
	} else {
		struct rx_vin in = { .policy = j->policy, .hdr = &j->hdr, .id = j->id, .hex = j->hex,
				     .catalog = j->catalog };
		j->r = rx_verify_core(&in, &j->out);
	}
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
}

static void job_free(struct rx_vjob *j)
{
	(*j->running)--;
	close(j->fd);
	free(j->catalog);
	sl_manifest_free(j->out.m);
	free(j);
}

int rx_verify_start(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_vjob *j;

	if (x->vjob)
		return SL_ERR_EXISTS;
	if (x->cat_fd < 0)
		return SL_ERR_IO;
	if (c->nverify >= RX_VERIFY_JOBS) {
		x->verify_wait = 1;
		return SL_ERR_AGAIN;
	}
	j = calloc(1, sizeof *j);
	if (!j)
		return SL_ERR_NOMEM;
	j->fd = fcntl(x->cat_fd, F_DUPFD_CLOEXEC, 0);
	if (j->fd < 0) {
		free(j);
		return SL_ERR_IO;
	}
	j->hdr = x->hdr;
	memcpy(j->id, x->id, 16);
	memcpy(j->hex, x->hex, sizeof j->hex);
	j->policy = c->policy;
	j->t0 = sl_now_ns();
	j->running = &c->nverify;
	if (sl_pool_start_one("rx-verify", run, j, &j->pool, NULL) != SL_OK) {
		close(j->fd);
		free(j);
		return SL_ERR_IO;
	}
	c->nverify++;
	x->vjob = j;
	x->verify_wait = 0;
	return SL_OK;
}

int rx_verify_ready(const struct rx_xfer *x)
{
	return x->vjob && __atomic_load_n(&x->vjob->done, __ATOMIC_ACQUIRE);
}

void rx_verify_cancel(struct rx_xfer *x)
{
	struct rx_vjob *j = x->vjob;

	x->verify_wait = 0;
	if (!j)
		return;
	sl_pool_free(j->pool); /* waits for run to return, joins the thread */
	j->pool = NULL;
	x->vjob = NULL;
	job_free(j);
}

struct rx_xfer *rx_verify_next_done(struct rx_ctx *c, int wait)
{
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x->vjob && (wait || __atomic_load_n(&x->vjob->done, __ATOMIC_ACQUIRE)))
			return x;
	return NULL;
}

struct rx_vjob *rx_verify_take(struct rx_xfer *x)
{
	struct rx_vjob *j = x->vjob;

	sl_pool_free(j->pool); /* waits for run to return, joins the thread */
	j->pool = NULL;
	x->vjob = NULL;
	return j;
}

int rx_verify_result(struct rx_vjob *j, int *err, struct rx_vout **out, uint64_t *t0)
{
	*err = j->err;
	*out = &j->out;
	*t0 = j->t0;
	return j->r;
}

void rx_verify_free(struct rx_vjob *j)
{
	job_free(j);
}

struct rx_xfer *rx_verify_next_waiting(struct rx_ctx *c)
{
	/* a transfer's own state may have moved on: only one still waiting */
	for (struct rx_xfer *x = c->xfers; x && c->nverify < RX_VERIFY_JOBS; x = x->next) {
		if (!x->verify_wait)
			continue;
		x->verify_wait = 0;
		if (x->have_hdr && !x->catalog_ok && x->ncat_done == x->hdr.catalog_blocks && x->cat_fd >= 0 &&
		    (x->state == RX_X_ACTIVE || x->state == RX_X_DORMANT))
			return x;
	}
	return NULL;
}
