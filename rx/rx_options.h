/* rx_options.h — sluice-rx's settings: the one place that validates each.
 *
 * The command line (main.c), the configuration file (--config FILE, read
 * with common/util/conf.c) and `sluice doctor --config` all hand each
 * (option, value) to rx_option(), so a value is accepted or refused the
 * same way everywhere. Precedence: defaults, then the file, then the
 * command line (main.c applies them in that order).
 */
#ifndef SL_RX_OPTIONS_H
#define SL_RX_OPTIONS_H

#include "conf.h"
#include "rx.h"

enum {
	RX_O_LINK = 256, RX_O_KEY, RX_O_UNKEYED, RX_O_POLICY, RX_O_STATE, RX_O_RELEASE, RX_O_TIMEOUT,
	RX_O_GRACE, RX_O_WINDOW, RX_O_WINMEM, RX_O_MAXACTIVE, RX_O_MAXSYM, RX_O_MAXCAT, RX_O_NOSANDBOX, RX_O_SOCKBUF,
	RX_O_FILEIO, RX_O_MAXSTAGING, RX_O_MAXUNV, RX_O_MAXSTAGED, RX_O_KEEP, RX_O_CONFIG, RX_O_RESERVE,
	RX_O_NOLANDLOCK, RX_O_WRITERQ, RX_O_RING, RX_O_THREADS, RX_O_WRITERSP
};

/* getopt_long's table; also the keys of a configuration file (all but
 * config, help and version). */
extern const struct option rx_options[];

struct rx_opts {
	struct rx_cfg cfg;
	const char *key_path;
	int sandbox;                /* 0: --no-sandbox */
	int allow_no_landlock;      /* --allow-no-landlock */
	enum sl_log_level log_max;  /* -q, -v */
	struct sl_conf_strings owned; /* copies of string values, freed by rx_opts_free */
};

/* The defaults (rx.h: quotas left 0 get theirs in rx_setup). */
void rx_opts_init(struct rx_opts *o);
void rx_opts_free(struct rx_opts *o);
/* Apply one option: opt is its getopt value, key the name to show
 * ("--max-staging" or "max-staging"), arg its value (NULL for a flag).
 * SL_OK, or an error with "KEY 'VALUE': reason" in d. */
int rx_option(struct rx_opts *o, int opt, const char *key, const char *arg, struct sl_diag *d);
/* The same in the shape of sl_conf_set_fn (o: a struct rx_opts), for the
 * file (sl_conf_parse) and the command line (sl_args_set). */
int rx_option_set(void *o, int opt, const char *key, const char *arg, struct sl_diag *d);
/* Apply a configuration file's text (named file in messages); the line
 * of an error in *err_line (may be NULL). */
int rx_opts_config(struct rx_opts *o, const char *file, const char *text, size_t len,
		   unsigned *err_line, struct sl_diag *d);
/* What must be given one way or another: link, policy, state, release, and
 * exactly one of key and unkeyed. */
int rx_opts_check(const struct rx_opts *o, struct sl_diag *d);

#endif
