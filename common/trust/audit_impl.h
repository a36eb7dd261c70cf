/* audit_impl.h — PRIVATE to audit*.c: the chain step, the log scan and the
 * head file. Not part of libsluice's interface. */
#ifndef SL_AUDIT_IMPL_H
#define SL_AUDIT_IMPL_H

#include "audit.h"

/* out = hex SHA-256 of prev (64 hex), " " and body[0..len). */
void sl_audit_chain_next(const char prev[65], const char *body, size_t len, char out[65]);

/* What one pass over a log found. The log is good up to `good` bytes; a
 * bad line (if any) starts there. */
struct sl_audit_scan {
	uint64_t seq;           /* last good entry (0: none) */
	char chain[65];         /* its chain (64 zeros for none) */
	uint64_t good, size;    /* end of the last good entry; file size */
	uint64_t bad_line;      /* 0, or the first line that is not a good entry */
	char why[128];          /* why not, completing "the line ..." */
	bool tail;              /* that line is the last one (no LF but at the end) */
	uint8_t tail_sha[32];   /* SHA-256 of bytes good..size, when tail */
};

/* Scan the log open on fd, from offset 0 up to its size now; never writes.
 * For each of the n anchors (seq > 0) state[i] says whether the log holds
 * it. Returns SL_OK (bad lines are findings in s, not errors), SL_ERR_IO
 * or SL_ERR_NOMEM. */
int sl_audit_scan(int fd, const struct sl_audit_head *anchor, enum sl_audit_anchor *state,
		  size_t n, struct sl_audit_scan *s, struct sl_diag *d);

/* The head file: SL_OK, SL_ERR_NOTFOUND (none), SL_ERR_CORRUPT (does not
 * parse) or SL_ERR_IO. */
int sl_audit_head_read(int dirfd, const char *head_name, struct sl_audit_head *h,
		       struct sl_diag *d);
/* Write it atomically and fsync the directory. */
int sl_audit_head_write(int dirfd, const char *head_name, const struct sl_audit_head *h,
			struct sl_diag *d);

#endif
