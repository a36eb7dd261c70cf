/* Unit tests for the replay ledger: ids, sequence high-water marks, the
 * window, durability and torn-write repair. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger.h"
#include "tmpdir_suite.h"

static char path[128];
/* sequence-window 0 or 3, the default sequence-max-step */
static const struct sl_ledger_rules R0 = { 0, 1000000 }, R3 = { 3, 1000000 };

static void setup(void)
{
	tmp_setup();
	snprintf(path, sizeof path, "%s/ledger", tmp);
}

static void id(uint8_t out[16], int n)
{
	memset(out, 0, 16);
	out[15] = (uint8_t)n;
}

TestSuite(ledger, .init = setup, .fini = tmp_teardown);

/* The ledger at path holds ids a (sequence 1) and b (sequence 2) of l1. */
static void write_two(uint8_t a[16], uint8_t b[16])
{
	struct sl_ledger *l;
	struct sl_diag d;
	id(a, 1);
	id(b, 2);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 1, &R0, 1, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", b, 2, &R0, 1, &d), SL_OK, "%s", d.msg);
	sl_ledger_close(l);
}

Test(ledger, replay_and_rollback)
{
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16], c[16];
	uint64_t mark;
	id(a, 1);
	id(b, 2);
	id(c, 3);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_mark(l, "l1", &mark), SL_ERR_NOTFOUND);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 5, &R0, 100, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", a, 6, &R0, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "already accepted"), "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", b, 5, &R0, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "sequence 5 is not above the high-water mark 5"), "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", b, 4, &R0, &d), SL_ERR_REPLAY);
	cr_assert_eq(sl_ledger_check(l, "l2", b, 1, &R0, &d), SL_OK, "marks are per link");
	cr_assert_eq(sl_ledger_record(l, "l1", b, 9, &R0, 101, &d), SL_OK);
	cr_assert_eq(sl_ledger_mark(l, "l1", &mark), SL_OK);
	cr_assert_eq(mark, 9);
	sl_ledger_close(l);
	/* everything survives a reopen */
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_count(l), 2);
	cr_assert(sl_ledger_has_id(l, a) && sl_ledger_has_id(l, b) && !sl_ledger_has_id(l, c));
	cr_assert_eq(sl_ledger_check(l, "l1", a, 10, &R0, &d), SL_ERR_REPLAY);
	cr_assert_eq(sl_ledger_check(l, "l1", c, 9, &R0, &d), SL_ERR_REPLAY);
	cr_assert_eq(sl_ledger_check(l, "l1", c, 10, &R0, &d), SL_OK);
	sl_ledger_close(l);
}

Test(ledger, window_admits_late_older_transfers_once)
{
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16], c[16], e[16];
	id(a, 1);
	id(b, 2);
	id(c, 3);
	id(e, 4);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 10, &R3, 1, &d), SL_OK);
	cr_assert_eq(sl_ledger_record(l, "l1", b, 8, &R3, 1, &d), SL_OK, "%s", d.msg); /* 10 - 3 < 8 */
	cr_assert_eq(sl_ledger_check(l, "l1", c, 8, &R3, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "sequence 8 of link l1 was already accepted"), "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", c, 7, &R3, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "outside the sequence window"), "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", e, 9, &R3, &d), SL_OK);
	sl_ledger_close(l);
}

/* A signed manifest with a huge sequence must not burn the link: a jump of
 * more than max_step above the mark (or above max_step with no mark) is
 * refused and leaves the mark where it was. */
