/* doctor.c — `sluice doctor`: check a host before it carries transfers.
 *
 * Looks, never sends: CPU features the crypto uses, kernel features the
 * receiver's sandbox and I/O need, socket-buffer sysctls, clock sync (expiry
 * checks depend on it), and, when given, the link key, policy, state and
 * release directories. Each finding is one line: ok, WARN or FAIL, with what
 * to do about it.
 *
 * --config FILE checks a sluice-rx or sluice-tx configuration file with the
 * code those programs use (rx/options.c, tx/options.c over common/util/
 * conf.c): whichever of the two accepts it, or the error of the one that
 * read further; then the key, policy and directories it names.
 *
 * --diode-buffer SIZE [--diode-rate RATE] [--line-rate RATE] checks a
 * sluice-tx configuration's --rate and --burst against a diode's
 * store-and-forward buffer, with the rule of fpga/README.md and
 * sluice-tx(8) as common/link/pace.c computes it (sl_pace_burst_max), and
 * the burst sluice-tx would use (sl_pace_burst, as tx/sender.c does).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/landlock.h>
#include <liburing.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "rx_options.h"
#include "safefs.h"
#include "tx_options.h"
#include "pace.h"
#include "policy.h"
#include "units.h"
#include "wire.h"

#define WANT_SOCKBUF (32u << 20)

struct tally {
	unsigned ok, warn, fail;
};

static void say(struct tally *t, int level, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(struct tally *t, int level, const char *what, const char *fmt, ...)
{
	static const char *const tag[] = { "ok  ", "WARN", "FAIL" };
	va_list ap;

	printf("%s  %-14s ", tag[level], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (level == 0)
		t->ok++;
	else if (level == 1)
		t->warn++;
	else
		t->fail++;
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void check_host(struct tally *t)
{
	char b[32];
	long v;
	struct timex tx = { 0 };
	int state;

	if (sodium_init() < 0) {
		say(t, 2, "libsodium", "failed to initialise");
		return;
	}
	if (crypto_aead_aes256gcm_is_available())
		say(t, 0, "aead", "AES-NI present: senders here use AES-256-GCM");
	else
		say(t, 1, "aead", "no AES-NI: this host seals and opens only XChaCha20-Poly1305; a "
		    "receiver here cannot open AES-256-GCM, so run its senders with "
		    "--aead xchacha20poly1305");
	say(t, 0, "cores", "%ld online",
	    sysconf(_SC_NPROCESSORS_ONLN));

	v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (v >= 2)
		say(t, 0, "landlock", "ABI %ld: sluice-rx confines itself to its state and release trees", v);
	else if (v >= 0)
		say(t, 1, "landlock", "ABI %ld is too old for the release rename: sluice-rx refuses to "
		    "start (Linux 5.19 or later adds it; --allow-no-landlock runs it under seccomp only)", v);
	else
		say(t, 1, "landlock", "not available (%s): sluice-rx refuses to start; enable "
		    "CONFIG_SECURITY_LANDLOCK and lsm=landlock (--allow-no-landlock runs it under seccomp "
		    "only, with write access wherever its user may write)", strerror(errno));
	{
		struct io_uring ring;
		int r = io_uring_queue_init(4, &ring, 0);
		if (r == 0) {
			io_uring_queue_exit(&ring);
			say(t, 0, "io_uring", "available (link option io=uring, --file-io uring, and "
			    "sluice-tx's small-file batches by default; the plain engines need none of it)");
		} else {
			say(t, 1, "io_uring", "not available (%s): io=uring and --file-io uring will "
			    "refuse to start; the plain engines (sendmmsg/recvmmsg, pread/pwrite; "
			    "sluice-tx reads small files with them instead) work", strerror(-r));
		}
	}

	v = read_sysctl("/proc/sys/net/core/rmem_max");
	if (v >= 0 && v < (long)WANT_SOCKBUF)
		say(t, 1, "rmem_max", "%s: an unprivileged sluice-rx gets at most this receive buffer, "
		    "and bursts overflow it; run: sysctl -w net.core.rmem_max=%u",
		    sl_fmt_bytes((uint64_t)v, b, sizeof b), WANT_SOCKBUF);
	else if (v >= 0)
		say(t, 0, "rmem_max", "%s", sl_fmt_bytes((uint64_t)v, b, sizeof b));
	v = read_sysctl("/proc/sys/net/core/wmem_max");
	if (v >= 0 && v < (long)WANT_SOCKBUF)
		say(t, 1, "wmem_max", "%s: sluice-tx's send buffer is capped there; run: "
		    "sysctl -w net.core.wmem_max=%u", sl_fmt_bytes((uint64_t)v, b, sizeof b), WANT_SOCKBUF);
	else if (v >= 0)
		say(t, 0, "wmem_max", "%s", sl_fmt_bytes((uint64_t)v, b, sizeof b));

	state = adjtimex(&tx);
	if (state == TIME_ERROR || (tx.status & STA_UNSYNC))
		say(t, 1, "clock", "not synchronised: manifests are checked against their validity "
		    "window and the policy's clock skew; keep this clock right (a GPS or "
		    "one-way time source on the high side)");
	else
		say(t, 0, "clock", "synchronised (estimated error %ld us)", tx.esterror);
}

static void check_key(struct tally *t, const char *path)
{
	uint8_t *key = NULL;
	struct sl_diag d = { "" };
	int r = sl_conf_check_secret("link key", path, &d); /* as sluice-rx and sluice-tx refuse it */

	if (!r)
		r = sl_link_key_load(path, &key, &d);
	if (r)
		say(t, 2, "link key", "%s", d.msg);
	else if (d.msg[0])
		say(t, 1, "link key", "%s", d.msg);
	else
		say(t, 0, "link key", "%s: 32 bytes, readable by its owner only", path);
	sl_link_key_free(key);
}

