/* test_rx_release.c — a release's heavy steps and a reactivated transfer's
 * catalog check run on a thread (rx/finish.c), through tests/rxh.
 *
 * What must hold: once a transfer of many files is complete, the receive
 * thread only starts its release job; datagrams of another transfer are
 * handled and ticks run (that transfer is even released) while the job is
 * held; the job's verdict then releases it, bit-identical, audited once. A
 * new layout of the transfer while its job runs stops the job (never
 * reset under it) and the release starts over; a stop of the receiver while
 * the job runs leaves a staged transfer that the next start releases. A
 * dormant transfer's kept catalog is verified again on a thread while its
 * symbols are spooled, then used. The job's thread is held by a hook (a
 * gate the test opens), never by timing; h->release_nowait keeps the
 * harness from waiting for jobs itself.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxh.h"
#include "rxh_suite.h"

#define NFILES 3000

static void up(void)
{
	rxh_suite_up();
	h->release_nowait = 1;
}

TestSuite(rx_release, .init = up, .fini = rxh_suite_down, .timeout = 120);

/* Holds the jobs of one transfer as `phase` starts, until opened or the job
 * is told to stop. Counters are atomics: the job's thread writes them. */
struct gate {
	char hex[33];
	int phase;
	int open, entered, held, cancelled;
};

static void hold(void *arg, const char *hex, int phase, const int *cancel)
{
	struct gate *g = arg;

	if (strcmp(hex, g->hex) || phase != g->phase)
		return;
	__atomic_add_fetch(&g->entered, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g->held, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 600000; i++) { /* 60 s at most: a hang fails the test */
		if (__atomic_load_n(&g->open, __ATOMIC_SEQ_CST))
			break;
		if (__atomic_load_n(cancel, __ATOMIC_SEQ_CST)) {
			__atomic_add_fetch(&g->cancelled, 1, __ATOMIC_SEQ_CST);
			break;
		}
		usleep(100);
	}
	__atomic_store_n(&g->held, 0, __ATOMIC_SEQ_CST);
}

static void gate_set(struct gate *g, const char *hex, int phase)
{
	memset(g, 0, sizeof *g);
	snprintf(g->hex, sizeof g->hex, "%s", hex);
	g->phase = phase;
	h->c.rjob_hook = hold;
	h->c.rjob_hook_arg = g;
}

static int load(const int *v)
{
	return __atomic_load_n(v, __ATOMIC_SEQ_CST);
}

/* Ticks (1 ms of the receiver's clock each, bounded in real time) until
 * the gate has held n jobs. */
static void until_entered(struct gate *g, int n)
{
	for (int i = 0; i < 20000 && load(&g->entered) < n; i++) {
		rxh_tick(h, 1000000);
		usleep(500);
	}
	cr_assert_eq(load(&g->entered), n, "the job reached the gate");
}

/* Ticks until hex is released (bounded). */
static int until_released(const char *hex)
{
	for (int i = 0; i < 20000 && !rxh_is_released(h, hex); i++) {
		rxh_tick(h, 1000000);
		usleep(500);
	}
	return rxh_is_released(h, hex);
}

/* The state the status file gives hex ("" if it has no line). */
static void status_state(const char *hex, char *out, size_t cap)
{
	char path[400], line[1024];
	FILE *f;

	out[0] = '\0';
	rx_write_status(&h->c, h->now);
	snprintf(path, sizeof path, "%s/status", h->state);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof line, f)) {
		const char *st = strstr(line, " state=");
		if (!strncmp(line, "xfer ", 5) && !strncmp(line + 5, hex, 32) && st)
			snprintf(out, cap, "%.*s", (int)strcspn(st + 7, " \n"), st + 7);
	}
	fclose(f);
}

/* NFILES small files (0 to 99 bytes: some empty, never written by a chunk)
 * in 30 directories, one transfer. */
struct many {
	uint8_t *data;
	struct rxh_file f[NFILES];
	char names[NFILES][24];
	struct rxh_xfer t;
	struct rxh_session s;
};