Test(ledger, sequence_jump_is_capped)
{
	static const struct sl_ledger_rules step10 = { 0, 10 }, step1 = { 0, 1 }, window2 = { 2, 10 };
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16], c[16], e[16];
	uint64_t mark;
	id(a, 1);
	id(b, 2);
	id(c, 3);
	id(e, 4);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	/* no mark yet: sequences count from 0 */
	cr_assert_eq(sl_ledger_check(l, "l1", a, 11, &step10, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "sequence 11 is above the policy's sequence-max-step 10") &&
		  strstr(d.msg, "no accepted transfer yet"), "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 9223372036854775807ull, &step10, 1, &d), SL_ERR_RANGE);
	cr_assert_eq(sl_ledger_count(l), 0, "a refused sequence was recorded");
	cr_assert_eq(sl_ledger_check(l, "l1", a, 0, &step10, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 10, &step10, 1, &d), SL_OK, "%s", d.msg);
	/* from the mark 10: 20 is the last reachable, 2^63-1 is refused */
	cr_assert_eq(sl_ledger_check(l, "l1", b, 21, &step10, &d), SL_ERR_RANGE);
	cr_assert(strstr(d.msg, "sequence 21 is 11 above the high-water mark 10 of link l1") &&
		  strstr(d.msg, "sequence-max-step 10"), "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", b, 9223372036854775807ull, &step10, 1, &d), SL_ERR_RANGE);
	cr_assert_eq(sl_ledger_mark(l, "l1", &mark), SL_OK);
	cr_assert_eq(mark, 10, "the mark moved on a refused sequence");
	cr_assert_eq(sl_ledger_record(l, "l1", b, 20, &step10, 1, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", c, 21, &step1, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", c, 22, &step1, &d), SL_ERR_RANGE);
	/* the step does not touch the window below the mark, nor other links */
	cr_assert_eq(sl_ledger_check(l, "l1", c, 19, &window2, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l2", c, 10, &step10, &d), SL_OK, "%s", d.msg);
	/* a replay is decided by the id, whatever its sequence: the id check
	 * comes first, so a seen id with a fresh or a huge sequence is a replay */
	cr_assert_eq(sl_ledger_check(l, "l1", a, 21, &step10, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "was already accepted (link l1, sequence 10)"), "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", a, 9223372036854775807ull, &step10, &d), SL_ERR_REPLAY);
	cr_assert_eq(sl_ledger_check(l, "l2", b, 1, &step10, &d), SL_ERR_REPLAY, "ids count on every link");
	cr_assert(sl_ledger_has_id(l, a) && sl_ledger_has_id(l, b));
	cr_assert(!sl_ledger_has_id(l, c) && !sl_ledger_has_id(l, e));
	sl_ledger_close(l);
}

/* Before the step cap, one accepted sequence 2^63-1 made every later
 * transfer of the link a "replay"; an id that was never accepted is still
 * not one (sluice-rx asks sl_ledger_has_id, not the sequence rules). */
Test(ledger, burnt_mark_does_not_make_new_ids_replays)
{
	static const struct sl_ledger_rules open_step = { 0, 9223372036854775807ull };
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16];
	id(a, 1);
	id(b, 2);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 9223372036854775807ull, &open_step, 1, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_check(l, "l1", b, 5, &open_step, &d), SL_ERR_REPLAY);
	cr_assert(strstr(d.msg, "not above the high-water mark"), "%s", d.msg);
	cr_assert(!sl_ledger_has_id(l, b));
	sl_ledger_close(l);
}

Test(ledger, torn_last_line_is_cut_off)
{
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16];
	bool repaired;
	write_two(a, b);
	/* simulate a crash in the middle of the second append */
	off_t full;
	int fd = open(path, O_RDWR);
	full = lseek(fd, 0, SEEK_END);
	cr_assert_eq(ftruncate(fd, full - 7), 0);
	close(fd);
	cr_assert_eq(sl_ledger_open(path, NULL, &repaired, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(repaired);
	cr_assert_eq(sl_ledger_count(l), 1, "the torn entry is not taken for anything");
	cr_assert_eq(sl_ledger_check(l, "l1", b, 2, &R0, &d), SL_OK);
	cr_assert_eq(sl_ledger_record(l, "l1", b, 2, &R0, 1, &d), SL_OK);
	sl_ledger_close(l);
	cr_assert_eq(sl_ledger_open(path, NULL, &repaired, &l, &d), SL_OK);
	cr_assert(!repaired);
	cr_assert_eq(sl_ledger_count(l), 2);
	sl_ledger_close(l);
}

Test(ledger, torn_line_with_plausible_prefix_is_not_misread)
{
	/* "accept l1 12" cut to "accept l1 1" must not become sequence 1 */
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16];
	id(a, 1);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK);
	cr_assert_eq(sl_ledger_record(l, "l1", a, 12, &R0, 1, &d), SL_OK);
	sl_ledger_close(l);
	/* the last entry replaced by a complete-looking line with a wrong checksum */
	FILE *f = fopen(path, "w");
	fprintf(f, "sluice-ledger 1\naccept l1 1 00000000000000000000000000000001 1 0000000000000000\n");
	fclose(f);
	bool repaired;
	cr_assert_eq(sl_ledger_open(path, NULL, &repaired, &l, &d), SL_OK, "%s", d.msg);
	cr_assert(repaired);
	cr_assert_eq(sl_ledger_count(l), 0);
	sl_ledger_close(l);
}

