/* rx.h — sluice-rx internals shared by its files (private header).
 *
 * The receiver is one event loop (main.c) feeding datagrams to dispatch.c,
 * with three helper threads started after the sandbox: the writer and its
 * sync thread (writer.c: create, write and sync the staged files; chunks
 * that find its queue full are spilled into the stream file and moved
 * later) and the hasher (hasher.c); and a thread per job for a catalog being
 * verified (verify.c), a release's verification and finishing of its tree,
 * or a catalog verified again when its transfer is active again (finish.c),
 * and a delta's copy from its base (base.c).
 * Per transfer (xfer.c) it keeps state on disk under STATE/xfer/<id>/:
 *   meta         the transfer header and symbol size it was staged with
 *   catalog.part catalog pieces as they decode, at their offsets
 *   catalog      the whole catalog once verified (read back by a job when
 *                needed, finish.c: no transfer keeps it in memory, and a
 *                dormant one no manifest either)
 *   stream       sparse file of decoded chunk bytes at their stream offsets:
 *                until the catalog is verified (see direct.c), then chunks
 *                spilled at a full writer queue until the writer moves them
 *                (writer.c); discarded when a tree marker exists at start
 *   tree         marker: STATE/release/<id>/data holds the files, written in place
 *   done         one byte per chunk, written only after the chunk is durable
 *                (a bitmap in memory, donemap.h)
 *   spool        symbols of blocks evicted undecoded, at (block*255+row)*S
 *   spool.idx    12-byte records (block, row, k) naming what spool holds
 *   report       the last timeout report
 *   repair       the repair code of the last timeout (repair.c), while dormant
 *   release      intent: verified and being released (commit.c finishes it)
 * and STATE/reserve is room kept for when the disk is full (storage.c).
 * In memory it keeps a window of blocks being assembled (assemble.c),
 * bounded by --window slots per transfer, not by transfer size, the writer's
 * queue (--writer-queue bytes), and per chunk of an active transfer a few
 * bits (done, written, spilled: donemap.h); per file of a verified catalog
 * the parsed manifest line (x->manifest) and, while its tree is open, the
 * writer and hasher threads' deep copy of it (x->hf: the same struct
 * sl_manifest_file, 80 bytes, with its own copy of the path), about
 * 2 x (80 bytes + the path) a file; a file descriptor cache of RX_FDC and
 * WFDC.
 *
 * Quotas (quota.c): what a sender can make the receiver hold is bounded —
 * declared size (policy max-bytes and --max-staging), staged transfers
 * (--max-staged), staged bytes (--max-staging), bytes of transfers no verified
 * catalog vouches for yet (--max-unvouched, evicted oldest first, never at
 * the expense of a vouched one), and idle staging (--keep-incomplete).
 *
 * A full disk or an I/O error (storage.c) is never the sender's doing: what
 * cannot be written is not marked done, a release that cannot finish is
 * kept and tried again; only a verification failure rejects.
 *
 * Layers (tests/lint/rx_layers.py checks them): a file calls the files of
 * its own layer and below, never above, and files never call each other in
 * a circle. What a lower layer finds out that an upper one acts on, it
 * returns (a value, a transfer, an enum, a flag in x) instead of calling
 * back up: verify.c and finish.c say which jobs are over and poll.c applies
 * their verdicts, storage.c's tick says whether held-up releases are due,
 * the spool hands rows to assemble.c, and quota.c marks the transfers it
 * evicts for room (x->evicted), which dispatch.c and poll.c drop when the
 * datagram, tick step or verdict that needed the room is over.
 *   L1 main setup options sandbox opener: the daemon, its start and stop
 *   L2 dispatch status poll: datagrams, ticks, the threads' verdicts applied
 *   L3 place layout: decoded blocks placed, a transfer's header and layout
 *   L4 release commit: a complete transfer released, its steps committed
 *   L5 ending xfer: a transfer known, made active or dormant, ended
 *   L6 assemble window: a transfer's window of blocks being decoded
 *   L7 direct durable base verify finish verdict: the tree written in place,
 *      made durable, a delta's base; the verification and release jobs
 *   L8 storage quota spool repair: the disk full or failing, what a sender
 *      may make the receiver hold, symbols of blocks evicted undecoded, the
 *      repair code of what a transfer lacks
 *   L9 writer hasher: the writer and hashing threads
 *   L10 donemap pending shape ring crash limited: helpers that call no other
 *      file
 */
#ifndef SL_RX_H
#define SL_RX_H

#include <pthread.h>
#include <stdint.h>
#include <zstd.h>

#include "sha256.h"

#include "audit.h"
#include "error.h"
#include "fec.h"
#include "grow.h"
#include "ledger.h"
#include "link.h"
#include "log.h"
#include "manifest.h"
#include "policy.h"
#include "uring_io.h"
#include "proto.h"
#include "repair.h"
#include "wire.h"
#include "donemap.h"

#define RX_MAX_SESSIONS 16
#define RX_MAX_KNOWN 256          /* transfers remembered in memory */
#define RX_WINDOW_MAX 4096         /* block slots per transfer, at most */
#define RX_FDC 16                   /* open staged files cached per transfer */

struct rx_cfg {
	const char *link_uri;
	const char *state_dir;
	const char *release_dir;
	const char *policy_path;
	unsigned window;            /* block slots per transfer, at least */
	uint64_t window_memory;     /* bytes of slots a transfer may grow to (window.c) */
	unsigned max_active;        /* transfers assembled at once */
	uint64_t timeout_ns;        /* silence before a transfer times out */
	uint64_t tail_grace_ns;     /* after the sender's "pass done"/"done" */
	uint64_t max_catalog;       /* bytes */
	uint16_t max_symsize;
	uint64_t max_staging;       /* bytes staged in all (0: from the free space at start) */
	uint64_t max_unvouched;     /* bytes staged for transfers without a verified catalog */
	unsigned max_staged;        /* transfers with staging on disk */
	uint64_t keep_incomplete_ns;/* idle staging older than this is removed */
	uint64_t layout_hold_ns;    /* a live layout is not replaced by another before this idle time */
	size_t sockbuf;             /* SO_RCVBUF asked for */
	int allow_unkeyed;
	int exit_when_idle;         /* pcap: exit at end of file */
	enum sl_uio_mode file_io;   /* staged-file writes: pwrite or io_uring */
	const char *crash_at;       /* test builds only: a crash point name; NULL in production */
	uint64_t reserve;           /* bytes of STATE/reserve (0: RX_RESERVE_DEFAULT, RX_RESERVE_NONE) */
	uint64_t writer_queue;      /* bytes of decoded chunks queued for the writer thread (0: default) */
	uint64_t ring;              /* bytes the receive ring may hold (main.c, ring.h; 0: receive on the main thread) */
	unsigned open_threads;      /* helpers opening datagrams with the ring (opener.h); RX_OPEN_THREADS_AUTO */
	uint64_t writer_spill;      /* bytes spilled to the stream at a full queue (0: default, RX_WRITER_SPILL_NONE) */
};

