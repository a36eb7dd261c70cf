/* test_tx_daemon.c — `sluice-tx daemon` (tx/daemon.c) as a library.
 *
 * The daemon's loop in steps (tx_daemon_open, tx_daemon_step), and the loop
 * itself (tx_daemon) in a thread of the test: transfers moved into
 * SPOOL/outbox/ are sent oldest first and moved to sent/ or failed/ with a
 * log; idle heartbeats go out between them; a stop request ends the loop,
 * and a send it interrupts stays in outbox/.
 *
 * The link is UDP to 127.0.0.1, to a socket of the test that keeps every
 * datagram, or a capture file (pcap:), read back. What arrived is opened
 * with the link key and fed to a receiver in process (tests/rxh), which
 * must release what the daemon sent.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "leakcheck.h"
#include "link.h"
#include "proto.h"
#include "rxh.h"
#include "rxh_suite.h"
#include "sender.h"
#include "tmpdir_suite.h"
#include "wire.h"

static void up(void)
{
	rxh_suite_up();
	tmp_setup();
}

static void down(void)
{
	tmp_teardown();
	rxh_suite_down();
}

TestSuite(tx_daemon, .init = up, .fini = down, .timeout = 120);

/* ---- a UDP socket on 127.0.0.1 that keeps what it receives ---- */

struct catcher {
	int fd;
	uint16_t port;
	pthread_t th;
	pthread_mutex_t mu;
	int stop;
	uint8_t **dg;
	size_t *len, n, cap;
};

static void *catch_loop(void *arg)
{
	struct catcher *c = arg;
	uint8_t buf[SL_LINK_MAX_DGRAM];

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pf = { c->fd, POLLIN, 0 };
		ssize_t n;
		if (poll(&pf, 1, 20) <= 0)
			continue;
		while ((n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
			pthread_mutex_lock(&c->mu);
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 1024;
				c->dg = realloc(c->dg, c->cap * sizeof *c->dg);
				c->len = realloc(c->len, c->cap * sizeof *c->len);
			}
			c->dg[c->n] = malloc((size_t)n);
			memcpy(c->dg[c->n], buf, (size_t)n);
			c->len[c->n++] = (size_t)n;
			pthread_mutex_unlock(&c->mu);
		}
	}
	return NULL;
}

static void catcher_start(struct catcher *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int big = 8 << 20;

	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c->fd, 0);
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	cr_assert_eq(bind(c->fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
	cr_assert_eq(getsockname(c->fd, (struct sockaddr *)&a, &al), 0);
	c->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&c->th, NULL, catch_loop, c), 0);
}

static size_t catcher_count(struct catcher *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* Stop the thread after a last look at the socket. */
static void catcher_stop(struct catcher *c)
{
	struct timespec nap = { 0, 50000000 };

	nanosleep(&nap, NULL);
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	pthread_join(c->th, NULL);
	close(c->fd);
}

static void catcher_free(struct catcher *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->dg[i]);
	free(c->dg);
	free(c->len);
	pthread_mutex_destroy(&c->mu);
}

/* What the catcher holds, opened: the receiver gets every datagram; the
 * idle heartbeats (their transfer fields), the aborted ones and the
 * transfer ids in the order their first transfer header came. */
struct seen {
	struct sl_heartbeat idle[16];
	unsigned nidle, aborted;
	uint8_t order[8][16];
	unsigned norder;
};

