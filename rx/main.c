/* main.c — sluice-rx: the high-side receiver daemon (command line, setup, loop). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pace.h"
#include "rx.h"
#include "sandbox.h"
#include "units.h"

#define BATCH 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice-rx --link URI --key LINKKEY --policy POLICY --state DIR --release DIR [options]\n"
"\n"
"Receive transfers from a one-way link, repair them, verify every signature and\n"
"hash, and release each complete transfer atomically into RELEASE/<transfer-id>/.\n"
"Never sends anything.\n"
"\n"
"  --link URI            udp://ADDR:PORT (bind; a multicast ADDR is joined),\n"
"                        eth:IFACE, or pcap:FILE (read the file, then exit)\n"
"  --key FILE            32-byte link key (sluice keygen --link)\n"
"  --unkeyed             accept unauthenticated CRC32C datagrams (tests only)\n"
"  --policy FILE         trust policy: officer keys, threshold, enclave, link, limits\n"
"  --state DIR           staging, ledger, audit log, status (created 0700)\n"
"  --release DIR         where released transfers appear; same filesystem as --state\n"
"  --timeout SECS        a transfer with no data this long times out (default 300)\n"
"  --tail-grace SECS     after the sender's last pass, wait this long (default 5)\n"
"  --window N            blocks assembled in memory per transfer (default 64)\n"
"  --max-active N        transfers assembled at once (default 4)\n"
"  --max-symbol-size S   largest symbol accepted (default 8900)\n"
"  --max-catalog SIZE    largest manifest+signatures (default 64M)\n"
"  --max-staging SIZE    disk all staged transfers may hold (default: half the\n"
"                        free space of --state when sluice-rx starts)\n"
"  --max-unvouched SIZE  of that, for transfers whose signatures are not yet\n"
"                        verified; the idlest is evicted first (default 1/4)\n"
"  --max-staged N        transfers staged at once (default 32, at most 256)\n"
"  --keep-incomplete DUR remove staging idle this long, audited (default 7d)\n"
"  --reserve SIZE        room kept in STATE/reserve for the status file, audit log\n"
"                        and releases when the disk is full (default 1M; 0: none)\n"
"  --sockbuf SIZE        socket receive buffer (default 128M; the kernel caps it at\n"
"                        net.core.rmem_max without CAP_NET_ADMIN, with a warning)\n"
"  --file-io MODE        how chunks are written into the staged files: plain\n"
"                        (pwrite, default) or uring (io_uring, registered buffers)\n"
"  --no-sandbox          do not apply seccomp and Landlock (debugging only)\n"
"  --allow-no-landlock   where the kernel lacks Landlock (ABI 2, Linux 5.19), start\n"
"                        anyway with the seccomp filter only: file writes are then\n"
"                        limited by file permissions alone (default: refuse)\n"
"  -q, --quiet / -v, --verbose\n"
"  -h, --help\n"
"\n"
"Exit status: 0 stopped cleanly (or pcap input ended), 1 configuration refused,\n"
"2 usage, 3 system error. See sluice-rx(8).\n");
}

enum {
	O_LINK = 256, O_KEY, O_UNKEYED, O_POLICY, O_STATE, O_RELEASE, O_TIMEOUT, O_GRACE,
	O_WINDOW, O_MAXACTIVE, O_MAXSYM, O_MAXCAT, O_NOSANDBOX, O_SOCKBUF, O_FILEIO,
	O_MAXSTAGING, O_MAXUNV, O_MAXSTAGED, O_KEEP, O_RESERVE, O_NOLANDLOCK
};

#ifdef RX_TEST_BUILD
/* sluice-rx-crashtest only: SLUICE_RX_CRASH_AT=POINT makes the receiver
 * _exit() at that point of a release (tests/e2e/transfer.sh crash_points).
 * An unknown name is refused, so a misspelt test cannot pass by never crashing. */
static int crash_point_from_env(struct rx_cfg *cfg)
{
	const char *p = getenv("SLUICE_RX_CRASH_AT");

	if (!p || !*p)
		return 0;
	for (unsigned i = 0; rx_crash_points[i]; i++)
		if (!strcmp(p, rx_crash_points[i])) {
			cfg->crash_at = rx_crash_points[i];
			return 0;
		}
	fprintf(stderr, "sluice-rx: SLUICE_RX_CRASH_AT=%s is not a crash point; known:", p);
	for (unsigned i = 0; rx_crash_points[i]; i++)
		fprintf(stderr, " %s", rx_crash_points[i]);
	fprintf(stderr, "\n");
	return -1;
}
#endif

