/* options.c — sluice-rx's settings from the command line or a configuration
 * file, each validated here and only here (see rx_options.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ring.h"
#include "rx_options.h"
#include "units.h"

const struct option rx_options[] = {
	{ "link", required_argument, 0, RX_O_LINK }, { "key", required_argument, 0, RX_O_KEY },
	{ "unkeyed", no_argument, 0, RX_O_UNKEYED }, { "policy", required_argument, 0, RX_O_POLICY },
	{ "state", required_argument, 0, RX_O_STATE }, { "release", required_argument, 0, RX_O_RELEASE },
	{ "timeout", required_argument, 0, RX_O_TIMEOUT }, { "tail-grace", required_argument, 0, RX_O_GRACE },
	{ "window", required_argument, 0, RX_O_WINDOW },
	{ "window-memory", required_argument, 0, RX_O_WINMEM }, { "max-active", required_argument, 0, RX_O_MAXACTIVE },
	{ "max-symbol-size", required_argument, 0, RX_O_MAXSYM },
	{ "max-catalog", required_argument, 0, RX_O_MAXCAT },
	{ "no-sandbox", no_argument, 0, RX_O_NOSANDBOX }, { "quiet", no_argument, 0, 'q' },
	{ "sockbuf", required_argument, 0, RX_O_SOCKBUF },
	{ "file-io", required_argument, 0, RX_O_FILEIO },
	{ "max-staging", required_argument, 0, RX_O_MAXSTAGING },
	{ "max-unvouched", required_argument, 0, RX_O_MAXUNV },
	{ "max-staged", required_argument, 0, RX_O_MAXSTAGED },
	{ "keep-incomplete", required_argument, 0, RX_O_KEEP },
	{ "reserve", required_argument, 0, RX_O_RESERVE },
	{ "writer-queue", required_argument, 0, RX_O_WRITERQ },
	{ "ring", required_argument, 0, RX_O_RING },
	{ "threads", required_argument, 0, RX_O_THREADS },
	{ "writer-spill", required_argument, 0, RX_O_WRITERSP },
	{ "allow-no-landlock", no_argument, 0, RX_O_NOLANDLOCK },
	{ "config", required_argument, 0, RX_O_CONFIG },
	{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
};

void rx_opts_init(struct rx_opts *o)
{
	memset(o, 0, sizeof *o);
	o->cfg = (struct rx_cfg){ .window = 64, .window_memory = 128u << 20, .max_active = 4, .timeout_ns = 300000000000ull,
				  .tail_grace_ns = 5000000000ull, .max_catalog = 0 /* from the policy */,
				  .max_symsize = SL_WIRE_MAX_SYMSIZE, .sockbuf = 128u << 20,
				  .ring = RX_RING_DEFAULT, .open_threads = RX_OPEN_THREADS_AUTO };
	o->sandbox = 1;
	o->log_max = SL_LOG_INFO;
}

void rx_opts_free(struct rx_opts *o)
{
	sl_conf_strings_free(&o->owned);
}

/* A size in [lo, hi] bytes; range names the bounds for people. */
static int size_in(const char *key, const char *arg, uint64_t lo, uint64_t hi, const char *range,
		   uint64_t *out, struct sl_diag *d)
{
	struct sl_diag e = { "" };
	uint64_t u;

	if (sl_parse_size(arg, &u, &e))
		return sl_diag_set(d, SL_ERR_PARSE, "%s: %s", key, e.msg);
	if (u < lo || u > hi)
		return sl_diag_set(d, SL_ERR_RANGE, "%s '%s': %s", key, arg, range);
	*out = u;
	return SL_OK;
}

/* A duration of at least a second, in nanoseconds. */
static int secs_in(const char *key, const char *arg, uint64_t *ns, struct sl_diag *d)
{
	struct sl_diag e = { "" };
	uint64_t u;

	if (sl_parse_duration(arg, &u, &e))
		return sl_diag_set(d, SL_ERR_PARSE, "%s: %s", key, e.msg);
	if (u == 0)
		return sl_diag_set(d, SL_ERR_RANGE, "%s '%s': at least 1 second", key, arg);
	*ns = u * 1000000000ull;
	return SL_OK;
}