static void deliver_all(struct catcher *c, struct seen *s)
{
	struct sl_wire_rx_cfg rc = { .link_key = h->link_key, .max_symsize = SL_WIRE_MAX_SYMSIZE };
	struct sl_wire_rx *wr;
	struct sl_diag d = { "" };
	uint8_t copy[SL_LINK_MAX_DGRAM];

	memset(s, 0, sizeof *s);
	cr_assert_eq(sl_wire_rx_new(&rc, &wr, &d), SL_OK, "%s", d.msg);
	for (size_t i = 0; i < c->n; i++) {
		struct sl_wire_hdr w;
		struct sl_heartbeat hb;
		const uint8_t *body;
		memcpy(copy, c->dg[i], c->len[i]);
		cr_assert_eq(sl_wire_open(wr, copy, c->len[i], &w, &body), SL_OK, "datagram %zu", i);
		if (w.type == SL_T_XFER && (s->norder == 0 || memcmp(s->order[s->norder - 1], w.xfer, 16))) {
			cr_assert_lt(s->norder, 8);
			memcpy(s->order[s->norder++], w.xfer, 16);
		}
		if (w.type == SL_T_HEARTBEAT) {
			cr_assert_eq(sl_heartbeat_decode(body, w.paylen, &hb), SL_OK);
			if (hb.state == SL_HB_IDLE) {
				cr_assert_lt(s->nidle, 16);
				s->idle[s->nidle++] = hb;
			}
			s->aborted += hb.state == SL_HB_ABORTED;
		}
		h->now += 1000;
		rx_handle(&h->c, c->dg[i], c->len[i], h->now);
	}
	sl_wire_rx_free(wr);
	rxh_settle(h);
}

/* The datagrams of capture file `path`, into c (as the catcher keeps them). */
static void catcher_load_pcap(struct catcher *c, const char *path)
{
	char uri[512];
	struct sl_link *l;
	struct sl_diag d = { "" };
	static uint8_t buf[64][SL_LINK_MAX_DGRAM];
	struct sl_dgram dg[64];
	int n;

	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	snprintf(uri, sizeof uri, "pcap:%s", path);
	cr_assert_eq(sl_link_open_rx(uri, NULL, &l, &d), SL_OK, "%s", d.msg);
	do {
		for (int i = 0; i < 64; i++)
			dg[i] = (struct sl_dgram){ .buf = buf[i], .cap = sizeof buf[i] };
		n = sl_link_recv(l, dg, 64, 0, &d);
		if (n == SL_ERR_CLOSED)
			break; /* the end of the capture */
		cr_assert_geq(n, 0, "%s: %s", path, d.msg);
		for (int i = 0; i < n; i++) {
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 1024;
				c->dg = realloc(c->dg, c->cap * sizeof *c->dg);
				c->len = realloc(c->len, c->cap * sizeof *c->len);
			}
			c->dg[c->n] = malloc(dg[i].len);
			memcpy(c->dg[c->n], dg[i].buf, dg[i].len);
			c->len[c->n++] = dg[i].len;
		}
	} while (n >= 0);
	sl_link_close(l);
}

/* ---- transfers and the daemon's settings ---- */

struct sub {
	struct rxh_xfer t;
	uint8_t *data;
	size_t len;
	char dir[300];
};

/* Transfer `name` under tmp/ready/, one file a.bin of len bytes, signed by
 * `signers` officers (the policy wants 2). */
static void sub_make(struct sub *s, const char *name, size_t len, unsigned seed, unsigned signers)
{
	struct rxh_file f;

	memset(s, 0, sizeof s[0]);
	mkdirat(tmp_fd, "ready", 0755);
	s->len = len;
	s->data = rxh_pattern(len, seed);
	f = (struct rxh_file){ "a.bin", s->data, len };
	cr_assert_eq(rxh_xfer_build(h, &f, 1, NULL, &s->t), SL_OK);
	snprintf(s->dir, sizeof s->dir, "%s/ready/%s", tmp, name);
	cr_assert_eq(rxh_xfer_write_dir(h, &s->t, &f, 1, signers, s->dir), SL_OK);
}

static void sub_free(struct sub *s)
{
	rxh_xfer_free(&s->t);
	free(s->data);
}

/* Moved into SPOOL/outbox/NAME with one rename, as an operator does; a
 * short pause after it, so each submission has a ctime of its own. */
static void submit(const char *dir, const char *name)
{
	char to[400];
	struct timespec nap = { 0, 30000000 };

	snprintf(to, sizeof to, "%s/spool/outbox/%s", tmp, name);
	cr_assert_eq(rename(dir, to), 0, "%s -> %s: %s", dir, to, strerror(errno));
	nanosleep(&nap, NULL);
}

