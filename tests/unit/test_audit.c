/* Unit tests for the hash-chained audit log: a torn tail is cut and the
 * cut audited, a full disk leaves no half line, a log cut short or removed
 * is caught against the head file and against a head from the journal, a
 * break before the tail is refused and nothing is touched. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "sha256.h"
#include "tmpdir_suite.h"

/* A logger that keeps every line, "LEVEL msg\n". */
static char logged[1 << 16];
static void capture(void *ctx, enum sl_log_level level, const char *msg)
{
	size_t n = strlen(logged);
	(void)ctx;
	snprintf(logged + n, sizeof logged - n, "%d %s\n", (int)level, msg);
}
static const struct sl_logger lg = { capture, NULL, SL_LOG_DEBUG };

static void setup(void)
{
	tmp_setup();
	logged[0] = '\0';
}

TestSuite(audit, .init = setup, .fini = tmp_teardown);

static char *slurp(const char *name, size_t *len)
{
	static char buf[1 << 16];
	int fd = openat(tmp_fd, name, O_RDONLY);
	ssize_t n;
	cr_assert_geq(fd, 0, "%s missing", name);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static void put(const char *name, const char *data, size_t len, int flags)
{
	int fd = openat(tmp_fd, name, O_WRONLY | O_CREAT | flags, 0640);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static off_t size_of(const char *name)
{
	struct stat st;
	cr_assert_eq(fstatat(tmp_fd, name, &st, 0), 0, "%s missing", name);
	return st.st_size;
}

/* The end of line n (1-based) of audit.log. */
static off_t end_of_line(int n)
{
	const char *s = slurp("audit.log", NULL), *p = s;
	for (int i = 0; i < n; i++) {
		p = strchr(p, '\n');
		cr_assert_not_null(p);
		p++;
	}
	return p - s;
}

/* A log of n entries, closed. */
static void make_log(int n)
{
	struct sl_audit *a;
	struct sl_diag d = { "" };
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	for (int i = 0; i < n; i++)
		cr_assert_eq(sl_audit_append(a, i ? "released" : "started", i ? "00112233445566778899aabbccddeeff" : NULL,
					     NULL, "all well", &d), SL_OK, "%s", d.msg);
	sl_audit_close(a);
}

/* The last "audit #seq head HEX" the logger got for seq. */
static struct sl_audit_head logged_head(uint64_t seq)
{
	struct sl_audit_head h = { 0, "" };
	char want[48], text[128];
	const char *p = logged, *hit = NULL;
	snprintf(want, sizeof want, "audit #%llu head ", (unsigned long long)seq);
	while ((p = strstr(p, want)))
		hit = p++;
	cr_assert_not_null(hit, "no '%s' logged:\n%s", want, logged);
	snprintf(text, sizeof text, "%llu:%.64s", (unsigned long long)seq, hit + strlen(want));
	cr_assert_eq(sl_audit_head_parse(text, &h), SL_OK, "%s", text);
	return h;
}

Test(audit, torn_tail_cut_and_audited)
{
	static const char torn[] = "4 2026-01-01T00:00:00Z released xfer=00112233"; /* 45 bytes, no LF */
	struct sl_audit *a;
	struct sl_audit_state st;
	struct sl_audit_entry e;
	struct sl_audit_head h;
	struct sl_diag d = { "" };
	char good[1 << 12], buf[SL_AUDIT_MAX_LINE + 1], *line4;
	off_t good_len;

	make_log(3);
	good_len = size_of("audit.log");
	memcpy(good, slurp("audit.log", NULL), (size_t)good_len);
	put("audit.log", torn, strlen(torn), O_APPEND);
	/* A status check meanwhile: the chain holds, the tail is only torn. */
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_OK, "%s", d.msg);
	cr_assert(st.torn_tail && st.tail_bytes == strlen(torn) && st.entries == 3);

	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(sl_audit_append(a, "stopped", NULL, NULL, "signal", &d), SL_OK, "%s", d.msg);
	sl_audit_get_head(a, &h);
	sl_audit_close(a);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(st.entries, 5);
	cr_assert_eq(st.file_anchor, SL_AUDIT_ANCHOR_HELD);
	cr_assert_eq(h.seq, 5);
	/* The good entries are untouched; the torn bytes are gone; entry 4 says so. */
	cr_assert_eq(memcmp(slurp("audit.log", NULL), good, (size_t)good_len), 0);
	line4 = slurp("audit.log", NULL) + good_len;
	cr_assert_eq(sl_audit_parse_line(line4, buf, sizeof buf, &e), SL_OK, "%s", line4);
	cr_assert_eq(e.seq, 4);
	cr_assert_str_eq(e.event, "cut");
	cr_assert(strstr(e.reason, "cut 45 bytes after entry #3: the last line has no newline"), "%s", e.reason);
	cr_assert_null(strstr(slurp("audit.log", NULL), torn));
	cr_assert(strstr(logged, "1 audit log audit.log: cut 45 bytes after entry #3"), "no warning:\n%s", logged);

	/* A whole last line that does not chain (say, zeros from a crash) is cut too. */
	good_len = size_of("audit.log");
	put("audit.log", "6 x\n", 4, O_APPEND);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	sl_audit_close(a);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(st.entries, 6);
	line4 = slurp("audit.log", NULL) + good_len;
	cr_assert_eq(sl_audit_parse_line(line4, buf, sizeof buf, &e), SL_OK);
	cr_assert(strstr(e.reason, "cut 4 bytes after entry #5: the last line (entry #6) has no chain field"),
		  "%s", e.reason);
}

Test(audit, full_disk_leaves_no_half_line)
{
	struct sl_audit *a;
	struct sl_audit_state st;
	struct sl_diag d = { "" };
	struct rlimit old, lim;
	off_t before;

	make_log(3);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	before = size_of("audit.log");
	/* A file size limit makes the next write short, like a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 30;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(sl_audit_append(a, "released", NULL, NULL, "does not fit", &d), SL_ERR_IO);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_assert_eq(size_of("audit.log"), before, "half a line left behind");
	cr_assert(strstr(logged, "0 audit: entry #4 (released ) was NOT recorded"), "%s", logged);
	cr_assert_eq(sl_audit_append(a, "released", NULL, NULL, "fits", &d), SL_OK, "%s", d.msg);
	sl_audit_close(a);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(st.entries, 4);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	sl_audit_close(a);
}

Test(audit, anchors_follow_each_append)
{
	struct sl_audit *a;
	struct sl_audit_head h, l;
	struct sl_diag d = { "" };
	char want[96];

	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(faccessat(tmp_fd, "audit.head", F_OK, 0), -1, "no head before the first entry");
	for (int i = 1; i <= 3; i++) {
		cr_assert_eq(sl_audit_append(a, "released", NULL, NULL, "x", &d), SL_OK, "%s", d.msg);
		sl_audit_get_head(a, &h);
		l = logged_head((uint64_t)i);
		cr_assert_eq(h.seq, (uint64_t)i);
		cr_assert_str_eq(h.chain, l.chain);
		snprintf(want, sizeof want, "%d:%s\n", i, h.chain);
		cr_assert_str_eq(slurp("audit.head", NULL), want);
	}
	sl_audit_close(a);
	cr_assert_eq(faccessat(tmp_fd, ".audit.head.tmp", F_OK, 0), -1, "temp file left");
	cr_assert_eq(sl_audit_head_parse("#3:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n", &h),
		     SL_OK);
	cr_assert_eq(h.seq, 3);
	cr_assert_str_eq(h.chain, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	cr_assert_eq(sl_audit_head_parse("3:abc", &h), SL_ERR_PARSE);
	cr_assert_eq(sl_audit_head_parse("0:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", &h),
		     SL_ERR_PARSE);
	cr_assert_eq(sl_audit_head_parse("3 abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", &h),
		     SL_ERR_PARSE);
	/* the entry number as the log spells it: no leading zero, sign or overflow */
	cr_assert_eq(sl_audit_head_parse("03:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", &h),
		     SL_ERR_PARSE);
	cr_assert_eq(sl_audit_head_parse("+3:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", &h),
		     SL_ERR_PARSE);
	cr_assert_eq(sl_audit_head_parse("18446744073709551616:abcdef0123456789abcdef0123456789abcdef0123456789"
					 "abcdef0123456789", &h), SL_ERR_PARSE);
	cr_assert_eq(sl_audit_head_parse("18446744073709551615:abcdef0123456789abcdef0123456789abcdef0123456789"
					 "abcdef0123456789", &h), SL_OK);
	cr_assert_eq(h.seq, UINT64_MAX);
	cr_assert_eq(sl_audit_head_parse("3:abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678g", &h),
		     SL_ERR_PARSE);
}

Test(audit, truncated_detected_by_head_file)
{
	struct sl_audit *a;
	struct sl_audit_state st;
	struct sl_diag d = { "" };
	char head[128], path[128];
	off_t cut;

	make_log(5);
	snprintf(head, sizeof head, "%s", slurp("audit.head", NULL));
	cr_assert_eq(strncmp(head, "5:", 2), 0, "%s", head);
	cut = end_of_line(3);
	snprintf(path, sizeof path, "%s/audit.log", tmp);
	cr_assert_eq(truncate(path, cut), 0);

	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "audit.log ends at entry #3, but audit.head names entry #5: entries were "
			 "removed from its end"), "%s", d.msg);
	cr_assert_eq(st.entries, 3);
	cr_assert_eq(st.file_anchor, SL_AUDIT_ANCHOR_SHORT);
	/* sluice-rx refuses to start on it, and changes nothing. */
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "names entry #5") && strstr(d.msg, "move them aside"), "%s", d.msg);
	cr_assert_eq(size_of("audit.log"), cut);
	cr_assert_str_eq(slurp("audit.head", NULL), head);
	/* A head file that does not parse is refused too, not ignored. */
	put("audit.head", "garbage\n", 8, O_TRUNC);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "audit.head does not hold SEQ:HEX"), "%s", d.msg);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_ERR_CORRUPT);
	cr_assert_eq(size_of("audit.log"), cut);
}

