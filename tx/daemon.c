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

int tx_daemon(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		 volatile sig_atomic_t *stop, struct sl_diag *d)
{
	int root, outbox = -1, sent = -1, failed = -1, r = SL_OK;
	struct idle in;
	char b1[32];

	memset(&in, 0, sizeof in);
	if (mkdir(spool, 0750) != 0 && errno != EEXIST)
		return sl_diag_errno(d, "cannot create spool %s", spool);
	root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sl_diag_errno(d, "spool %s", spool);
	if ((outbox = sl_mkdir_open(root, "outbox", 0750, d)) < 0 ||
	    (sent = sl_mkdir_open(root, "sent", 0750, d)) < 0 ||
	    (failed = sl_mkdir_open(root, "failed", 0750, d)) < 0) {
		r = SL_ERR_IO;
		goto out;
	}
	r = sl_wire_tx_new(cfg->link_key, cfg->suite, cfg->symsize, &in.wire, d);
	if (!r)
		r = sl_link_open_tx(cfg->link_uri, NULL, &in.link, d);
	in.dg = malloc(sl_wire_dgram_size(cfg->symsize));
	if (r || !in.dg) {
		r = r ? r : SL_ERR_NOMEM;
		goto out;
	}
	sl_log(cfg->log, SL_LOG_INFO, "watching %s/outbox; sending to %s at %s", spool, cfg->link_uri,
	       cfg->rate_bps ? sl_fmt_rate((double)cfg->rate_bps, b1, sizeof b1) : "an unlimited rate");

	while (!*stop) {
		char name[256], path[4096], log[1600];
		struct tx_source *src = NULL;
		struct tx_send_result res;
		struct sl_diag e = { "" };
		int s;

		idle_beat(cfg, &in, sl_now_ns());
		if (!oldest(outbox, name, sizeof name)) {
			struct timespec nap = { 0, 200000000 };
			nanosleep(&nap, NULL);
			continue;
		}
		snprintf(path, sizeof path, "%s/outbox/%s", spool, name);
		s = tx_source_open(path, policy, &src, &e);
		if (!s) {
			sl_log(cfg->log, SL_LOG_INFO, "%s: transfer %s, %zu files, %s", name, src->id_hex,
			       src->nfiles, sl_fmt_bytes(src->total_bytes, b1, sizeof b1));
			s = tx_send(cfg, src, &res, &e);
		}
		if (s == SL_ERR_AGAIN) {
			/* Interrupted: leave it in outbox/ for the next start. */
			tx_source_free(src);
			break;
		}
		if (s) {
			snprintf(log, sizeof log, "failed %ld: %s\n", (long)time(NULL), e.msg[0] ? e.msg : sl_strerror(s));
			sl_log(cfg->log, SL_LOG_ERR, "%s: not sent: %s (moved to failed/)", name, e.msg);
		} else {
			snprintf(log, sizeof log, "sent %ld: transfer %s, %llu bytes, %llu datagrams, "
				 "%.2f s, session %016llx, passes %u\n", (long)time(NULL), src->id_hex,
				 (unsigned long long)res.raw_bytes, (unsigned long long)res.datagrams,
				 res.seconds, (unsigned long long)res.session, cfg->passes);
			sl_log(cfg->log, SL_LOG_INFO, "%s: sent (moved to sent/)", name);
			memcpy(in.last_xfer, src->id, 16);
			in.last_seq = src->sequence;
		}
		tx_source_free(src);
		write_log(s ? failed : sent, name, log);
		if (renameat(outbox, name, s ? failed : sent, name) != 0) {
			r = sl_diag_errno(d, "cannot move %s out of outbox (it would be sent again)", name);
			break;
		}
		in.next_ns = 0;
	}
out:
	free(in.dg);
	sl_link_close(in.link);
	sl_wire_tx_free(in.wire);
	if (outbox >= 0)
		close(outbox);
	if (sent >= 0)
		close(sent);
	if (failed >= 0)
		close(failed);
	close(root);
	return r;
}