#define RX_OPEN_THREADS_AUTO UINT32_MAX /* usable CPUs - 1, at most 3 */
#define RX_OPEN_THREADS_MAX 16
#define RX_RESERVE_DEFAULT (1u << 20)
#define RX_RESERVE_NONE UINT64_MAX

struct rx_slot {
	uint64_t block;
	int used;
	uint16_t k;
	unsigned nrows;             /* distinct rows held */
	uint8_t rows[32];           /* bitmap */
	uint8_t present[255];       /* data rows held */
	uint8_t *data;              /* kmax * symsize */
	uint8_t *par;               /* parity symbols, parcap of them */
	uint16_t prow[255];
	unsigned np, parcap;
};

struct rx_spooled {
	uint64_t block;
	uint16_t k;
	uint8_t rows[32];
};

struct sl_pool;
struct rx_hasher;
struct rx_basejob;
struct rx_writer;
struct rx_wx;
struct rx_hx;
struct rx_tfiles;
struct rx_spool;
struct rx_held;
struct rx_pend;

enum { RX_WF_WRITE = 1, RX_WF_SYNC, RX_WF_DONEMAP };
struct rx_wfail {                /* what the writer thread could not do (writer.c) */
	uint64_t idx;               /* the chunk (RX_WF_WRITE, RX_WF_SYNC) */
	int err;                    /* errno */
	int kind;
};

enum rx_xstate { RX_X_ACTIVE = 1, RX_X_DORMANT, RX_X_REJECTED, RX_X_RELEASED };

struct rx_xfer {
	/* who it is and what it is doing (xfer.c, dispatch.c, ending.c) */
	struct rx_xfer *next;
	uint8_t id[16];
	char hex[33];
	enum rx_xstate state;
	uint64_t session;           /* last session seen */
	uint64_t reject_session;    /* symbols of this session are ignored after a rejection */
	uint64_t last_ns;           /* last symbol or header */
	uint64_t last_sym_ns;       /* last symbol accepted into this layout */
	uint64_t tail_deadline_ns;  /* 0: none */
	uint64_t symbols;           /* accepted (status) */
	int timed_out_reported;
	char repair[SL_REPAIR_MAX_CHARS + 1]; /* repair code since its timeout; "": none */
	/* its layout (layout.c) */
	int have_hdr;
	struct sl_xfer_hdr hdr;
	uint16_t symsize;
	/* its staging on disk, and the quotas' view of it (xfer.c, place.c, durable.c, quota.c) */
	int dirfd, stream_fd, done_fd;
	uint8_t *done;              /* bitmap, a bit per chunk (donemap.h): decoded and placed
				     * (or queued for the writer thread) */
	uint8_t *written;           /* ... and in the files (set by the writer, read by the hasher) */
	uint64_t ndone;
	uint64_t staged_bytes;      /* disk it holds: chunks staged and symbols spooled */
	uint64_t spill_quota;       /* receive thread: spill bytes counted in the staging quota */
	int activating;             /* being made active: never evicted for the room its activation makes */
	const char *evicted;        /* marked by quota.c to go for room (why): no longer counted, and
				     * dropped when the datagram or tick is over; NULL */
	struct rx_pend *pend;       /* chunks done since the last checkpoint (pending.c) */
	struct rx_spool *sp;        /* symbols of blocks evicted undecoded (spool.c) */
	/* its catalog (place.c, verify.c, verdict.c) */
	int cat_fd;                 /* catalog.part, while pieces arrive */
	uint8_t *cat_done;          /* per catalog block */
	uint32_t ncat_done;
	int catalog_ok;
	struct rx_vjob *vjob;       /* the complete catalog being verified on a thread (verify.c) */
	int verify_wait;            /* ... complete, waiting for a thread (verify.c's alone) */
	struct sl_manifest *manifest;
	char manifest_hex[65];
	/* its window of blocks being decoded, while active (window.c, assemble.c) */
	struct rx_slot *win;        /* nwin slots */
	unsigned nwin;
	int window_short_warned;    /* the memory bound held the window below the sender's interleave */
	/* files written in place once the catalog is verified (direct.c), and the
	 * threads that write and hash them (writer.c, hasher.c) or copy a delta's
	 * files from its base (base.c) */
	int tree;                   /* 1: chunks go into STATE/release/<id>/data */
	int top_fd, data_fd;
	struct rx_tfiles *tf;       /* open files and unsynced ones, without a writer (direct.c) */
	struct rx_writer *writer;   /* chunks go through it while the tree is open (writer.c) */
	struct rx_wx *wx;           /* the writer's state of x (writer.c), from rx_writer_attach */
	struct rx_hasher *hasher;   /* registered with it while the tree is open */
	struct rx_hx *hx;           /* the hasher's state of x (hasher.c), from rx_hasher_add */
	struct sl_manifest_file *hf; /* the files, for the hasher and writer threads: their own
				     * copy of x->manifest->files, paths strdup'd (direct.c) */
	size_t nhf;
	struct rx_basejob *basejob; /* a delta's files being copied from its base (base.c) */
	int release_writer;         /* complete: released once the writer and hasher are done with it */
	/* its release (release.c, finish.c), and one held up by the disk (storage.c) */
	struct rx_rjob *rjob;       /* its release, or its re-verification, on a thread (finish.c) */
	int accepted;               /* in the ledger: only the steps after it are left */
	int release_wait;           /* complete, the release failed for storage: tried again */
	struct rx_held *held;       /* ... when it was tried and is tried next (storage.c) */
};

/* Block (catalog blocks first, then chunks) of x decoded and placed. */
static inline int rx_xfer_block_is_done(const struct rx_xfer *x, uint64_t block)
{
	if (!x->have_hdr)
		return 0;
	if (block < x->hdr.catalog_blocks)
		return x->cat_done[block] != 0;
	return rx_done_get(x->done, block - x->hdr.catalog_blocks);
}

