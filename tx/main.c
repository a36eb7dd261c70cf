/* main.c — sluice-tx: the low-side sender (command line). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "error.h"
#include "args.h"
#include "conf.h"
#include "log.h"
#include "producer.h"
#include "repair.h"
#include "safefs.h"
#include "manifest.h"
#include "tx_options.h"
#include "sender.h"
#include "source.h"
#include "units.h"
#include "wire.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice-tx send --link URI --key LINKKEY --rate RATE [options] T\n"
"       sluice-tx daemon --watch SPOOL --link URI --key LINKKEY --rate RATE [options]\n"
"       sluice-tx send|daemon --config /etc/sluice/tx.conf [options] [T]\n"
"\n"
"Send the signed transfer directory T (manifest, *.minisig, data/) one way over\n"
"the link. Nothing is ever received back. The daemon sends every transfer\n"
"directory moved into SPOOL/outbox/, then moves it to SPOOL/sent/ or\n"
"SPOOL/failed/ (with NAME.log), and sends idle heartbeats in between.\n"
"\n"
"Link and keys:\n"
"  --link URI          udp://HOST:PORT, eth:IFACE or pcap:FILE\n"
"  --key FILE          32-byte link key (sluice keygen --link)\n"
"  --unkeyed           no link key: CRC32C only (both sides must opt in)\n"
"  --aead NAME         auto (default), aes256gcm or xchacha20poly1305\n"
"  --policy FILE       check signatures against this trust policy before sending\n"
"Rate:\n"
"  --rate RATE         wire rate in bit/s, headers counted: 250M, 1G (k/M/G = 1000^n),\n"
"                      or 'unlimited'\n"
"  --burst SIZE        largest burst in bytes, at most the diode's buffer (K/M/G =\n"
"                      1024^n; default 1 ms of line time at --rate, at least 48K)\n"
"  --realtime          pace from a SCHED_FIFO thread, or fail (default: when --rate is\n"
"                      set, if permitted: root or CAP_SYS_NICE); wakes on time on a\n"
"                      busy host, so the rate holds with a small --burst\n"
"  --no-realtime       pace from an ordinary thread\n"
"FEC and passes:\n"
"  --passes N          passes to send (default 1); each adds new repair rows\n"
"  --first-pass N      number the first pass N (1-based, default 1): a later run with\n"
"                      --first-pass 3 sends rows passes 1-2 did not\n"
"  --repair CODE       send only what a receiver lacks: the repair code it showed for\n"
"                      T (sluice status --repair; carried over by a person). Refused\n"
"                      if mistyped or made for another transfer\n"
"  --repair-margin PCT rows added to each repaired block, as a percentage of what it\n"
"                      lacks, for loss on the way (default 100; plus 4 rows each)\n"
"  --overhead PCT      parity as a percentage of data (default 12.5)\n"
"  --interleave D      blocks interleaved symbol by symbol (default 16)\n"
"  --symbol-size S     bytes per symbol (default 1396: one 1500-byte-MTU frame)\n"
"  --block K           data symbols per block (default 128)\n"
"  --level L           zstd level (default 1; chunks that do not shrink go raw)\n"
"  --threads N         threads reading small files, compressing, FEC-encoding and sealing\n"
"                      (default: one per core, up to 4)\n"
"  --file-io MODE      how files are read: auto (default: small files in io_uring batches\n"
"                      where the kernel allows, larger ones with pread), plain (pread\n"
"                      only) or uring (io_uring, into registered buffers)\n"
"Other:\n"
"  --heartbeat SECS    heartbeat interval (default 1)\n"
"  --preamble N        warm-up datagrams before the first pass (default 32)\n"
"  --watch SPOOL       (daemon) the spool directory to watch\n"
"  --spool DIR         where compressed blocks are kept between passes (default $TMPDIR\n"
"                      or /var/tmp; the file is anonymous and vanishes on exit)\n"
"  --progress / --no-progress   progress bar (default: when stderr is a terminal)\n"
"  --config FILE       read these settings from FILE, one 'key = value' a line, keys\n"
"                      without the dashes; the command line wins\n"
"  -q, --quiet         only errors and the summary line\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 sent, 1 refused (signatures, changed file), 2 usage, 3 system error,\n"
"130 interrupted. See sluice-tx(8).\n");
}

static int exit_code(int err)
{
	switch (err) {
	case SL_OK: return 0;
	case SL_ERR_IO: case SL_ERR_NOMEM: case SL_ERR_CRYPTO: return 3;
	case SL_ERR_AGAIN: return 130;
	default: return 1;
	}
}

/* A command-line option: --repair (the command line's alone) or a setting. */
static int set_option(void *user, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	struct tx_opts *o = user;

	if (opt != TX_O_REPAIR)
		return tx_option(o, opt, key, arg, d);
	o->repair = arg;
	return SL_OK;
}

