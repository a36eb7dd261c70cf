/* error.h — sluice error codes and diagnostics.
 *
 * Contract: every libsluice function that can fail returns an `int`: 0 (SL_OK)
 * on success or a negative `enum sl_err`. sl_strerror() names any code.
 * Where a caller needs the specific reason (which line, which file), the
 * function also takes a `struct sl_diag *` (may be NULL) that it fills with a
 * one-line, human-readable message. libsluice never prints and never exits.
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stddef.h>

enum sl_err {
	SL_OK = 0,
	SL_ERR_NOMEM = -1,       /* allocation failed */
	SL_ERR_IO = -2,          /* system call failed; errno-derived detail in diag */
	SL_ERR_INVAL = -3,       /* invalid argument or configuration */
	SL_ERR_PARSE = -4,       /* malformed input (off-grammar, truncated) */
	SL_ERR_RANGE = -5,       /* a value is outside its permitted range or a limit */
	SL_ERR_AUTH = -6,        /* AEAD tag or CRC check failed */
	SL_ERR_SIG = -7,         /* a signature is invalid */
	SL_ERR_POLICY = -8,      /* refused by the trust policy */
	SL_ERR_HASH = -9,        /* content does not match its declared hash or size */
	SL_ERR_EXISTS = -10,     /* object already exists */
	SL_ERR_NOTFOUND = -11,   /* object does not exist */
	SL_ERR_UNSUPPORTED = -12,/* valid but unsupported (version, algorithm) */
	SL_ERR_DECODE = -13,     /* not enough symbols to decode a block */
	SL_ERR_REPLAY = -14,     /* transfer id already accepted, or sequence too low */
	SL_ERR_EXPIRED = -15,    /* outside the validity window */
	SL_ERR_CRYPTO = -16,     /* cryptographic library failure */
	SL_ERR_AGAIN = -17,      /* try again later (would block, not ready) */
	SL_ERR_CORRUPT = -18,    /* on-disk state is inconsistent */
	SL_ERR_THRESHOLD = -19,  /* not enough distinct valid signatures */
	SL_ERR_NAME = -20,       /* a file name is not acceptable */
	SL_ERR_TOOBIG = -21,     /* input exceeds a size cap */
	SL_ERR_CLOSED = -22,     /* end of input (pcap file ended, link closed) */
	SL_ERR__LAST = -23
};

/* Name of an error code ("authentication failed", ...). Never NULL. */
const char *sl_strerror(int err);

/* A one-line reason that accompanies an error code. */
struct sl_diag {
	char msg[512];
};

/* Fill d (if not NULL) with a formatted message; returns err unchanged so
 * callers can write `return sl_diag_set(d, SL_ERR_PARSE, "line %u: ...", n);` */
int sl_diag_set(struct sl_diag *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like sl_diag_set but appends ": strerror(errno)" and returns SL_ERR_IO. */
int sl_diag_errno(struct sl_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