struct rx_session {
	uint64_t id;
	int used;
	uint64_t first_packet, max_packet, received;
	uint64_t last_ns, last_hb_ns;
	struct sl_heartbeat hb;
	int have_hb;
	int unseen_reported;        /* an "unseen" transfer was audited for this session */
	uint8_t hdr_xfer[16];       /* the transfer this session last sent a header for */
	uint8_t hdr_layout[16];     /* ... and the layout it declared */
	int have_hdr_layout;
	uint8_t suite;
	uint16_t symsize;
};

struct rx_stats {
	uint64_t datagrams, bytes, auth_fail, malformed, unsupported, before_header, ignored;
	uint64_t released, rejected, timeouts, replays;
	uint64_t duplicates;        /* symbols of decoded blocks, rows held, parity beyond need */
	uint64_t blocks_decoded;    /* blocks decoded and placed (chunks, catalog pieces) */
	uint64_t blocks_inconsistent; /* blocks that decoded to a record that does not fit (dropped) */
	uint64_t into_block;        /* data symbols decrypted straight into their block (no copy) */
	uint64_t other_layout;      /* symbols of a layout other than the staged one */
	uint64_t hdr_conflict;      /* headers refused: staged layout live, or vouched manifest differs */
	uint64_t quota_header;      /* headers refused by a quota (size, staged transfers) */
	uint64_t quota_drops;       /* symbols and blocks dropped for staging space */
	uint64_t evicted, expired;  /* staging removed: for a vouched transfer's room, idle too long */
	uint64_t spooled;           /* symbols written to a spool: their block left the window undecoded */
	uint64_t window_grown;      /* windows grown to follow a sender's interleave */
	uint64_t window_short;      /* transfers whose window the memory bound kept below it */
	uint64_t log_suppressed, audit_suppressed;
	uint64_t disk_full, disk_io;   /* writes, syncs and release steps failed: ENOSPC/EDQUOT, other */
	uint64_t disk_episodes;        /* episodes of those (one audit entry each) */
	uint64_t release_deferred;     /* release tries that failed for storage (kept, tried again) */
	uint64_t base_files, base_bytes; /* files and bytes of deltas copied out of their base release */
	uint64_t writer_full;          /* decoded chunks refused: writer queue full and spill at its cap (not done) */
};

/* A storage episode (storage.c): from the first failed write until writes
 * work again and, after a full disk, the reserve is whole. */
struct rx_disk {
	int on;
	int err;                    /* errno of the last failure */
	uint64_t since_ns, last_fail_ns, fails;
	int64_t since_wall;
	int audited;                /* its audit entry is written */
	char first[400];            /* what failed first */
	char hex[33];               /* ... and the transfer it was for ("": none) */
	uint64_t reserve;           /* bytes STATE/reserve holds now */
	unsigned lent;              /* its room is in use (nested) */
	uint64_t last_tick_ns;
};

/* A token bucket: at most `burst` events, refilled at one per `every_ns`. */
struct rx_bucket {
	uint64_t tokens, last_ns, suppressed;
};

struct rx_ring;
struct rx_opener;

struct rx_ctx {
	const struct rx_cfg *cfg;
	const struct sl_logger *log;
	struct sl_wire_rx *wire;
	struct sl_link *link;
	struct sl_fec *fec;
	struct sl_policy *policy;
	struct sl_ledger *ledger;
	struct sl_audit *audit;
	ZSTD_DCtx *dctx;
	uint8_t *chunkbuf;          /* decompression target, max chunk size */
	uint8_t *zbuf;              /* ... for a chunk the writer takes (place.c), zbufcap bytes */
	size_t zbufcap;
	uint8_t *hashbuf;           /* copy buffer of the same size */
	struct sl_uio *uio;         /* writes into the staged files (both registered) */
	struct rx_hasher *hasher;
	struct rx_writer *writer;   /* NULL: chunks are written on the receive thread */
	int wpolling;               /* in rx_writer_poll */
	unsigned nverify;           /* catalogs being verified on threads (verify.c) */
	size_t chunkcap;
	int state_fd, xfer_fd, relstage_fd, release_fd;
	struct rx_xfer *xfers;
	unsigned nactive;
	struct rx_session sessions[RX_MAX_SESSIONS];
	struct rx_stats st;
	uint64_t last_ckpt_ns, last_status_ns, start_ns;
	uint64_t last_drop_log_ns, drops_since_log;
	uint64_t staged_bytes;      /* sum over known transfers */
	uint64_t unvouched_bytes;   /* ... of those without a verified catalog */
	unsigned nstaged;           /* transfers with a staging directory */
	unsigned nevicting;         /* ... of those marked to go for room (x->evicted) */
	uint64_t last_expire_ns;
	uint64_t status_outcomes;   /* outcomes counted when the status file was last written */
	struct rx_bucket log_bucket, audit_bucket;
	uint64_t now;               /* the clock of the datagram or tick being handled */
	struct rx_disk disk;
	struct rx_ring *ring;       /* main.c's receive ring, NULL without one (harness, --ring 0) */
	struct rx_opener *opener;   /* main.c's opening helpers (with the ring), or NULL */
	/* Test builds: called by a release job's thread as each of its phases
	 * starts (finish.c): the transfer, the phase, the job's stop flag
	 * (atomic); NULL in production. */
	void (*rjob_hook)(void *arg, const char *hex, int phase, const int *cancel);
	void *rjob_hook_arg;
	uint64_t rjob_started;      /* release jobs started (finish.c: the order they commit in) */
	/* status.c: the audit log's chain, checked again every minute */
	uint64_t audit_checked_ns;
	int audit_chain_ok;         /* 1 verified, 0 broken (valid once audit_checked_ns) */
};

/* setup.c: everything the receiver needs, opened before the sandbox (and the
 * hashing thread, which the caller starts after it). With cfg->link_uri NULL no
 * link is opened: the caller feeds rx_handle() itself. Quotas left 0 in cfg get
 * their defaults (rx.h, quota.c). rx_teardown() closes
 * what rx_setup() opened, also after a failed setup. */
int rx_setup(struct rx_ctx *c, struct rx_cfg *cfg, const struct sl_logger *log,
	     const char *key_path, struct sl_diag *d);
void rx_teardown(struct rx_ctx *c);
/* The STATE part of setup and teardown alone (directories, ledger, audit
 * log, recovery; known transfers, sessions and counters): a test can start
 * over on an empty STATE without opening keys, policy and codecs again. */
