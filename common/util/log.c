/* log.c — formatting front end for the caller's logger. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

void sl_log(const struct sl_logger *lg, enum sl_log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!lg || !lg->fn || level > lg->max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	lg->fn(lg->ctx, level, buf);
}

void sl_log_stderr(void *ctx, enum sl_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	const char *prog = ctx ? (const char *)ctx : "sluice";
	fprintf(stderr, "%s: %s: %s\n", prog, names[level], msg);
}
