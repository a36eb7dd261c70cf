/* cli.h — what the officer-facing verbs share: exit codes, error output,
 * passphrases, terminal progress, human rendering of names, and running a
 * command's table of verbs (cli_verbs_run).
 *
 * Exit codes (documented in every man page):
 *   0  success; for verify: everything holds
 *   1  refused: verification failed, or an input (manifest, policy, key,
 *      signature, directory entry) is invalid, or a wrong passphrase
 *   2  usage error (unknown option, missing argument)
 *   3  system error: a file cannot be read or written, out of memory
 */
#ifndef SL_TOOLS_CLI_H
#define SL_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "progress.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_SYSTEM = 3 };

/* Exit code for a libsluice error. */
int cli_exit_code(int err);
/* "sluice PROG: MSG\n" on stderr; returns cli_exit_code(err). */
int cli_fail(const char *prog, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command made of verbs (sluice's commands, manifest's verbs): each a
 * name, its entry point (called with argv[0] = the name) and one line for
 * the usage, which is head, "  NAME DESCRIPTION" a line for each verb
 * (names in a column of width), then tail. */
struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;
};
struct cli_verbs {
	const char *head, *tail;
	const struct cli_verb *v;
	size_t n;
	int width;
};
void cli_verbs_usage(FILE *f, const struct cli_verbs *c);
/* Runs the verb argv[1] names, its exit status in *status. No verb: the
 * usage on stderr, EXIT_USAGE; --help or -h: the usage on stdout, EXIT_OK.
 * False (nothing done) when argv[1] names no verb: the caller says so. */
bool cli_verbs_run(const struct cli_verbs *c, int argc, char **argv, int *status);

/* Passphrase: from --passphrase-file (first line), else $SLUICE_PASSPHRASE,
 * else the terminal without echo (asked twice when `confirm`). Returns a
 * sodium_malloc'd string (free with cli_passphrase_free) or NULL after
 * printing why. Never from the command line. */
char *cli_passphrase(const char *prog, const char *file, const char *prompt, bool confirm);
void cli_passphrase_free(char *p);

/* A progress line on stderr, redrawn in place; only when stderr is a
 * terminal. */
struct cli_progress {
	bool on;
	const char *what;
	struct sl_progress line;    /* the text (util/progress.h) */
};
void cli_progress_init(struct cli_progress *p, const char *what, uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
/* The same counting items (total: the number of items): "hashing: [bar]
 * 45% 450 / 1000 files  900 files/s  ETA 0:01, 2.1 MiB". */
void cli_progress_items(struct cli_progress *p, uint64_t bytes, uint64_t items, const char *unit);
void cli_progress_done(struct cli_progress *p);

/* Render a UTF-8 name as printable ASCII: printable ASCII as itself (and
 * '\' as "\\"), every other code point as \u{XXXX}, invalid bytes as \xNN.
 * Returns out. */
char *cli_visible(const char *s, char *out, size_t outsz);
/* True if s has any byte >= 0x80. */
bool cli_has_non_ascii(const char *s);
/* Render UTF-8 text for a terminal: keeps letters, escapes controls and
 * invisible or direction-changing format characters as \u{XXXX}. */
char *cli_text(const char *s, char *out, size_t outsz);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" or unix seconds. */
int cli_parse_time(const char *s, int64_t *t);

#endif