int rx_open_state(struct rx_ctx *c, struct rx_cfg *cfg, struct sl_diag *d);
void rx_close_state(struct rx_ctx *c);
/* Every active transfer made dormant, its window spooled (what a quota
 * evicts for that room is dropped): at a stop, before the last status. */
void rx_deactivate_all(struct rx_ctx *c);

/* dispatch.c: rx_handle opens a datagram (sl_wire_open) and hands the
 * result to rx_handle_opened, which the main loop calls itself for
 * datagrams opened on other threads (opener.c): r is sl_wire_open's result,
 * h and body are read only when it is SL_OK. */
void rx_handle(struct rx_ctx *c, uint8_t *dg, size_t len, uint64_t now);
void rx_handle_opened(struct rx_ctx *c, size_t len, int r, const struct sl_wire_hdr *h,
		      const uint8_t *body, uint64_t now);
void rx_tick(struct rx_ctx *c, uint64_t now, int final);

/* xfer.c */
/* Find a known transfer, or NULL. */
struct rx_xfer *rx_xfer_find(struct rx_ctx *c, const uint8_t id[16]);
/* Find or start knowing a transfer (from its transfer header): creates its
 * staging directory and loads what a previous run left there. */
struct rx_xfer *rx_xfer_get(struct rx_ctx *c, const uint8_t id[16], uint64_t now);
/* Check a transfer header against the limits and quotas before anything is
 * created for it: 0, or SL_ERR_TOOBIG (quota) / SL_ERR_PARSE (inconsistent). */
int rx_xfer_check_header(struct rx_ctx *c, const struct sl_xfer_hdr *h, uint16_t symsize);
/* 0 (staged with h), SL_ERR_AGAIN (another layout is live: held), SL_ERR_EXISTS
 * (a verified catalog names another manifest), or an error. */
int rx_xfer_set_header(struct rx_ctx *c, struct rx_xfer *x, const struct sl_xfer_hdr *h,
		       uint16_t symsize, uint64_t now);
/* Maps for header h, allocated before the old ones are freed. */
int rx_xfer_alloc_maps(struct rx_xfer *x, const struct sl_xfer_hdr *h);
int rx_xfer_write_meta(struct rx_xfer *x);
/* Empty the window (buffers freed: they are sized for one layout) and the spool. */
void rx_xfer_drop_window(struct rx_ctx *c, struct rx_xfer *x);
int rx_xfer_activate(struct rx_ctx *c, struct rx_xfer *x);
void rx_xfer_block_done(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s);
int rx_xfer_checkpoint(struct rx_ctx *c, struct rx_xfer *x);
void rx_xfer_timeout(struct rx_ctx *c, struct rx_xfer *x, const char *why);
void rx_xfer_reject(struct rx_ctx *c, struct rx_xfer *x, const char *reason);
void rx_xfer_deactivate(struct rx_ctx *c, struct rx_xfer *x);
void rx_xfer_free(struct rx_xfer *x);
void rx_xfer_forget(struct rx_ctx *c, struct rx_xfer *x); /* deactivated, unlinked and freed */
void rx_xfer_release_staging(struct rx_ctx *c, struct rx_xfer *x);

/* Remove a transfer's staging for good (quota eviction, expiry), audited. */
void rx_xfer_drop(struct rx_ctx *c, struct rx_xfer *x, const char *event, const char *why);
/* Drop the transfers a quota marked to make room (x->evicted), each audited
 * and counted as evicted. Called by the work that may have marked some, once
 * it is over: the handling of a datagram, a tick's steps, a verdict applied
 * (dispatch.c, poll.c). Nothing else is dropped or freed. */
void rx_xfer_drop_evicted(struct rx_ctx *c);

/* spool.c: symbols of blocks evicted undecoded (see there). */
int rx_xfer_spool_symbol(struct rx_ctx *c, struct rx_xfer *x, uint64_t block, uint16_t k,
			 uint16_t row, const uint8_t *sym);
const struct rx_spooled *rx_xfer_spooled(const struct rx_xfer *x, uint64_t block);
/* The spool's files open (SL_OK or SL_ERR_IO); row `row` of block's
 * spooled symbols read into sym (x->symsize bytes): SL_OK or SL_ERR_IO. */
int rx_xfer_spool_open(struct rx_xfer *x);
int rx_xfer_spool_read(struct rx_xfer *x, uint64_t block, unsigned row, uint8_t *sym);
void rx_xfer_spool_forget(struct rx_ctx *c, struct rx_xfer *x, uint64_t block);
/* The spool's files removed, its symbols out of the quota, x->sp freed. */
void rx_spool_discard(struct rx_ctx *c, struct rx_xfer *x);
/* x->sp from spool.idx (a previous run's), blocks done left out. */
void rx_spool_reload(struct rx_xfer *x);
/* The spool's files closed (x goes dormant; opened again when needed). */
void rx_spool_close(struct rx_xfer *x);
/* x->sp freed, its files closed, left on disk (x or its staging goes:
 * the caller counts the quota). */
void rx_spool_free(struct rx_xfer *x);
/* Symbols in the spool file; blocks with spooled symbols. */
uint64_t rx_spool_syms(const struct rx_xfer *x);
size_t rx_spool_blocks(const struct rx_xfer *x);
/* Blocks whose spooled rows alone suffice to decode them, in *blocks
 * (malloc'd, the caller frees it; NULL when none or no memory): how many. */
size_t rx_spool_ready(const struct rx_xfer *x, uint64_t **blocks);

/* pending.c: chunks marked done since the last checkpoint, for durable.c
 * to write into the done file once their bytes are durable (see there).
 * rx_pend_add: chunk idx of `bytes` noted (without memory it is not: it is
 * received again after a restart); returns the bytes noted since the last
 * rx_pend_clear. rx_pend_list: how many are noted, *idx pointing at them
 * (until the next add or clear). rx_pend_free: x->pend freed (x goes). */
uint64_t rx_pend_add(struct rx_xfer *x, uint64_t idx, uint64_t bytes);
size_t rx_pend_list(const struct rx_xfer *x, const uint64_t **idx);
void rx_pend_clear(struct rx_xfer *x);
void rx_pend_free(struct rx_xfer *x);

/* quota.c */
/* Room for n more staged bytes for x (catalog: a catalog piece, held to the
 * total only): 0, or SL_ERR_TOOBIG (counted; always for an x marked to go).
 * May mark other transfers' unvouched staging to go (x->evicted): it stops
 * counting at once, and rx_xfer_drop_evicted removes it. */