static struct many *many_make(const struct rxh_opts *o, const char *manifest_text)
{
	struct many *m = calloc(1, sizeof *m);
	struct rxh_opts opts = o ? *o : (struct rxh_opts){ .kmax = 32, .symsize = 1024 };
	size_t off = 0;

	cr_assert_not_null(m);
	m->data = rxh_pattern(NFILES * 100, 77);
	for (size_t i = 0; i < NFILES; i++) {
		size_t n = (i * 37) % 100;
		snprintf(m->names[i], sizeof m->names[i], "d%02zu/f%05zu", i % 30, i);
		m->f[i] = (struct rxh_file){ m->names[i], m->data + off, n };
		off += n;
	}
	opts.manifest_text = manifest_text;
	cr_assert_eq(rxh_xfer_build(h, m->f, NFILES, &opts, &m->t), SL_OK);
	cr_assert_eq(rxh_session_new(h, m->t.symsize, &m->s), SL_OK);
	return m;
}

static void many_free(struct many *m)
{
	rxh_session_free(&m->s);
	rxh_xfer_free(&m->t);
	free(m->data);
	free(m);
}

static void many_released(const struct many *m)
{
	for (size_t i = 0; i < NFILES; i++)
		cr_assert(rxh_released_file_is(h, m->t.hex, m->f[i].path, m->f[i].data, m->f[i].len),
			  "data/%s released bit-identical", m->f[i].path);
	cr_assert_eq(rxh_audit_count(h, "released", m->t.hex), 1, "audited once");
	cr_assert_eq(rxh_audit_count(h, "rejected", m->t.hex), 0);
}

/* The issue: a release of many files held the receive thread; now the
 * datagrams of another transfer are handled, and it is released, while
 * the first one's release job is held. */
Test(rx_release, receive_thread_not_held)
{
	struct many *a = many_make(NULL, NULL);
	struct rxh_one b;
	struct gate g;
	struct rx_xfer *x, *xb;
	char st[32];

	gate_set(&g, a->t.hex, RX_RJ_VERIFY);
	rxh_send_all(h, &a->s, &a->t, 0);
	x = rx_xfer_find(&h->c, a->t.id);
	cr_assert(x && x->ndone == x->hdr.nchunks, "every chunk is in");
	cr_assert(!rxh_is_released(h, a->t.hex), "its release is not done on the receive thread");
	cr_assert(x->rjob && x->rjob->kind == RX_RJ_RELEASE, "a release job runs");
	until_entered(&g, 1);
	status_state(a->t.hex, st, sizeof st);
	cr_assert_str_eq(st, "releasing");

	/* another transfer (a later sequence) is received meanwhile, its own
	 * release job runs to its end; it is committed after the first (the
	 * ledger's order: as when releases ran in line) */
	cr_assert_eq(rxh_one_make(h, &b, 200000, 78, &(struct rxh_opts){ .kmax = 32, .symsize = 1024 }), SL_OK);
	rxh_send_all(h, &b.s, &b.t, 0);
	xb = rx_xfer_find(&h->c, b.t.id);
	cr_assert(xb && xb->ndone == xb->hdr.nchunks, "its datagrams are handled");
	for (int i = 0; i < 20000 && !(xb->rjob && xb->rjob->phase == RX_RJ_FINISH && load(&xb->rjob->done)); i++) {
		rxh_tick(h, 1000000);
		usleep(500);
	}
	cr_assert(xb->rjob && xb->rjob->phase == RX_RJ_FINISH && load(&xb->rjob->done),
		  "its release job ran to its end while ticks went on");
	rxh_tick(h, 1000000);
	cr_assert(!rxh_is_released(h, b.t.hex), "committed after the release started before it");
	cr_assert(load(&g.held) && !rxh_is_released(h, a->t.hex) && x->rjob, "the first is still held");

	__atomic_store_n(&g.open, 1, __ATOMIC_SEQ_CST);
	cr_assert(until_released(a->t.hex), "released once its job goes on");
	cr_assert(until_released(b.t.hex));
	many_released(a);
	cr_assert(rxh_released_file_is(h, b.t.hex, "f.bin", b.data, b.n));
	cr_assert_eq(h->c.st.released, 2);
	cr_assert_eq(h->c.staged_bytes, 0);
	rxh_one_free(&b);
	many_free(a);
}

