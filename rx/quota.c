/* quota.c — bounds on what a sender can make sluice-rx hold (see rx.h).
 *
 * Staged bytes are counted per transfer (chunks staged plus symbols spooled)
 * and in total; bytes of transfers that no verified catalog vouches for yet
 * are also counted on their own. Room is made only by removing other
 * unvouched staging, the idlest first; a vouched transfer's staging is never
 * removed to make room. What does not fit is dropped and counted: a repeat
 * pass brings it again once space returns.
 */
#include <stdio.h>
#include <sys/statvfs.h>

#include "rx.h"

void rx_quota_add(struct rx_ctx *c, struct rx_xfer *x, int64_t n)
{
	x->staged_bytes += (uint64_t)n;
	c->staged_bytes += (uint64_t)n;
	if (!x->catalog_ok)
		c->unvouched_bytes += (uint64_t)n;
}

void rx_quota_vouched(struct rx_ctx *c, struct rx_xfer *x)
{
	c->unvouched_bytes -= x->staged_bytes <= c->unvouched_bytes ? x->staged_bytes : c->unvouched_bytes;
}

/* The idlest transfer with unvouched staging other than `except`, or NULL. */
static struct rx_xfer *idlest_unvouched(struct rx_ctx *c, const struct rx_xfer *except)
{
	struct rx_xfer *v = NULL;

	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x != except && x->dirfd >= 0 && !x->catalog_ok && !x->vjob && /* verified now: kept */
		    !x->activating && /* the room is made for it (xfer.c) */
		    (x->state == RX_X_ACTIVE || x->state == RX_X_DORMANT) &&
		    (!v || x->last_ns < v->last_ns))
			v = x;
	return v;
}

/* Catalog pieces are held to the total only: they are what turns a transfer
 * vouched, and they are bounded by --max-catalog per staged transfer. */
static int fits(const struct rx_ctx *c, const struct rx_xfer *x, uint64_t n, int catalog)
{
	if (c->staged_bytes + n > c->cfg->max_staging)
		return 0;
	return catalog || x->catalog_ok || c->unvouched_bytes + n <= c->cfg->max_unvouched;
}

int rx_quota_room(struct rx_ctx *c, struct rx_xfer *x, uint64_t n, int catalog)
{
	while (!fits(c, x, n, catalog)) {
		struct rx_xfer *v = idlest_unvouched(c, x);
		if (!v) {
			c->st.quota_drops++;
			return SL_ERR_TOOBIG;
		}
		rx_xfer_drop(c, v, "evicted", x->catalog_ok
			     ? "staging quota: room made for a transfer whose signatures verified"
			     : "staging quota for unverified transfers: the idlest one is removed");
		c->st.evicted++;
	}
	return SL_OK;
}

int rx_quota_new_staging(struct rx_ctx *c, const struct rx_xfer *except)
{
	while (c->nstaged >= c->cfg->max_staged) {
		struct rx_xfer *v = idlest_unvouched(c, except);
		if (!v)
			return SL_ERR_TOOBIG;
		rx_xfer_drop(c, v, "evicted", "staged-transfer quota (--max-staged): the idlest "
			     "unverified transfer is removed");
		c->st.evicted++;
	}
	return SL_OK;
}

void rx_quota_expire(struct rx_ctx *c, uint64_t now)
{
	struct rx_xfer *x = c->xfers, *next;

	for (; x; x = next) {
		next = x->next;
		/* a release in progress (intent written, or held up by the disk) is not idle staging */
		if (x->state != RX_X_DORMANT || x->dirfd < 0 || x->release_wait || x->accepted || x->rjob ||
		    now - x->last_ns < c->cfg->keep_incomplete_ns)
			continue;
		rx_xfer_drop(c, x, "expired", "incomplete staging idle for longer than --keep-incomplete");
		c->st.expired++;
	}
}

uint64_t rx_quota_default_staging(int state_fd)
{
	struct statvfs sv;

	/* Half of what is free when the receiver starts: the rest stays for
	 * releases (a release is a rename, but what it holds stays until
	 * someone moves it) and for everything else on the filesystem. */
	if (fstatvfs(state_fd, &sv) != 0)
		return 1ull << 30;
	return (uint64_t)sv.f_bavail * sv.f_frsize / 2;
}