int rx_quota_room(struct rx_ctx *c, struct rx_xfer *x, uint64_t n, int catalog);
void rx_quota_add(struct rx_ctx *c, struct rx_xfer *x, int64_t n);
/* A new staging directory may be created (marking the idlest unvouched one
 * to go if need be). */
int rx_quota_new_staging(struct rx_ctx *c, const struct rx_xfer *except);
/* x's staging is gone (xfer.c): its bytes and directory, and its mark, out
 * of the counts, exactly once. */
void rx_quota_gone(struct rx_ctx *c, struct rx_xfer *x);
/* x's catalog verified: its bytes move from unvouched to vouched. */
void rx_quota_vouched(struct rx_ctx *c, struct rx_xfer *x);
/* 1: x is staging idle for longer than --keep-incomplete (dispatch.c removes it). */
int rx_quota_idle(const struct rx_ctx *c, const struct rx_xfer *x, uint64_t now);
/* Default --max-staging from the free space of STATE. */
uint64_t rx_quota_default_staging(int state_fd);

/* limited.c */
/* Token buckets for what a sender can make the receiver say. */
int rx_bucket_take(struct rx_bucket *b, uint64_t now, uint64_t burst, uint64_t every_ns);
/* Log lines a sender can cause at will: rate-limited, suppressed ones counted. */
void rx_log_limited(struct rx_ctx *c, enum sl_log_level lvl, uint64_t now, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* assemble.c */
struct rx_slot *rx_slot_for(struct rx_ctx *c, struct rx_xfer *x, uint64_t block, uint16_t k, int *decoded);
/* Where a data symbol of x with these (unauthenticated) header fields
 * would be copied by rx_slot_add, if that place exists already and nothing
 * but the symbol itself can change it: x active in h's session, its block
 * in the window undecoded with the same k, the row not held. NULL
 * otherwise. Changes nothing: the datagram may then be decrypted into the
 * place (sl_wire_open_to), and a failed tag leaves only a row not held. */
uint8_t *rx_slot_target(const struct rx_xfer *x, const struct sl_wire_hdr *h);
/* Returns 1 when the block became decodable and was decoded, 0 otherwise.
 * sym may be the row's place in the slot itself (rx_slot_target). */
int rx_slot_add(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s, uint16_t row,
		const uint8_t *sym);
void rx_slot_evict(struct rx_ctx *c, struct rx_xfer *x, struct rx_slot *s);
void rx_slot_clear(struct rx_slot *s);

/* window.c: slots for a sender interleaving `interleave` blocks, within
 * --window-memory (*wanted: before the bound); growing an active window;
 * the interleave a session's heartbeats declare (0: none heard). */
unsigned rx_window_want(const struct rx_ctx *c, const struct rx_xfer *x, unsigned interleave,
			unsigned *wanted);
void rx_window_follow(struct rx_ctx *c, struct rx_xfer *x, unsigned interleave, uint64_t now);
unsigned rx_window_interleave(const struct rx_ctx *c, uint64_t session);

/* direct.c */
int rx_tree_open(struct rx_ctx *c, struct rx_xfer *x);
int rx_tree_place(struct rx_ctx *c, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len);
/* Chunks were placed: let the hasher go on; SL_ERR_HASH (why) on a mismatch. */
int rx_tree_advance(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl);
int rx_tree_sync(struct rx_ctx *c, struct rx_xfer *x);
void rx_tree_close(struct rx_xfer *x);
/* The layout changed: stop hashing; it starts again from the first byte
 * when the tree is opened again. */
void rx_tree_restart_hashing(struct rx_xfer *x);
void rx_tree_forget(struct rx_ctx *c, struct rx_xfer *x);
/* x->tf and the hasher's copy of the files (x->hf) freed, the file
 * descriptors closed (the transfer or its tree goes away). */
void rx_tree_drop(struct rx_xfer *x);

/* shape.c: the manifest's directories beneath data_fd (created with the
 * tree), then the directories' modes and times (once every file is in
 * place, deepest first). Only their arguments: safe on another thread. */
int rx_shape_dirs(const struct sl_manifest *m, int data_fd, char *why, size_t wl);
int rx_shape_times(const struct sl_manifest *m, int data_fd, char *why, size_t wl);
/* File i's mode and (version 2) time, on its descriptor: 0 or -1 (errno). */
int rx_shape_file(const struct sl_manifest *m, size_t i, int fd);
/* File path beneath data_fd opened read-write, created (0600, with its
 * directories) if missing: a descriptor, or -1 with errno. */
int rx_tree_file(int data_fd, const char *path);

/* hasher.c */
int rx_hasher_start(size_t chunkcap, struct rx_hasher **out);
void rx_hasher_stop(struct rx_hasher *h);
int rx_hasher_add(struct rx_hasher *h, struct rx_xfer *x);
void rx_hasher_remove(struct rx_hasher *h, struct rx_xfer *x);
/* x's hashing back to its start (x not registered); forget: freed too. */
void rx_hasher_reset(struct rx_xfer *x);
void rx_hasher_forget(struct rx_xfer *x);
/* 1 once every file of x is hashed, or hashing failed. */
int rx_hasher_finished(struct rx_hasher *h, const struct rx_xfer *x);
/* New chunks are done; returns the hashing error so far (0: none). */
int rx_hasher_kick(struct rx_hasher *h, struct rx_xfer *x, char *why, size_t wl);
/* 1 while x has chunks to hash that are written (rx_hasher_wait would wait). */
int rx_hasher_busy(struct rx_hasher *h, struct rx_xfer *x);
/* Until every file is hashed (0) or hashing failed (its error). */
int rx_hasher_wait(struct rx_hasher *h, struct rx_xfer *x, char *why, size_t wl);

/* writer.c: the writer thread (see there). */
#define RX_WRITER_QUEUE_DEFAULT (64u << 20)
#define RX_WRITER_SPILL_DEFAULT (4ull << 30)
#define RX_WRITER_SPILL_NONE UINT64_MAX   /* --writer-spill 0: refuse at a full queue */
struct rx_writer_stats {
	uint64_t queued, peak, cap, jobs, written, syncs;
	uint64_t spill, spill_peak, spill_cap, spilled, moved;  /* bytes; chunks ever */
	uint64_t given, reused, spare;  /* chunks given, buffers reused (ever); spare bytes */
};
/* cap: --writer-queue (0: default); spill_cap: --writer-spill (0: default,
 * RX_WRITER_SPILL_NONE: none). */
int rx_writer_start(uint64_t cap, uint64_t spill_cap, struct rx_writer **out);
void rx_writer_stop(struct rx_writer *w);
/* The writer's state of x made (before any job of x: direct.c, when the
 * tree opens); freed by rx_writer_forget once nothing of x is queued. */
int rx_writer_attach(struct rx_xfer *x);
void rx_writer_forget(struct rx_xfer *x);
/* Chunks of x in the stream, waiting to be moved into their files. */
uint64_t rx_writer_spilled_of(struct rx_writer *w, const struct rx_xfer *x);
/* Queue chunk idx of x (copied): SL_OK, SL_ERR_AGAIN (queue full) or SL_ERR_NOMEM. */
int rx_writer_put(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len);
/* The same without a copy: the chunk is the len bytes at *bufp + off,
 * *bufp a malloc'd buffer of cap bytes. On SL_OK the writer owns it (it
 * keeps it as a spare once written) and *bufp is a spare of the same size
 * in exchange, or NULL; otherwise *bufp is untouched and still the caller's. */
int rx_writer_give(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, uint8_t **bufp, size_t cap,
		   size_t off, size_t len);
/* A spare of exactly cap bytes, now the caller's, or NULL (none: malloc one). */
uint8_t *rx_writer_spare(struct rx_writer *w, size_t cap);
/* The queue was full: chunk idx of x into x->stream_fd at its stream offset
 * (buf NULL: it is there already), moved into its files by the writer
 * later. SL_OK; SL_ERR_AGAIN: --writer-spill is reached (force: not held
 * to it); SL_ERR_IO (errno) or SL_ERR_NOMEM. The caller counts chunk_size
 * in the staging quota until rx_writer_take_freed gives it back. */
int rx_writer_spill(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len,
		    int force);
/* Bytes of x's spill moved (or failed) since the last call: out of the quota. */
uint64_t rx_writer_take_freed(struct rx_writer *w, struct rx_xfer *x);
/* 1 while anything of x is queued, spilled, being written or synced. */
int rx_writer_busy(struct rx_writer *w, const struct rx_xfer *x);
/* Ask for a checkpoint of x after what is queued (does not wait). */
void rx_writer_checkpoint(struct rx_writer *w, struct rx_xfer *x);
/* Everything queued for x written and made durable (or failed: see
 * rx_writer_take_fails) when it returns. */
int rx_writer_flush(struct rx_writer *w, struct rx_xfer *x);
/* Wait until nothing of x is queued or being done; its descriptors closed. */
void rx_writer_release(struct rx_writer *w, struct rx_xfer *x);
/* on: wait for the job in progress, start no other until off (storage.c:
 * the reserve's room is lent). */
void rx_writer_hold(struct rx_writer *w, int on);
/* Wait until the queue is empty (tests: deterministic results); while
 * held, only for the jobs in progress. */
void rx_writer_idle(struct rx_writer *w);
/* 1 if any transfer got failures since the last call. */
int rx_writer_failed(struct rx_writer *w);
/* x's failures (the caller frees *f); 1 if there were any (lost: some not recorded). */
int rx_writer_take_fails(struct rx_writer *w, struct rx_xfer *x, struct rx_wfail **f, size_t *n, int *lost);
void rx_writer_stats(struct rx_writer *w, struct rx_writer_stats *s);
/* place.c: the writer's failures applied (chunks not done, storage failures
 * counted); 1 if x (may be NULL: all) had any. */
int rx_writer_poll(struct rx_ctx *c, struct rx_xfer *x);
/* setup.c: the hashing and writer threads (after the sandbox); stopped by rx_teardown. */
int rx_threads_start(struct rx_ctx *c);

/* commit.c: the steps of a release after verification (intent, ledger,
 * rename, audit, cleanup), each done once even across crashes; see there. */
struct rx_intent {                /* STATE/xfer/<id>/release */
	uint8_t id[16];
	char hex[33];
	char link[SL_LABEL_MAX + 1];  /* "": not known (older marker; the ledger has it) */
	uint64_t sequence;
	char manifest_hex[65];        /* "": not known */
	uint64_t audit_seq;           /* the audit log's last entry before the intent */
	char summary[900];            /* "N files, B bytes, sequence S[; signature files not released: ...]" */
};
enum rx_commit {
	RX_C_RELEASED,                /* in RELEASE, in the ledger, audited */
	RX_C_REFUSED,                 /* the ledger refused it: nothing done */
	RX_C_STUCK,                   /* in the ledger, the rename failed (audited "stuck") */
	RX_C_PENDING                  /* an I/O error: the next start finishes it */
};
#define RX_DID_LEDGER 1u
#define RX_DID_RENAME 2u
#define RX_DID_AUDIT 4u
/* Step 1: write the intent for a verified transfer whose tree is finished. */
int rx_intent_write(struct rx_ctx *c, const struct rx_xfer *x, struct rx_intent *in, const char *dropped,
		    char *why, size_t wl);
/* Remove the intent (before rejecting what it named). */
void rx_intent_drop(struct rx_ctx *c, const char *hex);
/* The intent STATE/xfer/<hex>/release: 0 with every field, or -1 with only
 * id and hex (missing, an older empty marker, or unreadable). */
int rx_intent_read(struct rx_ctx *c, const char *hex, const uint8_t id[16], struct rx_intent *in);
/* Steps 2-5, each skipped if done. `how` ends the audit reason. The ledger
 * refusing the transfer is RX_C_REFUSED; a step failing for the disk or
 * memory is RX_C_PENDING (or RX_C_STUCK for the rename), tried again later.
 * *did: the RX_DID_ steps done by this call. */
enum rx_commit rx_commit(struct rx_ctx *c, const struct rx_intent *in, const char *how,
			 unsigned *did, char *why, size_t wl);
int rx_recover(struct rx_ctx *c);

/* crash.c */
/* The crash points of a release, in the order they are passed (NULL-terminated). */
extern const char *const rx_crash_points[];
/* Test builds: _exit(RX_CRASH_STATUS) here if cfg->crash_at names this point.
 * With crash_at NULL (production) it does nothing. */
#define RX_CRASH_STATUS 86
void rx_crashpoint(const struct rx_ctx *c, const char *point);
/* The same from a thread that holds its own copies (finish.c's "finishing":
 * the tree half finished by a release job). */
void rx_crashpoint_at(const char *crash_at, const struct sl_logger *log, const char *point);

/* verdict.c: a catalog's verdict (see there). */
struct rx_vin {                   /* what rx_verify_core reads (nothing else) */
	const struct sl_policy *policy;
	const struct sl_xfer_hdr *hdr;
	const uint8_t *id;
	const char *hex;
	const uint8_t *catalog;       /* hdr->catalog_len bytes */
};
struct rx_vout {
	struct sl_manifest *m;        /* parsed and verified (the caller frees it) */
	char manifest_hex[65];
	uint64_t keep;                /* catalog entries released (bit i: entry i) */
	char dropped[640];            /* signature files not released, and why */
	char reason[1024];            /* why not, on an error */
};
/* The part of the verification that reads only its input (catalog,
 * manifest, signatures, policy): safe on another thread. */
int rx_verify_core(const struct rx_vin *in, struct rx_vout *out);
/* The rest, on the receive thread: ledger, a delta's base; on success
 * x->manifest takes out->m and x->catalog_ok is set. */
int rx_verify_tail(struct rx_ctx *c, struct rx_xfer *x, struct rx_vout *out);

/* release.c */
/* One step of x's release: a job started on a thread (finish.c), its
 * verdict applied when it is in (x->rjob done), or the commit's steps
 * (accepted). Never waits for a job: rx_tick calls it again (rx_rjob_poll). */
void rx_try_release(struct rx_ctx *c, struct rx_xfer *x);
/* rx_try_release with the reserve's room, where the disk is (nearly) full;
 * a held-up release is tried at most once a second this way. */
void rx_release(struct rx_ctx *c, struct rx_xfer *x);
/* Held-up releases (x->release_wait) due at now tried again (ended: the
 * storage episode is over, all at once, backoff reset); those still held
 * go dormant. */
void rx_release_held(struct rx_ctx *c, uint64_t now, int ended);

/* verify.c: a complete catalog verified on a thread of its own (see there). */
#define RX_VERIFY_JOBS 1          /* at once: one catalog in memory, as in line */
struct rx_vjob;
/* Start verifying x's catalog.part (x->cat_fd): SL_OK (x->vjob set),
 * SL_ERR_AGAIN (RX_VERIFY_JOBS are running: x->verify_wait is set and
 * rx_verify_poll starts it later), or an error (then the caller verifies on
 * this thread). */
int rx_verify_start(struct rx_ctx *c, struct rx_xfer *x);
/* place.c */
/* Blocks of an active x whose spooled rows alone suffice, decoded (rows
 * spooled while it was not active: dispatch.c, poll.c). */
void rx_xfer_spool_decode(struct rx_ctx *c, struct rx_xfer *x);
/* place.c: every catalog piece of x is in: verified (on a thread or here). */
void rx_catalog_complete(struct rx_ctx *c, struct rx_xfer *x);
/* place.c: x's catalog is not verified (or its kept copy went bad): its
 * pieces are received again. */
void rx_catalog_again(struct rx_xfer *x);
/* The first transfer whose job is over (wait: any with a job), or NULL;
 * its job taken (joined, x->vjob NULL), its verdict (r; err: errno of a
 * failed sync or read; out: rx_verify_core's; t0: its start), freed. */
struct rx_xfer *rx_verify_next_done(struct rx_ctx *c, int wait);
struct rx_vjob *rx_verify_take(struct rx_xfer *x);
int rx_verify_result(struct rx_vjob *j, int *err, struct rx_vout **out, uint64_t *t0);
void rx_verify_free(struct rx_vjob *j);
/* The next complete catalog that waited for a thread, now that one is free
 * (its verify_wait cleared), or NULL: the caller completes it. */
struct rx_xfer *rx_verify_next_waiting(struct rx_ctx *c);
/* 1 when x's job has its verdict (for rx_verify_poll to pick up). */
int rx_verify_ready(const struct rx_xfer *x);
/* x's job, if any, waited for and dropped (its verdict unused); a wait
 * for a thread (x->verify_wait) given up. */
void rx_verify_cancel(struct rx_xfer *x);
/* place.c: x's catalog verdict r (out: rx_verify_core's) applied: the tail
 * checks, then the catalog kept and the tree opened, or x rejected. */
void rx_catalog_verified(struct rx_ctx *c, struct rx_xfer *x, int r, struct rx_vout *out, uint64_t t0);

/* finish.c: a release's heavy steps, and a catalog verified again when its
 * transfer becomes active again, on a thread (see there for who owns what
 * while the job runs). */
enum rx_rjob_kind { RX_RJ_RELEASE = 1, RX_RJ_ACTIVATE };
enum rx_rjob_phase { RX_RJ_VERIFY = 1, RX_RJ_FINISH };
struct rx_rjob {
	enum rx_rjob_kind kind;
	enum rx_rjob_phase phase;
	int done;                   /* atomic: the phase's work is over (set by the thread) */
	int cancel;                 /* atomic: stop early, the verdict is dropped */
	struct sl_pool *pool;       /* its thread (rx-finish, common/util/pool.h), started and not joined yet */
	/* the thread's inputs: copies and its own descriptors, set before it starts */
	struct sl_xfer_hdr hdr;
	uint8_t id[16];
	char hex[33];
	const struct sl_policy *policy; /* VERIFY: c->policy (a reload waits: rx_rjob_wait_policy) */
	uint64_t max_catalog;
	int dirfd;                  /* STATE/xfer/<id> (VERIFY) */
	int top_fd, data_fd;        /* STATE/release/<id> and its data/ (FINISH) */
	int stream_fd;              /* STATE/xfer/<id>/stream, emptied (FINISH; -1: none) */
	const struct sl_manifest *m;/* FINISH: x->manifest, only read */
	void (*hook)(void *, const char *, int, const int *); /* c->rjob_hook */
	const char *crash_at;       /* c->cfg->crash_at (test builds), and c->log to say so */
	const struct sl_logger *log;
	void *hook_arg;
	/* the thread's outputs, read once done */
	uint8_t *catalog;           /* hdr.catalog_len bytes (VERIFY reads them, FINISH writes them out) */
	int r, err;                 /* the phase's verdict, errno of a failed step */
	int unreadable;             /* VERIFY: the kept catalog cannot be read back */
	struct rx_vout out;         /* VERIFY: rx_verify_core's (keep, dropped, reason) */
	char reason[1400];          /* FINISH: why not */
	uint64_t files;             /* FINISH: files checked */
	uint64_t order;             /* RX_RJ_RELEASE: c->rjob_started when it started */
	/* the receive thread's: timing */
	uint64_t t0, t_verified, t_finish, held_ns;
};
/* Start x's job of `kind` with its VERIFY phase: the kept catalog
 * (STATE/xfer/<id>/catalog) read back and rx_verify_core run. SL_OK
 * (x->rjob set; run in line if no thread can be started) or SL_ERR_NOMEM. */
int rx_rjob_verify(struct rx_ctx *c, struct rx_xfer *x, enum rx_rjob_kind kind);
/* Its FINISH phase (x->rjob verified, its thread joined; x's tree open,
 * x->manifest verified): the catalog's files (out.keep) written, each
 * file's size checked and its mode and time set, the directories', syncfs. */
void rx_rjob_finish(struct rx_ctx *c, struct rx_xfer *x);
/* 1 while a release job that commits before x's is in flight (a lower
 * sequence, or the same one started earlier): x's release is not committed
 * before it (the ledger's sequence per link only rises). */
int rx_rjob_older(const struct rx_ctx *c, const struct rx_xfer *x);
/* 1 when x's job is over (its thread joined; its verdict is to be applied). */
int rx_rjob_done(struct rx_xfer *x);
/* x's job, if any, stopped, waited for and dropped (its verdict unused). */
void rx_rjob_cancel(struct rx_xfer *x);
/* The job's thread joined, if running. */
void rx_rjob_join(struct rx_rjob *j);
/* Until no job reads the policy (a reload frees the old one after). */
void rx_rjob_wait_policy(struct rx_ctx *c);

/* base.c: a delta's base (manifest version 3). rx_base_check(): the base is
 * released here, unchanged manifest, holds every taken file's content, and
 * the whole tree fits --max-staging (verdicts, with why). rx_base_fill(): the
 * taken files copied from RELEASE/<base>/data into the staged tree and
 * hashed, on a thread: SL_ERR_AGAIN while it copies (x->basejob; rx_tick
 * releases again when rx_base_job_done), then SL_OK or the verdict
 * (SL_ERR_HASH naming the files that no longer match). Both do nothing for
 * a manifest without a base. rx_base_cancel() stops and joins a job. */
int rx_base_check(struct rx_ctx *c, const struct sl_manifest *m, char *why, size_t wl);
int rx_base_fill(struct rx_ctx *c, struct rx_xfer *x, char *why, size_t wl);
int rx_base_job_done(const struct rx_xfer *x);
void rx_base_wait(const struct rx_xfer *x);  /* until x's job (if any) is done */
void rx_base_cancel(struct rx_xfer *x);

/* storage.c */
/* A write or sync failed with errno err (what: a few words; x may be NULL):
 * counted; the first failure of an episode is logged and audited. */
void rx_storage_failed(struct rx_ctx *c, struct rx_xfer *x, const char *what, int err);
/* x's release is held up by the disk or memory (why): tried again with a
 * backoff from RX_RETRY_FIRST_NS to RX_RETRY_MAX_NS (x->release_wait), or
 * by a repeat pass when chunks are to be received again. */
#define RX_RETRY_FIRST_NS 5000000000ull
#define RX_RETRY_MAX_NS 300000000000ull
#define RX_RETRY_HEADER_NS 1000000000ull  /* on a transfer header: at most once a second */
void rx_storage_held(struct rx_ctx *c, struct rx_xfer *x, const char *why);
/* x's release may be tried now (rx_release): 1, the try's time kept; 0 on
 * a transfer header within RX_RETRY_HEADER_NS of the last try of a held-up
 * one. rx_storage_due: a held-up x is due at now (ended: the episode ended,
 * its backoff starts over), its next try not held to the header's limit. */
int rx_storage_try(struct rx_ctx *c, struct rx_xfer *x);
int rx_storage_due(struct rx_xfer *x, uint64_t now, int ended);
/* x->held freed (the transfer goes). */
void rx_storage_forget(struct rx_xfer *x);
/* The reserve's room is to be lent for a release's steps (the disk is
 * (nearly) full). */
int rx_storage_tight(const struct rx_ctx *c);
/* Each tick: the episode's audit entry if still due, its end, the reserve;
 * at most once a second (RX_DT_WAIT: not now). What it returns, the caller
 * acts on: held-up releases tried (rx_release_held), at once when the
 * episode ended. */
enum rx_disk_tick { RX_DT_WAIT, RX_DT_RAN, RX_DT_ENDED };
enum rx_disk_tick rx_storage_tick(struct rx_ctx *c, uint64_t now);
/* STATE/reserve: allocated at start (rx_open_state), its room lent to the
 * writes between lend and restore (nested), allocated again after. */
void rx_storage_open(struct rx_ctx *c);
void rx_storage_lend(struct rx_ctx *c);
void rx_storage_restore(struct rx_ctx *c);
/* sl_audit_append; if it fails, once more with the reserve's room. */
int rx_audit(struct rx_ctx *c, const char *event, const char *hex, const char *manifest_hex,
	     const char *reason);
/* The same for what a sender can cause at will: rate-limited, suppressed ones counted. */
void rx_audit_limited(struct rx_ctx *c, uint64_t now, const char *event, const char *hex,
		      const char *manifest_hex, const char *reason);
/* A small file in STATE written atomically; if it fails, once more with the reserve's room. */
int rx_state_write(struct rx_ctx *c, const char *name, const void *data, size_t len);
/* Free bytes of STATE's filesystem (unprivileged), or UINT64_MAX if unknown. */
uint64_t rx_storage_free(const struct rx_ctx *c);

/* repair.c: x->repair from what a dormant x lacks (and STATE/xfer/<id>/repair);
 * cleared when it is active again; loaded with the rest of its staging. */
void rx_repair_code(struct rx_xfer *x);
void rx_repair_clear(struct rx_xfer *x);
void rx_repair_load(struct rx_xfer *x);

/* poll.c: the helper threads' verdicts applied (see there).
 * rx_verify_poll: complete catalogs' verdicts that are in (wait: all,
 * waiting for them), each finished by place.c's rx_catalog_verified, then
 * the catalogs that waited for a thread started. rx_rjob_poll: release
 * jobs' verdicts (wait: all): a release goes on (rx_release), a
 * re-verified transfer becomes active. */
void rx_verify_poll(struct rx_ctx *c, int wait);
void rx_rjob_poll(struct rx_ctx *c, int wait);

/* status.c */
void rx_write_status(struct rx_ctx *c, uint64_t now);

#endif