/* The command line (util/args.h): with o NULL only --config and --help
 * (reported as 'h'); else every option into o: 0, or 2 after printing why. */
static int command_line(struct tx_opts *o, int argc, char **argv, const char **config)
{
	static const int stop[] = { 'h', 0 }, skip[] = { TX_O_CONFIG, 'h', 0 };
	struct sl_diag d = { "" };
	bool refused;

	if (!o)
		return sl_args_peek(argc, argv, "qh", tx_options, TX_O_CONFIG, stop, config);
	if (sl_args_set(argc, argv, "qh", tx_options, skip, set_option, o, &refused, &d)) {
		fprintf(stderr, "sluice-tx: %s\n", d.msg);
		if (refused)
			usage(stderr);
		return 2;
	}
	return 0;
}

/* Defaults, --config FILE, the command line: 0, -1 (help shown) or the exit status. */
static int configure(struct tx_opts *o, int argc, char **argv)
{
	struct tx_send_cfg defaults;
	struct sl_diag d = { "" };
	const char *config = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	tx_send_cfg_defaults(&defaults);
	tx_opts_init(o, &defaults, isatty(2));
	if (command_line(NULL, argc, argv, &config) == 'h') {
		usage(stdout);
		return -1;
	}
	if (config && (sl_read_file(config, SL_CONF_MAX_BYTES, &text, &len, &d) ||
		       tx_opts_config(o, config, (const char *)text, len, NULL, &d))) {
		fprintf(stderr, "sluice-tx: %s\n", d.msg);
		free(text);
		return 1;
	}
	free(text);
	r = command_line(o, argc, argv, NULL);
	if (!r && tx_opts_check(o, &d)) {
		fprintf(stderr, "sluice-tx: %s\n", d.msg);
		r = 2;
	}
	return r;
}

/* A repair code for src: a repair pass (cfg->repair) or, for a full-pass
 * code, a normal pass with new rows. 0, or the exit status of a refusal. */
static int apply_repair(struct tx_send_cfg *cfg, const struct sl_repair *rep, const struct tx_source *src,
			const struct sl_logger *log)
{
	unsigned long rows = 0, whole = 0;

	if (!sl_repair_matches(rep, src->id)) {
		fprintf(stderr, "sluice-tx: refusing the repair code: it was made for another transfer "
			"(its tag %05X is not %05X, the start of %s); check which transfer timed out "
			"(sluice status --repair on the high side)\n", rep->tag, sl_repair_tag(src->id),
			src->id_hex);
		return 1;
	}
	cfg->first_pass = rep->pass;
	cfg->passes = 1;
	if (rep->full) {
		sl_log(log, SL_LOG_INFO, "repair code: the receiver lacks too much for a list; sending "
		       "a full pass with new rows (pass %u)", rep->pass + 1);
		return 0;
	}
	cfg->repair = rep;
	for (size_t i = 0; i < rep->n; i++) {
		rows += rep->e[i].need;
		whole += rep->e[i].need == 0;
	}
	sl_log(log, SL_LOG_INFO, "repair code: %zu block(s) lack %lu row(s), plus %lu whole block(s); "
	       "sending new rows (pass %u) with a %u%% margin plus %d rows each", rep->n, rows, whole,
	       rep->pass + 1, cfg->repair_margin, TX_REPAIR_EXTRA);
	return 0;
}

