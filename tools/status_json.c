/* status_json.c — `sluice status --json`: the facts of the human view
 * (status.c) as one JSON object, for scripts and monitoring. The schema is
 * documented in sluice-status(1), "JSON"; field names follow STATE/status.
 * Every string is escaped, and bytes that are not UTF-8 become U+FFFD: a
 * sender's name comes from the low side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

/* Length of a valid UTF-8 sequence at s (of n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (len == 4 && s[0] == 0xf0 && s[1] < 0x90) || (len == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate, beyond U+10FFFF */
	return len;
}

static void str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	putchar('"');
	for (size_t i = 0; i < n; i++) {
		size_t u;
		if (p[i] == '"' || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			printf("\\u%04x", p[i]);
		else if (p[i] < 0x80)
			putchar(p[i]);
		else if ((u = utf8_len(p + i, n - i))) {
			fwrite(p + i, 1, u, stdout);
			i += u - 1;
		} else
			printf("\\ufffd");
	}
	putchar('"');
}

/* "key": <number from key= in line> */
static void numf(const char *name, const char *line, const char *key, int comma)
{
	printf("\"%s\": %llu%s", name, status_num(line, key), comma ? ", " : "");
}

/* "key": <number from key=>, for each key of the NULL-terminated list. */
static void nums(const char *line, const char *const *keys)
{
	char key[40];
	for (; *keys; keys++) {
		snprintf(key, sizeof key, "%s=", *keys);
		numf(*keys, line, key, 1);
	}
}

/* "name": <number from key=>, or -1 where the line has none (-1 or absent), */
static void signed_num(const char *name, const char *line, const char *key)
{
	unsigned long long v;

	if (status_get(line, key, &v))
		printf("\"%s\": %llu, ", name, v);
	else
		printf("\"%s\": -1, ", name);
}

static void strf(const char *name, const char *line, const char *key, int comma)
{
	char v[256];
	printf("\"%s\": ", name);
	str(status_field(line, key, v, sizeof v));
	printf("%s", comma ? ", " : "");
}

static void session(const char *line, int first, unsigned *problems)
{
	char sid[17];
	unsigned long long got = status_num(line, "received="), lost = status_num(line, "lost="), hb;
	bool silent = status_session_silent(line);

	snprintf(sid, sizeof sid, "%.16s", line + 8);
	printf("%s\n    {\"id\": ", first ? "" : ",");
	str(sid);
	printf(", ");
	strf("sender", line, "sender=", 1);
	strf("state", line, "state=", 1);
	if (!status_get(line, "last_heartbeat_ms=", &hb)) /* -1: none yet */
		printf("\"last_heartbeat_ms\": null, ");
	else
		printf("\"last_heartbeat_ms\": %llu, ", hb);
	numf("idle_ms", line, "idle_ms=", 1);
	printf("\"received\": %llu, \"lost\": %llu, \"loss_ratio\": %.6f, ", got, lost,
	       got + lost ? (double)lost / (double)(got + lost) : 0.0);
	strf("pass", line, "pass=", 1);
	numf("xfer_sequence", line, "xfer_seq=", 1);
	numf("rate_bps", line, "rate_bps=", 1);
	printf("\"silent\": %s}", silent ? "true" : "false");
	*problems += silent;
}

static void transfer(const char *line, int first)
{
	char id[33];
	unsigned long long cd, ct, bd, bt;

	snprintf(id, sizeof id, "%.32s", line + 5);
	status_pair(line, "chunks=", &cd, &ct);
	status_pair(line, "bytes=", &bd, &bt);
	printf("%s\n    {\"id\": ", first ? "" : ",");
	str(id);
	printf(", ");
	strf("state", line, "state=", 1);
	strf("catalog", line, "catalog=", 1);
	printf("\"chunks_done\": %llu, \"chunks_total\": %llu, \"bytes_done\": %llu, \"bytes_total\": %llu, "
	       "\"progress\": %.6f, ", cd, ct, bd, bt, ct ? (double)cd / (double)ct : 0.0);
	numf("idle_ms", line, "idle_ms=", 1);
	numf("symbols", line, "symbols=", 1);
	signed_num("files", line, "files=");
	printf("\"timed_out\": %s, ", status_num(line, "timed_out=") ? "true" : "false");
	if (strstr(line, " repair="))
		strf("repair", line, " repair=", 1);
	else
		printf("\"repair\": null, ");
	numf("staged_bytes", line, "staged=", 0);
	printf("}");
}

static const char *const counters[] = {
	"datagrams", "bytes", "auth_failures", "malformed", "unsupported", "before_header", "ignored", "duplicates",
	"kernel_drops", "released", "rejected", "timeouts", "replays", NULL
};

/* The status file's lines: receiver, link, counters, staging, quota, then
 * sessions and transfers (each in its own array, read in a second pass). */
