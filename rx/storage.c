/* storage.c — sluice-rx when the disk of STATE is full or fails (see rx.h).
 *
 * A full disk (ENOSPC, EDQUOT) or an I/O error while staging, building the
 * release tree or writing the ledger is not the sender's doing: nothing
 * staged is removed for it and no transfer is rejected for it. A block that
 * cannot be written is not marked done (a repeat pass brings it again); a
 * complete transfer whose release fails is kept and tried again on ticks
 * (after 5 s, doubling to 5 min; at once when the episode ends) and on its
 * next transfer header (at most once a second). This file keeps the count
 * and each held-up release's timing (struct rx_held, x->held, known only
 * here: rx_storage_held, rx_storage_try, rx_storage_due) and says when an
 * episode ends (rx_storage_tick's return); release.c tries the releases
 * again (rx_release, rx_release_held).
 *
 * An episode starts with the first failure and ends once no write failed
 * for RX_DISK_QUIET_NS and, after a full disk, the reserve is whole again
 * with as much again free. It is logged and audited once (event "storage";
 * written as soon as it can be), counted (status line "storage", metrics
 * sluice_rx_storage_*) and shown by `sluice status`.
 *
 * STATE/reserve holds cfg->reserve bytes (fallocate) for the writes that
 * say what happened and finish a release when the disk is full: the status
 * file, audit entries, a release's last steps. Its room is lent just before
 * them (the file is removed) and taken back just after (allocated again);
 * the writer thread (writer.c) is held between chunks meanwhile, so staged
 * data never takes that room. It is
 * topped up on ticks as space allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "rx.h"
#include "safefs.h"
#include "timefmt.h"

#define RESERVE "reserve"
#define RESERVE_STEP (64u << 10)
#define RX_DISK_QUIET_NS 10000000000ull

/* The timing of x's release tries (x->held): made at its first try
 * (rx_storage_try), freed with x (rx_storage_forget). */
struct rx_held {
	uint64_t try_ns;            /* last try */
	uint64_t retry_ns;          /* next try on a tick */
	uint64_t backoff_ns;
};

