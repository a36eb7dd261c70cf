/* writer.c — decoded chunks into the staged files on a thread of its own.
 *
 * Once a transfer's files are written in place (direct.c), the receive
 * thread does not create, write or sync them: it hands each decoded chunk
 * to a bounded queue (--writer-queue bytes) and goes back to recvmmsg.
 * A chunk decoded in its window slot is handed over without a copy
 * (rx_writer_give: the slot's buffer becomes the job's, and the slot gets a
 * spare in exchange); once written, a given buffer is kept as a spare for
 * the next exchange or the next slot that needs one (rx_writer_spare), so
 * buffers circulate, already faulted in, instead of being allocated and
 * copied a chunk at a time. Spares count in --writer-queue: queued and
 * spare bytes together stay within it (a copy queued frees the oldest
 * spares it needs room from; at most SPARES of them). A decompressed chunk
 * goes the same way (its buffer, c->zbuf, is exchanged like a slot's);
 * rx_writer_put copies (when no such buffer could be had).
 * One writer thread (and its sync thread), started after the sandbox like
 * the hashing thread (they inherit Landlock and seccomp), takes chunks in
 * order and
 *   - writes each into the files it covers, creating a file (0600, beneath
 *     data/, no symlinks) when its first bytes come; files that never get a
 *     byte are created at release (direct.c);
 *   - marks the chunk written (x->written, read by the hashing thread, which
 *     it kicks);
 *   - hands the chunks it wrote to a second thread, the sync thread, in
 *     batches — after 16 MiB written for a transfer, or when the receive
 *     thread asks (its tick, once a second: rx_writer_checkpoint) — which
 *     makes a batch durable with one syncfs of the tree, then its bytes of
 *     the done map and one fdatasync of that: never one sync per file, and
 *     the writer goes on creating and writing files meanwhile (a batch
 *     waiting for the sync thread takes in the next one for its transfer).
 *     rx_writer_flush() waits until nothing of a transfer is queued or
 *     being synced and syncs the rest on the calling thread (release,
 *     close, deactivation).
 *
 * While the receive thread lends the disk's reserve (storage.c) the writer
 * is held between jobs (rx_writer_hold).
 *
 * A full queue does not refuse the chunk: the receive thread spills it
 * (rx_writer_spill) into the transfer's stream file (STATE/xfer/<id>/stream,
 * at its stream offset: one pwrite into the page cache) and sets its bit in
 * x->wx->spilled; one move job per transfer (JOB_MOVE) then brings spilled
 * chunks from the stream into their files, as a write job would, and punches
 * the stream's hole back (FALLOC_FL_PUNCH_HOLE), a batch at a time between
 * the queued writes. A spilled chunk is done like a queued one: written,
 * synced by the sync thread, then in the done map; a crash before that loses
 * it (the stream is discarded when the tree is opened again, direct.c) and a
 * later pass brings it. Chunks in the stream from before the tree was opened
 * are spilled the same way (forced: the cap does not refuse them), so that
 * copy never runs on the receive thread either. Spilled bytes are bounded by
 * --writer-spill (spill_cap; counted at chunk_size a chunk, also in the
 * staging quota, by the receive thread, until moved: x->wx->spill_freed); only
 * when that is reached (or --writer-spill 0) is the chunk refused
 * (SL_ERR_AGAIN): the receive thread counts it (writer_full) and leaves the
 * block not done; a repeat pass brings it again. Memory: one bit per chunk
 * (x->wx->spilled, allocated at the first spill) and one job per transfer.
 * A write, sync or done-map write that fails is recorded against its
 * transfer (x->wx->fail); the receive thread picks failures up in
 * rx_writer_poll() (every tick, and after every flush): a failed chunk is
 * not done any more, the storage failure is counted and audited
 * (storage.c) as before.
 *
 * Ownership: what the writer keeps of a transfer is struct rx_wx (x->wx),
 * known only here; its comments say which thread owns each field. Jobs
 * hold a pointer to their transfer; the receive thread never frees or
 * closes a transfer with jobs queued (rx_tree_close flushes it first), and
 * frees x->wx (rx_writer_forget) only after that.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rx.h"
#include "pool.h"
#include "safefs.h"

#define CKPT_BYTES (16u << 20)  /* written per transfer before a checkpoint */
#define WFDC 16                 /* descriptors cached by the writer */
#define MOVE_BYTES (8u << 20)   /* spilled bytes moved before queued writes get a turn */
#define SPARES 512              /* given buffers kept for reuse, at most */