static unsigned json_staging(const char *sl)
{
	static const char *const k[] = { "bytes", "max", "unvouched", "unvouched_max", "transfers",
					 "transfers_max", "keep_s", NULL };

	printf("  \"staging\": {");
	nums(sl, k);
	printf("\"near_limit\": %s},\n", status_staging_near(sl) ? "true" : "false");
	return status_staging_near(sl);
}

static unsigned json_quota(const char *ql)
{
	static const char *const q[] = { "header_refused", "dropped", "evicted", "expired", "other_layout",
					 "header_conflicts", "log_suppressed", "audit_suppressed", NULL };

	printf("  \"quota\": {");
	nums(ql, q);
	printf("\"refused_data\": %s},\n", status_quota_refused(ql) ? "true" : "false");
	return status_quota_refused(ql);
}

static unsigned json_storage(const char *dl)
{
	static const char *const k[] = { "episode_failures", "failed_nospace", "failed_io", "episodes",
					 "releases_waiting", "release_retries", "reserve", NULL };
	char st[32];
	int bad = strcmp(status_field(dl, "state=", st, sizeof st), "ok") != 0 ||
		  status_num(dl, "releases_waiting=") > 0;

	printf("  \"storage\": {");
	strf("state", dl, "state=", 1);
	strf("since", dl, "since=", 1);
	nums(dl, k);
	signed_num("free", dl, "free=");
	printf("\"problem\": %s},\n", bad ? "true" : "false");
	return (unsigned)bad;
}

/* "name": {keys..., "drop": N}; 1 when N (the line's drop=) is not 0. */
static unsigned json_dropping(const char *name, const char *line, const char *const *keys,
			      const char *drop)
{
	char key[40];

	snprintf(key, sizeof key, "%s=", drop);
	printf("  \"%s\": {", name);
	nums(line, keys);
	numf(drop, line, key, 0);
	printf("},\n");
	return status_num(line, key) > 0;
}

static unsigned json_writer(const char *wr)
{
	static const char *const k[] = { "queued", "peak", "max", "written", "syncs", "spill", "spill_peak",
					  "spill_max", "spilled", "moved", "given", "spare", NULL };

	return json_dropping("writer", wr, k, "full");
}

static unsigned json_ring(const char *rl)
{
	static const char *const k[] = { "queued", "peak", "memory", "max", NULL };

	return json_dropping("ring", rl, k, "drops");
}

static unsigned json_window(const char *wl)
{
	static const char *const k[] = { "slots", "spooled", "grown", NULL };

	printf("  \"window\": {");
	nums(wl, k);
	numf("short", wl, "short=", 0);
	printf("},\n");
	return 0; /* a hint, not a problem */
}

/* "key": [ ... ] of every line starting with prefix, each printed by fn. */
static void json_array(FILE *f, const char *key, const char *prefix, unsigned *problems,
		       void (*fn)(const char *line, int first, unsigned *problems))
{
	char *line = NULL;
	size_t cap = 0;
	int first = 1;

	printf("  \"%s\": [", key);
	rewind(f);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, prefix, strlen(prefix))) {
			fn(line, first, problems);
			first = 0;
		}
	}
	printf("%s],\n", first ? "" : "\n  ");
	free(line);
}

static void session_entry(const char *line, int first, unsigned *problems)
{
	session(line, first, problems);
}

static void transfer_entry(const char *line, int first, unsigned *problems)
{
	(void)problems;
	transfer(line, first);
}

/* The components' objects, in this order, each from the first line of its kind. */
static const struct {
	const char *kind;
	unsigned (*json)(const char *line);
} parts[] = {
	{ "staging ", json_staging }, { "quota ", json_quota }, { "storage ", json_storage },
	{ "window ", json_window }, { "writer ", json_writer }, { "ring ", json_ring },
};
#define NPARTS (sizeof parts / sizeof parts[0])

static void status_lines(FILE *f, long age, unsigned *problems)
{
	char *line = NULL, *kept[NPARTS] = { NULL };
	size_t cap = 0;
	unsigned long long pid = 0, auth = 0;
	int nc = 0;

	printf("  \"counters\": {");
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (unsigned i = 0; counters[i]; i++)
			if (!strcmp(line, counters[i]))
				printf("%s\"%s\": %llu", nc++ ? ", " : "", line, status_value(sp + 1));
		if (!strcmp(line, "auth_failures"))
			auth = status_value(sp + 1);
		if (!strcmp(line, "pid"))
			pid = status_value(sp + 1);
		*sp = ' ';
		for (size_t i = 0; i < NPARTS; i++)
			if (!kept[i] && !strncmp(line, parts[i].kind, strlen(parts[i].kind)))
				kept[i] = strdup(line);
	}
	free(line);
	printf("},\n  \"receiver\": {\"running\": %s, \"pid\": %llu, \"status_age_s\": %ld},\n",
	       status_alive(pid, age) ? "true" : "false", pid, age);
	*problems += !status_alive(pid, age) + (auth > 0);
	for (size_t i = 0; i < NPARTS; i++) {
		*problems += kept[i] ? parts[i].json(kept[i]) : 0;
		free(kept[i]);
	}
	json_array(f, "sessions", "session ", problems, session_entry);
	json_array(f, "transfers", "xfer ", problems, transfer_entry);
}

