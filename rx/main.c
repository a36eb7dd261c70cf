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
#include "opener.h"
#include "ring.h"
#include "cpus.h"
#include "rx.h"
#include "sandbox.h"
#include "args.h"
#include "conf.h"
#include "rx_options.h"
#include "safefs.h"
#include "sha256.h"
#include "units.h"

#define BATCH 64

static volatile sig_atomic_t stop_flag, reload_flag;

/* Signal handlers only set a flag; the loop does the work. */
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice-rx --link URI --key LINKKEY --policy POLICY --state DIR --release DIR [options]\n"
"       sluice-rx --config /etc/sluice/rx.conf [options]\n"
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
"  --window N            blocks assembled in memory per transfer, at least (default 64;\n"
"                        it grows to follow the sender's interleave)\n"
"  --window-memory SIZE  how far one transfer's window may grow (default 128M)\n"
"  --max-active N        transfers assembled at once (default 4)\n"
"  --max-symbol-size S   largest symbol accepted (default 8900)\n"
"  --max-catalog SIZE    largest manifest+signatures (default: the policy's\n"
"                        max-manifest-bytes plus 64 signature files)\n"
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
"  --writer-queue SIZE   decoded chunks held in memory for the writer thread, which\n"
"                        creates, writes and syncs the files (default 64M)\n"
"  --writer-spill SIZE   decoded chunks that find the queue full go to the staged\n"
"                        stream file for the writer to move later, up to SIZE\n"
"                        (default 4G, within --max-staging; 0: none); beyond it a\n"
"                        chunk is counted (status: writer full=) and comes again\n"
"                        with a repeat pass\n"
"  --ring SIZE           datagrams the receive thread may hold while the rest of\n"
"                        sluice-rx is busy (disk stalls, syncs, a catalog being\n"
"                        verified), taken only as needed; what finds it full is\n"
"                        dropped and counted (status: ring drops=); default 0:\n"
"                        none, the main thread receives (faster on a shared\n"
"                        2-core host); 320M is 250 ms of 10 Gbit/s\n"
"  --threads N           threads that authenticate and decrypt datagrams beside\n"
"                        the main one, with the ring (default: usable CPUs - 1,\n"
"                        at most 3; 0: the main thread alone)\n"
"  --file-io MODE        how chunks are written into the staged files: plain\n"
"                        (pwrite, default) or uring (io_uring, registered buffers)\n"
"  --no-sandbox          do not apply seccomp and Landlock (debugging only)\n"
"  --allow-no-landlock   where the kernel lacks Landlock (ABI 2, Linux 5.19), start\n"
"                        anyway with the seccomp filter only: file writes are then\n"
"                        limited by file permissions alone (default: refuse)\n"
"  --config FILE         read these settings from FILE, one 'key = value' a line,\n"
"                        keys without the dashes; the command line wins\n"
"  -q, --quiet / -v, --verbose\n"
"  -h, --help\n"
"\n"
"Exit status: 0 stopped cleanly (or pcap input ended), 1 configuration refused,\n"
"2 usage, 3 system error. SIGHUP reloads the policy and the quota limits.\n"
"See sluice-rx(8).\n");
}

#ifdef RX_TEST_BUILD
/* sluice-rx-crashtest only: SLUICE_RX_CRASH_AT=POINT makes the receiver
 * _exit() at that point of a release (tests/e2e/scenarios/crash_points.sh).
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

/* What a reload reads again: the configuration file and the policy, each
 * with a descriptor opened before the sandbox (see reread). */
struct held {
	const char *config;         /* --config FILE, or NULL */
	int config_fd, policy_fd;
	int argc;
	char **argv;
};

/* The file at path once more, opened afresh: the sandbox lets rx read files
 * in the policy's and the configuration's directories, so a file an editor
 * or `policy create -o` replaced is read too. Where it cannot (a file in /,
 * or moved elsewhere), through the descriptor held since the start, as long
 * as path still names that file. */