/* One transfer directory, sent and reported: the exit status. */
static int send_one(struct tx_send_cfg *cfg, const char *dir, const char *policy, const struct sl_repair *rep,
		    const struct sl_logger *log)
{
	struct tx_send_result res;
	struct tx_source *src = NULL;
	struct sl_diag d = { "" };
	char b1[32], b2[32], b3[32];
	int r = tx_source_open(dir, policy, &src, &d);

	if (r) {
		fprintf(stderr, "sluice-tx: refusing to send %s: %s\n", dir, d.msg);
		return exit_code(r);
	}
	sl_log(log, SL_LOG_INFO, "transfer %s: %zu files, %s, sequence %llu, %u signature(s)%s",
	       src->id_hex, src->nfiles, sl_fmt_bytes(src->total_bytes, b1, sizeof b1),
	       (unsigned long long)src->sequence, src->nsigs,
	       policy ? " verified against the policy" : " (not checked: no --policy)");
	if (rep && (r = apply_repair(cfg, rep, src, log)) != 0) {
		tx_source_free(src);
		return r;
	}
	const struct sl_manifest *mf = src->manifest;
	if (mf->has_base)
		sl_log(log, SL_LOG_INFO, "transfer %s is a delta on base %s: %zu more files (%s) are taken from that "
		       "release by the receiver, not sent", src->id_hex, mf->base_hex, mf->ntaken,
		       sl_fmt_bytes(mf->taken_bytes, b1, sizeof b1));

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	r = tx_send(cfg, src, &res, &d);
	if (r) {
		fprintf(stderr, "sluice-tx: transfer %s not sent completely: %s\n", src->id_hex,
			d.msg[0] ? d.msg : sl_strerror(r));
	} else {
		double secs = res.seconds > 0 ? res.seconds : 1e-9;
		printf("sent %s: %s in %.2f s (%s stored, %.1f%%), %llu datagrams, %s on the wire, "
		       "%u pass(es), session %016llx\n",
		       src->id_hex, sl_fmt_bytes(res.raw_bytes, b1, sizeof b1), res.seconds,
		       sl_fmt_bytes(res.stored_bytes, b2, sizeof b2),
		       res.raw_bytes ? 100.0 * (double)res.stored_bytes / (double)res.raw_bytes : 100.0,
		       (unsigned long long)res.datagrams,
		       sl_fmt_rate((double)res.wire_bytes * 8.0 / secs, b3, sizeof b3), cfg->passes,
		       (unsigned long long)res.session);
		if (cfg->repair)
			printf("repair sent: %llu datagrams for %zu block(s); nothing confirms arrival: "
			       "if the receiver still lacks data it shows a new code\n",
			       (unsigned long long)res.datagrams, cfg->repair->n);
		/* 1% of the send, and not just the start-up of a short one */
		if (cfg->rate_bps && (double)res.unused_ns > 0.01e9 * secs && res.unused_ns > 100000000)
			fprintf(stderr, "sluice-tx: warning: the link went unused for %.0f ms of the %.2f s "
				"(%.1f%%): %.0f ms waiting for data (compression, FEC, reads), the rest "
				"waking late from the pacer's sleeps (a busy host: a larger --burst, "
				"--realtime or fewer competing processes help)\n",
				(double)res.unused_ns / 1e6, secs, (double)res.unused_ns / 1e7 / secs,
				(double)res.starved_ns / 1e6);
	}
	tx_source_free(src);
	return exit_code(r);
}