static const char *anchor_name(enum sl_audit_anchor a)
{
	static const char *const n[] = { "none", "held", "short", "differs", "unchecked" };
	return (unsigned)a < 5 ? n[a] : "unknown";
}

static void audit(int statefd, const struct sl_audit_head *given, unsigned *problems)
{
	struct sl_audit_state st;
	struct sl_diag d = { "" };
	int r = sl_audit_verify(statefd, "audit.log", given, &st, &d);

	printf("  \"audit\": {\"chain_ok\": %s, \"problem\": ", r ? "false" : "true");
	if (r)
		str(d.msg);
	else
		printf("null");
	printf(", \"missing\": %s, \"entries\": %llu, \"head\": ", st.missing ? "true" : "false",
	       (unsigned long long)st.entries);
	if (!st.missing && st.entries)
		printf("{\"seq\": %llu, \"chain\": \"%s\"}", (unsigned long long)st.head.seq, st.head.chain);
	else
		printf("null");
	printf(", \"torn_tail_bytes\": %llu, \"head_file\": ",
	       (unsigned long long)(st.torn_tail ? st.tail_bytes : 0));
	if (st.head_file_present)
		printf("{\"seq\": %llu, \"anchor\": \"%s\"}", (unsigned long long)st.file_head.seq,
		       anchor_name(st.file_anchor));
	else
		printf("null");
	printf(", \"given_head\": ");
	if (given)
		printf("{\"seq\": %llu, \"anchor\": \"%s\"}", (unsigned long long)given->seq,
		       anchor_name(st.given_anchor));
	else
		printf("null");
	printf("},\n");
	*problems += r != 0;
}

static void recent_events(int statefd, unsigned recent)
{
	char *line = NULL, buf[SL_AUDIT_MAX_LINE + 1];
	size_t cap = 0;
	unsigned long long total = 0, skip, n = 0;
	int fd = openat(statefd, "audit.log", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	struct sl_audit_entry e;

	printf("  \"recent\": [");
	if (!f) {
		if (fd >= 0)
			close(fd);
		printf("],\n");
		return;
	}
	while (getline(&line, &cap, f) > 0) /* first pass: how many to skip */
		total += sl_audit_parse_line(line, buf, sizeof buf, &e) == 0 && status_recent_event(e.event);
	skip = total > recent ? total - recent : 0;
	rewind(f);
	while (getline(&line, &cap, f) > 0) {
		if (sl_audit_parse_line(line, buf, sizeof buf, &e) != 0 || !status_recent_event(e.event))
			continue;
		if (n++ < skip)
			continue;
		printf("%s\n    {\"seq\": %llu, \"time\": ", n > skip + 1 ? "," : "", (unsigned long long)e.seq);
		str(e.time);
		printf(", \"event\": ");
		str(e.event);
		printf(", \"xfer\": ");
		str(e.xfer);
		printf(", \"reason\": ");
		str(e.reason);
		printf("}");
	}
	printf("%s],\n", n > skip ? "\n  " : "");
	free(line);
	fclose(f);
}

int status_json(int statefd, const char *dir, unsigned recent, const struct sl_audit_head *given)
{
	struct stat st;
	char *line = NULL, v[512];
	size_t cap = 0;
	unsigned problems = 0;
	int fd = openat(statefd, "status", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;

	if (!f) {
		fprintf(stderr, "sluice status: no status in %s (%s): is this sluice-rx's --state "
			"directory, and has it run?\n", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	printf("{\n  \"schema\": 1,\n  \"state_dir\": ");
	str(dir);
	printf(",\n");
	while (getline(&line, &cap, f) > 0) { /* the one-value lines first */
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "started ", 8) || !strncmp(line, "updated ", 8) || !strncmp(line, "link ", 5)) {
			snprintf(v, sizeof v, "%s", strchr(line, ' ') + 1);
			*strchr(line, ' ') = '\0';
			printf("  \"%s\": ", line);
			str(v);
			printf(",\n");
		}
	}
	free(line);
	rewind(f);
	status_lines(f, fstat(fd, &st) == 0 ? (long)(time(NULL) - st.st_mtime) : -1, &problems);
	fclose(f);
	audit(statefd, given, &problems);
	recent_events(statefd, recent);
	printf("  \"healthy\": %s\n}\n", problems ? "false" : "true");
	return problems ? 1 : 0;
}