static int exists(const char *rel)
{
	struct stat st;

	return fstatat(tmp_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* SPOOL/<rel> holds `want` (a substring); its text in out. */
static void log_has(const char *rel, const char *want)
{
	char path[400], text[2048] = "";
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "%s/spool/%s", tmp, rel);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	n = fread(text, 1, sizeof text - 1, fp);
	text[n] = '\0';
	fclose(fp);
	cr_assert(strstr(text, want), "%s says '%s', not '%s'", rel, text, want);
}

struct setup {
	struct catcher c;
	struct tx_send_cfg cfg;
	char uri[512], spool[300];
	volatile sig_atomic_t stop;
};

/* Settings for 127.0.0.1 at 50 Mbit/s, idle heartbeats only when one is
 * due at once (after a start, after a transfer), keyed with the harness's key. */
static void setup_open(struct setup *st)
{
	memset(st, 0, sizeof *st);
	catcher_start(&st->c);
	snprintf(st->uri, sizeof st->uri, "udp://127.0.0.1:%u", st->c.port);
	snprintf(st->spool, sizeof st->spool, "%s/spool", tmp);
	tx_send_cfg_defaults(&st->cfg);
	st->cfg.link_uri = st->uri;
	st->cfg.link_key = h->link_key;
	st->cfg.rate_bps = 50000000;
	st->cfg.heartbeat_ms = 3600000;
	st->cfg.realtime = TX_RT_OFF;
	st->cfg.spool_dir = tmp;
	st->cfg.stop = &st->stop;
}

static struct tx_daemon *daemon_open(struct setup *st)
{
	struct tx_daemon *dm = NULL;
	struct sl_diag d = { "" };

	cr_assert_eq(tx_daemon_open(&st->cfg, st->spool, h->policy, &dm, &d), SL_OK, "%s", d.msg);
	return dm;
}

static void step_is(struct tx_daemon *dm, int want, const char *what)
{
	struct sl_diag d = { "" };
	int r = tx_daemon_step(dm, &d);

	cr_assert_eq(r, want, "%s: step returned %d (%s)", what, r, d.msg);
}

/* ---- the tests ---- */

/* An empty spool: the daemon makes outbox/, sent/ and failed/, and its
 * first step sends an idle heartbeat (no transfer yet). A transfer moved
 * into outbox/ is sent, moved to sent/ with a log naming it; the next step
 * is idle again, with a heartbeat at once naming the transfer sent last.
 * The receiver releases the transfer. */
Test(tx_daemon, sends_a_submission_and_moves_it_to_sent)
{
	struct setup st;
	struct tx_daemon *dm;
	struct sub a;
	struct seen s;
	static const uint8_t zero[16];

	setup_open(&st);
	sub_make(&a, "first", 150000, 11, 2);
	dm = daemon_open(&st);
	cr_assert(exists("spool/outbox") && exists("spool/sent") && exists("spool/failed"));
	step_is(dm, TX_DAEMON_IDLE, "an empty outbox");
	submit(a.dir, "first");
	step_is(dm, TX_DAEMON_SENT, "one transfer");
	cr_assert_not(exists("spool/outbox/first"));
	cr_assert(exists("spool/sent/first/manifest") && exists("spool/sent/first/data/a.bin"));
	log_has("sent/first.log", "sent ");
	log_has("sent/first.log", a.t.hex);
	log_has("sent/first.log", "150000 bytes");
	step_is(dm, TX_DAEMON_IDLE, "after the transfer");
	step_is(dm, TX_DAEMON_IDLE, "no heartbeat due");
	tx_daemon_close(dm);
	cr_assert_not(leaked(), "the daemon leaked (LeakSanitizer's report above)");
	catcher_stop(&st.c);
	deliver_all(&st.c, &s);
	cr_assert_eq(s.nidle, 2, "idle heartbeats: at the start and after the transfer (%u)", s.nidle);
	cr_assert_eq(memcmp(s.idle[0].xfer, zero, 16), 0, "the first names no transfer");
	cr_assert_eq(memcmp(s.idle[1].xfer, a.t.id, 16), 0, "the second names the transfer sent");
	cr_assert_eq(s.idle[1].xfer_sequence, a.t.hdr.sequence);
	cr_assert_eq(s.norder, 1);
	cr_assert(rxh_released_file_is(h, a.t.hex, "a.bin", a.data, a.len));
	catcher_free(&st.c);
	sub_free(&a);
}

/* Submissions the sender must refuse — one officer's signature where the
 * policy wants two, no signature file at all, a manifest that does not
 * parse — go to failed/ with the reason in their log, one per step; a
 * plain file in outbox/ is no transfer and stays; the good transfer after
 * them is sent and released. */
Test(tx_daemon, refused_submissions_go_to_failed_and_it_goes_on)
{
	struct setup st;
	struct tx_daemon *dm;
	struct sub bad[3], good;
	struct seen s;
	char path[400];

	setup_open(&st);
	sub_make(&bad[0], "unsigned", 1000, 21, 1);
	sub_make(&bad[1], "nosigs", 1000, 22, 2);
	sub_make(&bad[2], "garbled", 1000, 23, 2);
	sub_make(&good, "good", 60000, 24, 2);
	for (const char *n = "alice\0dana\0bob\0"; *n; n += strlen(n) + 1) {
		snprintf(path, sizeof path, "%s/manifest.%s.minisig", bad[1].dir, n);
		cr_assert(unlink(path) == 0 || errno == ENOENT);
	}
	snprintf(path, sizeof path, "%s/manifest", bad[2].dir);
	tmpdir_put(AT_FDCWD, path, "this is not a manifest\n", 0644);
	dm = daemon_open(&st);
	tmpdir_put(tmp_fd, "spool/outbox/README", "not a transfer\n", 0644);
	submit(bad[0].dir, "unsigned");
	submit(bad[1].dir, "nosigs");
	submit(bad[2].dir, "garbled");
	submit(good.dir, "good");
	step_is(dm, TX_DAEMON_FAILED, "one signature of two");
	log_has("failed/unsigned.log", "failed ");
	log_has("failed/unsigned.log", "1 of the 2 required officer signatures are valid");
	step_is(dm, TX_DAEMON_FAILED, "no signature");
	log_has("failed/nosigs.log", "no signature files");
	step_is(dm, TX_DAEMON_FAILED, "a garbled manifest");
	log_has("failed/garbled.log", "garbled/manifest: ");
	cr_assert(exists("spool/failed/unsigned/manifest") && exists("spool/failed/garbled/manifest"));
	step_is(dm, TX_DAEMON_SENT, "the good one");
	step_is(dm, TX_DAEMON_IDLE, "the plain file is no transfer");
	cr_assert(exists("spool/outbox/README") && exists("spool/sent/good"));
	cr_assert_not(exists("spool/sent/unsigned") || exists("spool/sent/nosigs") ||
		      exists("spool/sent/garbled"));
	tx_daemon_close(dm);
	catcher_stop(&st.c);
	deliver_all(&st.c, &s);
	cr_assert_eq(s.norder, 1, "only the good transfer went on the wire");
	cr_assert(rxh_released_file_is(h, good.t.hex, "a.bin", good.data, good.len));
	catcher_free(&st.c);
	for (int i = 0; i < 3; i++)
		sub_free(&bad[i]);
	sub_free(&good);
}

/* Three transfers made a, b, c and submitted c, b, a (names and making
 * the other way round): sent c, b, a, one per step, on the wire in that
 * order, each released. */
Test(tx_daemon, sends_in_submission_order)
{
	const char *names[3] = { "c", "b", "a" };
	struct setup st;
	struct tx_daemon *dm;
	struct sub t[3];
	struct seen s;

	setup_open(&st);
	for (int i = 2; i >= 0; i--)
		sub_make(&t[i], names[i], 40000 + 1000 * i, 31 + i, 2);
	dm = daemon_open(&st);
	for (int i = 0; i < 3; i++)
		submit(t[i].dir, names[i]);
	for (int i = 0; i < 3; i++) {
		char rel[64];
		step_is(dm, TX_DAEMON_SENT, names[i]);
		for (int j = 0; j < 3; j++) {
			snprintf(rel, sizeof rel, "spool/%s/%s", j <= i ? "sent" : "outbox", names[j]);
			cr_assert(exists(rel), "after step %d: %s", i, rel);
		}
	}
	step_is(dm, TX_DAEMON_IDLE, "all sent");
	tx_daemon_close(dm);
	catcher_stop(&st.c);
	deliver_all(&st.c, &s);
	cr_assert_eq(s.norder, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(memcmp(s.order[i], t[i].t.id, 16), 0, "transfer %d on the wire is not %s", i,
			     names[i]);
		cr_assert(rxh_released_file_is(h, t[i].t.hex, "a.bin", t[i].data, t[i].len));
	}
	catcher_free(&st.c);
	for (int i = 0; i < 3; i++)
		sub_free(&t[i]);
}

/* A capture file as the link: the idle heartbeats and every transfer go
 * into one capture, which a receiver replays to release them all (each send
 * opened the file again before, truncating what was sent before it). */
Test(tx_daemon, a_capture_file_link_holds_every_transfer)
{
	const char *names[2] = { "one", "two" };
	struct setup st;
	struct tx_daemon *dm;
	struct sub t[2];
	struct seen s;
	char wire[320];

	setup_open(&st);
	catcher_stop(&st.c);
	catcher_free(&st.c);
	snprintf(wire, sizeof wire, "%s/wire.pcap", tmp);
	snprintf(st.uri, sizeof st.uri, "pcap:%s", wire);
	for (int i = 0; i < 2; i++)
		sub_make(&t[i], names[i], 60000 + 1000 * i, 41 + i, 2);
	dm = daemon_open(&st);
	step_is(dm, TX_DAEMON_IDLE, "an empty outbox");
	for (int i = 0; i < 2; i++) {
		submit(t[i].dir, names[i]);
		step_is(dm, TX_DAEMON_SENT, names[i]);
	}
	step_is(dm, TX_DAEMON_IDLE, "all sent");
	tx_daemon_close(dm);
	catcher_load_pcap(&st.c, wire);
	deliver_all(&st.c, &s);
	cr_assert_eq(s.nidle, 3, "idle heartbeats: at the start and after each transfer (%u)", s.nidle);
	cr_assert_eq(s.norder, 2);
	for (int i = 0; i < 2; i++)
		cr_assert(rxh_released_file_is(h, t[i].t.hex, "a.bin", t[i].data, t[i].len), "%s", names[i]);
	catcher_free(&st.c);
	for (int i = 0; i < 2; i++)
		sub_free(&t[i]);
}

/* A transfer that cannot be moved out of outbox/ (sent/ holds a file of
 * its name) would be sent again: the step fails with a reason naming it,
 * and it is still in outbox/. */
Test(tx_daemon, unmovable_transfer_is_a_spool_error)
{
	struct setup st;
	struct tx_daemon *dm;
	struct sub a;
	struct sl_diag d = { "" };

	setup_open(&st);
	sub_make(&a, "x", 5000, 41, 2);
	dm = daemon_open(&st);
	tmpdir_put(tmp_fd, "spool/sent/x", "in the way\n", 0644);
	submit(a.dir, "x");
	cr_assert_eq(tx_daemon_step(dm, &d), SL_ERR_IO);
	cr_assert(strstr(d.msg, "cannot move x out of outbox"), "%s", d.msg);
	cr_assert(exists("spool/outbox/x/manifest"));
	tx_daemon_close(dm);
	cr_assert_not(leaked(), "the daemon leaked (LeakSanitizer's report above)");
	catcher_stop(&st.c);
	catcher_free(&st.c);
	sub_free(&a);
}

/* ---- the loop itself, in a thread ---- */

struct loop {
	struct setup *st;
	struct sl_diag d;
	int r;
	pthread_t th;
};

static void *loop_run(void *arg)
{
	struct loop *l = arg;

	l->r = tx_daemon(&l->st->cfg, l->st->spool, h->policy, &l->st->stop, &l->d);
	return NULL;
}

/* Wait (at most `s` seconds) until cond(arg) holds. */
static int wait_until(int (*cond)(void *), void *arg, double s)
{
	struct timespec nap = { 0, 10000000 };

	for (double t = 0; t < s; t += 0.01) {
		if (cond(arg))
			return 1;
		nanosleep(&nap, NULL);
	}
	return cond(arg);
}

static int spool_made(void *arg)
{
	(void)arg;
	return exists("spool/outbox");
}

static int sent_one(void *arg)
{
	(void)arg;
	return exists("spool/sent/one.log");
}

static void stop_and_join(struct loop *l, double within)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)within;
	l->st->stop = 1;
	cr_assert_eq(pthread_timedjoin_np(l->th, NULL, &until), 0, "the daemon did not stop in %.0f s",
		     within);
}

