/* status.c — `sluice status`: what a receiver is doing, from its state directory.
 *
 * Reads STATE/status (rewritten every second by sluice-rx) and STATE/audit.log
 * (checks its hash chain and that it holds the anchored heads, from
 * STATE/audit.head and from --audit-head; shows the latest outcomes).
 * Never talks to rx.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cmds.h"
#include "progress.h"
#include "repair.h"
#include "status.h"
#include "units.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice status --state DIR [--json] [--recent N] [--watch SECS] [--audit-head N:HEX]\n"
"       sluice status --state DIR --repair TRANSFER\n"
"\n"
"Show a receiver's health and progress from its state directory: whether\n"
"sluice-rx is running, the link (datagrams, authentication failures, kernel\n"
"drops), each sender (last heartbeat, estimated loss), transfers in progress\n"
"with progress bars, and the latest released, rejected and timed-out transfers\n"
"from the audit log, whose hash chain is checked, and against the last head\n"
"sluice-rx anchored outside it (STATE/audit.head, and the journal), so a log\n"
"cut short or removed is reported.\n"
"\n"
"  --state DIR      sluice-rx's --state directory\n"
"  --json           the same facts as one JSON object (schema: sluice-status(1))\n"
"  --recent N       audit entries to show (default 10)\n"
"  --watch SECS     redraw every SECS seconds until interrupted\n"
"  --audit-head N:HEX  also check the log holds this head: the last\n"
"                   'audit #N head HEX' line sluice-rx logged (journalctl)\n"
"  --repair ID      the repair code of a timed-out transfer (its id, or the\n"
"                   first 8 or more hex digits of it), on stdout: carry it to\n"
"                   the low side (sluice-tx send --repair CODE TRANSFER); it\n"
"                   holds only block numbers and counts\n"
"\n"
"Exit status: 0 healthy, 1 a problem is shown (rx not running, silent sender,\n"
"authentication failures, disk full or failing, broken audit chain, audit log\n"
"shorter than or not holding an anchored head), 2 usage, 3 no status to read.\n");
}

const char *status_field(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = strstr(line, key);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return out;
	p += strlen(key);
	while (p[n] && p[n] != ' ' && p[n] != '\n' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

unsigned long long status_value(const char *s)
{
	uint64_t v;
	return sl_parse_decimal(s, 0, UINT64_MAX, &v) ? 0 : v;
}

bool status_get(const char *line, const char *key, unsigned long long *v)
{
	char b[64];
	uint64_t x;

	if (sl_parse_decimal(status_field(line, key, b, sizeof b), 0, UINT64_MAX, &x))
		return false;
	*v = x;
	return true;
}

unsigned long long status_num(const char *line, const char *key)
{
	unsigned long long v;
	return status_get(line, key, &v) ? v : 0;
}

void status_pair(const char *line, const char *key, unsigned long long *a, unsigned long long *b)
{
	char v[64];
	const char *slash = strchr(status_field(line, key, v, sizeof v), '/');
	uint64_t x;

	*a = *b = 0;
	if (!slash)
		return;
	if (!sl_parse_decimal_n(v, (size_t)(slash - v), 0, UINT64_MAX, &x))
		*a = x;
	*b = status_value(slash + 1);
}

#define field status_field
#define num status_num

bool status_alive(unsigned long long pid, long age_s)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM) && age_s < 10;
}

bool status_staging_near(const char *line)
{
	unsigned long long used = num(line, "bytes="), max = num(line, "max="), n = num(line, "transfers="),
			   n_max = num(line, "transfers_max=");
	return (max && used * 10 >= max * 9) || (n_max && n >= n_max);
}

bool status_quota_refused(const char *line)
{
	return num(line, "header_refused=") || num(line, "dropped=") || num(line, "evicted=");
}

bool status_session_silent(const char *line)
{
	char state[32];
	unsigned long long hb;
	return !strcmp(field(line, "state=", state, sizeof state), "sending") &&
	       status_get(line, "last_heartbeat_ms=", &hb) && hb > 5000;
}

bool status_recent_event(const char *e)
{
	static const char *const ev[] = { "released", "rejected", "timeout", "replay", "stuck", "cut",
					  "evicted", "expired", "reloaded", "storage", NULL };
	for (unsigned i = 0; ev[i]; i++)
		if (!strcmp(e, ev[i]))
			return true;
	return false;
}

/* "staging bytes=.. max=.. ...": the receiver's disk quotas; 1 if near a limit. */
static int show_staging(const char *line)
{
	char b1[32], b2[32], b3[32], b4[32];
	unsigned long long used = num(line, "bytes="), max = num(line, "max="), unv = num(line, "unvouched="),
			   unv_max = num(line, "unvouched_max="), n = num(line, "transfers="),
			   n_max = num(line, "transfers_max=");

	printf("staging    %s of %s (not yet verified: %s of %s), %llu of %llu transfers; idle staging "
	       "kept %llu days\n", sl_fmt_bytes(used, b1, sizeof b1), sl_fmt_bytes(max, b2, sizeof b2),
	       sl_fmt_bytes(unv, b3, sizeof b3), sl_fmt_bytes(unv_max, b4, sizeof b4), n, n_max,
	       num(line, "keep_s=") / 86400);
	if (status_staging_near(line)) {
		printf("           ! staging is near its quota: new data is dropped until transfers are "
		       "released, expire, or --max-staging/--max-staged are raised\n");
		return 1;
	}
	return 0;
}

