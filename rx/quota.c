/* quota.c — bounds on what a sender can make sluice-rx hold (see rx.h).
 *
 * Staged bytes are counted per transfer (chunks staged plus symbols spooled)
 * and in total; bytes of transfers that no verified catalog vouches for yet
 * are also counted on their own. Room is made only by removing other
 * unvouched staging, the idlest first; a vouched transfer's staging is never
 * removed to make room. What does not fit is dropped and counted: a repeat
 * pass brings it again once space returns.
 *
 * Making room only marks the victim (x->evicted, c->nevicting): its staging
 * no longer counts from then on, and the caller that handles the datagram or
 * tick (dispatch.c, poll.c) removes it when that work is over
 * (rx_xfer_drop_evicted). Nothing here calls back up into the files that
 * asked for room, and no transfer is freed under a caller's feet.
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

/* The idlest transfer with unvouched staging other than `except`, not
 * marked already, or NULL. */
static struct rx_xfer *idlest_unvouched(struct rx_ctx *c, const struct rx_xfer *except)
{
	struct rx_xfer *v = NULL;

	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x != except && x->dirfd >= 0 && !x->catalog_ok && !x->vjob && /* verified now: kept */
		    !x->activating && !x->evicted && /* the room is made for it (xfer.c); going already */
		    (x->state == RX_X_ACTIVE || x->state == RX_X_DORMANT) &&
		    (!v || x->last_ns < v->last_ns))
			v = x;
	return v;
}

static void mark(struct rx_ctx *c, struct rx_xfer *v, const char *why)
{
	v->evicted = why;
	c->nevicting++;
}

/* The staged and unvouched bytes that count: without those of transfers
 * marked to go (walked only while some are). */
static void counted(const struct rx_ctx *c, uint64_t *staged, uint64_t *unvouched)
{
	*staged = c->staged_bytes;
	*unvouched = c->unvouched_bytes;
	for (const struct rx_xfer *x = c->nevicting ? c->xfers : NULL; x; x = x->next) {
		if (!x->evicted)
			continue;
		*staged -= x->staged_bytes <= *staged ? x->staged_bytes : *staged;
		if (!x->catalog_ok)
			*unvouched -= x->staged_bytes <= *unvouched ? x->staged_bytes : *unvouched;
	}
}

/* Catalog pieces are held to the total only: they are what turns a transfer
 * vouched, and they are bounded by --max-catalog per staged transfer. */
static int fits(const struct rx_ctx *c, const struct rx_xfer *x, uint64_t n, int catalog)
{
	uint64_t staged, unvouched;

	counted(c, &staged, &unvouched);
	if (staged + n > c->cfg->max_staging)
		return 0;
	return catalog || x->catalog_ok || unvouched + n <= c->cfg->max_unvouched;
}

int rx_quota_room(struct rx_ctx *c, struct rx_xfer *x, uint64_t n, int catalog)
{
	if (x->evicted) { /* going when this datagram or tick is over */
		c->st.quota_drops++;
		return SL_ERR_TOOBIG;
	}
	while (!fits(c, x, n, catalog)) {
		struct rx_xfer *v = idlest_unvouched(c, x);
		if (!v) {
			c->st.quota_drops++;
			return SL_ERR_TOOBIG;
		}
		mark(c, v, x->catalog_ok
		     ? "staging quota: room made for a transfer whose signatures verified"
		     : "staging quota for unverified transfers: the idlest one is removed");
	}
	return SL_OK;
}

int rx_quota_new_staging(struct rx_ctx *c, const struct rx_xfer *except)
{
	while (c->nstaged - c->nevicting >= c->cfg->max_staged) { /* every marked one has staging */
		struct rx_xfer *v = idlest_unvouched(c, except);
		if (!v)
			return SL_ERR_TOOBIG;
		mark(c, v, "staged-transfer quota (--max-staged): the idlest unverified transfer is removed");
	}
	return SL_OK;
}

void rx_quota_gone(struct rx_ctx *c, struct rx_xfer *x)
{
	rx_quota_add(c, x, -(int64_t)x->staged_bytes);
	if (x->dirfd >= 0)
		c->nstaged--;
	if (x->evicted) {
		x->evicted = NULL;
		c->nevicting--;
	}
}

int rx_quota_idle(const struct rx_ctx *c, const struct rx_xfer *x, uint64_t now)
{
	/* a release in progress (intent written, or held up by the disk) is not idle staging */
	return x->state == RX_X_DORMANT && x->dirfd >= 0 && !x->release_wait && !x->accepted && !x->rjob &&
	       now - x->last_ns >= c->cfg->keep_incomplete_ns;
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