/* Cut inside line 4: a torn tail, but the head file says entries were
 * there: refused, not repaired. */
Test(audit, truncated_mid_line_is_not_repaired_over_the_head_file)
{
	struct sl_audit *a;
	struct sl_diag d = { "" };
	char path[128];
	off_t cut;

	make_log(5);
	cut = end_of_line(4) - 10;
	snprintf(path, sizeof path, "%s/audit.log", tmp);
	cr_assert_eq(truncate(path, cut), 0);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "ends at entry #3, but audit.head names entry #5"), "%s", d.msg);
	cr_assert_eq(size_of("audit.log"), cut, "the torn line was cut despite the head file");
}

Test(audit, truncated_detected_by_given_head)
{
	struct sl_audit_state st;
	struct sl_audit_head h5, h2, bad;
	struct sl_diag d = { "" };
	char path[128];

	make_log(5);
	h5 = logged_head(5);
	h2 = logged_head(2);
	/* Whoever cut the log removed the head file too: only the journal's
	 * head is left to catch it. */
	cr_assert_eq(unlinkat(tmp_fd, "audit.head", 0), 0);
	snprintf(path, sizeof path, "%s/audit.log", tmp);
	cr_assert_eq(truncate(path, end_of_line(3)), 0);

	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_OK, "%s", d.msg);
	cr_assert(!st.head_file_present);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", &h5, &st, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "audit.log ends at entry #3, but the given head is entry #5"), "%s", d.msg);
	cr_assert_eq(st.given_anchor, SL_AUDIT_ANCHOR_SHORT);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", &h2, &st, &d), SL_OK, "%s", d.msg);
	cr_assert_eq(st.given_anchor, SL_AUDIT_ANCHOR_HELD);
	/* A log rewritten from entry 2 on: entry 2 is there, with another chain. */
	bad = h2;
	bad.chain[10] = bad.chain[10] == 'a' ? 'b' : 'a';
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", &bad, &st, &d), SL_ERR_CORRUPT);
	cr_assert_eq(st.given_anchor, SL_AUDIT_ANCHOR_DIFFERS);
	cr_assert(strstr(d.msg, "entry #2 is not the one given"), "%s", d.msg);
}