/* "quota header_refused=.. dropped=..": what the quotas refused; 1 if anything. */
static int show_quota(const char *line)
{
	unsigned long long refused = num(line, "header_refused="), dropped = num(line, "dropped="),
			   evicted = num(line, "evicted="), expired = num(line, "expired=");

	printf("quotas     %llu headers refused, %llu blocks dropped for space, %llu transfers evicted, "
	       "%llu expired; %llu symbols of another layout, %llu conflicting headers; %llu log and "
	       "%llu audit lines suppressed\n", refused, dropped, evicted, expired,
	       num(line, "other_layout="), num(line, "header_conflicts="), num(line, "log_suppressed="),
	       num(line, "audit_suppressed="));
	if (status_quota_refused(line)) {
		printf("           ! a quota refused data (see the audit log and sluice-rx(8), QUOTAS)\n");
		return 1;
	}
	return 0;
}

/* "storage state=.. ...": the disk of STATE; 1 if writes fail or releases wait for it. */
static int show_storage(const char *line)
{
	char st[32], since[40], b1[32], b2[32];
	unsigned long long fails = num(line, "episode_failures="), waiting = num(line, "releases_waiting="), free_b;
	bool known = status_get(line, "free=", &free_b); /* -1: unknown */

	field(line, "state=", st, sizeof st);
	field(line, "since=", since, sizeof since);
	printf("storage    %s, %s free, reserve %s; %llu episode(s) of failed writes since start "
	       "(%llu for lack of space, %llu I/O errors)\n", !strcmp(st, "ok") ? "ok" : st,
	       !known ? "?" : sl_fmt_bytes(free_b, b1, sizeof b1),
	       sl_fmt_bytes(num(line, "reserve="), b2, sizeof b2), num(line, "episodes="),
	       num(line, "failed_nospace="), num(line, "failed_io="));
	if (!strcmp(st, "full"))
		printf("           ! DISK FULL since %s: %llu writes failed, %llu release(s) held up. Nothing "
		       "staged is removed.\n           Free space on the filesystem of --state (--release is "
		       "on it too: move released\n           transfers away); held-up releases then finish "
		       "by themselves, and a repeat\n           pass (sluice-tx send --first-pass N) brings "
		       "what could not be written.\n", since, fails, waiting);
	else if (strcmp(st, "ok"))
		printf("           ! I/O ERRORS on the disk of --state since %s: %llu writes failed, %llu "
		       "release(s) held up.\n           Check the disk (kernel log: dmesg); nothing staged "
		       "is removed, held-up releases are\n           tried again and a repeat pass brings "
		       "what could not be written.\n", since, fails, waiting);
	else if (waiting)
		printf("           ! %llu release(s) held up by earlier disk errors: tried again "
		       "(see the log)\n", waiting);
	return strcmp(st, "ok") || waiting ? 1 : 0;
}