/* A new layout of the transfer (same manifest, another session) while its
 * job finishes the tree: the job is told to stop and joined before the
 * staging changes; the release starts over and succeeds. */
Test(rx_release, new_layout_while_finishing)
{
	struct many *a = many_make(NULL, NULL);
	struct many *a2 = many_make(&(struct rxh_opts){ .kmax = 16, .symsize = 1396 }, a->t.manifest);
	struct gate g;
	struct rx_xfer *x;

	cr_assert_eq(memcmp(a->t.id, a2->t.id, 16), 0);
	gate_set(&g, a->t.hex, RX_RJ_FINISH);
	rxh_send_all(h, &a->s, &a->t, 0);
	until_entered(&g, 1);
	x = rx_xfer_find(&h->c, a->t.id);
	cr_assert(x && x->rjob && x->rjob->phase == RX_RJ_FINISH);
	rxh_tick(h, 2 * h->c.cfg->layout_hold_ns); /* its layout is idle */
	cr_assert(x->rjob && load(&g.held), "not timed out or deactivated under its job");
	rxh_send_hdr(h, &a2->s, &a2->t, NULL, 0);
	cr_assert_eq(load(&g.cancelled), 1, "the job was told to stop before the layout changed");
	cr_assert_eq(x->symsize, 1396, "the new layout is staged");
	cr_assert_eq(x->ndone, x->hdr.nchunks, "its chunks carried over");
	until_entered(&g, 2); /* the release started over */
	cr_assert(!rxh_is_released(h, a->t.hex));
	__atomic_store_n(&g.open, 1, __ATOMIC_SEQ_CST);
	cr_assert(until_released(a->t.hex));
	many_released(a);
	many_free(a2);
	many_free(a);
}

/* The receiver stops (as at a crash before the intent) while the job
 * finishes the tree: the job is stopped and joined; the next start finds
 * the transfer staged and complete and releases it. */
Test(rx_release, stop_while_finishing_then_released)
{
	struct many *a = many_make(NULL, NULL);
	struct gate g;
	struct rx_xfer *x;

	gate_set(&g, a->t.hex, RX_RJ_FINISH);
	rxh_send_all(h, &a->s, &a->t, 0);
	until_entered(&g, 1);
	cr_assert_eq(rxh_restart(h), SL_OK);
	cr_assert_eq(load(&g.cancelled), 1, "stopped, not waited for to its end");
	cr_assert(!rxh_is_released(h, a->t.hex));
	x = rx_xfer_find(&h->c, a->t.id);
	cr_assert(x && x->release_wait && !x->rjob, "known again, complete");
	cr_assert(until_released(a->t.hex), "released after the start");
	many_released(a);
	many_free(a);
}

/* A dormant transfer (its manifest out of memory) gets symbols: its kept
 * catalog is verified again on a thread, not on the receive thread; the
 * symbols that come meanwhile are spooled and used once it is active. */
