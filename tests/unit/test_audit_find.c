/* Unit tests for looking entries up at the end of the audit log
 * (audit_scan.c): numbers, windows growing past 64 KiB, torn tails. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit_find.h"
#include "tmpdir_suite.h"

TestSuite(audit_scan, .init = tmp_setup, .fini = tmp_teardown);

static const char A[] = "0123456789abcdef0123456789abcdef";
static const char B[] = "fedcba9876543210fedcba9876543210";

/* Append n entries (`event` for xfer A, long reasons) and return the log. */
static struct sl_audit *log_with(unsigned n, const char *event)
{
	struct sl_audit *a;
	struct sl_diag d = { "" };
	char reason[1000];

	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", NULL, &a, &d), SL_OK, "%s", d.msg);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(sl_audit_append(a, event, A, NULL, reason, &d), SL_OK, "%s", d.msg);
	return a;
}

Test(audit_scan, missing_and_empty_log)
{
	uint64_t s = 99;
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 0);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "released", A, NULL), 0);
	sl_audit_close(log_with(0, "started"));
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 0);
}

Test(audit_scan, only_entries_after_the_number)
{
	struct sl_audit *a = log_with(3, "started");
	uint64_t s = 0;

	cr_assert_eq(sl_audit_append(a, "released", A, NULL, "x", NULL), SL_OK); /* 4 */
	cr_assert_eq(sl_audit_append(a, "rejected", B, NULL, "x", NULL), SL_OK); /* 5 */
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 5);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 3, "released", A, NULL), 1);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 4, "released", A, NULL), 0, "4 is not above 4");
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "released", B, NULL), 0, "other transfer");
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "rejected", B, NULL), 1);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "rejected", A, NULL), 0, "other event");
	sl_audit_close(a);
}

/* ~1 KiB entries: 300 of them are far more than the first 64 KiB window. */
Test(audit_scan, windows_grow_back_to_an_old_entry)
{
	struct sl_audit *a = log_with(10, "started");
	uint64_t s = 0;

	cr_assert_eq(sl_audit_append(a, "released", B, NULL, "old", NULL), SL_OK); /* 11 */
	sl_audit_close(a);
	a = log_with(300, "timeout");
	sl_audit_close(a);
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 311);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 10, "released", B, NULL), 1);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "released", B, NULL), 1);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 11, "released", B, NULL), 0);
}

/* A line cut short by a crash is no entry, with or without the LF that
 * sl_audit_open() adds after it. */
Test(audit_scan, torn_tail_is_not_an_entry)
{
	struct sl_audit *a = log_with(2, "started");
	char line[512];
	uint64_t s = 0;
	int fd, n;

	sl_audit_close(a);
	n = snprintf(line, sizeof line, "3 2030-01-01T00:00:00Z released xfer=%s manifest=- reason=x "
		     "chain=0123456789abcdef", A);
	fd = openat(tmp_fd, "audit.log", O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "released", A, NULL), 0, "no LF");
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 2);
	close(fd);
	a = log_with(0, "started"); /* opening cuts the torn line and records the cut as entry 3 */
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 0, "released", A, NULL), 0, "torn line cut");
	cr_assert_eq(sl_audit_last_seq(tmp_fd, "audit.log", &s, NULL), SL_OK);
	cr_assert_eq(s, 3);
	/* the next append is a whole entry after it */
	cr_assert_eq(sl_audit_append(a, "released", A, NULL, "x", NULL), SL_OK);
	sl_audit_close(a);
	cr_assert_eq(sl_audit_find_after(tmp_fd, "audit.log", 3, "released", A, NULL), 1);
}