/* "xfer ID state=.. ...": one transfer in progress, with a progress bar. */
static int show_xfer(const char *line)
{
	unsigned long long bd, bt, cd, ct;
	char st2[32], cat[32], pbar[48], id[33], v[128], b1[32], b2[32];

	snprintf(id, sizeof id, "%.32s", line + 5);
	field(line, "state=", st2, sizeof st2);
	field(line, "catalog=", cat, sizeof cat);
	status_pair(line, "bytes=", &bd, &bt);
	status_pair(line, "chunks=", &cd, &ct);
	sl_progress_bar(ct ? (double)cd / (double)ct : 0, 24, pbar, sizeof pbar);
	printf("transfer   %s %s %s of %s, catalog %s, %s%s\n", id, pbar,
	       sl_fmt_bytes(bd, b1, sizeof b1), sl_fmt_bytes(bt, b2, sizeof b2), cat, st2,
	       num(line, "release_held=") ? " (complete; its release waits for the disk)"
	       : num(line, "timed_out=") ? " (timed out; a repeat pass can complete it)" : "");
	if (strstr(line, " repair="))
		printf("           repair code %s (sluice status --repair %s)\n",
		       field(line, " repair=", v, sizeof v), id);
	return 0;
}

/* What a repair code asks for, in words (stderr, next to the code). */
static void explain_code(const char *id, const char *code)
{
	struct sl_repair r;
	unsigned long rows = 0, whole = 0;

	if (sl_repair_decode(code, &r, NULL) != SL_OK)
		return;
	if (r.full) {
		fprintf(stderr, "transfer %s lacks too much for a short list: the code asks for a full "
			"pass with new rows (from pass %u)\n", id, r.pass + 1);
	} else {
		for (size_t i = 0; i < r.n; i++) {
			rows += r.e[i].need;
			whole += r.e[i].need == 0;
		}
		fprintf(stderr, "transfer %s lacks %zu block(s): %lu more row(s), and %lu whole block(s) "
			"of which no row arrived; new rows from pass %u on\n", id, r.n, rows, whole, r.pass + 1);
	}
	fprintf(stderr, "type it on the low side: sluice-tx send --repair %s TRANSFER-DIR\n"
		"(it carries only the transfer's tag, a pass number, block numbers and counts)\n", code);
}

/* --repair ID: the code from the status file, on stdout. */
static int show_repair(int statefd, const char *want)
{
	char *line = NULL, id[33], code[64], state[32], match[300] = "";
	size_t cap = 0, wl = strlen(want), found = 0;
	int fd = openat(statefd, "status", O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		fprintf(stderr, "sluice status: no status file in the state directory (is sluice-rx "
			"running with this --state?)\n");
		if (fd >= 0)
			close(fd);
		return 3;
	}
	if (wl < 8 || wl > 32 || strspn(want, "0123456789abcdefABCDEF") != wl) {
		fclose(f);
		fprintf(stderr, "sluice status: --repair takes a transfer id: 8 to 32 hex digits\n");
		return 2;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "xfer ", 5) || strncasecmp(line + 5, want, wl))
			continue;
		snprintf(id, sizeof id, "%.32s", line + 5);
		if (found++ == 0)
			snprintf(match, sizeof match, "%s", line);
	}
	free(line);
	fclose(f);
	if (found > 1) {
		fprintf(stderr, "sluice status: %zu staged transfers start with %s: give more digits\n", found, want);
		return 2;
	}
	if (!found) {
		fprintf(stderr, "sluice status: transfer %s is not staged here (released, rejected, expired "
			"or never seen: see the audit log)\n", want);
		return 1;
	}
	snprintf(id, sizeof id, "%.32s", match + 5);
	if (!strstr(match, " repair=")) {
		fprintf(stderr, "sluice status: transfer %s has no repair code: it is %s%s\n", id,
			field(match, "state=", state, sizeof state), num(match, "timed_out=") ? "" :
			" and has not timed out (a code is made when it times out)");
		return 1;
	}
	field(match, " repair=", code, sizeof code);
	printf("%s\n", code);
	explain_code(id, code);
	return 0;
}