Test(rx_release, reactivation_verifies_on_a_thread)
{
	struct rxh_one o;
	struct many *a;
	struct gate g;
	struct rx_xfer *x;
	uint64_t half, spooled;
	char st[32];

	/* the other transfer's sequence is the lower: released first, as it is */
	cr_assert_eq(rxh_one_make(h, &o, 100000, 79, &(struct rxh_opts){ .kmax = 32, .symsize = 1024 }), SL_OK);
	a = many_make(NULL, NULL);
	rxh_send_hdr(h, &a->s, &a->t, NULL, 0);
	half = a->t.hdr.catalog_blocks + (a->t.nblocks - a->t.hdr.catalog_blocks) / 2;
	for (uint64_t b = 0; b < half; b++)
		rxh_send_block(h, &a->s, &a->t, b, 0, 0);
	rxh_tick(h, h->cfg.timeout_ns + 1);
	x = rx_xfer_find(&h->c, a->t.id);
	cr_assert(x && x->state == RX_X_DORMANT && x->catalog_ok && !x->manifest, "dormant, no manifest in memory");

	gate_set(&g, a->t.hex, RX_RJ_VERIFY);
	for (uint64_t b = half; b < a->t.nblocks; b++) /* every data row of the rest */
		rxh_send_block(h, &a->s, &a->t, b, 0, 0);
	cr_assert_eq(x->state, RX_X_DORMANT, "not made active on the receive thread");
	cr_assert(x->rjob && x->rjob->kind == RX_RJ_ACTIVATE, "its catalog is verified again on a thread");
	until_entered(&g, 1);
	status_state(a->t.hex, st, sizeof st);
	cr_assert_str_eq(st, "verifying");
	spooled = rx_spool_syms(x);
	cr_assert_gt(spooled, 0, "its symbols are spooled meanwhile");

	rxh_send_all(h, &o.s, &o.t, 0);
	cr_assert(until_released(o.t.hex), "another transfer is released meanwhile");

	__atomic_store_n(&g.open, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 20000 && x->state != RX_X_ACTIVE; i++) {
		rxh_tick(h, 1000000);
		usleep(500);
	}
	cr_assert(x->state == RX_X_ACTIVE && x->manifest && !x->rjob, "active once verified");
	/* one parity row per block: with the spooled rows it decodes */
	for (uint64_t b = half; b < a->t.nblocks; b++)
		rxh_send_symbol(h, &a->s, &a->t, b, a->t.k[b]);
	cr_assert(until_released(a->t.hex), "completed from the spool");
	many_released(a);
	rxh_one_free(&o);
	many_free(a);
}

/* Two releases in flight commit in the order of their sequence, whichever
 * job started first: B (the later sequence) completes and its job runs to
 * its end before A's job even starts; B's commit waits for A's, and both
 * are released (before, B committed first and the ledger then refused A as
 * a rollback: "sequence 1 is not above the high-water mark 2"). */
Test(rx_release, lower_sequence_commits_first)
{
	struct rxh_one a, b;
	struct rx_xfer *xa, *xb;
	struct gate g;

	cr_assert_eq(rxh_one_make(h, &a, 150000, 81, NULL), SL_OK);
	cr_assert_eq(rxh_one_make(h, &b, 150000, 82, NULL), SL_OK);
	cr_assert_lt(a.t.hdr.sequence, b.t.hdr.sequence);
	gate_set(&g, a.t.hex, RX_RJ_VERIFY);
	rxh_send_all(h, &b.s, &b.t, 0);
	xb = rx_xfer_find(&h->c, b.t.id);
	for (int i = 0; i < 20000 && !(xb->rjob && xb->rjob->phase == RX_RJ_FINISH && load(&xb->rjob->done)); i++) {
		rxh_tick(h, 1000000);
		usleep(500);
	}
	cr_assert(xb->rjob && xb->rjob->phase == RX_RJ_FINISH && load(&xb->rjob->done), "B's job is over");
	cr_assert(!rxh_is_released(h, b.t.hex), "nothing waits for B yet but its commit");

	rxh_send_all(h, &a.s, &a.t, 0);
	until_entered(&g, 1);
	rxh_tick(h, 1000000);
	cr_assert(!rxh_is_released(h, b.t.hex) && xb->rjob, "B, the later sequence, waits for A");
	xa = rx_xfer_find(&h->c, a.t.id);
	cr_assert(xa && xa->rjob && xb->rjob->order < xa->rjob->order, "A's job started after B's");

	__atomic_store_n(&g.open, 1, __ATOMIC_SEQ_CST);
	cr_assert(until_released(a.t.hex), "A released");
	cr_assert(until_released(b.t.hex), "B released");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n));
	cr_assert(rxh_released_file_is(h, b.t.hex, "f.bin", b.data, b.n));
	rxh_one_free(&a);
	rxh_one_free(&b);
}
