/* finish.c — the heavy steps of a release, and a catalog verified again
 * when its transfer becomes active again, on a thread of their own.
 *
 * For a million small files a release held the receive thread for seconds
 * (the catalog verified again: parsing, signatures, the policy's checks of
 * every name; then each file opened, its size checked, its mode and time
 * set, the files that never got a byte created, the directories' modes
 * and times, a syncfs), and so did the verification of a dormant
 * transfer's kept catalog when a symbol made it active again; meanwhile
 * the kernel dropped the datagrams of every other transfer. Now a job
 * (x->rjob, one per transfer) does them on a thread, rx-finish
 * (sl_pool_start_one, a thread per phase), in two phases:
 *   VERIFY  STATE/xfer/<id>/catalog read back, rx_verify_core (verdict.c);
 *   FINISH  (releases only) the catalog's files written into
 *           STATE/release/<id> (the manifest, the kept signatures), each
 *           file of the manifest opened beneath data/ (created if it never
 *           got a byte), its size checked, its mode and time set, the
 *           directories made and given theirs, syncfs; the stream file's
 *           spilled chunks, all moved into the files by then, freed.
 * Between them, and after FINISH, the receive thread does what only it
 * may (release.c: the ledger's and the base's checks, activation, the
 * hasher's verdict, a delta's copy from its base; then the commit's steps,
 * commit.c, unchanged and crash-safe as before: nothing the job does is
 * outside STATE/release/<id>, which a crash leaves to a repeat pass).
 * rx_tick picks the verdicts up (rx_rjob_poll, poll.c: this file only says
 * which jobs are over), at most one tick later.
 *
 * Who owns what while a phase runs (from its start until the receive thread
 * joins the thread in rx_rjob_done, rx_rjob_cancel or rx_rjob_poll):
 *   the thread  the job: its copies (header, id, hex, limits), its own
 *               descriptors (duplicates of STATE/xfer/<id>, and of
 *               STATE/release/<id> and its data/), its catalog buffer and its
 *               outputs; it reads the policy (VERIFY) and x->manifest
 *               (FINISH), and writes only beneath STATE/release/<id>. It
 *               never touches x or c.
 *   the receive thread  does not free the policy (a reload waits for every
 *               VERIFY phase: rx_rjob_wait_policy), nor free or replace
 *               x->manifest, nor remove x's staged tree, nor free, reset (a
 *               new layout), deactivate or evict x under the job: each path
 *               that would (rx_xfer_free, rx_xfer_release_staging for a
 *               rejection, drop or release, rx_xfer_alloc_maps,
 *               rx_xfer_deactivate) calls rx_rjob_cancel first, which asks
 *               the thread to stop (checked between files), joins it and
 *               drops its verdict; and the choices that would deactivate,
 *               expire or time out a transfer pass over one with a job
 *               (rx_xfer_activate's room, rx_storage_tick, rx_quota_idle,
 *               rx_tick's timeouts). A transfer with a complete catalog and
 *               every chunk receives nothing more meanwhile (its blocks are
 *               done); one being verified again is not active, its symbols
 *               are spooled (dispatch.c).
 * Releases in flight commit in the order of their sequence, then of their
 * start (rx_rjob_older): one whose job is over waits for those with a lower
 * sequence (the one its transfer header declares, the manifest's), so that
 * a small transfer completed while a big one is released does not overtake
 * it in the ledger, whose sequence per link only rises, nor does a later
 * transfer whose job happened to start first in the same tick.
 * Verdicts are applied exactly as when the steps ran in line: a size,
 * hash, signature, policy or ledger refusal rejects, a failure of the disk
 * or of memory defers (release.c, rx_storage_held). If no thread can be started, the
 * phase runs in line, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pace.h"
#include "pool.h"
#include "rx.h"
#include "safefs.h"

#define CANCEL_EVERY 256 /* files between looks at the stop flag */

static int cancelled(const struct rx_rjob *j)
{
	return __atomic_load_n(&j->cancel, __ATOMIC_ACQUIRE);
}

static void verify_phase(struct rx_rjob *j)
{
	size_t len = 0;
	int r = sl_read_file_beneath(j->dirfd, "catalog", (size_t)j->max_catalog, &j->catalog, &len, NULL);

	if (!r && len != j->hdr.catalog_len)
		r = SL_ERR_CORRUPT;
	if (r) {
		j->err = r == SL_ERR_IO ? (errno ? errno : EIO) : 0;
		j->unreadable = 1;
		snprintf(j->out.reason, sizeof j->out.reason, "the staged catalog cannot be read back (%s)",
			 sl_strerror(r));
		j->r = r;
		return;
	}
	struct rx_vin in = { .policy = j->policy, .hdr = &j->hdr, .id = j->id, .hex = j->hex,
			     .catalog = j->catalog };
	j->r = rx_verify_core(&in, &j->out);
}