/* tx_daemon() picks up a transfer submitted while it runs, sends it, and
 * ends with SL_OK when asked to stop while idle (within a nap of 200 ms). */
Test(tx_daemon, stop_request_ends_the_loop)
{
	struct setup st;
	struct sub a;
	struct loop l = { .st = &st };

	setup_open(&st);
	sub_make(&a, "one", 30000, 51, 2);
	cr_assert_eq(pthread_create(&l.th, NULL, loop_run, &l), 0);
	cr_assert(wait_until(spool_made, NULL, 10));
	submit(a.dir, "one");
	cr_assert(wait_until(sent_one, NULL, 20), "the running daemon did not send it");
	stop_and_join(&l, 2);
	cr_assert_eq(l.r, SL_OK, "%s", l.d.msg);
	cr_assert(exists("spool/sent/one/manifest"));
	catcher_stop(&st.c);
	catcher_free(&st.c);
	sub_free(&a);
}

static int sending(void *arg)
{
	return catcher_count(arg) >= 100;
}

/* A stop request in the middle of a send (2 Mbit/s, 600 kB: seconds)
 * interrupts it: the receiver is told ("aborted" heartbeats), the loop ends
 * with SL_OK, and the transfer stays in outbox/ for the next start, in
 * neither sent/ nor failed/. */