enum { JOB_WRITE, JOB_CHECKPOINT, JOB_MOVE };

struct batch {                   /* chunks of x written, for the sync thread */
	struct batch *next;
	struct rx_xfer *x;
	uint64_t *idx;
	size_t n, cap;
};

struct job {
	struct job *next;
	struct rx_xfer *x;
	int kind;
	uint64_t idx, seq;
	size_t len;
	const uint8_t *p;           /* the chunk: data, or into own */
	uint8_t *own;               /* rx_writer_give: the buffer (owncap bytes) the receive */
	size_t owncap;              /* thread gave: kept as a spare once written */
	uint8_t data[];             /* rx_writer_put: the copy */
};

struct spare { uint8_t *buf; size_t cap; };

/* The writer's state of one transfer (x->wx): made by rx_writer_attach on
 * the receive thread before any job of x, freed by rx_writer_forget once
 * nothing of x is queued. "mutex": under w->mu; "writer": the writer or
 * sync thread's while x is registered. */
struct rx_wx {
	uint64_t *pend;             /* writer: chunks written, not yet durable */
	size_t npend, pendcap;
	uint64_t pend_bytes;
	struct rx_wfail *fail;      /* mutex: failures for the receive thread */
	size_t nfail, failcap;
	int fail_lost;
	uint64_t queued;            /* mutex: jobs queued or in progress */
	uint64_t syncing;           /* mutex: batches queued or being synced */
	uint64_t ckpt_asked, ckpt_done;  /* mutex */
	uint8_t *spilled;           /* per chunk: in the stream to be moved (set by the
				     * receive thread, cleared by the writer: atomics) */
	uint64_t nspilled;          /* mutex: ... how many */
	uint64_t spill_cur;         /* writer: where it looks for the next one */
	uint64_t spill_freed;       /* mutex: spill bytes moved, for the quota */
	struct job *move;           /* mutex: the move job queued for x */
};

struct rx_writer {
	struct sl_pool *wthread, *sthread;  /* the writer and sync threads (one helper each) */
	pthread_mutex_t mu;
	pthread_cond_t work;        /* a job, or stop */
	pthread_cond_t done;        /* a job finished */
	struct job *head, *tail;
	uint64_t bytes, cap, peak;  /* chunk bytes queued */
	uint64_t njobs;
	struct rx_xfer *busy;       /* transfer of the job being done (mutex released) */
	pthread_cond_t swork;       /* a batch to sync, or stop */
	struct batch *shead, *stail;
	struct rx_xfer *sbusy;      /* transfer of the batch being synced */
	uint64_t syncs;
	int stop;
	int held;                   /* rx_writer_hold: no write job starts */
	int exited;                 /* the writer thread has ended */
	int failed;                 /* some transfer has failures or freed spill to pick up */
	struct { const struct rx_xfer *x; size_t idx; int fd; } fdc[WFDC];
	uint64_t written;           /* chunks written, ever */
	uint64_t spill_cap;         /* --writer-spill: bytes (0: none) */
	uint64_t spill_bytes;       /* spilled, not yet moved (chunk_size each) */
	uint64_t spill_peak;
	uint64_t spilled, moved;    /* chunks spilled, moved, ever */
	uint8_t *mbuf;              /* the writer's buffer for a spilled chunk */
	size_t mcap;
	struct spare spare[SPARES]; /* given buffers, written: oldest first */
	size_t nspare, spare_bytes;
	uint64_t given, reused;     /* chunks given (no copy); buffers reused */
};

