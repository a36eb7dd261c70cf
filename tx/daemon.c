/* daemon.c — `sluice-tx daemon`: send every transfer that appears in a spool.
 *
 * Spool layout (created if missing):
 *   SPOOL/outbox/NAME/   a transfer directory, moved in with one rename when
 *                        complete (build it next to the spool, then mv)
 *   SPOOL/sent/NAME/     sent; SPOOL/sent/NAME.log says when, how, session
 *   SPOOL/failed/NAME/   refused or failed; SPOOL/failed/NAME.log says why
 * Transfers are sent oldest first (by the time they arrived in outbox/).
 * Between transfers the daemon keeps sending heartbeats (state idle), so the
 * receiver can tell a quiet sender from a broken link.
 */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "pace.h"
#include "proto.h"
#include "safefs.h"
#include "source.h"
#include "units.h"

/* The oldest entry of outbox/ (by ctime: when it was renamed in). */
static int oldest(int outbox, char *name, size_t cap)
{
	DIR *dp;
	struct dirent *e;
	int fd = dup(outbox);
	struct timespec best = { 0, 0 };
	int found = 0;

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(dp);
	while ((e = readdir(dp))) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(outbox, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!found || st.st_ctim.tv_sec < best.tv_sec ||
		    (st.st_ctim.tv_sec == best.tv_sec && st.st_ctim.tv_nsec < best.tv_nsec)) {
			if (strlen(e->d_name) < cap) {
				strcpy(name, e->d_name);
				best = st.st_ctim;
				found = 1;
			}
		}
	}
	closedir(dp);
	return found;
}

static void write_log(int dirfd, const char *name, const char *text)
{
	char fn[300];
	int fd;
	snprintf(fn, sizeof fn, "%s.log", name);
	fd = openat(dirfd, fn, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0) {
			/* the move below still records the outcome */
		}
		close(fd);
	}
}

/* Idle heartbeats between transfers, in a session of their own. */
struct idle {
	struct sl_link *link;
	struct sl_wire_tx *wire;
	uint8_t *dg;
	uint8_t last_xfer[16];
	uint64_t last_seq;
	uint64_t next_ns;
};

static void idle_beat(const struct tx_send_cfg *cfg, struct idle *in, uint64_t now)
{
	struct sl_heartbeat hb;
	struct sl_wire_hdr h = { .type = SL_T_HEARTBEAT, .paylen = SL_HB_BODY };
	uint8_t body[SL_HB_BODY];
	struct iovec iov;

	if (now < in->next_ns || !in->link)
		return;
	tx_heartbeat_fill(cfg, sl_wire_tx_packets(in->wire), SL_HB_IDLE, &hb);
	memcpy(hb.xfer, in->last_xfer, 16);
	hb.xfer_sequence = in->last_seq;
	sl_heartbeat_encode(&hb, body);
	memcpy(h.xfer, in->last_xfer, 16);
	if (sl_wire_seal(in->wire, &h, body, in->dg) == SL_OK) {
		iov.iov_base = in->dg;
		iov.iov_len = sl_wire_dgram_size(cfg->symsize);
		sl_link_send(in->link, &iov, 1, NULL);
	}
	in->next_ns = now + (uint64_t)cfg->heartbeat_ms * 1000000ull;
}

/* The daemon between steps: the spool's directories, opened, and the idle
 * heartbeats' session. */
struct tx_daemon {
	const struct tx_send_cfg *cfg;
	const char *spool, *policy;
	int root, outbox, sent, failed;
	struct idle in;
};

void tx_daemon_close(struct tx_daemon *dm)
{
	if (!dm)
		return;
	free(dm->in.dg);
	sl_link_close(dm->in.link);
	sl_wire_tx_free(dm->in.wire);
	if (dm->outbox >= 0)
		close(dm->outbox);
	if (dm->sent >= 0)
		close(dm->sent);
	if (dm->failed >= 0)
		close(dm->failed);
	if (dm->root >= 0)
		close(dm->root);
	free(dm);
}