/* The configured sender: the key loaded, then one transfer or the daemon. */
static int send_run(struct tx_opts *o, int daemon, const char *dir, const struct sl_repair *rep)
{
	struct tx_send_cfg cfg = o->cfg;
	struct sl_logger log = { sl_log_stderr, "sluice-tx", o->log_max };
	struct sl_diag d = { "" };
	uint8_t *key = NULL;
	int r;

	if (sl_crypto_init()) {
		fprintf(stderr, "sluice-tx: libsodium or OpenSSL failed to initialise "
			"(check OPENSSL_CONF and the OpenSSL configuration file)\n");
		return 3;
	}
	if (o->unkeyed) {
		cfg.suite = SL_SUITE_NONE;
		sl_log(&log, SL_LOG_WARN, "unkeyed mode: datagrams carry only a CRC32C, not authentication");
	} else {
		if (sl_suite_parse(o->aead, &cfg.suite) || cfg.suite == SL_SUITE_NONE) {
			fprintf(stderr, "sluice-tx: --aead '%s': use auto, aes256gcm or xchacha20poly1305\n",
				o->aead);
			return 2;
		}
		r = sl_link_key_load(o->key_path, &key, &d);
		if (r) {
			fprintf(stderr, "sluice-tx: %s\n", d.msg);
			return 1;
		}
		if (d.msg[0])
			sl_log(&log, SL_LOG_WARN, "%s", d.msg);
		cfg.link_key = key;
	}
	cfg.progress = daemon ? 0 : o->progress;
	cfg.log = &log;
	cfg.stop = &stop_flag;
	if (daemon) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGPIPE, SIG_IGN);
		r = tx_daemon(&cfg, o->watch, o->policy, &stop_flag, &d);
		if (r)
			fprintf(stderr, "sluice-tx: daemon: %s\n", d.msg[0] ? d.msg : sl_strerror(r));
		r = exit_code(r);
	} else {
		r = send_one(&cfg, dir, o->policy, rep, &log);
	}
	sl_link_key_free(key);
	return r;
}

/* --repair CODE: decoded (a mistyped code is refused here, before
 * anything is read); 0 or the exit status. */
static int read_repair(const struct tx_opts *o, int daemon, struct sl_repair *rep)
{
	struct sl_diag d = { "" };

	if (daemon) {
		fprintf(stderr, "sluice-tx: --repair is for one transfer: sluice-tx send --repair CODE T\n");
		return 2;
	}
	if (sl_repair_decode(o->repair, rep, &d)) {
		fprintf(stderr, "sluice-tx: refusing --repair %s: %s\n", o->repair, d.msg);
		return 2;
	}
	return 0;
}

static int send_main(int argc, char **argv, int daemon)
{
	struct tx_opts o;
	struct sl_repair rep;
	int r = configure(&o, argc, argv);

	if (!r && (daemon ? (optind != argc || !o.watch) : (optind != argc - 1 || o.watch))) {
		fprintf(stderr, daemon ? "sluice-tx: daemon takes --watch SPOOL and no transfer directory\n"
				       : "sluice-tx: give exactly one transfer directory T (see --help)\n");
		r = 2;
	}
	if (!r && o.repair)
		r = read_repair(&o, daemon, &rep);
	if (!r)
		r = send_run(&o, daemon, daemon ? NULL : argv[optind], o.repair ? &rep : NULL);
	tx_opts_free(&o);
	return r < 0 ? 0 : r;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("sluice-tx %s\n", SLUICE_VERSION);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return send_main(argc - 1, argv + 1, 0);
	if (argc >= 2 && !strcmp(argv[1], "daemon"))
		return send_main(argc - 1, argv + 1, 1);
	fprintf(stderr, "sluice-tx: expected a command: 'send ... T' or 'daemon --watch SPOOL ...' "
			"(see sluice-tx --help)\n");
	return 2;
}