static void add_fail(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, int err, int kind)
{
	pthread_mutex_lock(&w->mu);
	(void)sl_grow(&x->wx->fail, x->wx->nfail, &x->wx->failcap, sizeof *x->wx->fail); /* no memory: counted, below */
	if (x->wx->nfail < x->wx->failcap)
		x->wx->fail[x->wx->nfail++] = (struct rx_wfail){ .idx = idx, .err = err, .kind = kind };
	else
		x->wx->fail_lost = 1; /* out of memory: the receive thread re-checks the whole map */
	w->failed = 1;
	pthread_mutex_unlock(&w->mu);
}

static void fdc_drop(struct rx_writer *w, const struct rx_xfer *x)
{
	for (unsigned i = 0; i < WFDC; i++)
		if (w->fdc[i].fd >= 0 && (!x || w->fdc[i].x == x)) {
			close(w->fdc[i].fd);
			w->fdc[i].fd = -1;
		}
}

/* File i of x, opened for writing, created (and its directories) if need be. */
static int wfile(struct rx_writer *w, struct rx_xfer *x, size_t i)
{
	unsigned slot = (unsigned)(i % WFDC);
	int fd;

	if (w->fdc[slot].fd >= 0 && w->fdc[slot].x == x && w->fdc[slot].idx == i)
		return w->fdc[slot].fd;
	fd = rx_tree_file(x->data_fd, x->hf[i].path);
	if (fd < 0)
		return -1;
	if (w->fdc[slot].fd >= 0)
		close(w->fdc[slot].fd);
	w->fdc[slot].fd = fd;
	w->fdc[slot].x = x;
	w->fdc[slot].idx = i;
	return fd;
}

/* Chunk bytes at stream offset off into the files: 0 or an errno. */
static int write_chunk(struct rx_writer *w, struct rx_xfer *x, uint64_t off, const uint8_t *buf, size_t len)
{
	size_t i = sl_manifest_file_at(x->hf, x->nhf, off);

	while (len) {
		const struct sl_manifest_file *f;
		uint64_t at;
		size_t k;
		int fd;
		if (i >= x->nhf)
			return EINVAL;
		f = &x->hf[i];
		if (f->size == 0) {
			i++;
			continue;
		}
		at = off - f->offset;
		k = f->size - at < len ? (size_t)(f->size - at) : len;
		fd = wfile(w, x, i);
		if (fd < 0 || sl_pwrite_all(fd, buf, k, at) != 0)
			return errno ? errno : EIO;
		buf += k;
		off += k;
		len -= k;
		i++;
	}
	return 0;
}

/* Make chunks idx[0..n) of x durable: syncfs, then the done map. */
static void sync_chunks(struct rx_writer *w, struct rx_xfer *x, const uint64_t *idx, size_t n)
{
	uint8_t one = 1;
	int r = 0;

	if (n == 0)
		return;
	if (syncfs(x->data_fd) != 0) {
		int err = errno;
		/* The kernel may have dropped those pages: not written any more. */
		for (size_t i = 0; i < n; i++) {
			__atomic_fetch_and(&x->written[idx[i] / 8], (uint8_t)~(1u << (idx[i] % 8)),
					   __ATOMIC_RELEASE);
			add_fail(w, x, idx[i], err, RX_WF_SYNC);
		}
		return;
	}
	for (size_t i = 0; i < n && !r; i++)
		r = sl_pwrite_all(x->done_fd, &one, 1, idx[i]);
	/* Durable but not in the done map: after a crash they come again. */
	if (r || fdatasync(x->done_fd) != 0)
		add_fail(w, x, 0, errno ? errno : EIO, RX_WF_DONEMAP);
}

/* x's written chunks to the sync thread: appended to its batch for x if one
 * waits (one syncfs then covers both), else a new batch. */