int tx_daemon_open(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		   struct tx_daemon **out, struct sl_diag *d)
{
	struct tx_daemon *dm = calloc(1, sizeof *dm);
	int r;

	*out = NULL;
	if (!dm)
		return SL_ERR_NOMEM;
	dm->cfg = cfg;
	dm->spool = spool;
	dm->policy = policy;
	dm->outbox = dm->sent = dm->failed = -1;
	dm->root = -1;
	if (mkdir(spool, 0750) != 0 && errno != EEXIST) {
		r = sl_diag_errno(d, "cannot create spool %s", spool);
		goto fail;
	}
	dm->root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dm->root < 0) {
		r = sl_diag_errno(d, "spool %s", spool);
		goto fail;
	}
	if ((dm->outbox = sl_mkdir_open(dm->root, "outbox", 0750, d)) < 0 ||
	    (dm->sent = sl_mkdir_open(dm->root, "sent", 0750, d)) < 0 ||
	    (dm->failed = sl_mkdir_open(dm->root, "failed", 0750, d)) < 0) {
		r = SL_ERR_IO;
		goto fail;
	}
	r = sl_wire_tx_new(cfg->link_key, cfg->suite, cfg->symsize, &dm->in.wire, d);
	if (!r)
		r = sl_link_open_tx(cfg->link_uri, NULL, &dm->in.link, d);
	dm->in.dg = malloc(sl_wire_dgram_size(cfg->symsize));
	if (r || !dm->in.dg) {
		r = r ? r : SL_ERR_NOMEM;
		goto fail;
	}
	*out = dm;
	return SL_OK;
fail:
	tx_daemon_close(dm);
	return r;
}

/* Transfer `name` of outbox/ opened and sent; its log line in `log`. */
static int send_one(struct tx_daemon *dm, const char *name, char *log, size_t cap)
{
	const struct tx_send_cfg *cfg = dm->cfg;
	char path[4096], b1[32];
	struct tx_source *src = NULL;
	struct tx_send_result res;
	struct sl_diag e = { "" };
	int s;

	snprintf(path, sizeof path, "%s/outbox/%s", dm->spool, name);
	s = tx_source_open(path, dm->policy, &src, &e);
	if (!s) {
		struct tx_send_cfg on = *cfg;
		on.link = dm->in.link; /* the idle session's: one capture file, one socket */
		sl_log(cfg->log, SL_LOG_INFO, "%s: transfer %s, %zu files, %s", name, src->id_hex,
		       src->nfiles, sl_fmt_bytes(src->total_bytes, b1, sizeof b1));
		s = tx_send(&on, src, &res, &e);
	}
	if (s == SL_ERR_AGAIN) {
		/* Interrupted: leave it in outbox/ for the next start. */
		tx_source_free(src);
		return s;
	}
	if (s) {
		snprintf(log, cap, "failed %ld: %s\n", (long)time(NULL), e.msg[0] ? e.msg : sl_strerror(s));
		sl_log(cfg->log, SL_LOG_ERR, "%s: not sent: %s (moved to failed/)", name, e.msg);
	} else {
		snprintf(log, cap, "sent %ld: transfer %s, %llu bytes, %llu datagrams, "
			 "%.2f s, session %016llx, passes %u\n", (long)time(NULL), src->id_hex,
			 (unsigned long long)res.raw_bytes, (unsigned long long)res.datagrams,
			 res.seconds, (unsigned long long)res.session, cfg->passes);
		sl_log(cfg->log, SL_LOG_INFO, "%s: sent (moved to sent/)", name);
		memcpy(dm->in.last_xfer, src->id, 16);
		dm->in.last_seq = src->sequence;
	}
	tx_source_free(src);
	return s;
}

int tx_daemon_step(struct tx_daemon *dm, struct sl_diag *d)
{
	char name[256], log[1600];
	int s;

	idle_beat(dm->cfg, &dm->in, sl_now_ns());
	if (!oldest(dm->outbox, name, sizeof name))
		return TX_DAEMON_IDLE;
	s = send_one(dm, name, log, sizeof log);
	if (s == SL_ERR_AGAIN)
		return TX_DAEMON_STOPPED;
	write_log(s ? dm->failed : dm->sent, name, log);
	if (renameat(dm->outbox, name, s ? dm->failed : dm->sent, name) != 0)
		return sl_diag_errno(d, "cannot move %s out of outbox (it would be sent again)", name);
	dm->in.next_ns = 0;
	return s ? TX_DAEMON_FAILED : TX_DAEMON_SENT;
}

int tx_daemon(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		 volatile sig_atomic_t *stop, struct sl_diag *d)
{
	struct tx_daemon *dm;
	char b1[32];
	int r = tx_daemon_open(cfg, spool, policy, &dm, d);

	if (r)
		return r;
	sl_log(cfg->log, SL_LOG_INFO, "watching %s/outbox; sending to %s at %s", spool, cfg->link_uri,
	       cfg->rate_bps ? sl_fmt_rate((double)cfg->rate_bps, b1, sizeof b1) : "an unlimited rate");
	while (!*stop) {
		int s = tx_daemon_step(dm, d);
		if (s < 0)
			r = s;
		if (s < 0 || s == TX_DAEMON_STOPPED)
			break;
		if (s == TX_DAEMON_IDLE) {
			struct timespec nap = { 0, 200000000 };
			nanosleep(&nap, NULL);
		}
	}
	tx_daemon_close(dm);
	return r;
}
