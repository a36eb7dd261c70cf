/* args.h — a program's command line read as settings, against the same
 * getopt table as its configuration file (conf.h).
 *
 * Contract. Both functions run getopt_long over argv from its start
 * (optind is reset; afterwards argv[optind] is the first argument that is
 * no option) with opterr off: nothing is printed, a refused option is
 * described in d as getopt would ("unrecognized option '--lnk' (did you
 * mean --link?)", "option '--link' requires an argument"). A list of
 * option values (skip, stop) ends with 0. Never prints, never exits.
 */
#ifndef SL_ARGS_H
#define SL_ARGS_H

#include <stdbool.h>
#include <getopt.h>

#include "conf.h"
#include "error.h"

/* A first look, before any setting: *config = the value of the option
 * config_val (the last given; left alone when there is none), and the val
 * of the first option found in stop (--help, --version), else 0. Options
 * the table refuses are passed over here (sl_args_set reports them). */
int sl_args_peek(int argc, char **argv, const char *shortopts, const struct option *opts,
		 int config_val, const int *stop, const char **config);

/* Every option, in order, to set(user, val, "--NAME", value, d) as a
 * configuration file's setting is (NAME its long name in opts), except
 * those whose val is in skip. SL_OK; or set's error (reason in d); or, for
 * an option getopt refuses, SL_ERR_PARSE with *refused true (the caller
 * may show its usage). */
int sl_args_set(int argc, char **argv, const char *shortopts, const struct option *opts,
		const int *skip, sl_conf_set_fn set, void *user, bool *refused, struct sl_diag *d);

#endif