static int reread(const char *path, int held, size_t max, uint8_t **text, size_t *len, struct sl_diag *d)
{
	struct stat a, b;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	if (fd >= 0) {
		r = sl_read_fd(fd, path, max, text, len, d);
		close(fd);
		return r;
	}
	if (errno != EACCES || held < 0)
		return sl_diag_errno(d, "cannot open %s", path);
	if (stat(path, &a) != 0 || fstat(held, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return sl_diag_set(d, SL_ERR_IO, "%s is a new file since sluice-rx started (an editor or "
				   "tool replaced it), and the sandbox lets sluice-rx read only the file it "
				   "opened then: write the new text into that file (cat NEW > %s) and reload, "
				   "or restart sluice-rx", path, path);
	return sl_read_fd(held, path, max, text, len, d);
}

/* The command line (util/args.h): with o NULL only --config, --help and
 * --version (report 'h'/'V'), or every option into o (report 0, or 2
 * after printing why). */
static int command_line(struct rx_opts *o, int argc, char **argv, const char **config)
{
	static const int stop[] = { 'h', 'V', 0 }, skip[] = { RX_O_CONFIG, 'h', 'V', 0 };
	struct sl_diag d = { "" };
	bool refused;

	if (!o)
		return sl_args_peek(argc, argv, "qvhV", rx_options, RX_O_CONFIG, stop, config);
	if (sl_args_set(argc, argv, "qvhV", rx_options, skip, rx_option_set, o, &refused, &d)) {
		fprintf(stderr, "sluice-rx: %s\n", d.msg);
		if (refused)
			usage(stderr);
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "sluice-rx: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Defaults, then the configuration file's text (if any), then the command
 * line: 0, 1 (the file is refused: why in d) or 2 (usage, printed). */
static int load_options(struct rx_opts *o, const struct held *h, const char *text, size_t len,
			struct sl_diag *d)
{
	rx_opts_init(o);
	if (text && rx_opts_config(o, h->config, text, len, NULL, d))
		return 1;
	return command_line(o, h->argc, h->argv, NULL);
}

/* Settings a reload cannot change, named where the new ones differ. */
static void restart_needed(const struct rx_opts *run, const struct rx_opts *n, char *out, size_t cap)
{
#define SAME_STR(a, b) ((a) == (b) || ((a) && (b) && !strcmp((a), (b))))
	const struct rx_cfg *a = &run->cfg, *b = &n->cfg;
	const struct { const char *name; int same; } t[] = {
		{ "link", SAME_STR(a->link_uri, b->link_uri) }, { "key", SAME_STR(run->key_path, n->key_path) },
		{ "unkeyed", a->allow_unkeyed == b->allow_unkeyed },
		{ "policy", SAME_STR(a->policy_path, b->policy_path) },
		{ "state", SAME_STR(a->state_dir, b->state_dir) },
		{ "release", SAME_STR(a->release_dir, b->release_dir) },
		{ "timeout", a->timeout_ns == b->timeout_ns }, { "tail-grace", a->tail_grace_ns == b->tail_grace_ns },
		{ "window", a->window == b->window }, { "window-memory", a->window_memory == b->window_memory },
		{ "max-active", a->max_active == b->max_active },
		{ "max-symbol-size", a->max_symsize == b->max_symsize },
		{ "max-catalog", !b->max_catalog || a->max_catalog == b->max_catalog }, /* 0: the policy's */
		{ "sockbuf", a->sockbuf == b->sockbuf },
		{ "file-io", a->file_io == b->file_io }, { "writer-queue", a->writer_queue == b->writer_queue },
		{ "ring", a->ring == b->ring }, { "threads", a->open_threads == b->open_threads },
		{ "writer-spill", a->writer_spill == b->writer_spill }, { "no-sandbox", run->sandbox == n->sandbox },
		{ "quiet/verbose", run->log_max == n->log_max },
	};
#undef SAME_STR
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!t[i].same && len < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", t[i].name);
}

/* The quota limits from a reload. A key no longer given keeps its running
 * value (its default is taken at the next start); --max-unvouched not given
 * follows --max-staging as at start (a quarter of it, setup.c). */
static void apply_quotas(struct rx_cfg *run, const struct rx_cfg *given, const struct rx_cfg *n,
			 char *out, size_t cap)
{
	uint64_t staging = n->max_staging ? n->max_staging : run->max_staging;
	uint64_t unv = n->max_unvouched ? n->max_unvouched
			: given->max_unvouched ? run->max_unvouched : staging / 4;

	run->max_staging = staging;
	run->max_unvouched = unv;
	if (n->max_staged)
		run->max_staged = n->max_staged;
	if (n->keep_incomplete_ns)
		run->keep_incomplete_ns = n->keep_incomplete_ns;
	snprintf(out, cap, "max-staging %llu, max-unvouched %llu, max-staged %u, keep-incomplete %llus",
		 (unsigned long long)run->max_staging, (unsigned long long)run->max_unvouched,
		 run->max_staged, (unsigned long long)(run->keep_incomplete_ns / 1000000000ull));
}

/* The policy at path, read again and parsed; its SHA-256 in hex. */
static int reload_policy(const char *path, int held, struct sl_policy **out, char hex[SL_SHA256_HEX],
			 struct sl_diag *d)
{
	uint8_t sum[SL_SHA256_LEN];
	struct sl_diag e = { "" };
	uint8_t *text;
	size_t len;
	int r = reread(path, held, 1u << 20, &text, &len, d);

	if (r)
		return r;
	r = sl_policy_parse(text, len, out, &e);
	if (!r)
		r = sl_sha256(text, len, sum);
	free(text);
	if (r)
		return sl_diag_set(d, r, "%s: %s", path, e.msg[0] ? e.msg : sl_strerror(r));
	sl_sha256_hex(sum, hex);
	return SL_OK;
}

/* SIGHUP: the configuration file (under the command line) and the policy,
 * read again; the policy and the quota limits take effect, anything else
 * changed is named as needing a restart. Nothing changes on any error. */
static void reload(struct rx_ctx *c, struct rx_opts *run, const struct rx_cfg *given, const struct held *h)
{
	struct rx_opts n;
	struct sl_policy *pol = NULL;
	struct sl_diag d = { "" };
	uint8_t *text = NULL;
	char hex[SL_SHA256_HEX], quotas[200], later[300], why[900];
	size_t len = 0;
	int r = h->config ? reread(h->config, h->config_fd, SL_CONF_MAX_BYTES, &text, &len, &d) : 0;

	if (!r)
		r = load_options(&n, h, (const char *)text, len, &d) ? SL_ERR_INVAL : rx_opts_check(&n, &d);
	free(text);
	if (!r && strcmp(n.cfg.policy_path, run->cfg.policy_path))
		r = sl_diag_set(&d, SL_ERR_INVAL, "policy is now %s: a new policy path takes a restart; "
				"the new text can be written into %s", n.cfg.policy_path, run->cfg.policy_path);
	if (!r)
		r = reload_policy(run->cfg.policy_path, h->policy_fd, &pol, hex, &d);
	if (r) {
		sl_log(c->log, SL_LOG_ERR, "reload refused, the running policy and settings stay: %s",
		       d.msg[0] ? d.msg : "the command line or configuration is refused");
		rx_opts_free(&n);
		return;
	}
	rx_verify_poll(c, 1); /* a catalog being verified reads the old policy: its verdict first */
	rx_rjob_wait_policy(c); /* ... and one verified again by a release job (finish.c) */
	sl_policy_free(c->policy);
	c->policy = pol;
	apply_quotas(&run->cfg, given, &n.cfg, quotas, sizeof quotas);
	restart_needed(run, &n, later, sizeof later);
	snprintf(why, sizeof why, "policy sha256 %.16s: %u of %zu officers, enclave %s, link %s; %s", hex,
		 pol->threshold, pol->nofficers, pol->enclave, pol->link, quotas);
	sl_audit_append(c->audit, "reloaded", NULL, NULL, why, NULL);
	sl_log(c->log, SL_LOG_INFO, "reloaded: %s", why);
	if (later[0])
		sl_log(c->log, SL_LOG_WARN, "reload: changed %s, which take effect only after a restart", later);
	rx_opts_free(&n);
}

/* The settings at start: 0 to run, else the exit status (printed why).
 * The configuration file's descriptor is kept for reloads (h->config_fd). */
static int configure(struct rx_opts *o, struct held *h)
{
	struct sl_diag d = { "" };
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	rx_opts_init(o);
	r = command_line(NULL, h->argc, h->argv, &h->config);
	if (r == 'h') {
		usage(stdout);
		return -1;
	}
	if (r == 'V') {
		printf("sluice-rx %s\n", SLUICE_VERSION);
		return -1;
	}
	if (h->config) {
		h->config_fd = open(h->config, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (h->config_fd < 0 || sl_read_fd(h->config_fd, h->config, SL_CONF_MAX_BYTES, &text, &len,
							   &d)) {
			if (h->config_fd < 0)
				sl_diag_errno(&d, "cannot open %s", h->config);
			fprintf(stderr, "sluice-rx: %s\n", d.msg);
			return 1;
		}
	}
	r = load_options(o, h, (const char *)text, len, &d);
	free(text);
	if (r == 1)
		fprintf(stderr, "sluice-rx: %s\n", d.msg);
	if (r)
		return r;
	if (rx_opts_check(o, &d)) {
		fprintf(stderr, "sluice-rx: %s (on the command line or in --config FILE; see --help)\n", d.msg);
		return 2;
	}
	o->cfg.exit_when_idle = strncmp(o->cfg.link_uri, "pcap:", 5) == 0;
#ifdef RX_TEST_BUILD
	if (crash_point_from_env(&o->cfg))
		return 2;
#endif
	return 0;
}

/* Apply the sandbox (sandbox.h); 0, or the exit status when refused (1)
 * or failed (3), with the reason printed. */
/* The directory holding path, opened to name it in a Landlock rule; -1 if none. */
static int dir_of(const char *path)
{
	char dir[4096];
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!path || slash == path)
		return -1; /* none, or "/": never the whole filesystem */
	if (!slash)
		return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static int confine(struct rx_ctx *c, const struct rx_cfg *cfg, const char *config, int no_landlock_ok,
		   const struct sl_logger *log)
{
	struct rx_sandbox_cfg sb = {
		.state_fd = c->state_fd, .release_fd = c->release_fd,
		.state_path = cfg->state_dir, .release_path = cfg->release_dir,
		.link_fd = sl_link_fd(c->link), .file_ring = cfg->file_io == SL_UIO_URING,
		.allow_no_landlock = no_landlock_ok,
		.read_fds = { dir_of(cfg->policy_path), dir_of(config) },
	};
	struct sl_diag d = { "" };
	int r = rx_sandbox(&sb, &d);

	for (unsigned i = 0; i < 2; i++)
		if (sb.read_fds[i] >= 0)
			close(sb.read_fds[i]);

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

/* The ring runs for a link that can be waited on; a file (pcap) is read at
 * the pace of the handling, nothing to lose by waiting. */
static int ring_used(const struct rx_ctx *c, const struct rx_cfg *cfg)
{
	return cfg->ring && sl_link_fd(c->link) >= 0;
}

/* The opening helpers' receivers (before the sandbox); their threads start
 * with the ring. */
static int opener_new(struct rx_ctx *c, const struct rx_cfg *cfg)
{
	unsigned n = cfg->open_threads;
	struct sl_diag d = { "" };

	if (n == RX_OPEN_THREADS_AUTO) {
		n = sl_cpus_usable() - 1;
		n = n > 3 ? 3 : n;
	}
	if (!n)
		return 0;
	if (rx_opener_new(c->wire, n, &c->opener, &d)) {
		fprintf(stderr, "sluice-rx: %s\n", d.msg);
		return 3;
	}
	return 0;
}

/* Setup, sandbox, hashing thread: 0, or the exit status (printed why). */
static int start(struct rx_ctx *c, struct rx_opts *o, const struct sl_logger *log, struct held *h)
{
	struct sl_diag d = { "" };
	int r;

	/* held for reloads: the sandbox may forbid opening it again */
	h->policy_fd = open(o->cfg.policy_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	r = rx_setup(c, &o->cfg, log, o->key_path, &d);
	if (r) {
		fprintf(stderr, "sluice-rx: %s\n", d.msg[0] ? d.msg : sl_strerror(r));
		return r == SL_ERR_IO || r == SL_ERR_NOMEM ? 3 : 1;
	}
	if (ring_used(c, &o->cfg) && (r = opener_new(c, &o->cfg)))
		return r;
	if (o->sandbox && (r = confine(c, &o->cfg, h->config, o->allow_no_landlock, log)))
		return r;
	/* After the sandbox, so the thread inherits Landlock and seccomp
	 * (both are per thread and only copied at clone). */
	r = rx_threads_start(c);
	if (r) {
		fprintf(stderr, "sluice-rx: cannot start the hashing and writer threads\n");
		return 3;
	}
	return 0;
}

/* What a receive call returned (n datagrams, or an error): handled, with
 * the tick. Returns -1 to go on, else the exit status. */
static int handle_batch(struct rx_ctx *c, int n, const struct sl_diag *d)
{
	uint64_t now = sl_now_ns();

	if (n == SL_ERR_CLOSED) {
		rx_tick(c, now, 1);
		return 0;
	}
	if (n == SL_ERR_AGAIN)
		return -1;
	if (n < 0) {
		sl_log(c->log, SL_LOG_ERR, "link: %s", d->msg[0] ? d->msg : sl_strerror(n));
		return 3;
	}
	rx_tick(c, now, 0);
	return -1;
}

/* The main thread receives itself (--ring 0). */
static int loop_direct(struct rx_ctx *c, struct rx_opts *o, const struct rx_cfg *given, const struct held *h)
{
	struct sl_dgram dg[BATCH];
	struct sl_diag d = { "" };
	uint8_t *bufs = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM);
	int status = -1;

	if (!bufs)
		return 3;
	while (!stop_flag && status < 0) {
		if (reload_flag) {
			reload_flag = 0;
			reload(c, o, given, h);
		}
		for (unsigned i = 0; i < BATCH; i++) {
			dg[i].buf = bufs + (size_t)i * SL_LINK_MAX_DGRAM; /* the link may lend its own */
			dg[i].cap = SL_LINK_MAX_DGRAM;
		}
		int n = sl_link_recv(c->link, dg, BATCH, 200, &d);
		uint64_t now = sl_now_ns();
		for (int i = 0; i < n; i++)
			rx_handle(c, dg[i].buf, dg[i].len, now);
		status = handle_batch(c, n, &d);
	}
	free(bufs);
	return status < 0 ? 0 : status;
}

/* A receive thread fills the ring (ring.c); this thread handles what it
 * holds, ticks, reloads. The ring's counters go to c->ring_st for the status. */
static int loop_ring(struct rx_ctx *c, struct rx_opts *o, const struct rx_cfg *given, const struct held *h)
{
	struct rx_ring_rec rec[BATCH];
	struct rx_opened opened[BATCH];
	struct sl_diag d = { "" };
	int status = -1;

	if ((c->opener && rx_opener_start(c->opener, &d) != SL_OK) ||
	    rx_ring_start(c->link, o->cfg.ring, &c->ring, &d) != SL_OK) {
		sl_log(c->log, SL_LOG_ERR, "%s", d.msg);
		return 3;
	}
	while (!stop_flag && status < 0) {
		if (reload_flag) {
			reload_flag = 0;
			reload(c, o, given, h);
		}
		int n = rx_ring_take(c->ring, rec, BATCH, 200, &d);
		if (n > 0 && c->opener) {
			rx_opener_open(c->opener, c->wire, rec, (unsigned)n, opened);
			for (int i = 0; i < n; i++)
				rx_handle_opened(c, rec[i].len, opened[i].r, &opened[i].h, opened[i].body,
						 rec[i].ts_ns);
		} else {
			for (int i = 0; i < n; i++)
				rx_handle(c, rec[i].buf, rec[i].len, rec[i].ts_ns);
		}
		rx_ring_done(c->ring);
		status = handle_batch(c, n, &d);
	}
	return status < 0 ? 0 : status;
}

/* Receive until stopped, the input ends or the link fails: the exit status. */
static int run_loop(struct rx_ctx *c, struct rx_opts *o, const struct rx_cfg *given, const struct held *h)
{
	if (ring_used(c, &o->cfg))
		return loop_ring(c, o, given, h);
	return loop_direct(c, o, given, h);
}
int main(int argc, char **argv)
{
	struct held h = { NULL, -1, -1, argc, argv };
	struct sl_logger log = { sl_log_stderr, "sluice-rx", SL_LOG_INFO };
	struct rx_opts o;
	struct rx_cfg given;
	struct rx_ctx c;
	int r = configure(&o, &h);

	if (r) {
		rx_opts_free(&o);
		return r < 0 ? 0 : r;
	}
	log.max = o.log_max;
	given = o.cfg; /* before rx_setup fills in the quota defaults */
	signal(SIGHUP, on_hup);
	r = start(&c, &o, &log, &h);
	if (r) {
		rx_teardown(&c);
		rx_opts_free(&o);
		return r;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (sl_link_warning(c.link))
		sl_log(&log, SL_LOG_WARN, "%s", sl_link_warning(c.link));
	c.start_ns = sl_now_ns();
	sl_audit_append(c.audit, "started", NULL, NULL, sl_link_describe(c.link), NULL);
	sl_log(&log, SL_LOG_INFO, "listening on %s; staging in %s (file writes: %s), releasing to %s; "
	       "policy: %u of %zu officers, enclave %s, link %s%s%s", sl_link_describe(c.link),
	       o.cfg.state_dir, sl_uio_mode_name(o.cfg.file_io), o.cfg.release_dir, c.policy->threshold,
	       c.policy->nofficers, c.policy->enclave, c.policy->link, h.config ? "; settings from " : "",
	       h.config ? h.config : "");

	r = run_loop(&c, &o, &given, &h);
	rx_deactivate_all(&c);
	rx_write_status(&c, sl_now_ns());
	rx_ring_stop(c.ring); /* after the last status, which counts its drops */
	c.ring = NULL;
	rx_opener_free(c.opener);
	c.opener = NULL;
	sl_audit_append(c.audit, "stopped", NULL, NULL, stop_flag ? "signal" : "end of input", NULL);
	sl_log(&log, SL_LOG_INFO, "stopped: %llu datagrams, %llu released, %llu rejected, %llu timed out, "
	       "%llu authentication failures", (unsigned long long)c.st.datagrams,
	       (unsigned long long)c.st.released, (unsigned long long)c.st.rejected,
	       (unsigned long long)c.st.timeouts, (unsigned long long)c.st.auth_fail);
	rx_teardown(&c);
	rx_opts_free(&o);
	return r;
}