static void hand_over(struct rx_writer *w, struct rx_xfer *x)
{
	struct batch *b;

	if (x->wx->npend == 0)
		return;
	pthread_mutex_lock(&w->mu);
	for (b = w->shead; b && b->x != x; b = b->next)
		;
	if (b && b->n + x->wx->npend <= b->cap) {
		memcpy(b->idx + b->n, x->wx->pend, x->wx->npend * sizeof *x->wx->pend);
		b->n += x->wx->npend;
		x->wx->npend = 0;
	} else if (!b && (b = calloc(1, sizeof *b)) != NULL) {
		b->x = x;
		b->idx = x->wx->pend;
		b->n = x->wx->npend;
		b->cap = x->wx->pendcap;
		x->wx->pend = NULL;
		x->wx->npend = x->wx->pendcap = 0;
		if (w->stail)
			w->stail->next = b;
		else
			w->shead = b;
		w->stail = b;
		x->wx->syncing++;
		pthread_cond_signal(&w->swork);
	}
	pthread_mutex_unlock(&w->mu);
	if (x->wx->npend) {
		/* the waiting batch is full (or no memory): synced here */
		sync_chunks(w, x, x->wx->pend, x->wx->npend);
		x->wx->npend = 0;
	}
	x->wx->pend_bytes = 0;
}

