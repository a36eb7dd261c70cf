/* options.c — sluice-tx's settings from the command line or a configuration
 * file, each validated here and only here (see tx_options.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "tx_options.h"
#include "units.h"

const struct option tx_options[] = {
	{ "link", required_argument, 0, TX_O_LINK }, { "key", required_argument, 0, TX_O_KEY },
	{ "unkeyed", no_argument, 0, TX_O_UNKEYED }, { "aead", required_argument, 0, TX_O_AEAD },
	{ "policy", required_argument, 0, TX_O_POLICY }, { "rate", required_argument, 0, TX_O_RATE },
	{ "burst", required_argument, 0, TX_O_BURST }, { "realtime", no_argument, 0, TX_O_REALTIME },
	{ "no-realtime", no_argument, 0, TX_O_NOREALTIME },
	{ "passes", required_argument, 0, TX_O_PASSES },
	{ "first-pass", required_argument, 0, TX_O_FIRST },
	{ "overhead", required_argument, 0, TX_O_OVERHEAD },
	{ "interleave", required_argument, 0, TX_O_INTERLEAVE },
	{ "symbol-size", required_argument, 0, TX_O_SYMSIZE },
	{ "block", required_argument, 0, TX_O_BLOCK }, { "level", required_argument, 0, TX_O_LEVEL },
	{ "heartbeat", required_argument, 0, TX_O_HEARTBEAT },
	{ "preamble", required_argument, 0, TX_O_PREAMBLE },
	{ "spool", required_argument, 0, TX_O_SPOOL }, { "watch", required_argument, 0, TX_O_WATCH },
	{ "threads", required_argument, 0, TX_O_THREADS },
	{ "file-io", required_argument, 0, TX_O_FILEIO },
	{ "progress", no_argument, 0, TX_O_PROGRESS }, { "no-progress", no_argument, 0, TX_O_NOPROGRESS },
	{ "config", required_argument, 0, TX_O_CONFIG },
	{ "repair", required_argument, 0, TX_O_REPAIR },
	{ "repair-margin", required_argument, 0, TX_O_REPAIR_MARGIN },
	{ "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
};

void tx_opts_init(struct tx_opts *o, const struct tx_send_cfg *defaults, int progress)
{
	memset(o, 0, sizeof *o);
	o->cfg = *defaults;
	o->aead = "auto";
	o->progress = progress;
	o->log_max = SL_LOG_INFO;
}

void tx_opts_free(struct tx_opts *o)
{
	sl_conf_strings_free(&o->owned);
}

/* Here, not in sender.c, so `sluice doctor` knows the defaults too. */
void tx_send_cfg_defaults(struct tx_send_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->suite = SL_SUITE_AES256GCM;
	c->passes = 1;
	c->overhead = 0.125;
	c->interleave = 16;
	c->symsize = 1396;
	c->kmax = 128;
	c->level = 1;
	c->heartbeat_ms = 1000;
	c->preamble = 32;
	c->repair_margin = 100;
	c->small_uring = 1; /* --file-io auto */
}

/* The numbers: rate, burst, FEC, passes, compression, timing. */
static int number_option(struct tx_opts *o, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	struct tx_send_cfg *c = &o->cfg;
	struct sl_diag e = { "" };
	unsigned v = 0;
	int r = SL_OK;

	switch (opt) {
	case TX_O_RATE:
		o->have_rate = 1;
		c->rate_bps = 0;
		if (strcmp(arg, "unlimited") && sl_parse_rate(arg, &c->rate_bps, &e))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: %s", key, e.msg);
		return SL_OK;
	case TX_O_BURST:
		if (sl_parse_size(arg, &c->burst_bytes, &e))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: %s", key, e.msg);
		return SL_OK;
	case TX_O_OVERHEAD: {
		double p;
		if (sl_parse_real(key, arg, 0, 1000, &p, &e))
			return sl_diag_set(d, SL_ERR_PARSE, "%s '%s': expected a percentage from 0 to 1000, such "
					   "as 12.5", key, arg);
		c->overhead = p / 100.0;
		return SL_OK;
	}
	case TX_O_PASSES: return sl_conf_count(key, arg, 1, 1000, &c->passes, d);
	case TX_O_FIRST:
		r = sl_conf_count(key, arg, 1, 60000, &v, d);
		c->first_pass = r ? c->first_pass : v - 1;
		return r;
	case TX_O_INTERLEAVE: return sl_conf_count(key, arg, 1, 256, &c->interleave, d);
	case TX_O_SYMSIZE:
		r = sl_conf_count(key, arg, 256, SL_WIRE_MAX_SYMSIZE, &v, d);
		c->symsize = r ? c->symsize : (uint16_t)v;
		return r;
	case TX_O_BLOCK:
		r = sl_conf_count(key, arg, 1, 200, &v, d);
		c->kmax = r ? c->kmax : (uint16_t)v;
		return r;
	case TX_O_LEVEL:
		r = sl_conf_count(key, arg, 1, 19, &v, d);
		c->level = r ? c->level : (int)v;
		return r;
	case TX_O_HEARTBEAT:
		r = sl_conf_count(key, arg, 1, 3600, &v, d);
		c->heartbeat_ms = r ? c->heartbeat_ms : v * 1000;
		return r;
	case TX_O_PREAMBLE: return sl_conf_count(key, arg, 0, 100000, &c->preamble, d);
	case TX_O_THREADS: return sl_conf_count(key, arg, 1, 4, &c->threads, d);
	case TX_O_REPAIR_MARGIN: return sl_conf_count(key, arg, 0, 1000, &c->repair_margin, d);
	}
	return sl_diag_set(d, SL_ERR_INVAL, "%s: not a setting", key);
}