static int is_full(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

static uint64_t reserve_target(const struct rx_ctx *c)
{
	if (c->cfg->reserve == RX_RESERVE_NONE)
		return 0;
	return c->cfg->reserve ? c->cfg->reserve : RX_RESERVE_DEFAULT;
}

uint64_t rx_storage_free(const struct rx_ctx *c)
{
	struct statvfs sv;

	if (c->state_fd < 0 || fstatvfs(c->state_fd, &sv) != 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Allocate STATE/reserve up to its size, a step at a time (as much as fits). */
static void reserve_fill(struct rx_ctx *c)
{
	static const uint8_t fill[4096] = { 0xa5 };
	uint64_t want = reserve_target(c), have;
	struct stat st;
	int fd;

	if (!want || c->disk.lent || c->state_fd < 0)
		return;
	fd = openat(c->state_fd, RESERVE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	for (have = (uint64_t)st.st_size; have < want;) {
		uint64_t n = want - have < RESERVE_STEP ? want - have : RESERVE_STEP;
		if (fallocate(fd, 0, (off_t)have, (off_t)n) != 0) {
			/* no fallocate here: write it (never read, only its room counts) */
			if (errno != EOPNOTSUPP)
				break;
			for (uint64_t o = 0; o < n; o += sizeof fill)
				if (sl_pwrite_all(fd, fill, n - o < sizeof fill ? n - o : sizeof fill, have + o))
					break;
			if (fsync(fd) != 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size < have + n)
				break;
		}
		have += n;
	}
	c->disk.reserve = fstat(fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	if (c->disk.reserve > (uint64_t)st.st_size)
		c->disk.reserve = (uint64_t)st.st_size;
	close(fd);
}

void rx_storage_open(struct rx_ctx *c)
{
	memset(&c->disk, 0, sizeof c->disk);
	if (reserve_target(c))
		reserve_fill(c);
	else if (c->state_fd >= 0)
		unlinkat(c->state_fd, RESERVE, 0);
}

void rx_storage_lend(struct rx_ctx *c)
{
	if (c->disk.lent++)
		return;
	/* the writer thread writes no staged data while the room is lent */
	rx_writer_hold(c->writer, 1);
	if (!c->disk.reserve)
		return;
	if (unlinkat(c->state_fd, RESERVE, 0) == 0 || errno == ENOENT)
		c->disk.reserve = 0;
}

void rx_storage_restore(struct rx_ctx *c)
{
	if (c->disk.lent && --c->disk.lent == 0) {
		reserve_fill(c);
		rx_writer_hold(c->writer, 0);
	}
}

/* The reserve's room is needed now: an episode is on, or little is free. */
int rx_storage_tight(const struct rx_ctx *c)
{
	return c->disk.reserve && (c->disk.on || rx_storage_free(c) < 2 * reserve_target(c));
}

int rx_audit(struct rx_ctx *c, const char *event, const char *hex, const char *manifest_hex,
	     const char *reason)
{
	struct sl_audit_head a, b;
	int lend = rx_storage_tight(c), r;

	sl_audit_get_head(c->audit, &a);
	for (;;) {
		if (lend)
			rx_storage_lend(c);
		r = sl_audit_append(c->audit, event, hex, manifest_hex, reason, NULL);
		if (lend)
			rx_storage_restore(c);
		sl_audit_get_head(c->audit, &b);
		if (r == SL_OK || b.seq != a.seq) /* recorded (perhaps not its head file) */
			return SL_OK;
		if (lend || c->disk.lent || !c->disk.reserve)
			return r;
		lend = 1;
	}
}

int rx_state_write(struct rx_ctx *c, const char *name, const void *data, size_t len)
{
	int lend = rx_storage_tight(c), r;

	for (;;) {
		if (lend)
			rx_storage_lend(c);
		r = sl_write_file_atomic(c->state_fd, name, data, len, 0644, NULL);
		if (lend)
			rx_storage_restore(c);
		if (r == SL_OK || lend || c->disk.lent || !c->disk.reserve)
			return r;
		lend = 1;
	}
}

/* The episode's one audit entry (tried again on ticks until written). */
static void episode_audit(struct rx_ctx *c)
{
	char why[900], t[32];

	sl_time_format((int64_t)c->disk.since_wall, t, sizeof t);
	snprintf(why, sizeof why, "%s since %s: %s; %llu write(s) failed so far; nothing staged is "
		 "removed for it: what could not be written comes again with a repeat pass, and a "
		 "release held up is tried again", is_full(c->disk.err) ? "disk full" : "I/O error", t,
		 c->disk.first, (unsigned long long)c->disk.fails);
	if (rx_audit(c, "storage", c->disk.hex[0] ? c->disk.hex : NULL, NULL, why) == SL_OK)
		c->disk.audited = 1;
}

void rx_storage_failed(struct rx_ctx *c, struct rx_xfer *x, const char *what, int err)
{
	if (is_full(err))
		c->st.disk_full++;
	else
		c->st.disk_io++;
	c->disk.err = err;
	c->disk.last_fail_ns = c->now;
	c->disk.fails++;
	if (c->disk.on)
		return; /* said once per episode; counted */
	c->disk.on = 1;
	c->disk.since_ns = c->now;
	c->disk.since_wall = (int64_t)time(NULL);
	c->disk.fails = 1;
	c->disk.audited = 0;
	c->st.disk_episodes++;
	snprintf(c->disk.hex, sizeof c->disk.hex, "%s", x ? x->hex : "");
	if (strstr(what, strerror(err ? err : EIO)))
		snprintf(c->disk.first, sizeof c->disk.first, "%s", what);
	else
		snprintf(c->disk.first, sizeof c->disk.first, "%s (%s)", what, strerror(err ? err : EIO));
	sl_log(c->log, SL_LOG_ERR, "storage: %s%s%s%s%s; nothing staged is removed for it: what could not "
	       "be written comes again with a repeat pass, and releases held up are tried again. %s",
	       is_full(err) ? "DISK FULL: " : "I/O ERROR: ", x ? "transfer " : "", x ? x->hex : "",
	       x ? ": " : "", c->disk.first, is_full(err)
	       ? "Free space on the filesystem of --state (--release is on it too: move released "
		 "transfers away)"
	       : "Check the disk of --state (kernel log)");
	episode_audit(c);
}

void rx_storage_held(struct rx_ctx *c, struct rx_xfer *x, const char *why)
{
	struct rx_held *h = x->held;

	if (!x->catalog_ok || x->ndone < x->hdr.nchunks) {
		x->release_wait = 0; /* chunks to receive again: a repeat pass completes it */
		return;
	}
	if (!x->release_wait)
		rx_log_limited(c, SL_LOG_WARN, c->now, "transfer %s: release held up (%s); its staging is "
			       "kept and the release tried again", x->hex, why);
	x->release_wait = 1;
	if (h) { /* without it (no memory): tried again on every tick */
		h->backoff_ns = !h->backoff_ns ? RX_RETRY_FIRST_NS
				: h->backoff_ns >= RX_RETRY_MAX_NS / 2 ? RX_RETRY_MAX_NS
				: h->backoff_ns * 2;
		h->retry_ns = c->now + h->backoff_ns;
	}
	c->st.release_deferred++;
}

int rx_storage_try(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_held *h = x->held;

	if (!h && (h = x->held = calloc(1, sizeof *h)) == NULL)
		return 1; /* no memory: tried, untimed */
	if (x->release_wait && c->now - h->try_ns < RX_RETRY_HEADER_NS)
		return 0;
	h->try_ns = c->now;
	if (x->release_wait) /* whatever this try does (a deferral sets it again) */
		h->retry_ns = c->now + (h->backoff_ns ? h->backoff_ns : RX_RETRY_FIRST_NS);
	return 1;
}

int rx_storage_due(struct rx_xfer *x, uint64_t now, int ended)
{
	struct rx_held *h = x->held;

	if (h && ended)
		h->backoff_ns = 0;
	if (!ended && h && now < h->retry_ns)
		return 0;
	if (h)
		h->try_ns = 0;
	return 1;
}

void rx_storage_forget(struct rx_xfer *x)
{
	free(x->held);
	x->held = NULL;
}

/* Writes work again: no failure for a while and, after a full disk, room. */
static int episode_over(struct rx_ctx *c, uint64_t now)
{
	uint64_t want = reserve_target(c);

	if (now - c->disk.last_fail_ns < RX_DISK_QUIET_NS)
		return 0;
	return !is_full(c->disk.err) || (c->disk.reserve >= want && rx_storage_free(c) >= want);
}

enum rx_disk_tick rx_storage_tick(struct rx_ctx *c, uint64_t now)
{
	int ended = 0;

	if (now - c->disk.last_tick_ns < 1000000000ull && c->disk.last_tick_ns)
		return RX_DT_WAIT;
	c->disk.last_tick_ns = now;
	if (c->disk.reserve < reserve_target(c))
		reserve_fill(c);
	if (c->disk.on && !c->disk.audited)
		episode_audit(c);
	if (c->disk.on && episode_over(c, now)) {
		sl_log(c->log, SL_LOG_INFO, "storage: writes work again (%s for %llu s, %llu write(s) "
		       "failed); held-up releases are tried now, a repeat pass brings what is missing",
		       is_full(c->disk.err) ? "the disk was full" : "I/O errors",
		       (unsigned long long)((now - c->disk.since_ns) / 1000000000ull),
		       (unsigned long long)c->disk.fails);
		c->disk.on = 0;
		ended = 1;
	}
	return ended ? RX_DT_ENDED : RX_DT_RAN;
}

void rx_audit_limited(struct rx_ctx *c, uint64_t now, const char *event, const char *hex,
		      const char *manifest_hex, const char *reason)
{
	char why[1200];

	/* 10 entries at once, then one a minute: each is fsync'd. */
	if (!rx_bucket_take(&c->audit_bucket, now, 10, 60000000000ull)) {
		c->st.audit_suppressed++;
		return;
	}
	if (c->audit_bucket.suppressed) {
		snprintf(why, sizeof why, "%s (%llu similar entries suppressed before this one)", reason,
			 (unsigned long long)c->audit_bucket.suppressed);
		c->audit_bucket.suppressed = 0;
		reason = why;
	}
	rx_audit(c, event, hex, manifest_hex, reason);
}