/* The sizes, counts and durations. */
static int number_option(struct rx_cfg *c, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	unsigned v;
	int r;

	switch (opt) {
	case RX_O_TIMEOUT: return secs_in(key, arg, &c->timeout_ns, d);
	case RX_O_GRACE: return secs_in(key, arg, &c->tail_grace_ns, d);
	case RX_O_KEEP: return secs_in(key, arg, &c->keep_incomplete_ns, d);
	case RX_O_WINDOW: return sl_conf_count(key, arg, 1, RX_WINDOW_MAX, &c->window, d);
	case RX_O_WINMEM: return size_in(key, arg, 1u << 20, 16ull << 30, "1M..16G", &c->window_memory, d);
	case RX_O_MAXACTIVE: return sl_conf_count(key, arg, 1, 256, &c->max_active, d);
	case RX_O_THREADS: return sl_conf_count(key, arg, 0, RX_OPEN_THREADS_MAX, &c->open_threads, d);
	case RX_O_MAXSTAGED: return sl_conf_count(key, arg, 1, RX_MAX_KNOWN, &c->max_staged, d);
	case RX_O_MAXSYM:
		r = sl_conf_count(key, arg, SL_WIRE_MIN_SYMSIZE, SL_WIRE_MAX_SYMSIZE, &v, d);
		if (!r)
			c->max_symsize = (uint16_t)v;
		return r;
	case RX_O_MAXCAT: return size_in(key, arg, 1024, 1u << 30, "1K..1G", &c->max_catalog, d);
	case RX_O_WRITERQ: return size_in(key, arg, 1u << 20, 4ull << 30, "1M..4G", &c->writer_queue, d);
	case RX_O_RING:
		r = size_in(key, arg, 0, 16ull << 30, "0 (none) or 4M..16G", &c->ring, d);
		if (!r && c->ring && c->ring < RX_RING_SEG)
			r = sl_diag_set(d, SL_ERR_RANGE, "%s '%s': 0 (none) or 4M..16G", key, arg);
		return r;
	case RX_O_WRITERSP:
		r = size_in(key, arg, 0, 1ull << 40, "at most 1T", &c->writer_spill, d);
		if (!r && !c->writer_spill)
			c->writer_spill = RX_WRITER_SPILL_NONE; /* 0 asked: refuse at a full queue */
		return r;
	case RX_O_MAXSTAGING: return size_in(key, arg, 1u << 20, UINT64_MAX, "at least 1M", &c->max_staging, d);
	case RX_O_MAXUNV: return size_in(key, arg, 1u << 20, UINT64_MAX, "at least 1M", &c->max_unvouched, d);
	case RX_O_RESERVE:
		r = size_in(key, arg, 0, 1ull << 30, "at most 1G", &c->reserve, d);
		if (!r && !c->reserve)
			c->reserve = RX_RESERVE_NONE; /* 0 asked: none at all */
		return r;
	case RX_O_SOCKBUF: {
		uint64_t u;
		r = size_in(key, arg, 65536, 1u << 30, "64K..1G", &u, d);
		if (!r)
			c->sockbuf = (size_t)u;
		return r;
	}
	}
	return sl_diag_set(d, SL_ERR_INVAL, "%s: not a setting", key);
}

int rx_option(struct rx_opts *o, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	struct rx_cfg *c = &o->cfg;
	int r;

	switch (opt) {
	case RX_O_LINK: return sl_conf_keep(&o->owned, key, arg, &c->link_uri, d);
	case RX_O_KEY:
		r = sl_conf_check_secret("link key", arg, d);
		return r ? r : sl_conf_keep(&o->owned, key, arg, &o->key_path, d);
	case RX_O_UNKEYED: c->allow_unkeyed = 1; return SL_OK;
	case RX_O_POLICY: return sl_conf_keep(&o->owned, key, arg, &c->policy_path, d);
	case RX_O_STATE: return sl_conf_keep(&o->owned, key, arg, &c->state_dir, d);
	case RX_O_RELEASE: return sl_conf_keep(&o->owned, key, arg, &c->release_dir, d);
	case RX_O_NOSANDBOX: o->sandbox = 0; return SL_OK;
	case RX_O_NOLANDLOCK: o->allow_no_landlock = 1; return SL_OK;
	case RX_O_FILEIO:
		if (sl_uio_mode_parse(arg, &c->file_io, NULL) != SL_OK)
			return sl_diag_set(d, SL_ERR_INVAL, "%s '%s': use plain or uring", key, arg);
		return SL_OK;
	case 'q': o->log_max = SL_LOG_WARN; return SL_OK;
	case 'v': o->log_max = SL_LOG_DEBUG; return SL_OK;
	case RX_O_CONFIG: case 'h': case 'V':
		return sl_conf_cmdline_only(key, d);
	}
	return number_option(c, opt, key, arg, d);
}

int rx_option_set(void *o, int opt, const char *key, const char *arg, struct sl_diag *d)
{
	return rx_option(o, opt, key, arg, d);
}

int rx_opts_config(struct rx_opts *o, const char *file, const char *text, size_t len,
		   unsigned *err_line, struct sl_diag *d)
{
	return sl_conf_parse(file, text, len, rx_options, rx_option_set, o, err_line, d);
}

int rx_opts_check(const struct rx_opts *o, struct sl_diag *d)
{
	const struct rx_cfg *c = &o->cfg;

	if (!c->link_uri || !c->policy_path || !c->state_dir || !c->release_dir)
		return sl_diag_set(d, SL_ERR_INVAL, "link, policy, state and release are required (missing:"
				   "%s%s%s%s)", c->link_uri ? "" : " link", c->policy_path ? "" : " policy",
				   c->state_dir ? "" : " state", c->release_dir ? "" : " release");
	if (c->allow_unkeyed == (o->key_path != NULL))
		return sl_diag_set(d, SL_ERR_INVAL, "give key LINKKEY (or, for tests only, unkeyed)");
	return SL_OK;
}
