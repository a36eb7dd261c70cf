/* tx_options.h — sluice-tx's settings: the one place that validates each.
 *
 * The command line (main.c), the configuration file (--config FILE, read
 * with common/util/conf.c) and `sluice doctor --config` hand each (option,
 * value) to tx_option(). Precedence: defaults, the file, the command line.
 */
#ifndef TX_OPTIONS_H
#define TX_OPTIONS_H

#include "conf.h"
#include "sender.h"

enum {
	TX_O_LINK = 256, TX_O_KEY, TX_O_UNKEYED, TX_O_AEAD, TX_O_POLICY, TX_O_RATE, TX_O_BURST,
	TX_O_REALTIME, TX_O_NOREALTIME, TX_O_PASSES, TX_O_FIRST, TX_O_OVERHEAD, TX_O_INTERLEAVE,
	TX_O_SYMSIZE, TX_O_BLOCK, TX_O_LEVEL, TX_O_HEARTBEAT, TX_O_PREAMBLE, TX_O_SPOOL, TX_O_PROGRESS,
	TX_O_NOPROGRESS, TX_O_WATCH, TX_O_THREADS, TX_O_FILEIO, TX_O_CONFIG, TX_O_REPAIR,
	TX_O_REPAIR_MARGIN
};

/* getopt_long's table; also the keys of a configuration file (all but
 * config, repair and help: a repair code is for one transfer). */
extern const struct option tx_options[];

struct tx_opts {
	struct tx_send_cfg cfg;     /* tx_send_cfg_defaults() before the options */
	const char *key_path, *policy, *aead, *watch;
	const char *repair;         /* --repair CODE (command line only), checked by main.c */
	int unkeyed, have_rate, progress;
	enum sl_log_level log_max;
	struct sl_conf_strings owned; /* copies of string values, freed by tx_opts_free */
};

/* cfg must hold its defaults already (tx_send_cfg_defaults); progress is
 * the default of --progress. */
void tx_opts_init(struct tx_opts *o, const struct tx_send_cfg *defaults, int progress);
void tx_opts_free(struct tx_opts *o);
/* Apply one option (key: the name to show); SL_OK or an error with the reason in d. */
int tx_option(struct tx_opts *o, int opt, const char *key, const char *arg, struct sl_diag *d);
/* Apply a configuration file's text; the line of an error in *err_line. */
int tx_opts_config(struct tx_opts *o, const char *file, const char *text, size_t len,
		   unsigned *err_line, struct sl_diag *d);
/* What must be given: link, rate, and exactly one of key and unkeyed. */
int tx_opts_check(const struct tx_opts *o, struct sl_diag *d);

#endif