Test(ledger, damage_before_the_end_is_corruption)
{
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t a[16], b[16];
	write_two(a, b);
	int fd = open(path, O_RDWR);
	cr_assert_eq(pwrite(fd, "X", 1, 20), 1);
	close(fd);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "line 2 is damaged"), "%s", d.msg);
}

Test(ledger, one_process_at_a_time)
{
	struct sl_ledger *l, *l2;
	struct sl_diag d;
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l2, &d), SL_ERR_AGAIN);
	cr_assert(strstr(d.msg, "in use"), "%s", d.msg);
	sl_ledger_close(l);
}

/* A ledger of the header and these record bodies, each with its right check:
 * only the parsing of the fields stands between them and the ledger. */
static void write_checked(const char *const *body, size_t n)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "sluice-ledger 1\n");
	for (size_t i = 0; i < n; i++) {
		uint8_t h[32];
		crypto_generichash(h, sizeof h, (const uint8_t *)body[i], strlen(body[i]), NULL, 0);
		fprintf(f, "%s ", body[i]);
		for (int j = 0; j < 8; j++)
			fprintf(f, "%02x", h[j]);
		fprintf(f, "\n");
	}
	fclose(f);
}

/* Fields are read as the ledger writes them: decimal sequence without sign
 * or overflow, 32 lowercase hex digits; a record spelled otherwise is damage. */
Test(ledger, fields_only_as_written)
{
	static const char *const bad[] = {
		"accept l1 +5 00000000000000000000000000000009 100",
		"accept l1 -1 00000000000000000000000000000009 100",
		"accept l1 18446744073709551616 00000000000000000000000000000009 100",
		"accept l1 5 0000000000000000000000000000000A 100",
		"accept l1 5 0x000000000000000000000000000009 100",
		"accept l1 5 00000000000000000000000000000009 +100",
		"accept l1 5 00000000000000000000000000000009 100 extra",
		"accept l1 5x 00000000000000000000000000000009 100",
	};
	const char *lines[3] = { "accept l1 1 00000000000000000000000000000001 100", NULL,
				 "accept l1 7 00000000000000000000000000000007 100" };
	struct sl_ledger *l;
	struct sl_diag d;
	uint8_t x[16];
	uint64_t mark;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		lines[1] = bad[i];
		write_checked(lines, 3);
		cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_ERR_CORRUPT, "'%s' read", bad[i]);
		cr_assert(strstr(d.msg, "line 3 is damaged"), "%s", d.msg);
	}
	/* a clock before 1970 wrote a negative time: still a record */
	lines[1] = "accept l1 5 0000000000000000000000000000000a -100";
	write_checked(lines, 3);
	cr_assert_eq(sl_ledger_open(path, NULL, NULL, &l, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_ledger_count(l), 3);
	id(x, 10);
	cr_assert_eq(sl_ledger_check(l, "l2", x, 1, &R0, &d), SL_ERR_REPLAY, "id ...0a was read");
	cr_assert_eq(sl_ledger_mark(l, "l1", &mark), SL_OK);
	cr_assert_eq(mark, 7);
	sl_ledger_close(l);
}
