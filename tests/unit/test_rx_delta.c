/* test_rx_delta.c — deltas (manifest version 3) through sluice-rx's state
 * machine (tests/rxh): what a hostile low side, which holds the link key and
 * can send any delta that signatures let through, can make the receiver do
 * with a base. Every refusal releases nothing and leaves the base as it was. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxh.h"
#include "rxh_suite.h"
#include "sha256.h"

static uint8_t *fa, *fb, *fc;
static struct rxh_xfer base;
static uint8_t base_sha[32];

#define NA 20000
#define NB 3000
#define NC 5000

static void send_and_settle(struct rxh_xfer *t)
{
	struct rxh_session s;
	cr_assert_eq(rxh_session_new(h, t->symsize, &s), SL_OK);
	rxh_send_all(h, &s, t, 0);
	rxh_settle(h);
	rxh_session_free(&s);
}

/* A released base: a.bin, dir/b. */
static void up(void)
{
	struct rxh_file f[] = { { "a.bin", NULL, NA }, { "dir/b", NULL, NB } };

	rxh_suite_up();
	fa = rxh_pattern(NA, 1);
	fb = rxh_pattern(NB, 2);
	fc = rxh_pattern(NC, 3);
	f[0].data = fa;
	f[1].data = fb;
	cr_assert_eq(rxh_xfer_build(h, f, 2, NULL, &base), SL_OK);
	sl_sha256(base.manifest, base.manifest_len, base_sha);
	send_and_settle(&base);
	cr_assert(rxh_is_released(h, base.hex));
}

static void down(void)
{
	rxh_xfer_free(&base);
	rxh_suite_down();
	free(fa);
	free(fb);
	free(fc);
}

TestSuite(rx_delta, .init = up, .fini = down, .timeout = 60);

/* The audit log has a `event` entry for hex whose reason holds `what`
 * (percent-encoded as the log writes it: spaces as %20). */
static int audit_says(const char *event, const char *hex, const char *what)
{
	char p[400], line[4200], want[400];
	size_t k = 0;
	FILE *f;
	int found = 0;

	for (const char *q = what; *q && k + 4 < sizeof want; q++)
		k += (size_t)(*q == ' ' ? snprintf(want + k, 4, "%%20") : snprintf(want + k, 2, "%c", *q));
	snprintf(p, sizeof p, "%s/audit.log", h->state);
	f = fopen(p, "r");
	while (f && fgets(line, sizeof line, f))
		found |= strstr(line, event) && strstr(line, hex) && strstr(line, want);
	if (f)
		fclose(f);
	return found;
}

static void base_untouched(void)
{
	cr_assert(rxh_released_file_is(h, base.hex, "a.bin", fa, NA));
	cr_assert(rxh_released_file_is(h, base.hex, "dir/b", fb, NB));
}

/* The delta of files f[0..n) built with o and sent is refused: nothing
 * released, audited as rejected with a reason that holds `why` and `also`
 * (why NULL: a rejection audited once, whatever its reason). */
static void refused(const struct rxh_file *f, size_t n, const struct rxh_opts *o, const char *why,
		    const char *also)
{
	struct rxh_xfer t;

	cr_assert_eq(rxh_xfer_build(h, f, n, o, &t), SL_OK);
	send_and_settle(&t);
	cr_assert(!rxh_is_released(h, t.hex));
	if (why)
		cr_assert(audit_says("rejected", t.hex, why), "rejected for: %s", why);
	else
		cr_assert_eq(rxh_audit_count(h, "rejected", t.hex), 1);
	if (also)
		cr_assert(audit_says("rejected", t.hex, also), "rejected for: %s", also);
	rxh_xfer_free(&t);
}

Test(rx_delta, releases_the_whole_new_tree)
{
	/* a.bin moved to moved/a.bin, dir/b kept, new c sent */
	struct rxh_file f[] = { { "c", fc, NC }, { "dir/b", fb, NB }, { "moved/a.bin", fa, NA } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 6 };
	struct rxh_xfer t;

	cr_assert_eq(rxh_xfer_build(h, f, 3, &o, &t), SL_OK);
	cr_assert_eq(t.hdr.total_bytes, NC, "only the sent file is in the stream");
	send_and_settle(&t);
	cr_assert(rxh_is_released(h, t.hex));
	cr_assert(rxh_released_file_is(h, t.hex, "c", fc, NC));
	cr_assert(rxh_released_file_is(h, t.hex, "dir/b", fb, NB));
	cr_assert(rxh_released_file_is(h, t.hex, "moved/a.bin", fa, NA));
	cr_assert(audit_says("released", t.hex, base.hex));
	cr_assert_eq(h->c.st.base_files, 2);
	cr_assert_eq(h->c.st.base_bytes, NA + NB);
	base_untouched();
	rxh_xfer_free(&t);
}