static void check_policy(struct tally *t, const char *path)
{
	struct sl_policy *p = NULL;
	struct sl_diag d = { "" };

	if (sl_policy_load(path, &p, &d)) {
		say(t, 2, "policy", "%s: %s", path, d.msg);
		return;
	}
	say(t, 0, "policy", "%s: %u of %zu officers, %zu submitter key(s), enclave %s, link %s",
	    path, p->threshold, p->nofficers, p->nsubmitters, p->enclave, p->link);
	if (p->threshold < 2)
		say(t, 1, "threshold", "one officer can approve a transfer alone; SL4/SL5 postures "
		    "expect at least two");
	sl_policy_free(p);
}

static void check_dirs(struct tally *t, const char *state, const char *release)
{
	struct stat a, b;
	struct statvfs vs;
	char buf[32];

	if (state) {
		if (stat(state, &a) != 0) {
			say(t, 1, "state", "%s does not exist yet (sluice-rx creates it, mode 0700)", state);
		} else if (!S_ISDIR(a.st_mode)) {
			say(t, 2, "state", "%s is not a directory", state);
		} else {
			if (a.st_mode & 077)
				say(t, 1, "state", "%s is mode %03o: staging holds unreleased data; chmod 700",
				    state, a.st_mode & 0777);
			else
				say(t, 0, "state", "%s, mode %03o", state, a.st_mode & 0777);
			if (statvfs(state, &vs) == 0)
				say(t, (uint64_t)vs.f_bavail * vs.f_frsize < (1ull << 30) ? 1 : 0, "space",
				    "%s free for staging (a transfer needs about twice its size while it is "
				    "released)", sl_fmt_bytes((uint64_t)vs.f_bavail * vs.f_frsize, buf, sizeof buf));
		}
	}
	if (release) {
		if (stat(release, &b) != 0)
			say(t, 1, "release", "%s does not exist yet (sluice-rx creates it)", release);
		else if (!S_ISDIR(b.st_mode))
			say(t, 2, "release", "%s is not a directory", release);
		else if (state && stat(state, &a) == 0 && a.st_dev != b.st_dev)
			say(t, 2, "release", "%s and %s are on different filesystems: a release must be "
			    "one atomic rename; put both on one", state, release);
		else
			say(t, 0, "release", "%s%s", release, state ? ", same filesystem as the state" : "");
	}
}

/* What a configuration file names for the other checks. */
struct named {
	char *key, *policy, *state, *release;
	int is_tx;              /* a sluice-tx configuration: the fields below are set */
	uint64_t rate, burst;   /* --rate (0: unlimited or not given), --burst (0: default) */
	int have_rate, eth;     /* rate given; the link is raw Ethernet */
	uint16_t symsize;
};

/* A diode: its buffer, the rate it forwards at, the low-side line rate. */
struct diode {
	uint64_t buffer, out_bps, line_bps;
};

/* "64K" when the bound is at least 1 KiB (rounded down), else bytes. */
static const char *burst_setting(uint64_t max, char *buf, size_t len)
{
	if (max >= 1024)
		snprintf(buf, len, "%lluK", (unsigned long long)(max / 1024));
	else
		snprintf(buf, len, "%llu", (unsigned long long)max);
	return buf;
}

/* A rate as --rate takes it: 900M, 1G, 2500K, or bits per second. */
static const char *rate_setting(uint64_t bps, char *buf, size_t len)
{
	if (bps % 1000000000ull == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(bps / 1000000000ull));
	else if (bps % 1000000ull == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bps / 1000000ull));
	else if (bps % 1000ull == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(bps / 1000ull));
	else
		snprintf(buf, len, "%llu", (unsigned long long)bps);
	return buf;
}

