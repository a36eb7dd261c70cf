/* test_rx_disk.c — sluice-rx with its disk full (tests/rxh on a small tmpfs).
 *
 * STATE and RELEASE live on a tmpfs of their own, mounted in a mount
 * namespace of the test process (so it goes away with the process however
 * the test ends, and is unmounted in fini as well). A filler file takes the
 * free space at the moment a test chooses. What must hold: nothing staged
 * is removed and nothing rejected for a full disk; the receiver counts it
 * (status file), audits it once per episode and keeps going; once space
 * returns a repeat pass (or header, or tick) completes the transfer,
 * bit-identical, and the next transfer goes through too. Needs root (mount);
 * skipped otherwise.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxh.h"
#include "rxh_suite.h"

static char mnt[64];
static int mounted;

static void up(void)
{
	mnt[0] = '\0';
	if (geteuid() != 0)
		return; /* each test skips */
	snprintf(mnt, sizeof mnt, "/tmp/rxdisk-XXXXXX");
	cr_assert_not_null(mkdtemp(mnt), "mkdtemp: %s", strerror(errno));
	/* our own mount namespace: the tmpfs cannot outlive this process */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	cr_assert_eq(mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0700"), 0,
		     "mount tmpfs on %s: %s", mnt, strerror(errno));
	mounted = 1;
	cr_assert_eq(rxh_new(mnt, &h), SL_OK);
	h->verbose = getenv("RXH_VERBOSE") != NULL;
	h->cfg.max_staging = 64u << 20; /* the disk is the limit here, not the quota */
	cr_assert_eq(rxh_start(h), SL_OK);
}

static void down(void)
{
	rxh_suite_down();
	if (mounted && umount2(mnt, 0) != 0)
		umount2(mnt, MNT_DETACH);
	mounted = 0;
	if (mnt[0])
		rmdir(mnt);
}

static void need_root(void)
{
	if (!mounted)
		cr_skip_test("needs root: mounts a small tmpfs for STATE and RELEASE");
}

TestSuite(rx_disk, .init = up, .fini = down, .timeout = 120);

static void one_make(struct rxh_one *o, size_t n, unsigned seed, const struct rxh_opts *opts)
{
	cr_assert_eq(rxh_one_make(h, o, n, seed, opts), SL_OK);
}

static void send_blocks(struct rxh_one *o, uint64_t from, uint64_t to)
{
	for (uint64_t b = from; b < to && b < o->t.nblocks; b++)
		rxh_send_block(h, &o->s, &o->t, b, 0, 0);
}

/* Take every free byte of the tmpfs (also STATE/reserve's if asked: then
 * nothing is left for the receiver at all). */
static void fill(int also_reserve)
{
	static uint8_t buf[65536];
	char p[400];
	int fd;

	if (also_reserve) {
		snprintf(p, sizeof p, "%s/reserve", h->state);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/filler", mnt);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	memset(buf, 0x5a, sizeof buf);
	for (size_t n = sizeof buf; n; n /= 16)
		while (write(fd, buf, n) > 0)
			;
	cr_assert_eq(errno, ENOSPC, "filling: %s", strerror(errno));
	close(fd);
}

static void unfill(void)
{
	char p[400];

	snprintf(p, sizeof p, "%s/filler", mnt);
	cr_assert_eq(unlink(p), 0);
}

/* Room again on the disk: ticks (1 s each, at most 15) until a's held-up
 * release is done, then the threads settled. */
static void unfill_and_tick(const struct rxh_one *a)
{
	unfill();
	for (int i = 0; i < 15 && !rxh_is_released(h, a->t.hex); i++)
		rxh_tick(h, 1000000000ull);
	rxh_settle(h);
}

/* The status file's "storage" line (static buffer; "" if none). */
static const char *storage_line(void)
{
	static char line[1024];
	char p[400];
	FILE *f;

	line[0] = '\0';
	snprintf(p, sizeof p, "%s/status", h->state);
	f = fopen(p, "r");
	if (!f)
		return line;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "storage ", 8))
			break;
	if (strncmp(line, "storage ", 8))
		line[0] = '\0';
	fclose(f);
	return line;
}

static unsigned long long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static int exists(const char *dir, const char *hex, const char *sub)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s%s", dir, hex, sub);
	return stat(p, &st) == 0;
}

/* The disk fills mid-transfer: nothing is removed, the receiver says so
 * once and keeps receiving; after space returns a repeat pass completes
 * it, and the next transfer goes through. */
