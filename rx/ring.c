/* ring.c — the receive ring (see ring.h). */
#include "ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pool.h"

#define BATCH 256
#define KEEP_FREE 8              /* emptied segments kept for reuse (fresh ones fault their pages in) */
#define FILE_CAP (16u << 20)     /* a file link waits for room: this much is plenty */
#define REC_HDR 16               /* u32 len, u32 pad, u64 ts */
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

struct seg {
	struct seg *next;
	size_t used;                 /* bytes of records written (published) */
	uint8_t data[];
};

struct rx_ring {
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct seg *head, *tail;     /* queued segments, oldest first */
	struct seg *spare;           /* emptied ones, at most KEEP_FREE */
	unsigned nspare;
	size_t rd;                   /* the taker's offset in head */
	size_t taken_to;             /* ... after the records it holds now */
	uint64_t queued, mem, cap, peak, drops, dropped_bytes;
	bool wait_for_room;          /* a file link: wait, never drop */
	atomic_bool stop;
	int end;                     /* 0, or SL_ERR_CLOSED / the link's error */
	struct sl_diag end_diag;
	struct sl_link *link;
	struct sl_pool *pool;
	uint8_t *bufs;               /* the receive thread's batch */
};

static struct seg *seg_get(struct rx_ring *r)
{
	struct seg *s = r->spare;

	if (s) {
		r->spare = s->next;
		r->nspare--;
	} else {
		if (r->mem + RX_RING_SEG > r->cap)
			return NULL;
		if (!(s = malloc(sizeof *s + RX_RING_SEG)))
			return NULL;
		r->mem += RX_RING_SEG;
	}
	s->next = NULL;
	s->used = 0;
	return s;
}

static void seg_put(struct rx_ring *r, struct seg *s)
{
	if (r->nspare < KEEP_FREE) {
		s->next = r->spare;
		r->spare = s;
		r->nspare++;
		return;
	}
	free(s);
	r->mem -= RX_RING_SEG;
}

/* Room for a record of `need` bytes at the tail (under mu): the tail
 * segment, or a new one. NULL when the cap is reached. */
static struct seg *room_for(struct rx_ring *r, size_t need)
{
	if (r->tail && RX_RING_SEG - r->tail->used >= need)
		return r->tail;
	struct seg *s = seg_get(r);
	if (!s)
		return NULL;
	if (r->tail)
		r->tail->next = s;
	else
		r->head = s;
	r->tail = s;
	return s;
}

/* Queue one datagram (under mu). Returns false when there is no room. */
static bool put(struct rx_ring *r, const uint8_t *buf, size_t len, uint64_t ts)
{
	size_t need = REC_HDR + ALIGN8(len);
	struct seg *s = room_for(r, need);
	uint32_t l = (uint32_t)len;

	if (!s)
		return false;
	memcpy(s->data + s->used, &l, 4);
	memcpy(s->data + s->used + 8, &ts, 8);
	memcpy(s->data + s->used + REC_HDR, buf, len);
	s->used += need;
	r->queued += need;
	if (r->queued > r->peak)
		r->peak = r->queued;
	return true;
}

/* Queue a received batch: wait for room on a file link, else drop what
 * does not fit. */
static void put_batch(struct rx_ring *r, const struct sl_dgram *dg, int n, uint64_t now)
{
	pthread_mutex_lock(&r->mu);
	for (int i = 0; i < n; i++) {
		while (!put(r, dg[i].buf, dg[i].len, now)) {
			if (!r->wait_for_room || atomic_load(&r->stop)) {
				r->drops++;
				r->dropped_bytes += dg[i].len;
				break;
			}
			pthread_cond_wait(&r->room, &r->mu);
		}
	}
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->mu);
}

static void end_with(struct rx_ring *r, int err, const struct sl_diag *d)
{
	pthread_mutex_lock(&r->mu);
	r->end = err;
	if (d)
		r->end_diag = *d;
	pthread_cond_signal(&r->more);
	pthread_mutex_unlock(&r->mu);
}

/* The receive thread: receive, queue, again. */
static void receive(void *arg, unsigned worker)
{
	struct rx_ring *r = arg;
	struct sl_dgram dg[BATCH];
	struct sl_diag d = { "" };

	(void)worker;
	while (!atomic_load(&r->stop)) {
		for (unsigned i = 0; i < BATCH; i++) {
			dg[i].buf = r->bufs + (size_t)i * SL_LINK_MAX_DGRAM; /* the link may lend its own */
			dg[i].cap = SL_LINK_MAX_DGRAM;
		}
		int n = sl_link_recv(r->link, dg, BATCH, 200, &d);
		if (n == SL_ERR_AGAIN || n == 0)
			continue;
		if (n < 0) {
			end_with(r, n, &d);
			return;
		}
		put_batch(r, dg, n, sl_now_ns());
	}
}