Test(audit, removed_file_detected)
{
	struct sl_audit *a;
	struct sl_audit_state st;
	struct sl_audit_head h2;
	struct sl_diag d = { "" };

	make_log(2);
	h2 = logged_head(2);
	cr_assert_eq(unlinkat(tmp_fd, "audit.log", 0), 0);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_ERR_CORRUPT);
	cr_assert(st.missing);
	cr_assert(strstr(d.msg, "audit.log is missing, but audit.head names entry #2: the log was removed"),
		  "%s", d.msg);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "missing"), "%s", d.msg);
	cr_assert_eq(faccessat(tmp_fd, "audit.log", F_OK, 0), -1, "a fresh log was created over the loss");
	/* Both gone: the journal's head still says there was a log. */
	cr_assert_eq(unlinkat(tmp_fd, "audit.head", 0), 0);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", &h2, &st, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "audit.log is missing, but the given head is entry #2"), "%s", d.msg);
}

/* Recompute every chain of a log whose lines are in `text` (the forger's
 * way to hide an edit from a plain chain check). */
static void rechain(char *text)
{
	char prev[65], *line = text;
	memset(prev, '0', 64);
	prev[64] = '\0';
	while (*line) {
		char *nl = strchr(line, '\n'), *mark = strstr(line, " chain=");
		uint8_t dig[32];
		struct sl_sha256 *h;
		cr_assert(nl && mark && mark < nl);
		cr_assert_eq(sl_sha256_new(&h), 0);
		sl_sha256_update(h, prev, 64);
		sl_sha256_update(h, " ", 1);
		sl_sha256_update(h, line, (size_t)(mark - line));
		sl_sha256_final(h, dig);
		sl_sha256_free(h);
		sl_sha256_hex(dig, prev);
		memcpy(mark + 7, prev, 64);
		line = nl + 1;
	}
}