static int parse_count(const char *opt, const char *arg, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	struct sl_diag d;
	if (sl_parse_count(opt, arg, lo, hi, out, &d) == SL_OK)
		return 0;
	fprintf(stderr, "sluice-rx: %s\n", d.msg);
	return -1;
}

/* The quota options; 0 on success, 2 on a bad value (printed). */
static int quota_option(int opt, const char *arg, struct rx_cfg *cfg)
{
	struct sl_diag d = { "" };
	unsigned long v;
	uint64_t u;

	switch (opt) {
	case O_MAXSTAGING:
	case O_MAXUNV:
		if (sl_parse_size(arg, &u, &d) || u < (1u << 20)) {
			fprintf(stderr, "sluice-rx: %s: %s\n", opt == O_MAXSTAGING ? "--max-staging" : "--max-unvouched",
				d.msg[0] ? d.msg : "at least 1M");
			return 2;
		}
		*(opt == O_MAXSTAGING ? &cfg->max_staging : &cfg->max_unvouched) = u;
		return 0;
	case O_MAXSTAGED:
		if (parse_count("--max-staged", arg, 1, RX_MAX_KNOWN, &v))
			return 2;
		cfg->max_staged = (unsigned)v;
		return 0;
	case O_RESERVE:
		if (sl_parse_size(arg, &u, &d) || u > (1ull << 30)) {
			fprintf(stderr, "sluice-rx: --reserve: %s\n", d.msg[0] ? d.msg : "at most 1G");
			return 2;
		}
		cfg->reserve = u ? u : RX_RESERVE_NONE;
		return 0;
	default:
		if (sl_parse_duration(arg, &u, &d) || u == 0) {
			fprintf(stderr, "sluice-rx: --keep-incomplete: %s\n", d.msg[0] ? d.msg : "at least 1 second");
			return 2;
		}
		cfg->keep_incomplete_ns = u * 1000000000ull;
		return 0;
	}
}

/* Apply the sandbox (sandbox.h); 0, or the exit status when refused (1)
 * or failed (3), with the reason printed. */