/* Drop the head segment once read and no longer written (under mu). */
static void pop_head(struct rx_ring *r)
{
	struct seg *s = r->head;

	r->head = s->next;
	if (!r->head)
		r->tail = NULL;
	r->rd = 0;
	seg_put(r, s);
	pthread_cond_signal(&r->room);
}

static void deadline_in(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Wait until the head segment has unread records (under mu): 1, or 0 at
 * the deadline, or the end (< 0) once nothing is queued. */
static int wait_for_records(struct rx_ring *r, int timeout_ms)
{
	struct timespec t;

	deadline_in(&t, timeout_ms);
	for (;;) {
		if (r->head && r->rd == r->head->used && r->head != r->tail) {
			pop_head(r);
			continue;
		}
		if (r->head && r->rd < r->head->used)
			return 1;
		if (r->end)
			return r->end;
		if (pthread_cond_timedwait(&r->more, &r->mu, &t) != 0)
			return r->head && r->rd < r->head->used ? 1 : 0;
	}
}

int rx_ring_take(struct rx_ring *r, struct rx_ring_rec *rec, unsigned n, int timeout_ms,
		 struct sl_diag *d)
{
	unsigned k = 0;
	int w;

	pthread_mutex_lock(&r->mu);
	w = wait_for_records(r, timeout_ms);
	if (w <= 0) {
		if (w < 0 && d)
			*d = r->end_diag;
		pthread_mutex_unlock(&r->mu);
		return w;
	}
	size_t off = r->rd, end = r->head->used;
	uint8_t *base = r->head->data;
	for (; k < n && off < end; k++) {
		uint32_t len;
		memcpy(&len, base + off, 4);
		memcpy(&rec[k].ts_ns, base + off + 8, 8);
		rec[k].buf = base + off + REC_HDR;
		rec[k].len = len;
		off += REC_HDR + ALIGN8(len);
	}
	r->taken_to = off;
	pthread_mutex_unlock(&r->mu);
	return (int)k;
}

void rx_ring_done(struct rx_ring *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->head && r->taken_to > r->rd) {
		r->queued -= r->taken_to - r->rd;
		r->rd = r->taken_to;
		if (r->rd == r->head->used) {
			if (r->head == r->tail) {
				r->head->used = 0; /* empty: write from the start again */
				r->rd = 0;
				pthread_cond_signal(&r->room);
			} else {
				pop_head(r);
			}
		}
	}
	r->taken_to = r->rd;
	pthread_mutex_unlock(&r->mu);
}

void rx_ring_get_stats(struct rx_ring *r, struct rx_ring_stats *st)
{
	pthread_mutex_lock(&r->mu);
	st->drops = r->drops;
	st->dropped_bytes = r->dropped_bytes;
	st->peak = r->peak;
	st->queued = r->queued;
	st->mem = r->mem;
	st->cap = r->cap;
	pthread_mutex_unlock(&r->mu);
}

static void ring_free(struct rx_ring *r)
{
	while (r->head)
		pop_head(r);
	while (r->spare) {
		struct seg *s = r->spare;
		r->spare = s->next;
		free(s);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->more);
	pthread_cond_destroy(&r->room);
	free(r->bufs);
	free(r);
}

int rx_ring_start(struct sl_link *link, uint64_t cap, struct rx_ring **out, struct sl_diag *d)
{
	struct rx_ring *r = calloc(1, sizeof *r);
	pthread_condattr_t ca;

	*out = NULL;
	if (cap < RX_RING_SEG)
		cap = RX_RING_SEG;
	if (!r || !(r->bufs = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM))) {
		free(r);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory for the receive ring");
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->more, &ca);
	pthread_cond_init(&r->room, NULL);
	pthread_condattr_destroy(&ca);
	r->cap = cap;
	r->link = link;
	r->wait_for_room = sl_link_fd(link) < 0;
	if (r->wait_for_room && cap > FILE_CAP)
		r->cap = FILE_CAP;
	if (sl_pool_start_one("rx-receive", receive, r, &r->pool, d) != SL_OK) {
		ring_free(r);
		return SL_ERR_NOMEM;
	}
	*out = r;
	return SL_OK;
}

void rx_ring_stop(struct rx_ring *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	pthread_mutex_lock(&r->mu);
	pthread_cond_broadcast(&r->room); /* a file link's thread waiting for room */
	pthread_mutex_unlock(&r->mu);
	sl_pool_free(r->pool);
	ring_free(r);
}