int tx_option(struct tx_opts *o, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	struct tx_send_cfg *c = &o->cfg;
	enum sl_suite suite;
	int r;

	switch (opt) {
	case TX_O_LINK: return sl_conf_keep(&o->owned, key, arg, &c->link_uri, d);
	case TX_O_KEY:
		r = sl_conf_check_secret("link key", arg, d);
		return r ? r : sl_conf_keep(&o->owned, key, arg, &o->key_path, d);
	case TX_O_UNKEYED: o->unkeyed = 1; return SL_OK;
	case TX_O_AEAD:
		if (strcmp(arg, "auto") && (sl_suite_parse(arg, &suite) || suite == SL_SUITE_NONE))
			return sl_diag_set(d, SL_ERR_INVAL, "%s '%s': use auto, aes256gcm or xchacha20poly1305",
					   key, arg);
		return sl_conf_keep(&o->owned, key, arg, &o->aead, d);
	case TX_O_POLICY: return sl_conf_keep(&o->owned, key, arg, &o->policy, d);
	case TX_O_SPOOL: return sl_conf_keep(&o->owned, key, arg, &c->spool_dir, d);
	case TX_O_WATCH: return sl_conf_keep(&o->owned, key, arg, &o->watch, d);
	case TX_O_REALTIME: c->realtime = TX_RT_REQUIRED; return SL_OK;
	case TX_O_NOREALTIME: c->realtime = TX_RT_OFF; return SL_OK;
	case TX_O_PROGRESS: o->progress = 1; return SL_OK;
	case TX_O_NOPROGRESS: o->progress = 0; return SL_OK;
	case 'q': o->log_max = SL_LOG_WARN; o->progress = 0; return SL_OK;
	case TX_O_FILEIO:
		/* auto: small files in io_uring batches, pieces of larger ones with pread */
		c->small_uring = strcmp(arg, "auto") == 0;
		if (c->small_uring) {
			c->file_io = SL_UIO_PLAIN;
			return SL_OK;
		}
		if (sl_uio_mode_parse(arg, &c->file_io, NULL) != SL_OK)
			return sl_diag_set(d, SL_ERR_INVAL, "%s '%s': use auto, plain or uring", key, arg);
		c->small_uring = c->file_io == SL_UIO_URING;
		return SL_OK;
	case TX_O_CONFIG: case TX_O_REPAIR: case 'h':
		return sl_conf_cmdline_only(key, d);
	}
	return number_option(o, opt, key, arg, d);
}

static int conf_set(void *user, int opt, const char *key, const char *value, struct sl_diag *d)
{
	return tx_option(user, opt, key, value, d);
}

int tx_opts_config(struct tx_opts *o, const char *file, const char *text, size_t len,
		   unsigned *err_line, struct sl_diag *d)
{
	return sl_conf_parse(file, text, len, tx_options, conf_set, o, err_line, d);
}

int tx_opts_check(const struct tx_opts *o, struct sl_diag *d)
{
	if (!o->cfg.link_uri)
		return sl_diag_set(d, SL_ERR_INVAL, "link is required, e.g. --link udp://192.0.2.10:4747");
	if (!o->have_rate)
		return sl_diag_set(d, SL_ERR_INVAL, "rate is required: the link's wire rate, e.g. --rate 1G "
				   "(or 'unlimited' for loopback tests)");
	if (o->unkeyed == (o->key_path != NULL))
		return sl_diag_set(d, SL_ERR_INVAL, "give --key LINKKEY (or, for tests only, --unkeyed)");
	return SL_OK;
}