static void full_mid_transfer(void)
{
	struct rxh_one a, b;
	struct rxh_opts big = { .kmax = 32, .symsize = 1024 };
	struct rx_xfer *x;
	uint64_t ndone, fails;
	const char *l;
	char staging[400];

	one_make(&a, 1500000, 21, &big);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 0);
	send_blocks(&a, 0, a.t.nblocks / 2);
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->catalog_ok, "the catalog verified before the disk filled");
	ndone = x->ndone;
	cr_assert_gt(ndone, 0);

	fill(0);
	send_blocks(&a, a.t.nblocks / 2, a.t.nblocks);
	rxh_tick(h, 1000000000ull);
	l = storage_line();
	cr_assert(strstr(l, "state=full"), "status says the disk is full: '%s'", l);
	cr_assert_gt(field(l, "failed_nospace="), 0, "failed writes counted: '%s'", l);
	fails = field(l, "episode_failures=");
	cr_assert_eq(rxh_audit_count(h, "storage", NULL), 1, "one audit entry for the episode");
	/* more failed writes in the same episode: still one entry */
	send_blocks(&a, a.t.nblocks / 2, a.t.nblocks);
	rxh_tick(h, 2000000000ull);
	cr_assert_gt(field(storage_line(), "episode_failures="), fails, "'%s'", storage_line());
	cr_assert_eq(rxh_audit_count(h, "storage", NULL), 1, "still one audit entry");
	/* nothing removed or rejected */
	x = rx_xfer_find(&h->c, a.t.id);
	cr_assert(x && x->state != RX_X_REJECTED && x->catalog_ok);
	cr_assert_geq(x->ndone, ndone);
	cr_assert_lt(x->ndone, x->hdr.nchunks, "the chunks that did not fit are not marked done");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	snprintf(staging, sizeof staging, "%s/xfer", h->state);
	cr_assert(exists(staging, a.t.hex, "/meta"), "staging kept");
	snprintf(staging, sizeof staging, "%s/release", h->state);
	cr_assert(exists(staging, a.t.hex, "/data/f.bin"), "the files written in place kept");

	/* space returns: the episode ends, a repeat pass completes it */
	unfill();
	rxh_tick(h, 11000000000ull);
	cr_assert(strstr(storage_line(), "state=ok"), "'%s'", storage_line());
	rxh_send_all(h, &a.s, &a.t, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released bit-identical");
	cr_assert_eq(rxh_audit_count(h, "released", a.t.hex), 1);
	cr_assert_eq(rxh_audit_count(h, "storage", NULL), 1);

	one_make(&b, 700000, 22, NULL);
	rxh_send_all(h, &b.s, &b.t, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, b.t.hex, "f.bin", b.data, b.n), "the next transfer too");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	rxh_one_free(&a);
	rxh_one_free(&b);
}

Test(rx_disk, full_mid_transfer_then_repeat_pass)
{
	need_root();
	full_mid_transfer();
}

/* The same with the files written through io_uring (--file-io uring). */
Test(rx_disk, full_mid_transfer_uring)
{
	need_root();
	rxh_stop(h);
	h->cfg.file_io = SL_UIO_URING;
	cr_assert_eq(rxh_start(h), SL_OK);
	full_mid_transfer();
}

/* A transfer whose last chunk is one byte in a page its previous chunk
 * already holds: with the disk full (reserve too), that chunk still fits,
 * and the release's own writes are what fail. */
static void complete_on_a_full_disk(struct rxh_one *a)
{
	uint32_t cs;
	size_t n;
	struct rx_xfer *x;

	/* chunk size of the default layout: k=16 symbols of 512 bytes */
	cs = 16 * 512 - SL_BLOCK_REC;
	n = (size_t)cs * 60 + 1;
	cr_assert_neq((n - 1) % 4096, 0, "the last byte shares a page with the chunk before");
	one_make(a, n, 23, NULL);
	cr_assert_eq(a->t.hdr.chunk_size, cs);
	rxh_send_hdr(h, &a->s, &a->t, NULL, 0);
	send_blocks(a, 0, a->t.nblocks - 1);
	rxh_tick(h, 1000000000ull); /* a checkpoint: the done map has its page */
	fill(1);
	send_blocks(a, a->t.nblocks - 1, a->t.nblocks);
	x = rx_xfer_find(&h->c, a->t.id);
	cr_assert_not_null(x);
	cr_assert_eq(x->ndone, x->hdr.nchunks, "every chunk is staged");
	cr_assert(!rxh_is_released(h, a->t.hex), "the release could not finish on a full disk");
	cr_assert_neq(x->state, RX_X_REJECTED, "not rejected for a full disk");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	cr_assert(exists(h->state, "xfer/", a->t.hex), "staging kept");
	cr_assert(exists(h->state, "release/", a->t.hex), "the release tree kept");
}

/* ENOSPC in the release's own steps: released after space returns and a
 * repeat header; the next transfer goes through. */
Test(rx_disk, full_at_release_then_header)
{
	struct rxh_one a, b;

	need_root();
	complete_on_a_full_disk(&a);
	unfill();
	rxh_tick(h, 2000000000ull);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 1);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released after space returned");
	cr_assert_eq(rxh_audit_count(h, "released", a.t.hex), 1);
	cr_assert_eq(rxh_audit_count(h, "storage", NULL), 1, "the episode audited once");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);

	one_make(&b, 300000, 24, NULL);
	rxh_send_all(h, &b.s, &b.t, 0);
	rxh_settle(h);
	cr_assert(rxh_released_file_is(h, b.t.hex, "f.bin", b.data, b.n), "the next transfer too");
	rxh_one_free(&a);
	rxh_one_free(&b);
}