static const char *anchor_text(enum sl_audit_anchor a)
{
	switch (a) {
	case SL_AUDIT_ANCHOR_NONE: return "-";
	case SL_AUDIT_ANCHOR_HELD: return "in the log";
	case SL_AUDIT_ANCHOR_SHORT: return "NOT IN THE LOG (the log ends before it)";
	case SL_AUDIT_ANCHOR_DIFFERS: return "NOT IN THE LOG (its entry there has another chain)";
	case SL_AUDIT_ANCHOR_UNCHECKED: return "not checked (the chain breaks before it)";
	}
	return "?";
}

/* The audit chain: does it verify, and does it still hold the anchored
 * heads (audit.head, and the one given from the journal)? */
static int show_chain(int statefd, const struct sl_audit_head *given)
{
	struct sl_audit_state st;
	struct sl_diag d = { "" };
	int r = sl_audit_verify(statefd, "audit.log", given, &st, &d);

	if (r)
		printf("audit log  ! %s\n", d.msg);
	else
		printf("audit log  %llu entries, hash chain intact\n", (unsigned long long)st.entries);
	if (!st.missing && st.entries)
		printf("           head %llu:%s%s\n", (unsigned long long)st.head.seq, st.head.chain,
		       r ? " (the last entry that verifies)" : "");
	if (st.torn_tail)
		printf("           the last line (%llu bytes) %s: sluice-rx cuts it, and records the cut, "
		       "when it next starts\n", (unsigned long long)st.tail_bytes, st.bad_why);
	if (st.head_file_present)
		printf("anchors    %s names %llu: %s\n", st.head_file, (unsigned long long)st.file_head.seq,
		       anchor_text(st.file_anchor));
	else
		printf("anchors    no %s: compare with a head from the journal (--audit-head N:HEX)\n",
		       st.head_file);
	if (given)
		printf("           given %llu: %s\n", (unsigned long long)given->seq,
		       anchor_text(st.given_anchor));
	return r ? 1 : 0;
}

/* The latest outcomes from the audit log. */
static void show_recent(int statefd, unsigned recent)
{
	char **ring = calloc(recent ? recent : 1, sizeof *ring), *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	FILE *f;
	int fd = openat(statefd, "audit.log", O_RDONLY | O_CLOEXEC);

	if (ring && recent && fd >= 0 && (f = fdopen(fd, "r"))) {
		while (getline(&line, &cap, f) > 0) {
			struct sl_audit_entry e;
			char buf[SL_AUDIT_MAX_LINE + 1];
			if (sl_audit_parse_line(line, buf, sizeof buf, &e) != 0)
				continue;
			if (!status_recent_event(e.event))
				continue;
			free(ring[n % recent]);
			if (asprintf(&ring[n % recent], "  %s  %-8s %s  %s", e.time, e.event, e.xfer,
				     e.reason) < 0)
				ring[n % recent] = NULL;
			n++;
		}
		free(line);
		fclose(f);
		if (n)
			printf("recent\n");
		for (unsigned i = n > recent ? n - recent : 0; i < n; i++) {
			if (ring[i % recent])
				printf("%s\n", ring[i % recent]);
		}
	} else if (fd >= 0) {
		close(fd);
	}
	for (unsigned i = 0; ring && i < recent; i++)
		free(ring[i]);
	free(ring);
}

/* The end of a component's line: the newline alone when the line's key
 * (e.g. "drops=") counts 0, else "! N what" on a line of its own; 1 then. */
static int line_end(const char *line, const char *key, const char *what)
{
	unsigned long long n = num(line, key);

	if (!n) {
		printf("\n");
		return 0;
	}
	printf("\n           ! %llu %s\n", n, what);
	return 1;
}

/* The block windows' line. */
static int show_window(const char *line)
{
	printf("window     %llu block slots in memory; %llu symbols spooled (their block left "
	       "the window undecoded); grown %llu times to a sender's interleave",
	       num(line, "slots="), num(line, "spooled="), num(line, "grown="));
	line_end(line, "short=", "transfers wanted more than --window-memory holds: raise it (see the log)");
	return 0; /* a hint, not a problem */
}

