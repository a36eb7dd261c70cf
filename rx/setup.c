/* setup.c — open everything sluice-rx needs before its sandbox, and close it
 * again (see rx.h: rx_setup, rx_teardown). Shared by the daemon and by the
 * tests that drive the receiver in process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pace.h"
#include "opener.h"
#include "rx.h"
#include "safefs.h"
#include "sigfiles.h"

static int open_dir(const char *path, mode_t mode, int create, struct sl_diag *d)
{
	int fd;
	if (create && mkdir(path, mode) != 0 && errno != EEXIST) {
		sl_diag_errno(d, "cannot create %s", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		sl_diag_errno(d, "cannot open directory %s", path);
	return fd;
}

/* Defaults of the quotas that were left 0 (some depend on STATE's free space). */
/* --max-catalog left 0: the policy's largest manifest and as many signature
 * files as a transfer may carry, with the catalog's framing. */
static uint64_t catalog_default(const struct sl_policy *p)
{
	uint64_t n = p->limits.max_manifest_bytes +
		     (uint64_t)SL_CATALOG_MAX_ENTRIES * (SL_SIGFILE_MAX_BYTES + SL_CATALOG_NAME_MAX + 16) + 64;
	return n > (1ull << 30) ? 1ull << 30 : n;
}

static void quota_defaults(struct rx_cfg *cfg, const struct sl_policy *p, int state_fd)
{
	if (!cfg->max_catalog)
		cfg->max_catalog = catalog_default(p);
	if (!cfg->max_staging)
		cfg->max_staging = rx_quota_default_staging(state_fd);
	if (!cfg->max_unvouched)
		cfg->max_unvouched = cfg->max_staging / 4;
	if (!cfg->max_staged)
		cfg->max_staged = 32;
	if (!cfg->keep_incomplete_ns)
		cfg->keep_incomplete_ns = 7 * 86400 * 1000000000ull;
	if (!cfg->layout_hold_ns)
		cfg->layout_hold_ns = 2000000000ull;
}

/* What does not depend on STATE: keys, policy, codecs, buffers. */
static int setup_static(struct rx_ctx *c, const struct rx_cfg *cfg, const char *key_path,
			struct sl_diag *d)
{
	struct sl_wire_rx_cfg wc = { 0 };
	uint8_t *key = NULL;
	int r;

	if (sl_crypto_init())
		return sl_diag_set(d, SL_ERR_CRYPTO, "libsodium or OpenSSL failed to initialise "
				   "(check OPENSSL_CONF and the OpenSSL configuration file)");
	if (key_path) {
		r = sl_link_key_load(key_path, &key, d);
		if (r)
			return r;
		if (d->msg[0])
			sl_log(c->log, SL_LOG_WARN, "%s", d->msg);
	}
	wc.link_key = key;
	wc.allow_unkeyed = cfg->allow_unkeyed;
	wc.max_symsize = cfg->max_symsize;
	r = sl_wire_rx_new(&wc, &c->wire, d);
	sl_link_key_free(key); /* the wire layer keeps its own guarded copy */
	if (r)
		return r;
	r = sl_policy_load(cfg->policy_path, &c->policy, d);
	if (r) {
		char why[sizeof d->msg];
		snprintf(why, sizeof why, "%s", d->msg);
		return sl_diag_set(d, r, "policy %s: %s", cfg->policy_path, why);
	}
	r = sl_fec_new(&c->fec);
	if (r)
		return sl_diag_set(d, r, "FEC codec");
	c->dctx = ZSTD_createDCtx();
	c->chunkcap = (size_t)254 * cfg->max_symsize;
	c->chunkbuf = malloc(c->chunkcap);
	c->hashbuf = malloc(c->chunkcap);
	if (!c->dctx || !c->chunkbuf || !c->hashbuf)
		return SL_ERR_NOMEM;
	return SL_OK;
}

/* The staged-file writes. Set up, registered and restricted to reads and
 * writes before the sandbox, which then needs only io_uring_enter
 * (io_uring operations do not pass seccomp). */
static int setup_file_io(struct rx_ctx *c, const struct rx_cfg *cfg, struct sl_diag *d)
{
	struct iovec reg[2] = { { c->chunkbuf, c->chunkcap }, { c->hashbuf, c->chunkcap } };
	int r = sl_uio_new(cfg->file_io, 64, SL_UIO_RESTRICTED, &c->uio, d);

	if (!r)
		r = sl_uio_register(c->uio, reg, 2, d);
	if (r)
		return r;
	if (d->msg[0])
		sl_log(c->log, SL_LOG_WARN, "%s", d->msg);
	d->msg[0] = '\0';
	return SL_OK;
}