/* The same, with no header: the release is tried again on ticks. */
Test(rx_disk, full_at_release_then_tick)
{
	struct rxh_one a;

	need_root();
	complete_on_a_full_disk(&a);
	rxh_tick(h, 6000000000ull); /* tried again: still full */
	cr_assert(!rxh_is_released(h, a.t.hex));
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	unfill_and_tick(&a);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released by a tick");
	cr_assert_eq(rxh_audit_count(h, "released", a.t.hex), 1);
	rxh_one_free(&a);
}

/* The final rename is refused (RELEASE/<id> is taken): the transfer is in
 * the ledger, so it is never rejected or verified again (that would call it
 * a replay and remove it); the rename is tried again and succeeds once the
 * way is clear. */
Test(rx_disk, rename_refused_then_retried)
{
	struct rxh_one a;
	char p[400];

	need_root();
	one_make(&a, 200000, 25, NULL);
	snprintf(p, sizeof p, "%s/%s", h->release, a.t.hex);
	cr_assert_eq(mkdir(p, 0755), 0);
	cr_assert_eq(mkdir(strcat(p, "/x"), 0755), 0); /* not empty: the rename cannot replace it */
	rxh_send_all(h, &a.s, &a.t, 0);
	rxh_settle(h);
	cr_assert(!rxh_is_released(h, a.t.hex));
	cr_assert_eq(rxh_audit_count(h, "stuck", a.t.hex), 1);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 1);
	rxh_tick(h, 2000000000ull);
	rxh_send_hdr(h, &a.s, &a.t, NULL, 1);
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0, "an accepted transfer is never rejected");
	cr_assert_eq(rxh_audit_count(h, "stuck", a.t.hex), 1, "said once");
	rmdir(p);
	*strrchr(p, '/') = '\0';
	cr_assert_eq(rmdir(p), 0);
	for (int i = 0; i < 10 && !rxh_is_released(h, a.t.hex); i++)
		rxh_tick(h, 1000000000ull);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released once the way is clear");
	cr_assert_eq(rxh_audit_count(h, "released", a.t.hex), 1);
	rxh_one_free(&a);
}

/* Held up when the receiver stops: after a restart (the disk still full),
 * the release is tried on ticks and happens once space returns. */
Test(rx_disk, full_at_release_then_restart)
{
	struct rxh_one a;

	need_root();
	complete_on_a_full_disk(&a);
	cr_assert_eq(rxh_restart(h), SL_OK);
	rxh_tick(h, 1000000000ull);
	cr_assert(!rxh_is_released(h, a.t.hex));
	unfill_and_tick(&a);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released after the restart");
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	rxh_one_free(&a);
}

/* A held-up release is tried again on ticks 5 s after it was held up, then
 * twice as long after each try (RX_RETRY_FIRST_NS doubling, storage.c),
 * and on a transfer header at most once a second after the last try: each
 * try that fails again is counted (release_deferred). */
static void step(uint64_t ns, int header, struct rxh_one *a, uint64_t want, const char *what)
{
	if (ns)
		rxh_tick(h, ns);
	if (header)
		rxh_send_hdr(h, &a->s, &a->t, NULL, 1);
	cr_assert_eq(h->c.st.release_deferred, want, "%s: %llu tries failed", what,
		     (unsigned long long)h->c.st.release_deferred);
}

Test(rx_disk, held_release_retry_schedule)
{
	struct rxh_one a;

	need_root();
	complete_on_a_full_disk(&a);
	step(0, 0, &a, 1, "held up at T");
	step(4000000000ull, 0, &a, 1, "T+4 s: not yet");
	step(1500000000ull, 0, &a, 2, "T+5.5 s: tried after 5 s");
	step(1000000000ull, 0, &a, 2, "T+6.5 s: next after 10 s");
	step(8000000000ull, 0, &a, 2, "T+14.5 s: not yet");
	step(3000000000ull, 0, &a, 3, "T+17.5 s: tried after 10 s");
	step(0, 1, &a, 3, "a header at once: not tried");
	step(1100000000ull, 0, &a, 3, "T+18.6 s: next after 20 s");
	step(0, 1, &a, 4, "a header 1.1 s after the last try: tried");
	step(1100000000ull, 0, &a, 4, "T+19.7 s: not yet");
	cr_assert(!rxh_is_released(h, a.t.hex));
	cr_assert_eq(rxh_audit_count(h, "rejected", NULL), 0);
	unfill_and_tick(&a);
	cr_assert(rxh_released_file_is(h, a.t.hex, "f.bin", a.data, a.n), "released once the disk has room");
	rxh_one_free(&a);
}