static void run_sync(void *arg, unsigned worker)
{
	struct rx_writer *w = arg;

	(void)worker;
	pthread_mutex_lock(&w->mu);
	while (!w->exited || w->shead) {
		struct batch *b = w->shead;
		if (!b || (w->held && !w->exited)) {
			pthread_cond_wait(&w->swork, &w->mu);
			continue;
		}
		w->shead = b->next;
		if (!w->shead)
			w->stail = NULL;
		w->sbusy = b->x;
		pthread_mutex_unlock(&w->mu);
		sync_chunks(w, b->x, b->idx, b->n);
		pthread_mutex_lock(&w->mu);
		b->x->wx->syncing--;
		w->sbusy = NULL;
		w->syncs++;
		free(b->idx);
		free(b);
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Chunk idx of x is in its files: pending for the sync thread, written (the
 * hasher is kicked), handed over every CKPT_BYTES. */
static void wrote(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, size_t len)
{
	if (sl_grow(&x->wx->pend, x->wx->npend, &x->wx->pendcap, sizeof *x->wx->pend)) {
		add_fail(w, x, idx, ENOMEM, RX_WF_WRITE);
		return;
	}
	x->wx->pend[x->wx->npend++] = idx;
	x->wx->pend_bytes += len;
	rx_done_set(x->written, idx);
	w->written++;
	if (x->hasher) {
		char why[8];
		rx_hasher_kick(x->hasher, x, why, sizeof why);
	}
	if (x->wx->pend_bytes >= CKPT_BYTES)
		hand_over(w, x);
}

static void do_write(struct rx_writer *w, struct job *j)
{
	struct rx_xfer *x = j->x;
	int err;

	errno = 0;
	err = write_chunk(w, x, j->idx * x->hdr.chunk_size, j->p, j->len);
	if (err) {
		add_fail(w, x, j->idx, err, RX_WF_WRITE);
		return;
	}
	wrote(w, x, j->idx, j->len);
}

static uint64_t chunk_len(const struct rx_xfer *x, uint64_t idx)
{
	uint64_t off = idx * x->hdr.chunk_size;
	return x->hdr.total_bytes - off < x->hdr.chunk_size ? x->hdr.total_bytes - off
							      : x->hdr.chunk_size;
}

/* The next spilled chunk of x from the cursor on (wrapping), or nchunks. */
static uint64_t next_spilled(struct rx_xfer *x)
{
	uint64_t n = x->hdr.nchunks;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = (x->wx->spill_cur + k) % n;
		uint8_t b = __atomic_load_n(&x->wx->spilled[i / 8], __ATOMIC_ACQUIRE);
		if (b == 0) { /* the rest of this byte (not past the end: it wraps) */
			uint64_t step = 8 - i % 8;
			k += (i + step > n ? n - i : step) - 1;
			continue;
		}
		if (b >> (i % 8) & 1) {
			x->wx->spill_cur = i + 1;
			return i;
		}
	}
	return n;
}

/* Move spilled chunk idx of x from the stream into its files: 0 or an errno. */
static int move_one(struct rx_writer *w, struct rx_xfer *x, uint64_t idx)
{
	size_t len = (size_t)chunk_len(x, idx);
	uint64_t off = idx * x->hdr.chunk_size;
	int err;

	if (len > w->mcap) {
		uint8_t *b = realloc(w->mbuf, len);
		if (!b)
			return ENOMEM;
		w->mbuf = b;
		w->mcap = len;
	}
	errno = 0;
	if (sl_pread_all(x->stream_fd, w->mbuf, len, off) != 0)
		return errno ? errno : EIO;
	err = write_chunk(w, x, off, w->mbuf, len);
	if (err)
		return err;
	/* the stream's copy is not needed any more: its blocks go back */
	(void)fallocate(x->stream_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
	wrote(w, x, idx, len);
	return 0;
}

/* Up to MOVE_BYTES of x's spilled chunks into the files. A chunk that cannot
 * be moved is a write failure (not done: a later pass brings it). */
static void do_move(struct rx_writer *w, struct rx_xfer *x)
{
	uint64_t moved = 0;

	while (moved < MOVE_BYTES) {
		uint64_t idx = next_spilled(x);
		int err;
		if (idx >= x->hdr.nchunks)
			break;
		err = move_one(w, x, idx);
		if (err)
			add_fail(w, x, idx, err, RX_WF_WRITE);
		__atomic_fetch_and(&x->wx->spilled[idx / 8], (uint8_t)~(1u << (idx % 8)), __ATOMIC_RELEASE);
		moved += x->hdr.chunk_size;
		pthread_mutex_lock(&w->mu);
		x->wx->nspilled--;
		x->wx->spill_freed += x->hdr.chunk_size;
		w->spill_bytes -= x->hdr.chunk_size;
		w->moved += !err;
		w->failed = 1;
		pthread_mutex_unlock(&w->mu);
	}
}

static void enqueue(struct rx_writer *w, struct job *j)
{
	j->next = NULL;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	j->x->wx->queued++;
	w->njobs++;
	pthread_cond_signal(&w->work);
}

/* Free the oldest spares until need more bytes fit --writer-queue beside
 * what is queued and spare (mutex held). */
static void trim_spares(struct rx_writer *w, uint64_t need)
{
	while (w->nspare && w->bytes + w->spare_bytes + need > w->cap) {
		free(w->spare[0].buf);
		w->spare_bytes -= w->spare[0].cap;
		memmove(w->spare, w->spare + 1, --w->nspare * sizeof *w->spare);
	}
}

/* A given buffer written (its bytes out of the queue): kept for
 * rx_writer_spare if it fits, else freed (mutex held). */
static void keep_spare(struct rx_writer *w, uint8_t *buf, size_t cap)
{
	if (w->nspare == SPARES || w->bytes + w->spare_bytes + cap > w->cap) {
		free(buf);
		return;
	}
	w->spare[w->nspare++] = (struct spare){ buf, cap };
	w->spare_bytes += cap;
}

static void run(void *arg, unsigned worker)
{
	struct rx_writer *w = arg;

	(void)worker;
	pthread_mutex_lock(&w->mu);
	while (!w->stop || w->head) {
		struct job *j = w->head;
		if (!j || (w->held && !w->stop)) {
			pthread_cond_wait(&w->work, &w->mu);
			continue;
		}
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		w->busy = j->x;
		pthread_mutex_unlock(&w->mu);
		if (j->kind == JOB_WRITE)
			do_write(w, j);
		else if (j->kind == JOB_MOVE)
			do_move(w, j->x);
		else
			hand_over(w, j->x);
		pthread_mutex_lock(&w->mu);
		if (j->kind == JOB_WRITE)
			w->bytes -= j->len;
		else if (j->kind == JOB_CHECKPOINT)
			j->x->wx->ckpt_done = j->seq;
		j->x->wx->queued--;
		w->njobs--;
		w->busy = NULL;
		if (j->kind == JOB_MOVE && j->x->wx->nspilled) {
			enqueue(w, j); /* more spilled: again after the writes queued meanwhile */
		} else {
			if (j->kind == JOB_MOVE)
				j->x->wx->move = NULL;
			if (j->kind == JOB_WRITE && j->own)
				keep_spare(w, j->own, j->owncap);
			free(j);
		}
		pthread_cond_broadcast(&w->done);
	}
	w->exited = 1; /* the sync thread ends once its batches are done */
	pthread_cond_broadcast(&w->swork);
	pthread_mutex_unlock(&w->mu);
}

static void free_writer(struct rx_writer *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->swork);
	free(w);
}

int rx_writer_start(uint64_t cap, uint64_t spill_cap, struct rx_writer **out)
{
	struct rx_writer *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w)
		return SL_ERR_NOMEM;
	w->cap = cap ? cap : RX_WRITER_QUEUE_DEFAULT;
	w->spill_cap = spill_cap == RX_WRITER_SPILL_NONE ? 0 : spill_cap ? spill_cap : RX_WRITER_SPILL_DEFAULT;
	for (unsigned i = 0; i < WFDC; i++)
		w->fdc[i].fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	pthread_cond_init(&w->swork, NULL);
	if (sl_pool_start_one("rx-sync", run_sync, w, &w->sthread, NULL) != SL_OK) {
		free_writer(w);
		return SL_ERR_IO;
	}
	if (sl_pool_start_one("rx-writer", run, w, &w->wthread, NULL) != SL_OK) {
		pthread_mutex_lock(&w->mu);
		w->stop = w->exited = 1;
		pthread_cond_broadcast(&w->swork);
		pthread_mutex_unlock(&w->mu);
		sl_pool_free(w->sthread);
		free_writer(w);
		return SL_ERR_IO;
	}
	*out = w;
	return SL_OK;
}

