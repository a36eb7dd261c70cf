/* log.h — the logger a program hands to libsluice.
 *
 * Contract: libsluice reports events only through a `struct sl_logger` the
 * caller provides (it may be NULL: then nothing is reported). Messages are
 * single lines without a trailing newline. Levels above `max` are skipped
 * before formatting.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

enum sl_log_level { SL_LOG_ERR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

typedef void (*sl_log_fn)(void *ctx, enum sl_log_level level, const char *msg);

struct sl_logger {
	sl_log_fn fn;
	void *ctx;
	enum sl_log_level max;
};

void sl_log(const struct sl_logger *lg, enum sl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A ready-made sink that writes "sluice-xx: level: msg\n" to stderr;
 * ctx is the program name (const char *). */
void sl_log_stderr(void *ctx, enum sl_log_level level, const char *msg);

#endif