/* The catalog's entries into STATE/release/<id>: the manifest, and the
 * signature files whose bit is set in keep (those of an interrupted try
 * removed first). */
static int write_entries(struct rx_rjob *j)
{
	struct sl_catalog *cat = malloc(sizeof *cat);
	struct sl_diag d = { "" };
	int r;

	if (!cat) {
		snprintf(j->reason, sizeof j->reason, "out of memory");
		return SL_ERR_NOMEM;
	}
	r = sl_catalog_decode(j->catalog, j->hdr.catalog_len, cat, &d);
	for (unsigned i = 0; !r && i < cat->n; i++) {
		unlinkat(j->top_fd, cat->e[i].name, 0); /* left by an interrupted release */
		if (i == 0 || (j->out.keep >> i & 1))
			r = sl_write_file_beneath(j->top_fd, cat->e[i].name, cat->e[i].data, cat->e[i].len, 0644,
						  &d);
	}
	free(cat);
	if (r) {
		j->err = r == SL_ERR_IO ? (errno ? errno : EIO) : 0;
		snprintf(j->reason, sizeof j->reason, "%s", d.msg);
	}
	return r;
}

/* Every file of the manifest: there (created if it never got a byte), its
 * size the manifest's, its mode and time set while it is open. */
static int check_files(struct rx_rjob *j)
{
	const struct sl_manifest *m = j->m;

	for (size_t i = 0; i < m->nfiles; i++) {
		const struct sl_manifest_file *f = &m->files[i];
		struct stat st;
		int fd, bad;

		if (i % CANCEL_EVERY == 0 && cancelled(j)) {
			snprintf(j->reason, sizeof j->reason, "stopped");
			return SL_ERR_AGAIN;
		}
		fd = rx_tree_file(j->data_fd, f->path);
		if (fd < 0 || fstat(fd, &st) != 0) {
			j->err = errno;
			snprintf(j->reason, sizeof j->reason, "data/%s: %s", f->path, strerror(j->err));
			if (fd >= 0)
				close(fd);
			return SL_ERR_IO;
		}
		if ((uint64_t)st.st_size != f->size) {
			snprintf(j->reason, sizeof j->reason, "data/%s: staged size %lld, manifest says %llu", f->path,
				 (long long)st.st_size, (unsigned long long)f->size);
			close(fd);
			return SL_ERR_HASH;
		}
		bad = rx_shape_file(m, i, fd) != 0;
		j->err = errno;
		close(fd);
		if (bad) {
			snprintf(j->reason, sizeof j->reason, "data/%s: setting its mode and time: %s", f->path,
				 strerror(j->err));
			return SL_ERR_IO;
		}
		j->files++;
	}
	return SL_OK;
}

static void finish_phase(struct rx_rjob *j)
{
	int r = write_entries(j);

	free(j->catalog); /* written out: not held while the files are checked */
	j->catalog = NULL;
	if (!r)
		r = check_files(j);
	rx_crashpoint_at(j->crash_at, j->log, "finishing"); /* test builds: files shaped, no syncfs yet */
	if (!r)
		r = rx_shape_dirs(j->m, j->data_fd, j->reason, sizeof j->reason); /* empty ones a crash took */
	if (!r)
		r = rx_shape_times(j->m, j->data_fd, j->reason, sizeof j->reason); /* the directories' */
	if (r && r != SL_ERR_HASH && !j->err)
		j->err = errno;
	if (!r && syncfs(j->top_fd) != 0) {
		j->err = errno;
		snprintf(j->reason, sizeof j->reason, "syncfs: %s", strerror(j->err));
		r = SL_ERR_IO;
	}
	/* The stream holds only chunks spilled and since moved into the files
	 * (the writer was idle for x, and the tree's marker stands: a restart
	 * discards it too): its blocks freed here, not by the cleanup on the
	 * receive thread (hundreds of MB take it a second). */
	if (j->stream_fd >= 0)
		(void)!ftruncate(j->stream_fd, 0);
	j->r = r;
}

static void run(void *arg, unsigned worker)
{
	struct rx_rjob *j = arg;

	(void)worker;
	if (j->hook)
		j->hook(j->hook_arg, j->hex, j->phase, &j->cancel);
	if (j->phase == RX_RJ_VERIFY)
		verify_phase(j);
	else
		finish_phase(j);
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
}