void rx_writer_stop(struct rx_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	sl_pool_free(w->wthread); /* the writer wakes the sync thread as it ends */
	sl_pool_free(w->sthread);
	fdc_drop(w, NULL);
	free(w->mbuf);
	trim_spares(w, w->cap + 1);
	free_writer(w);
}


/* Queue the job if there is room for its bytes (mutex held). */
static int queue_job(struct rx_writer *w, struct job *j)
{
	if (w->bytes && w->bytes + j->len > w->cap)
		return SL_ERR_AGAIN;
	trim_spares(w, j->len);
	enqueue(w, j);
	w->bytes += j->len;
	if (w->bytes > w->peak)
		w->peak = w->bytes;
	return SL_OK;
}

static struct job *write_job(struct rx_xfer *x, uint64_t idx, size_t len, size_t extra)
{
	struct job *j = malloc(sizeof *j + extra);

	if (!j)
		return NULL;
	j->x = x;
	j->kind = JOB_WRITE;
	j->idx = idx;
	j->len = len;
	j->own = NULL;
	j->owncap = 0;
	j->p = j->data;
	return j;
}

int rx_writer_attach(struct rx_xfer *x)
{
	if (!x->wx && (x->wx = calloc(1, sizeof *x->wx)) == NULL)
		return SL_ERR_NOMEM;
	return SL_OK;
}

void rx_writer_forget(struct rx_xfer *x)
{
	if (!x->wx)
		return;
	free(x->wx->pend);
	free(x->wx->fail);
	free(x->wx->spilled);
	free(x->wx);
	x->wx = NULL;
}