Test(rx_delta, base_that_is_not_a_release)
{
	/* the base is a transfer rx knows (its catalog came) but never released */
	struct rxh_file g[] = { { "g", fc, NC } };
	struct rxh_file f[] = { { "g2", fc, NC }, { "new", fb, NB } };
	struct rxh_xfer staged;
	struct rxh_session s;
	uint8_t sha[32];

	cr_assert_eq(rxh_xfer_build(h, g, 1, NULL, &staged), SL_OK);
	cr_assert_eq(rxh_session_new(h, staged.symsize, &s), SL_OK);
	rxh_send_catalog(h, &s, &staged);
	rxh_settle(h);
	cr_assert(!rxh_is_released(h, staged.hex));
	sl_sha256(staged.manifest, staged.manifest_len, sha);
	struct rxh_opts o = { .base_id = staged.id, .base_sha256 = sha, .take = 1 };
	refused(f, 2, &o, "was never released here", staged.hex);
	rxh_session_free(&s);
	rxh_xfer_free(&staged);
}

Test(rx_delta, taken_content_the_base_does_not_hold)
{
	struct rxh_file f[] = { { "a.bin", fa, NA }, { "forged", fc, NC } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 3 };

	refused(f, 2, &o, "holds no file with the content of 1 file taken from it: forged", NULL);
	base_untouched();
}

Test(rx_delta, wrong_base_manifest_hash)
{
	struct rxh_file f[] = { { "a.bin", fa, NA } };
	uint8_t other[32];
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = other, .take = 1 };

	memcpy(other, base_sha, 32);
	other[0] ^= 1;
	refused(f, 1, &o, "its manifest has SHA-256", NULL);
}

Test(rx_delta, sent_and_taken_paths_collide)
{
	/* "take ... a.bin" edited to name the sent file's path: the signed text
	 * lists one path twice, once of each kind */
	struct rxh_file f[] = { { "a.bin", fa, NA }, { "b", fc, NC } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 1, .edit_from = " a.bin\n", .edit_to = " b\n" };

	refused(f, 2, &o, "duplicate path", NULL);
	base_untouched();
}

Test(rx_delta, taken_path_collides_with_a_directory)
{
	struct rxh_file f[] = { { "dir/b", fb, NB }, { "x", fc, NC } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 1, .edit_from = " x\n", .edit_to = " dir\n" };

	refused(f, 2, &o, NULL, NULL);
}

Test(rx_delta, base_file_changed_or_a_link)
{
	struct rxh_file f[] = { { "a.bin", fa, NA }, { "b2", fb, NB }, { "n", fc, NC } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 3 };
	char p[700], q[700];
	int fd;

	/* dir/b changed in place; a.bin replaced by a link to a copy outside */
	snprintf(p, sizeof p, "%s/%s/data/dir/b", h->release, base.hex);
	fd = open(p, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, "X", 1, 7), 1);
	close(fd);
	snprintf(q, sizeof q, "%s/outside", h->dir);
	fd = open(q, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, fa, NA), NA);
	close(fd);
	snprintf(p, sizeof p, "%s/%s/data/a.bin", h->release, base.hex);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(symlink(q, p), 0);
	refused(f, 3, &o, "2 files taken from it no longer have the content", "a.bin, b2 (base path dir/b)");
}

Test(rx_delta, base_removed_from_release)
{
	struct rxh_file f[] = { { "a.bin", fa, NA } };
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 1 };
	char p[700], q[700];

	snprintf(p, sizeof p, "%s/%s", h->release, base.hex);
	snprintf(q, sizeof q, "%s/moved-away", h->dir);
	cr_assert_eq(rename(p, q), 0);
	refused(f, 1, &o, "then moved or removed", NULL);
}

Test(rx_delta, taking_more_than_max_staging)
{
	/* one base file taken under many names: what the receiver would copy is
	 * bounded by --max-staging (and the policy's max-bytes) */
	static const char *const names[] = { "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9" };
	struct rxh_file f[10];
	struct rxh_opts o = { .base_id = base.id, .base_sha256 = base_sha, .take = 0x3ff };

	for (int i = 0; i < 10; i++)
		f[i] = (struct rxh_file){ names[i], fa, NA };
	h->cfg.max_staging = 5 * NA;
	refused(f, 10, &o, "larger than --max-staging", NULL);
	cr_assert_eq(h->c.st.base_bytes, 0);
}