static void check_diode_rate(struct tally *t, const struct named *n, const struct diode *dd)
{
	char a[32], b[32];

	rate_setting(dd->out_bps, b, sizeof b);
	if (!n->rate || n->rate > dd->out_bps)
		say(t, 2, "diode rate", "--rate %s is more than the diode forwards (%s): its buffer "
		    "fills and drops frames; set --rate %s (rate = %s in the tx configuration)",
		    n->rate ? rate_setting(n->rate, a, sizeof a) : n->have_rate ? "unlimited" : "(not set)",
		    b, b, b);
	else
		say(t, 0, "diode rate", "--rate %s, at most the diode's %s", rate_setting(n->rate, a, sizeof a), b);
}

/* --burst of a tx configuration against the diode's buffer (see the top). */
static void check_diode_burst(struct tally *t, const struct named *n, const struct diode *dd)
{
	char a[32], b[32], c[32], rule[320];
	size_t frame = n->eth ? sl_wire_bytes_eth(sl_wire_dgram_size(n->symsize))
			      : sl_wire_bytes_udp(sl_wire_dgram_size(n->symsize));
	uint64_t burst = sl_pace_burst(n->rate, n->burst, frame);
	uint64_t max = sl_pace_burst_max(dd->buffer, dd->line_bps, dd->out_bps, frame);

	rate_setting(dd->out_bps, a, sizeof a);
	rate_setting(dd->line_bps, b, sizeof b);
	if (max < 2 * (uint64_t)frame) {
		say(t, 2, "diode burst", "a %llu-byte buffer forwarding at %s from a %s line cannot take "
		    "two %zu-byte frames back to back, the least sluice-tx sends at once; use a smaller "
		    "--symbol-size or a diode with a larger buffer", (unsigned long long)dd->buffer, a, b, frame);
		return;
	}
	if (dd->out_bps >= dd->line_bps)
		snprintf(rule, sizeof rule, "a diode forwarding at the line rate takes its buffer less "
			 "a frame: %llu - %zu", (unsigned long long)dd->buffer, frame);
	else
		snprintf(rule, sizeof rule, "it peaks at about burst x (1 - %s/%s) + a %zu-byte frame, "
			 "so the largest burst is (%llu - %zu) / (1 - %s/%s)", a, b, frame,
			 (unsigned long long)dd->buffer, frame, a, b);
	if (burst > max)
		say(t, 2, "diode burst", "--burst %llu%s overflows the diode's %llu-byte buffer (%s = "
		    "%llu bytes): set --burst %s (burst = %s in the tx configuration)",
		    (unsigned long long)burst, n->burst ? "" : " (the default: 1 ms of line time, at least 48K)",
		    (unsigned long long)dd->buffer, rule, (unsigned long long)max,
		    burst_setting(max, c, sizeof c), c);
	else
		say(t, 0, "diode burst", "--burst %llu%s fits the diode's %llu-byte buffer (%s = %llu bytes)",
		    (unsigned long long)burst, n->burst ? "" : " (the default)", (unsigned long long)dd->buffer,
		    rule, (unsigned long long)max);
}

static void check_diode(struct tally *t, const struct named *n, const struct diode *dd)
{
	if (!n->is_tx) {
		say(t, 2, "diode", "--diode-buffer checks a sluice-tx configuration: give --config "
		    "with a tx.conf");
		return;
	}
	check_diode_rate(t, n, dd);
	check_diode_burst(t, n, dd);
}

/* A configuration file, read as rx.conf and as tx.conf: the verdict is the
 * one that accepts it, or the error of the one that read further. */