Test(tx_daemon, stop_during_a_send_leaves_it_in_outbox)
{
	struct setup st;
	struct sub a;
	struct seen s;
	struct loop l = { .st = &st };

	setup_open(&st);
	st.cfg.rate_bps = 2000000;
	sub_make(&a, "big", 600000, 61, 2);
	cr_assert_eq(pthread_create(&l.th, NULL, loop_run, &l), 0);
	cr_assert(wait_until(spool_made, NULL, 10));
	submit(a.dir, "big");
	cr_assert(wait_until(sending, &st.c, 20), "the daemon did not start sending");
	stop_and_join(&l, 2);
	cr_assert_eq(l.r, SL_OK, "%s", l.d.msg);
	cr_assert(exists("spool/outbox/big/manifest"));
	cr_assert_not(leaked(), "the interrupted send leaked (LeakSanitizer's report above)");
	cr_assert_not(exists("spool/sent/big") || exists("spool/failed/big") ||
		      exists("spool/sent/big.log") || exists("spool/failed/big.log"));
	catcher_stop(&st.c);
	deliver_all(&st.c, &s);
	cr_assert_eq(s.aborted, 3, "the receiver is told the send stopped");
	cr_assert_not(rxh_is_released(h, a.t.hex));
	catcher_free(&st.c);
	sub_free(&a);
}