uint64_t rx_writer_spilled_of(struct rx_writer *w, const struct rx_xfer *x)
{
	uint64_t n;

	if (!x->wx)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = x->wx->nspilled;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int rx_writer_put(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len)
{
	struct job *j;
	int r;

	pthread_mutex_lock(&w->mu);
	r = w->bytes && w->bytes + len > w->cap ? SL_ERR_AGAIN : SL_OK;
	pthread_mutex_unlock(&w->mu);
	if (r != SL_OK)
		return r;
	if ((j = write_job(x, idx, len, len)) == NULL)
		return SL_ERR_NOMEM;
	memcpy(j->data, buf, len);
	pthread_mutex_lock(&w->mu);
	r = queue_job(w, j);
	pthread_mutex_unlock(&w->mu);
	if (r != SL_OK)
		free(j);
	return r;
}

/* A spare of exactly cap bytes out of the list, or NULL (mutex held). */
static uint8_t *take_spare(struct rx_writer *w, size_t cap)
{
	for (size_t i = w->nspare; i-- > 0;) {
		uint8_t *buf = w->spare[i].buf;
		if (w->spare[i].cap != cap)
			continue;
		w->spare_bytes -= cap;
		memmove(w->spare + i, w->spare + i + 1, (--w->nspare - i) * sizeof *w->spare);
		w->reused++;
		return buf;
	}
	return NULL;
}

int rx_writer_give(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, uint8_t **bufp, size_t cap,
		   size_t off, size_t len)
{
	struct job *j = write_job(x, idx, len, 0);
	int r;

	if (!j)
		return SL_ERR_NOMEM;
	j->own = *bufp;
	j->owncap = cap;
	j->p = *bufp + off;
	pthread_mutex_lock(&w->mu);
	if (w->bytes && w->bytes + len > w->cap) {
		r = SL_ERR_AGAIN;
	} else { /* an exchange: queued and spare bytes stay as they were */
		*bufp = take_spare(w, cap);
		r = queue_job(w, j);
		w->given++;
	}
	pthread_mutex_unlock(&w->mu);
	if (r != SL_OK)
		free(j);
	return r;
}

uint8_t *rx_writer_spare(struct rx_writer *w, size_t cap)
{
	uint8_t *buf;

	pthread_mutex_lock(&w->mu);
	buf = take_spare(w, cap);
	pthread_mutex_unlock(&w->mu);
	return buf;
}

int rx_writer_spill(struct rx_writer *w, struct rx_xfer *x, uint64_t idx, const uint8_t *buf, size_t len,
		    int force)
{
	uint64_t need = x->hdr.chunk_size;
	struct job *j = NULL;

	pthread_mutex_lock(&w->mu);
	if (!force && w->spill_bytes + need > w->spill_cap) {
		pthread_mutex_unlock(&w->mu);
		return SL_ERR_AGAIN;
	}
	if (!x->wx->move && (j = calloc(1, sizeof *j)) == NULL) {
		pthread_mutex_unlock(&w->mu);
		return SL_ERR_NOMEM;
	}
	pthread_mutex_unlock(&w->mu);
	/* the bitmap and the stream are the receive thread's to set up: the
	 * writer reads them only for a move job queued after this */
	if (!x->wx->spilled && (x->wx->spilled = calloc(rx_done_bytes(x->hdr.nchunks), 1)) == NULL) {
		free(j);
		return SL_ERR_NOMEM;
	}
	if (buf && (x->stream_fd < 0 || sl_pwrite_all(x->stream_fd, buf, len, idx * x->hdr.chunk_size))) {
		if (x->stream_fd < 0)
			errno = EBADF;
		free(j);
		return SL_ERR_IO;
	}
	pthread_mutex_lock(&w->mu);
	if (!(__atomic_load_n(&x->wx->spilled[idx / 8], __ATOMIC_ACQUIRE) >> (idx % 8) & 1)) {
		__atomic_fetch_or(&x->wx->spilled[idx / 8], (uint8_t)(1u << (idx % 8)), __ATOMIC_RELEASE);
		x->wx->nspilled++;
		w->spill_bytes += need;
		if (w->spill_bytes > w->spill_peak)
			w->spill_peak = w->spill_bytes;
		w->spilled++;
	}
	if (!x->wx->move && j) {
		j->x = x;
		j->kind = JOB_MOVE;
		x->wx->move = j;
		enqueue(w, j);
		j = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	free(j);
	return SL_OK;
}

void rx_writer_checkpoint(struct rx_writer *w, struct rx_xfer *x)
{
	struct job *j = malloc(sizeof *j);

	pthread_mutex_lock(&w->mu);
	if (!j || x->wx->ckpt_asked > x->wx->ckpt_done) { /* one is waiting already */
		pthread_mutex_unlock(&w->mu);
		free(j);
		return;
	}
	j->x = x;
	j->kind = JOB_CHECKPOINT;
	j->seq = ++x->wx->ckpt_asked;
	j->len = 0;
	j->own = NULL;
	enqueue(w, j);
	pthread_mutex_unlock(&w->mu);
}

int rx_writer_flush(struct rx_writer *w, struct rx_xfer *x)
{
	if (!w)
		return SL_OK;
	/* Once nothing of x is queued or in progress the thread does not touch
	 * x (only the receive thread queues for it, and it is here): the
	 * checkpoint runs on this thread, also while the writer is held. */
	pthread_mutex_lock(&w->mu);
	while (x->wx->queued || w->busy == x || x->wx->syncing)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	sync_chunks(w, x, x->wx->pend, x->wx->npend);
	x->wx->npend = 0;
	x->wx->pend_bytes = 0;
	return SL_OK;
}

void rx_writer_release(struct rx_writer *w, struct rx_xfer *x)
{
	pthread_mutex_lock(&w->mu);
	while (x->wx->queued || w->busy == x || x->wx->syncing)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
	/* the threads are not working on x: its descriptors can go, and the
	 * spares too if nothing else is queued (an idle daemon holds none) */
	pthread_mutex_lock(&w->mu);
	fdc_drop(w, x);
	if (!w->njobs)
		trim_spares(w, w->cap + 1);
	pthread_mutex_unlock(&w->mu);
}

void rx_writer_hold(struct rx_writer *w, int on)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->held = on;
	while (on && (w->busy || w->sbusy))
		pthread_cond_wait(&w->done, &w->mu);
	if (!on) {
		pthread_cond_broadcast(&w->work);
		pthread_cond_broadcast(&w->swork);
	}
	pthread_mutex_unlock(&w->mu);
}

void rx_writer_idle(struct rx_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	/* while held, queued jobs wait for rx_writer_hold(w, 0): not for them */
	while (((w->head || w->shead) && !w->held) || w->busy || w->sbusy)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

int rx_writer_take_fails(struct rx_writer *w, struct rx_xfer *x, struct rx_wfail **f, size_t *n, int *lost)
{
	int any;

	if (!x->wx) {
		*f = NULL;
		*n = 0;
		*lost = 0;
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	*f = x->wx->fail;
	*n = x->wx->nfail;
	*lost = x->wx->fail_lost;
	any = *n || *lost;
	x->wx->fail = NULL;
	x->wx->nfail = x->wx->failcap = 0;
	x->wx->fail_lost = 0;
	pthread_mutex_unlock(&w->mu);
	return any;
}

int rx_writer_failed(struct rx_writer *w)
{
	int f;

	pthread_mutex_lock(&w->mu);
	f = w->failed;
	w->failed = 0;
	pthread_mutex_unlock(&w->mu);
	return f;
}

void rx_writer_stats(struct rx_writer *w, struct rx_writer_stats *s)
{
	memset(s, 0, sizeof *s);
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	s->queued = w->bytes;
	s->peak = w->peak;
	s->cap = w->cap;
	s->jobs = w->njobs;
	s->written = w->written;
	s->syncs = w->syncs;
	s->spill = w->spill_bytes;
	s->spill_peak = w->spill_peak;
	s->spill_cap = w->spill_cap;
	s->spilled = w->spilled;
	s->moved = w->moved;
	s->given = w->given;
	s->reused = w->reused;
	s->spare = w->spare_bytes;
	pthread_mutex_unlock(&w->mu);
}

uint64_t rx_writer_take_freed(struct rx_writer *w, struct rx_xfer *x)
{
	uint64_t n;

	if (!x->wx)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = x->wx->spill_freed;
	x->wx->spill_freed = 0;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int rx_writer_busy(struct rx_writer *w, const struct rx_xfer *x)
{
	int b;

	if (!x->wx)
		return 0;
	pthread_mutex_lock(&w->mu);
	b = x->wx->queued || w->busy == x || x->wx->syncing;
	pthread_mutex_unlock(&w->mu);
	return b;
}
