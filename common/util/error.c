/* error.c — names of error codes and diagnostic helpers. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sl_err_names[] = {
	"success",
	"out of memory",
	"input/output error",
	"invalid argument",
	"malformed input",
	"value out of range",
	"authentication failed",
	"invalid signature",
	"refused by policy",
	"content does not match its hash",
	"already exists",
	"not found",
	"unsupported",
	"not enough symbols to decode",
	"replayed or rolled back",
	"outside validity window",
	"cryptographic library failure",
	"not ready, try again",
	"state is corrupt",
	"not enough valid signatures",
	"file name not acceptable",
	"too large",
	"end of input",
};

const char *sl_strerror(int err)
{
	if (err > 0 || err <= SL_ERR__LAST)
		return "unknown error";
	return sl_err_names[-err];
}

int sl_diag_set(struct sl_diag *d, int err, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof d->msg, fmt, ap);
		va_end(ap);
	}
	return err;
}

int sl_diag_errno(struct sl_diag *d, const char *fmt, ...)
{
	int e = errno;
	if (d) {
		va_list ap;
		size_t n;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof d->msg, fmt, ap);
		va_end(ap);
		n = strlen(d->msg);
		if (n < sizeof d->msg)
			snprintf(d->msg + n, sizeof d->msg - n, ": %s", strerror(e));
	}
	errno = e;
	return SL_ERR_IO;
}