static int confine(struct rx_ctx *c, const struct rx_cfg *cfg, int no_landlock_ok,
		   const struct sl_logger *log)
{
	struct sl_rx_sandbox_cfg sb = {
		.state_fd = c->state_fd, .release_fd = c->release_fd,
		.state_path = cfg->state_dir, .release_path = cfg->release_dir,
		.link_fd = sl_link_fd(c->link), .file_ring = cfg->file_io == SL_UIO_URING,
		.allow_no_landlock = no_landlock_ok,
	};
	struct sl_diag d = { "" };
	int r = sl_rx_sandbox(&sb, &d);

	if (r == SL_ERR_UNSUPPORTED || r == SL_ERR_INVAL) {
		fprintf(stderr, "sluice-rx: %s\n", d.msg);
		return 1;
	}
	if (r) {
		fprintf(stderr, "sluice-rx: sandbox: %s (use --no-sandbox only to debug)\n", d.msg);
		return 3;
	}
	if (d.msg[0])
		sl_log(log, SL_LOG_WARN, "%s", d.msg);
	return 0;
}
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, 0, O_LINK }, { "key", required_argument, 0, O_KEY },
		{ "unkeyed", no_argument, 0, O_UNKEYED }, { "policy", required_argument, 0, O_POLICY },
		{ "state", required_argument, 0, O_STATE }, { "release", required_argument, 0, O_RELEASE },
		{ "timeout", required_argument, 0, O_TIMEOUT }, { "tail-grace", required_argument, 0, O_GRACE },
		{ "window", required_argument, 0, O_WINDOW }, { "max-active", required_argument, 0, O_MAXACTIVE },
		{ "max-symbol-size", required_argument, 0, O_MAXSYM },
		{ "max-catalog", required_argument, 0, O_MAXCAT },
		{ "no-sandbox", no_argument, 0, O_NOSANDBOX }, { "quiet", no_argument, 0, 'q' },
		{ "allow-no-landlock", no_argument, 0, O_NOLANDLOCK },
		{ "sockbuf", required_argument, 0, O_SOCKBUF },
		{ "file-io", required_argument, 0, O_FILEIO },
		{ "max-staging", required_argument, 0, O_MAXSTAGING },
		{ "max-unvouched", required_argument, 0, O_MAXUNV },
		{ "max-staged", required_argument, 0, O_MAXSTAGED },
		{ "keep-incomplete", required_argument, 0, O_KEEP },
		{ "reserve", required_argument, 0, O_RESERVE },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
	};
	struct rx_cfg cfg = { .window = 64, .max_active = 4, .timeout_ns = 300000000000ull,
			      .tail_grace_ns = 5000000000ull, .max_catalog = 64u << 20,
			      .max_symsize = SL_WIRE_MAX_SYMSIZE, .sockbuf = 128u << 20 };
	struct sl_logger log = { sl_log_stderr, "sluice-rx", SL_LOG_INFO };
	struct rx_ctx c;
	struct sl_diag d = { "" };
	const char *key_path = NULL;
	int opt, r, sandbox = 1, no_landlock_ok = 0, status = 0;
	unsigned long v;
	uint64_t u;
	struct sl_dgram dg[BATCH];
	uint8_t *bufs;

	while ((opt = getopt_long(argc, argv, "qvhV", opts, NULL)) != -1) {
		switch (opt) {
		case O_LINK: cfg.link_uri = optarg; break;
		case O_KEY: key_path = optarg; break;
		case O_UNKEYED: cfg.allow_unkeyed = 1; break;
		case O_POLICY: cfg.policy_path = optarg; break;
		case O_STATE: cfg.state_dir = optarg; break;
		case O_RELEASE: cfg.release_dir = optarg; break;
		case O_TIMEOUT:
		case O_GRACE:
			if (sl_parse_duration(optarg, &u, &d) || u == 0) {
				fprintf(stderr, "sluice-rx: %s: %s\n", opt == O_TIMEOUT ? "--timeout" : "--tail-grace",
					d.msg[0] ? d.msg : "must be at least 1 second");
				return 2;
			}
			if (opt == O_TIMEOUT)
				cfg.timeout_ns = u * 1000000000ull;
			else
				cfg.tail_grace_ns = u * 1000000000ull;
			break;
		case O_WINDOW:
			if (parse_count("--window", optarg, 1, 4096, &v)) return 2;
			cfg.window = (unsigned)v;
			break;
		case O_MAXACTIVE:
			if (parse_count("--max-active", optarg, 1, 256, &v)) return 2;
			cfg.max_active = (unsigned)v;
			break;
		case O_MAXSYM:
			if (parse_count("--max-symbol-size", optarg, SL_WIRE_MIN_SYMSIZE, SL_WIRE_MAX_SYMSIZE, &v))
				return 2;
			cfg.max_symsize = (uint16_t)v;
			break;
		case O_MAXCAT:
			if (sl_parse_size(optarg, &u, &d) || u < 1024 || u > (1u << 30)) {
				fprintf(stderr, "sluice-rx: --max-catalog: %s\n", d.msg[0] ? d.msg : "1K..1G");
				return 2;
			}
			cfg.max_catalog = u;
			break;
		case O_SOCKBUF:
			if (sl_parse_size(optarg, &u, &d) || u < 65536 || u > (1u << 30)) {
				fprintf(stderr, "sluice-rx: --sockbuf: %s\n", d.msg[0] ? d.msg : "64K..1G");
				return 2;
			}
			cfg.sockbuf = (size_t)u;
			break;
		case O_NOSANDBOX: sandbox = 0; break;
		case O_NOLANDLOCK: no_landlock_ok = 1; break;
		case O_FILEIO:
			if (sl_uio_mode_parse(optarg, &cfg.file_io, &d) != SL_OK) {
				fprintf(stderr, "sluice-rx: %s\n", d.msg);
				return 2;
			}
			break;
		case O_MAXSTAGING:
		case O_MAXUNV:
		case O_MAXSTAGED:
		case O_KEEP:
		case O_RESERVE:
			if (quota_option(opt, optarg, &cfg))
				return 2;
			break;
		case 'q': log.max = SL_LOG_WARN; break;
		case 'v': log.max = SL_LOG_DEBUG; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sluice-rx %s\n", SLUICE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sluice-rx: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (!cfg.link_uri || !cfg.policy_path || !cfg.state_dir || !cfg.release_dir) {
		fprintf(stderr, "sluice-rx: --link, --policy, --state and --release are required (see --help)\n");
		return 2;
	}
	if (cfg.allow_unkeyed == (key_path != NULL)) {
		fprintf(stderr, "sluice-rx: give --key LINKKEY (or, for tests only, --unkeyed)\n");
		return 2;
	}
	cfg.exit_when_idle = strncmp(cfg.link_uri, "pcap:", 5) == 0;
#ifdef RX_TEST_BUILD
	if (crash_point_from_env(&cfg))
		return 2;
#endif

	r = rx_setup(&c, &cfg, &log, key_path, &d);
	if (r) {
		fprintf(stderr, "sluice-rx: %s\n", d.msg[0] ? d.msg : sl_strerror(r));
		rx_teardown(&c);
		return r == SL_ERR_IO || r == SL_ERR_NOMEM ? 3 : 1;
	}
	if (sandbox && (r = confine(&c, &cfg, no_landlock_ok, &log))) {
		rx_teardown(&c);
		return r;
	}
	/* After the sandbox, so the thread inherits Landlock and seccomp
	 * (both are per thread and only copied at clone). */
	r = rx_hasher_start(c.chunkcap, &c.hasher);
	if (r) {
		fprintf(stderr, "sluice-rx: cannot start the hashing thread\n");
		rx_teardown(&c);
		return 3;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	bufs = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM);
	if (!bufs) {
		rx_teardown(&c);
		return 3;
	}
	for (unsigned i = 0; i < BATCH; i++) {
		dg[i].buf = bufs + (size_t)i * SL_LINK_MAX_DGRAM;
		dg[i].cap = SL_LINK_MAX_DGRAM;
	}
	if (sl_link_warning(c.link))
		sl_log(&log, SL_LOG_WARN, "%s", sl_link_warning(c.link));
	c.start_ns = sl_now_ns();
	sl_audit_append(c.audit, "started", NULL, NULL, sl_link_describe(c.link), NULL);
	sl_log(&log, SL_LOG_INFO, "listening on %s; staging in %s (file writes: %s), releasing to %s; "
	       "policy: %u of %zu officers, enclave %s, link %s", sl_link_describe(c.link), cfg.state_dir,
	       sl_uio_mode_name(cfg.file_io), cfg.release_dir, c.policy->threshold, c.policy->nofficers,
	       c.policy->enclave, c.policy->link);

	while (!stop_flag) {
		int n;
		for (unsigned i = 0; i < BATCH; i++) {
			dg[i].buf = bufs + (size_t)i * SL_LINK_MAX_DGRAM; /* the link may lend its own */
			dg[i].cap = SL_LINK_MAX_DGRAM;
		}
		n = sl_link_recv(c.link, dg, BATCH, 200, &d);
		uint64_t now = sl_now_ns();
		if (n == SL_ERR_CLOSED) {
			rx_tick(&c, now, 1);
			break;
		}
		if (n < 0) {
			if (n == SL_ERR_AGAIN)
				continue;
			sl_log(&log, SL_LOG_ERR, "link: %s", d.msg[0] ? d.msg : sl_strerror(n));
			status = 3;
			break;
		}
		for (int i = 0; i < n; i++)
			rx_handle(&c, dg[i].buf, dg[i].len, now);
		rx_tick(&c, now, 0);
	}
	free(bufs);
	for (struct rx_xfer *x = c.xfers; x; x = x->next)
		if (x->state == RX_X_ACTIVE)
			rx_xfer_deactivate(&c, x);
	rx_write_status(&c, sl_now_ns());
	sl_audit_append(c.audit, "stopped", NULL, NULL, stop_flag ? "signal" : "end of input", NULL);
	sl_log(&log, SL_LOG_INFO, "stopped: %llu datagrams, %llu released, %llu rejected, %llu timed out, "
	       "%llu authentication failures", (unsigned long long)c.st.datagrams,
	       (unsigned long long)c.st.released, (unsigned long long)c.st.rejected,
	       (unsigned long long)c.st.timeouts, (unsigned long long)c.st.auth_fail);
	rx_teardown(&c);
	return status;
}