Test(audit, broken_middle_refused)
{
	struct sl_audit *a;
	struct sl_audit_state st;
	struct sl_diag d = { "" };
	char orig[1 << 12], bad[1 << 12], head[128];
	size_t len;
	off_t l1, l2, l3;

	make_log(5);
	const char *text = slurp("audit.log", &len);
	memcpy(orig, text, len + 1);
	snprintf(head, sizeof head, "%s", slurp("audit.head", NULL));
	l1 = end_of_line(1);
	l2 = end_of_line(2);
	l3 = end_of_line(3);

	/* One byte of entry 2 changed. */
	memcpy(bad, orig, len + 1);
	bad[l1 + 30] ^= 1;
	put("audit.log", bad, len, O_TRUNC);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "chain broken at line 2") && strstr(d.msg, "lines follow it"), "%s", d.msg);
	cr_assert_eq(memcmp(slurp("audit.log", NULL), bad, len), 0, "the log was changed");
	cr_assert_str_eq(slurp("audit.head", NULL), head);
	cr_assert_eq(sl_audit_verify(tmp_fd, "audit.log", NULL, &st, &d), SL_ERR_CORRUPT);
	cr_assert(st.bad_line == 2 && !st.torn_tail && st.file_anchor == SL_AUDIT_ANCHOR_UNCHECKED);

	/* ... and the last line torn as well: still refused, nothing cut. */
	put("audit.log", bad, len - 5, O_TRUNC);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "line 2"), "%s", d.msg);
	cr_assert_eq(size_of("audit.log"), (off_t)len - 5);

	/* Entry 3 deleted and every chain recomputed: the chain verifies, the
	 * entry numbers do not (1, 2, 4, 5). The head file is removed too. */
	memcpy(bad, orig, (size_t)l2);
	memcpy(bad + l2, orig + l3, len - (size_t)l3 + 1);
	rechain(bad);
	put("audit.log", bad, strlen(bad), O_TRUNC);
	cr_assert_eq(unlinkat(tmp_fd, "audit.head", 0), 0);
	cr_assert_eq(sl_audit_open(tmp_fd, "audit.log", &lg, &a, &d), SL_ERR_CORRUPT);
	cr_assert(strstr(d.msg, "line 3, which is entry #4 where #3 was due"), "%s", d.msg);
	cr_assert_eq(memcmp(slurp("audit.log", NULL), bad, strlen(bad)), 0, "the log was changed");
}
