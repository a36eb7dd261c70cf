/* main.c — sluice-tx: the low-side sender (command line). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
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
"  --overhead PCT      parity as a percentage of data (default 12.5)\n"
"  --interleave D      blocks interleaved symbol by symbol (default 16)\n"
"  --symbol-size S     bytes per symbol (default 1396: one 1500-byte-MTU frame)\n"
"  --block K           data symbols per block (default 128)\n"
"  --level L           zstd level (default 1; chunks that do not shrink go raw)\n"
"  --threads N         threads compressing and FEC-encoding (default: one per core, up\n"
"                      to 4; reading and hashing stay in order on one of them)\n"
"  --file-io MODE      how files are read: plain (pread, default) or uring (io_uring\n"
"                      into registered buffers, a group of chunks read ahead)\n"
"Other:\n"
"  --heartbeat SECS    heartbeat interval (default 1)\n"
"  --preamble N        warm-up datagrams before the first pass (default 32)\n"
"  --watch SPOOL       (daemon) the spool directory to watch\n"
"  --spool DIR         where compressed blocks are kept between passes (default $TMPDIR\n"
"                      or /var/tmp; the file is anonymous and vanishes on exit)\n"
"  --progress / --no-progress   progress bar (default: when stderr is a terminal)\n"
"  -q, --quiet         only errors and the summary line\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 sent, 1 refused (signatures, changed file), 2 usage, 3 system error,\n"
"130 interrupted. See sluice-tx(8).\n");
}

enum {
	O_LINK = 256, O_KEY, O_UNKEYED, O_AEAD, O_POLICY, O_RATE, O_BURST, O_REALTIME, O_NOREALTIME,
	O_PASSES, O_FIRST, O_OVERHEAD, O_INTERLEAVE, O_SYMSIZE, O_BLOCK, O_LEVEL, O_HEARTBEAT,
	O_PREAMBLE, O_SPOOL, O_PROGRESS, O_NOPROGRESS, O_WATCH, O_THREADS, O_FILEIO
};

static int parse_uint(const char *opt, const char *arg, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	struct sl_diag d;
	if (sl_parse_count(opt, arg, lo, hi, out, &d) == SL_OK)
		return 0;
	fprintf(stderr, "sluice-tx: %s\n", d.msg);
	return -1;
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

static int send_main(int argc, char **argv, int daemon)
{
	static const struct option opts[] = {
		{ "link", required_argument, 0, O_LINK }, { "key", required_argument, 0, O_KEY },
		{ "unkeyed", no_argument, 0, O_UNKEYED }, { "aead", required_argument, 0, O_AEAD },
		{ "policy", required_argument, 0, O_POLICY }, { "rate", required_argument, 0, O_RATE },
		{ "burst", required_argument, 0, O_BURST }, { "realtime", no_argument, 0, O_REALTIME },
		{ "no-realtime", no_argument, 0, O_NOREALTIME },
		{ "passes", required_argument, 0, O_PASSES },
		{ "first-pass", required_argument, 0, O_FIRST },
		{ "overhead", required_argument, 0, O_OVERHEAD },
		{ "interleave", required_argument, 0, O_INTERLEAVE },
		{ "symbol-size", required_argument, 0, O_SYMSIZE },
		{ "block", required_argument, 0, O_BLOCK }, { "level", required_argument, 0, O_LEVEL },
		{ "heartbeat", required_argument, 0, O_HEARTBEAT },
		{ "preamble", required_argument, 0, O_PREAMBLE },
		{ "spool", required_argument, 0, O_SPOOL }, { "watch", required_argument, 0, O_WATCH },
		{ "threads", required_argument, 0, O_THREADS },
		{ "file-io", required_argument, 0, O_FILEIO },
		{ "progress", no_argument, 0, O_PROGRESS }, { "no-progress", no_argument, 0, O_NOPROGRESS },
		{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct sl_send_cfg cfg;
	struct sl_send_result res;
	struct sl_logger log = { sl_log_stderr, "sluice-tx", SL_LOG_INFO };
	struct sl_source *src = NULL;
	struct sl_diag d = { "" };
	const char *key_path = NULL, *policy = NULL, *aead = "auto", *watch = NULL;
	int unkeyed = 0, have_rate = 0, progress = isatty(2), c, r;
	uint8_t *key = NULL;
	unsigned long v;
	char b1[32], b2[32], b3[32];

	sl_send_cfg_defaults(&cfg);
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case O_LINK: cfg.link_uri = optarg; break;
		case O_KEY: key_path = optarg; break;
		case O_UNKEYED: unkeyed = 1; break;
		case O_AEAD: aead = optarg; break;
		case O_POLICY: policy = optarg; break;
		case O_RATE:
			have_rate = 1;
			if (!strcmp(optarg, "unlimited")) {
				cfg.rate_bps = 0;
			} else if (sl_parse_rate(optarg, &cfg.rate_bps, &d)) {
				fprintf(stderr, "sluice-tx: --rate: %s\n", d.msg);
				return 2;
			}
			break;
		case O_REALTIME: cfg.realtime = SL_RT_REQUIRED; break;
		case O_NOREALTIME: cfg.realtime = SL_RT_OFF; break;
		case O_BURST: {
			uint64_t b;
			if (sl_parse_size(optarg, &b, &d)) {
				fprintf(stderr, "sluice-tx: --burst: %s\n", d.msg);
				return 2;
			}
			cfg.burst_bytes = b;
			break;
		}
		case O_PASSES:
			if (parse_uint("--passes", optarg, 1, 1000, &v)) return 2;
			cfg.passes = (unsigned)v;
			break;
		case O_FIRST:
			if (parse_uint("--first-pass", optarg, 1, 60000, &v)) return 2;
			cfg.first_pass = (unsigned)v - 1;
			break;
		case O_OVERHEAD: {
			char *end;
			double p = strtod(optarg, &end);
			if (*end || end == optarg || p < 0 || p > 1000) {
				fprintf(stderr, "sluice-tx: --overhead '%s': expected a percentage such as 12.5\n", optarg);
				return 2;
			}
			cfg.overhead = p / 100.0;
			break;
		}
		case O_INTERLEAVE:
			if (parse_uint("--interleave", optarg, 1, 256, &v)) return 2;
			cfg.interleave = (unsigned)v;
			break;
		case O_SYMSIZE:
			if (parse_uint("--symbol-size", optarg, 256, SL_WIRE_MAX_SYMSIZE, &v)) return 2;
			cfg.symsize = (uint16_t)v;
			break;
		case O_BLOCK:
			if (parse_uint("--block", optarg, 1, 200, &v)) return 2;
			cfg.kmax = (uint16_t)v;
			break;
		case O_LEVEL:
			if (parse_uint("--level", optarg, 1, 19, &v)) return 2;
			cfg.level = (int)v;
			break;
		case O_HEARTBEAT:
			if (parse_uint("--heartbeat", optarg, 1, 3600, &v)) return 2;
			cfg.heartbeat_ms = (unsigned)v * 1000;
			break;
		case O_PREAMBLE:
			if (parse_uint("--preamble", optarg, 0, 100000, &v)) return 2;
			cfg.preamble = (unsigned)v;
			break;
		case O_SPOOL: cfg.spool_dir = optarg; break;
		case O_WATCH: watch = optarg; break;
		case O_THREADS:
			if (parse_uint("--threads", optarg, 1, 4, &v)) return 2;
			cfg.threads = (unsigned)v;
			break;
		case O_FILEIO:
			if (sl_uio_mode_parse(optarg, &cfg.file_io, &d) != SL_OK) {
				fprintf(stderr, "sluice-tx: %s\n", d.msg);
				return 2;
			}
			break;
		case O_PROGRESS: progress = 1; break;
		case O_NOPROGRESS: progress = 0; break;
		case 'q': log.max = SL_LOG_WARN; progress = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (daemon ? (optind != argc || !watch) : (optind != argc - 1 || watch)) {
		fprintf(stderr, daemon ? "sluice-tx: daemon takes --watch SPOOL and no transfer directory\n"
				       : "sluice-tx: give exactly one transfer directory T (see --help)\n");
		return 2;
	}
	if (!cfg.link_uri) {
		fprintf(stderr, "sluice-tx: --link is required, e.g. --link udp://192.0.2.10:4747\n");
		return 2;
	}
	if (!have_rate) {
		fprintf(stderr, "sluice-tx: --rate is required: the link's wire rate, e.g. --rate 1G "
				"(or 'unlimited' for loopback tests)\n");
		return 2;
	}
	if (unkeyed == (key_path != NULL)) {
		fprintf(stderr, "sluice-tx: give --key LINKKEY (or, for tests only, --unkeyed)\n");
		return 2;
	}
	if (sl_crypto_init()) {
		fprintf(stderr, "sluice-tx: libsodium or OpenSSL failed to initialise "
			"(check OPENSSL_CONF and the OpenSSL configuration file)\n");
		return 3;
	}
	if (unkeyed) {
		cfg.suite = SL_SUITE_NONE;
		sl_log(&log, SL_LOG_WARN, "unkeyed mode: datagrams carry only a CRC32C, not authentication");
	} else {
		if (sl_suite_parse(aead, &cfg.suite) || cfg.suite == SL_SUITE_NONE) {
			fprintf(stderr, "sluice-tx: --aead '%s': use auto, aes256gcm or xchacha20poly1305\n", aead);
			return 2;
		}
		r = sl_link_key_load(key_path, &key, &d);
		if (r) {
			fprintf(stderr, "sluice-tx: %s\n", d.msg);
			return 1;
		}
		if (d.msg[0])
			sl_log(&log, SL_LOG_WARN, "%s", d.msg);
		cfg.link_key = key;
	}
	cfg.progress = progress;
	cfg.log = &log;
	cfg.stop = &stop_flag;
	if (daemon) {
		cfg.progress = 0;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGPIPE, SIG_IGN);
		r = sl_tx_daemon(&cfg, watch, policy, &stop_flag, &d);
		if (r)
			fprintf(stderr, "sluice-tx: daemon: %s\n", d.msg[0] ? d.msg : sl_strerror(r));
		sl_link_key_free(key);
		return exit_code(r);
	}

	r = sl_source_open(argv[optind], policy, &src, &d);
	if (r) {
		fprintf(stderr, "sluice-tx: refusing to send %s: %s\n", argv[optind], d.msg);
		sl_link_key_free(key);
		return exit_code(r);
	}
	sl_log(&log, SL_LOG_INFO, "transfer %s: %zu files, %s, sequence %llu, %u signature(s)%s",
	       src->id_hex, src->nfiles, sl_fmt_bytes(src->total_bytes, b1, sizeof b1),
	       (unsigned long long)src->sequence, src->nsigs,
	       policy ? " verified against the policy" : " (not checked: no --policy)");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	r = sl_send(&cfg, src, &res, &d);
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
		       sl_fmt_rate((double)res.wire_bytes * 8.0 / secs, b3, sizeof b3), cfg.passes,
		       (unsigned long long)res.session);
		/* 1% of the send, and not just the start-up of a short one */
		if (cfg.rate_bps && (double)res.unused_ns > 0.01e9 * secs && res.unused_ns > 100000000)
			fprintf(stderr, "sluice-tx: warning: the link went unused for %.0f ms of the %.2f s "
				"(%.1f%%): %.0f ms waiting for data (compression, FEC, reads), the rest "
				"waking late from the pacer's sleeps (a busy host: a larger --burst, "
				"--realtime or fewer competing processes help)\n",
				(double)res.unused_ns / 1e6, secs, (double)res.unused_ns / 1e7 / secs,
				(double)res.starved_ns / 1e6);
	}
	sl_source_free(src);
	sl_link_key_free(key);
	return exit_code(r);
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
