/* conf.h — sluice's configuration files (/etc/sluice/rx.conf, tx.conf).
 *
 * Contract. A configuration file is text, one setting per line:
 *     # a comment (also ';' at the start of a line, or " ;" after a value)
 *     max-staging = 10G
 *     link = udp://0.0.0.0:4747
 *     no-sandbox = no
 * Keys are a program's long options without the dashes (the caller's
 * getopt table); a value is what the option takes on the command line. An
 * option that takes no value is set with yes/true/1 and left unset with
 * no/false/0. Blank lines are ignored; whitespace around keys and values is
 * stripped. Refused, with "FILE:LINE: reason" in diag: a line that is not
 * `key = value`, a [section], an unknown key (with the nearest known key
 * suggested), a key given twice, an empty value, a line longer than the
 * library's line limit, and bytes that are not printable text (NUL and
 * other control characters except tab; CR LF line ends are accepted).
 *
 * Lines are split by libinih (ini_parse_stream); this file counts lines,
 * checks keys and text, and hands each value to the caller's `set`, which
 * validates it exactly as the command line does (one place per option).
 * Never prints, never exits.
 */
#ifndef SL_CONF_H
#define SL_CONF_H

#include <getopt.h>
#include <stddef.h>

#include "error.h"

/* A configuration file is small. Reading it is the file system's job
 * (sl_read_file, sl_read_fd in fs/safefs.h, with this cap): util/ depends on
 * nothing else in common/. */
#define SL_CONF_MAX_BYTES (64u * 1024)

/* Called once per setting: opt is the option's `val` from the table, value
 * its text (NULL for an option without argument set to yes); key is the
 * name to show in a message. Returns SL_OK, or an error with the reason in
 * d (without file and line: the parser adds them). */
typedef int (*sl_conf_set_fn)(void *user, int opt, const char *key, const char *value,
			      struct sl_diag *d);

/* Parse text (len bytes; NUL bytes refused) named `file` in messages,
 * against the long options in opts (terminated by a zero entry). On an
 * error returns SL_ERR_PARSE, SL_ERR_RANGE or SL_ERR_INVAL (or set's own
 * error) with "FILE:LINE: reason" in d, and the line in *err_line (may be
 * NULL; 0 when no line is to blame). */
int sl_conf_parse(const char *file, const char *text, size_t len, const struct option *opts,
		  sl_conf_set_fn set, void *user, unsigned *err_line, struct sl_diag *d);

/* Option values kept as copies until sl_conf_strings_free (the settings a
 * program read from its command line and configuration file). */
struct sl_conf_strings {
	char **v;
	size_t n;
};
/* *out = a copy of arg, owned by s; SL_ERR_NOMEM ("KEY: out of memory"). */
int sl_conf_keep(struct sl_conf_strings *s, const char *key, const char *arg, const char **out,
		 struct sl_diag *d);
void sl_conf_strings_free(struct sl_conf_strings *s);
/* A whole number in [lo, hi] for option key (sl_parse_count's reasons). */
int sl_conf_count(const char *key, const char *arg, unsigned long lo, unsigned long hi, unsigned *out,
		  struct sl_diag *d);

/* The refusal of an option that only the command line takes (--config,
 * --help, ...) met in a configuration file: SL_ERR_INVAL, "'KEY' belongs on
 * the command line, not in a configuration file". */
int sl_conf_cmdline_only(const char *key, struct sl_diag *d);

/* A secret named by a setting (the link key): it must be a regular file
 * that neither group nor others can read or write; refused otherwise with
 * the command that fixes it ("chmod 600 PATH"). */
int sl_conf_check_secret(const char *what, const char *path, struct sl_diag *d);

/* The known key nearest to `key` (edit distance at most 2, or a prefix of
 * it), or NULL: for "unknown key 'max-stagign' (did you mean max-staging?)". */
const char *sl_conf_suggest(const char *key, const struct option *opts);

#endif