int rx_open_state(struct rx_ctx *c, struct rx_cfg *cfg, struct sl_diag *d)
{
	struct stat a, b;
	char path[4096];
	bool repaired = false;
	int r;

	c->state_fd = open_dir(cfg->state_dir, 0700, 1, d);
	if (c->state_fd < 0)
		return SL_ERR_IO;
	c->release_fd = open_dir(cfg->release_dir, 0755, 1, d);
	if (c->release_fd < 0)
		return SL_ERR_IO;
	quota_defaults(cfg, c->policy, c->state_fd);
	if ((c->xfer_fd = sl_mkdir_open(c->state_fd, "xfer", 0700, d)) < 0 ||
	    (c->relstage_fd = sl_mkdir_open(c->state_fd, "release", 0700, d)) < 0)
		return SL_ERR_IO;
	if (fstat(c->relstage_fd, &a) != 0 || fstat(c->release_fd, &b) != 0 || a.st_dev != b.st_dev)
		return sl_diag_set(d, SL_ERR_INVAL, "%s and %s are on different filesystems: a release "
				   "must be one atomic rename; put --state and --release on the same one",
				   cfg->state_dir, cfg->release_dir);
	snprintf(path, sizeof path, "%s/ledger", cfg->state_dir);
	r = sl_ledger_open(path, c->log, &repaired, &c->ledger, d);
	if (r) {
		if (r == SL_ERR_AGAIN)
			return sl_diag_set(d, r, "another sluice-rx already uses %s (the ledger is locked)",
					   cfg->state_dir);
		return r;
	}
	r = sl_audit_open(c->state_fd, "audit.log", c->log, &c->audit, d);
	if (r)
		return r;
	if (d->msg[0])
		sl_log(c->log, SL_LOG_WARN, "%s", d->msg);
	rx_storage_open(c); /* STATE/reserve */
	return rx_recover(c);
}

int rx_setup(struct rx_ctx *c, struct rx_cfg *cfg, const struct sl_logger *log,
	     const char *key_path, struct sl_diag *d)
{
	int r;

	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->log = log;
	c->state_fd = c->xfer_fd = c->relstage_fd = c->release_fd = -1;
	r = setup_static(c, cfg, key_path, d);
	if (!r)
		r = setup_file_io(c, cfg, d);
	if (!r && cfg->link_uri) { /* none: the caller feeds rx_handle itself (tests) */
		/* borrow: no copy out of GRO buffers */
		struct sl_link_opts lo = { .borrow = 1, .sockbuf = cfg->sockbuf };
		r = sl_link_open_rx(cfg->link_uri, &lo, &c->link, d);
	}
	if (!r)
		r = rx_open_state(c, cfg, d);
	return r;
}

void rx_deactivate_all(struct rx_ctx *c)
{
	for (struct rx_xfer *x = c->xfers; x; x = x->next)
		if (x->state == RX_X_ACTIVE) {
			rx_xfer_deactivate(c, x);
			rx_xfer_drop_evicted(c); /* x's window spooled: never x, the asker */
		}
}

void rx_close_state(struct rx_ctx *c)
{
	rx_deactivate_all(c);
	while (c->xfers) {
		struct rx_xfer *x = c->xfers;
		c->xfers = x->next;
		rx_xfer_free(x);
	}
	sl_audit_close(c->audit);
	sl_ledger_close(c->ledger);
	c->audit = NULL;
	c->ledger = NULL;
	sl_close_fd(&c->state_fd);
	sl_close_fd(&c->xfer_fd);
	sl_close_fd(&c->relstage_fd);
	sl_close_fd(&c->release_fd);
	c->nactive = c->nstaged = c->nevicting = 0;
	c->staged_bytes = c->unvouched_bytes = 0;
	memset(c->sessions, 0, sizeof c->sessions);
	memset(&c->st, 0, sizeof c->st);
	memset(&c->log_bucket, 0, sizeof c->log_bucket);
	memset(&c->audit_bucket, 0, sizeof c->audit_bucket);
	memset(&c->disk, 0, sizeof c->disk);
}

int rx_threads_start(struct rx_ctx *c)
{
	int r = rx_hasher_start(c->chunkcap, &c->hasher);

	if (!r)
		r = rx_writer_start(c->cfg->writer_queue, c->cfg->writer_spill, &c->writer);
	return r;
}

void rx_teardown(struct rx_ctx *c)
{
	rx_close_state(c); /* flushes what the writer holds for each transfer */
	rx_writer_stop(c->writer);
	c->writer = NULL;
	rx_hasher_stop(c->hasher);
	rx_opener_free(c->opener); /* main.c's, when it stopped before freeing it */
	c->opener = NULL;
	sl_link_close(c->link);
	sl_wire_rx_free(c->wire);
	sl_fec_free(c->fec);
	ZSTD_freeDCtx(c->dctx);
	sl_uio_free(c->uio);
	free(c->chunkbuf);
	free(c->zbuf);
	free(c->hashbuf);
	sl_policy_free(c->policy);
}