/* The writer thread's line (rx/writer.c); 1 when it refused chunks. */
static int show_writer(const char *line)
{
	char b1[32], b2[32], b3[32];

	printf("writer     %s queued of %s (peak %s); %llu chunks written, %llu syncs",
	       sl_fmt_bytes(num(line, "queued="), b1, sizeof b1), sl_fmt_bytes(num(line, "max="), b2, sizeof b2),
	       sl_fmt_bytes(num(line, "peak="), b3, sizeof b3), num(line, "written="), num(line, "syncs="));
	if (strstr(line, " spare="))
		printf("; %llu handed over without a copy, %s of buffers kept for reuse", num(line, "given="),
		       sl_fmt_bytes(num(line, "spare="), b1, sizeof b1));
	if (strstr(line, " spill_max="))
		printf("\n           %s spilled to the stream of %s (peak %s); %llu chunks spilled, %llu moved",
		       sl_fmt_bytes(num(line, "spill="), b1, sizeof b1),
		       sl_fmt_bytes(num(line, "spill_max="), b2, sizeof b2),
		       sl_fmt_bytes(num(line, "spill_peak="), b3, sizeof b3), num(line, "spilled="),
		       num(line, "moved="));
	return line_end(line, "full=", "decoded chunks dropped at a full writer queue and spill (the disk "
			"is slower than the link): a repeat pass brings them; raise --writer-spill or slow "
			"the sender");
}

/* The receive ring's line (rx/ring.c); 1 when it dropped datagrams. */
static int show_ring(const char *line)
{
	char b1[32], b2[32], b3[32], b4[32];

	printf("ring       %s queued (peak %s, memory %s) of %s", sl_fmt_bytes(num(line, "queued="), b1, sizeof b1),
	       sl_fmt_bytes(num(line, "peak="), b2, sizeof b2), sl_fmt_bytes(num(line, "memory="), b3, sizeof b3),
	       sl_fmt_bytes(num(line, "max="), b4, sizeof b4));
	return line_end(line, "drops=", "datagrams dropped at a full receive ring (sluice-rx stalled longer "
			"than the ring holds at this rate): raise --ring, or find the stall (disk, CPU)");
}

/* A sender's session line; 1 when it is silent while it says it sends. */
static int show_session(const char *line)
{
	unsigned long long got = num(line, "received="), lost = num(line, "lost="), hb = 0;
	char state[32], sender[64], pass[32], sid[17], b2[32];
	bool heard = status_get(line, "last_heartbeat_ms=", &hb); /* -1: never */

	field(line, "state=", state, sizeof state);
	field(line, "sender=", sender, sizeof sender);
	field(line, "pass=", pass, sizeof pass);
	snprintf(sid, sizeof sid, "%.16s", line + 8);
	printf("sender     %s (session %s): %s, pass %s, heartbeat %s, lost %llu of %llu (%.2f%%)\n",
	       sender, sid, state, pass,
	       !heard ? "never" : (snprintf(b2, sizeof b2, "%.1f s ago", (double)hb / 1000), b2),
	       lost, got + lost, got + lost ? 100.0 * (double)lost / (double)(got + lost) : 0.0);
	if (!status_session_silent(line))
		return 0;
	printf("           ! SILENT: the sender says it is sending but no heartbeat for "
	       "%.0f s: check the link and the diode\n", (double)hb / 1000);
	return 1;
}

/* A component's line (its first word names it): shown by its own function;
 * 1 when it reports a problem. Lines of other kinds are not shown. */
static int show_part(const char *line)
{
	static const struct {
		const char *kind;
		int (*show)(const char *line);
	} parts[] = {
		{ "staging ", show_staging }, { "quota ", show_quota }, { "storage ", show_storage },
		{ "window ", show_window }, { "writer ", show_writer }, { "ring ", show_ring },
		{ "session ", show_session }, { "xfer ", show_xfer },
	};

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (!strncmp(line, parts[i].kind, strlen(parts[i].kind)))
			return parts[i].show(line);
	return 0;
}