/* The phase set up in j: on a thread, or here if none can be started. */
static void start(struct rx_rjob *j)
{
	__atomic_store_n(&j->done, 0, __ATOMIC_RELEASE);
	j->r = j->err = 0;
	if (sl_pool_start_one("rx-finish", run, j, &j->pool, NULL) != SL_OK)
		run(j, 0);
}

void rx_rjob_join(struct rx_rjob *j)
{
	if (!j->pool)
		return;
	sl_pool_free(j->pool); /* waits for run to return, joins the thread */
	j->pool = NULL;
}

static void job_free(struct rx_rjob *j)
{
	rx_rjob_join(j);
	sl_close_fd(&j->dirfd);
	sl_close_fd(&j->top_fd);
	sl_close_fd(&j->data_fd);
	sl_close_fd(&j->stream_fd);
	free(j->catalog);
	sl_manifest_free(j->out.m);
	free(j);
}

int rx_rjob_verify(struct rx_ctx *c, struct rx_xfer *x, enum rx_rjob_kind kind)
{
	struct rx_rjob *j;

	if (x->rjob)
		return SL_ERR_EXISTS;
	j = calloc(1, sizeof *j);
	if (!j)
		return SL_ERR_NOMEM;
	j->top_fd = j->data_fd = j->stream_fd = -1;
	j->dirfd = fcntl(x->dirfd, F_DUPFD_CLOEXEC, 0);
	if (j->dirfd < 0) {
		free(j);
		return SL_ERR_NOMEM; /* out of descriptors: not a verdict */
	}
	j->kind = kind;
	j->phase = RX_RJ_VERIFY;
	j->hdr = x->hdr;
	memcpy(j->id, x->id, sizeof j->id);
	memcpy(j->hex, x->hex, sizeof j->hex);
	j->policy = c->policy;
	j->max_catalog = c->cfg->max_catalog;
	j->crash_at = c->cfg->crash_at;
	j->log = c->log;
	j->hook = c->rjob_hook;
	j->hook_arg = c->rjob_hook_arg;
	j->t0 = sl_now_ns();
	j->order = kind == RX_RJ_RELEASE ? ++c->rjob_started : 0;
	x->rjob = j;
	start(j);
	return SL_OK;
}

void rx_rjob_finish(struct rx_ctx *c, struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;

	(void)c;
	rx_rjob_join(j);
	sl_close_fd(&j->dirfd);
	j->phase = RX_RJ_FINISH;
	j->m = x->manifest;
	j->reason[0] = '\0';
	j->top_fd = fcntl(x->top_fd, F_DUPFD_CLOEXEC, 0);
	j->data_fd = fcntl(x->data_fd, F_DUPFD_CLOEXEC, 0);
	if (x->stream_fd >= 0 && x->writer && !rx_writer_busy(x->writer, x))
		j->stream_fd = fcntl(x->stream_fd, F_DUPFD_CLOEXEC, 0);
	j->t_finish = sl_now_ns();
	if (j->top_fd < 0 || j->data_fd < 0) {
		j->err = errno;
		j->r = SL_ERR_IO;
		snprintf(j->reason, sizeof j->reason, "cannot open the staged tree again: %s", strerror(j->err));
		__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
		return;
	}
	start(j);
}

int rx_rjob_done(struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;

	if (!j || !__atomic_load_n(&j->done, __ATOMIC_ACQUIRE))
		return 0;
	rx_rjob_join(j);
	return 1;
}

/* y's release commits before x's: the lower sequence first, then the one
 * started first. */
static int commits_before(const struct rx_xfer *y, const struct rx_xfer *x)
{
	if (y->hdr.sequence != x->hdr.sequence)
		return y->hdr.sequence < x->hdr.sequence;
	return y->rjob->order < x->rjob->order;
}

int rx_rjob_older(const struct rx_ctx *c, const struct rx_xfer *x)
{
	for (const struct rx_xfer *y = c->xfers; y; y = y->next)
		if (y != x && y->rjob && y->rjob->kind == RX_RJ_RELEASE && commits_before(y, x))
			return 1;
	return 0;
}

void rx_rjob_cancel(struct rx_xfer *x)
{
	struct rx_rjob *j = x->rjob;

	if (!j)
		return;
	__atomic_store_n(&j->cancel, 1, __ATOMIC_RELEASE);
	x->rjob = NULL;
	job_free(j); /* joins it */
}

void rx_rjob_wait_policy(struct rx_ctx *c)
{
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x->rjob && x->rjob->phase == RX_RJ_VERIFY)
			rx_rjob_join(x->rjob);
}