static void check_config(struct tally *t, const char *path, struct named *out)
{
	struct rx_opts rx;
	struct tx_opts tx;
	struct tx_send_cfg defaults;
	struct sl_diag drx = { "" }, dtx = { "" }, dc = { "" };
	uint8_t *text = NULL;
	size_t len = 0;
	unsigned lrx = 0, ltx = 0;
	int rrx, rtx;

	if (sl_read_file(path, SL_CONF_MAX_BYTES, &text, &len, &dc)) {
		say(t, 2, "config", "%s", dc.msg);
		return;
	}
	tx_send_cfg_defaults(&defaults); /* the symbol size the diode check needs */
	rx_opts_init(&rx);
	tx_opts_init(&tx, &defaults, 0);
	rrx = rx_opts_config(&rx, path, (const char *)text, len, &lrx, &drx);
	rtx = rrx ? tx_opts_config(&tx, path, (const char *)text, len, &ltx, &dtx) : -1;
	if (!rrx) {
		say(t, 0, "config", "%s: a sluice-rx configuration, every key and value accepted", path);
		if (rx_opts_check(&rx, &dc))
			say(t, 1, "config", "%s (fine only if the rest is on sluice-rx's command line)", dc.msg);
		out->key = rx.key_path ? strdup(rx.key_path) : NULL;
		out->policy = rx.cfg.policy_path ? strdup(rx.cfg.policy_path) : NULL;
		out->state = rx.cfg.state_dir ? strdup(rx.cfg.state_dir) : NULL;
		out->release = rx.cfg.release_dir ? strdup(rx.cfg.release_dir) : NULL;
	} else if (!rtx) {
		say(t, 0, "config", "%s: a sluice-tx configuration, every key and value accepted", path);
		if (tx_opts_check(&tx, &dc))
			say(t, 1, "config", "%s (fine only if the rest is on sluice-tx's command line)", dc.msg);
		out->key = tx.key_path ? strdup(tx.key_path) : NULL;
		out->policy = tx.policy ? strdup(tx.policy) : NULL;
		out->is_tx = 1;
		out->rate = tx.cfg.rate_bps;
		out->have_rate = tx.have_rate;
		out->burst = tx.cfg.burst_bytes;
		out->symsize = tx.cfg.symsize;
		out->eth = tx.cfg.link_uri && !strncmp(tx.cfg.link_uri, "eth:", 4);
	} else {
		say(t, 2, "config", "%s", ltx > lrx ? dtx.msg : drx.msg);
	}
	rx_opts_free(&rx);
	tx_opts_free(&tx);
	free(text);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice doctor [--config FILE] [--key LINKKEY] [--policy POLICY] [--state DIR]\n"
"                     [--release DIR]\n"
"                     [--diode-buffer SIZE [--diode-rate RATE] [--line-rate RATE]]\n"
"\n"
"Check this host for sluice: CPU and kernel features (AES-NI, Landlock,\n"
"io_uring), socket-buffer limits, clock synchronisation, and, when given, the\n"
"link key, the policy and the receiver's directories. Sends nothing.\n"
"--config checks an rx.conf or tx.conf as sluice-rx or sluice-tx would read\n"
"it, then the key, policy and directories it names (options given here win).\n"
"--diode-buffer checks the tx.conf given with --config against a diode that\n"
"stores SIZE bytes (K, M = 1024s) and forwards at RATE (default: the line rate)\n"
"from a low-side line of --line-rate (default 1G): --rate at most the diode's,\n"
"--burst small enough not to overflow its buffer (the fix is printed).\n"
"Each line is ok, WARN or FAIL with what to do.\n"
"\n"
"Exit status: 0 no failures (warnings allowed), 1 a check failed, 2 usage.\n");
}

int doctor_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, 0, 'k' }, { "policy", required_argument, 0, 'p' },
		{ "state", required_argument, 0, 's' }, { "release", required_argument, 0, 'r' },
		{ "config", required_argument, 0, 'c' }, { "help", no_argument, 0, 'h' },
		{ "diode-buffer", required_argument, 0, 'B' }, { "diode-rate", required_argument, 0, 'D' },
		{ "line-rate", required_argument, 0, 'L' }, { 0, 0, 0, 0 }
	};
	struct diode dd = { 0, 0, 1000000000ull };
	struct sl_diag e = { "" };
	const char *key = NULL, *policy = NULL, *state = NULL, *release = NULL, *config = NULL;
	struct named n = { NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0 };
	struct tally t = { 0, 0, 0 };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'p': policy = optarg; break;
		case 's': state = optarg; break;
		case 'r': release = optarg; break;
		case 'c': config = optarg; break;
		case 'B':
			if (sl_parse_size(optarg, &dd.buffer, &e) || !dd.buffer)
				goto bad;
			break;
		case 'D':
			if (sl_parse_rate(optarg, &dd.out_bps, &e) || !dd.out_bps)
				goto bad;
			break;
		case 'L':
			if (sl_parse_rate(optarg, &dd.line_bps, &e) || !dd.line_bps)
				goto bad;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || ((dd.out_bps || dd.line_bps != 1000000000ull) && !dd.buffer)) {
		usage(stderr);
		return 2;
	}
	if (dd.buffer && !dd.out_bps)
		dd.out_bps = dd.line_bps;
	check_host(&t);
	if (config) {
		check_config(&t, config, &n);
		key = key ? key : n.key;
		policy = policy ? policy : n.policy;
		state = state ? state : n.state;
		release = release ? release : n.release;
	}
	if (key)
		check_key(&t, key);
	if (policy)
		check_policy(&t, policy);
	check_dirs(&t, state, release);
	if (dd.buffer)
		check_diode(&t, &n, &dd);
	free(n.key);
	free(n.policy);
	free(n.state);
	free(n.release);
	printf("%u ok, %u warnings, %u failures\n", t.ok, t.warn, t.fail);
	return t.fail ? 1 : 0;
bad:
	fprintf(stderr, "sluice doctor: %s\n", e.msg[0] ? e.msg : "a diode's buffer and rates must be more than 0");
	return 2;
}