static int show(int statefd, const char *dir, unsigned recent, const struct sl_audit_head *given)
{
	FILE *f;
	char *line = NULL, b1[32];
	size_t cap = 0;
	int problems = 0, fd;
	unsigned long long pid = 0, auth = 0, kdrops = 0;
	time_t updated = 0;
	struct stat st;

	fd = openat(statefd, "status", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		fprintf(stderr, "sluice status: no status in %s (%s): is this sluice-rx's --state "
			"directory, and has it run?\n", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	if (fstat(fd, &st) == 0)
		updated = st.st_mtime;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "pid ", 4)) {
			pid = status_value(line + 4);
		} else if (!strncmp(line, "started ", 8)) {
			long age = (long)(time(NULL) - updated);
			int alive = status_alive(pid, age);
			printf("receiver   %s (pid %llu, started %s, status %ld s old)\n",
			       alive ? "RUNNING" : "NOT RUNNING", pid, line + 8, age);
			if (!alive)
				problems++;
		} else if (!strncmp(line, "link ", 5)) {
			printf("link       %s\n", line + 5);
		} else if (!strncmp(line, "datagrams ", 10)) {
			printf("traffic    %s datagrams", line + 10);
		} else if (!strncmp(line, "bytes ", 6)) {
			printf(", %s\n", sl_fmt_bytes(status_value(line + 6), b1, sizeof b1));
		} else if (!strncmp(line, "auth_failures ", 14)) {
			auth = status_value(line + 14);
		} else if (!strncmp(line, "malformed ", 10)) {
			printf("dropped    %llu failed authentication, %s malformed", auth, line + 10);
		} else if (!strncmp(line, "unsupported ", 12)) {
			printf(", %s unsupported", line + 12);
		} else if (!strncmp(line, "kernel_drops ", 13)) {
			kdrops = status_value(line + 13);
			printf(", %llu in the kernel (receive buffer full)\n", kdrops);
			if (auth) {
				printf("           ! datagrams failed authentication: a sender with the wrong link "
				       "key, or forged traffic\n");
				problems++;
			}
		} else if (!strncmp(line, "released ", 9)) {
			printf("outcomes   %s released", line + 9);
		} else if (!strncmp(line, "rejected ", 9)) {
			printf(", %s rejected", line + 9);
		} else if (!strncmp(line, "timeouts ", 9)) {
			printf(", %s timed out", line + 9);
		} else if (!strncmp(line, "replays ", 8)) {
			printf(", %s replays ignored (since start)\n", line + 8);
		} else {
			problems += show_part(line);
		}
	}
	free(line);
	fclose(f);

	problems += show_chain(statefd, given);
	show_recent(statefd, recent);
	return problems ? 1 : 0;
}

int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, 0, 's' }, { "recent", required_argument, 0, 'n' },
		{ "watch", required_argument, 0, 'w' }, { "audit-head", required_argument, 0, 'a' },
		{ "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' },
		{ "repair", required_argument, 0, 'r' }, { 0, 0, 0, 0 }
	};
	const char *dir = NULL, *repair = NULL;
	int json = 0;
	struct sl_audit_head head, *given = NULL;
	unsigned long recent = 10, watch = 0;
	int c, fd, r;
	struct sl_diag d;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': dir = optarg; break;
		case 'n':
		case 'w':
			if (sl_parse_count(c == 'n' ? "--recent" : "--watch (seconds)", optarg, c == 'w',
					   c == 'n' ? 1000 : 3600, c == 'n' ? &recent : &watch, &d)) {
				fprintf(stderr, "sluice status: %s\n", d.msg);
				return 2;
			}
			break;
		case 'a':
			if (sl_audit_head_parse(optarg, &head) != SL_OK) {
				fprintf(stderr, "sluice status: --audit-head takes N:HEX, the entry number and the "
					"64 hex digits of an 'audit #N head HEX' line sluice-rx logged\n");
				return 2;
			}
			given = &head;
			break;
		case 'j': json = 1; break;
		case 'r': repair = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!dir || optind != argc) {
		fprintf(stderr, "sluice status: give --state DIR (sluice-rx's state directory)\n");
		return 2;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sluice status: %s: %s\n", dir, strerror(errno));
		return 3;
	}
	if (repair) {
		r = show_repair(fd, repair);
		close(fd);
		return r;
	}
	for (;;) {
		if (watch && !json)
			printf("\033[H\033[2J");
		r = json ? status_json(fd, dir, (unsigned)recent, given) : show(fd, dir, (unsigned)recent, given);
		fflush(stdout);
		if (!watch || r == 3)
			break;
		sleep((unsigned)watch);
	}
	close(fd);
	return r;
}
