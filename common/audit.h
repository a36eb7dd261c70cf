/* audit.h — the receiver's append-only, hash-chained audit log.
 *
 * Contract. One line per event, LF-terminated, ASCII:
 *   SEQ TIME EVENT xfer=ID manifest=SHA256|- reason=TEXT chain=HEX
 * SEQ counts from 1; TIME is RFC 3339 UTC; EVENT is one word (released,
 * rejected, timeout, replay, started, ...); TEXT is percent-encoded (bytes
 * outside 0x21..0x7e, '%' and '=' as %XX); chain is the lowercase hex
 * SHA-256 of the previous line's chain (64 zeros for the first line), one
 * space, and this line up to and excluding " chain=". Every append is
 * written with O_APPEND and fsync'd. Truncating or editing a line breaks
 * the chain from there on, which sl_audit_verify() reports.
 */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <stdint.h>
#include "error.h"

struct sl_audit;

/* Open (creating, 0640) the log at dirfd/name and find the chain head. A
 * torn last line (no LF, from a crash) is reported in diag and the next
 * append starts on a fresh line after it. */
int sl_audit_open(int dirfd, const char *name, struct sl_audit **out, struct sl_diag *d);
int sl_audit_append(struct sl_audit *a, const char *event, const char *xfer_hex,
		    const char *manifest_hex, const char *reason, struct sl_diag *d);
void sl_audit_close(struct sl_audit *a);

/* Check a whole log's chain. Returns 0 and the number of lines, or
 * SL_ERR_CORRUPT with the first bad line number in diag. */
int sl_audit_verify(int dirfd, const char *name, uint64_t *lines, struct sl_diag *d);

/* Split one line into fields (pointers into a copy in `buf`, >= line length+1).
 * reason is decoded. Returns 0 or SL_ERR_PARSE. */
struct sl_audit_entry {
	uint64_t seq;
	const char *time, *event, *xfer, *manifest, *reason, *chain;
};
int sl_audit_parse_line(const char *line, char *buf, size_t buflen, struct sl_audit_entry *e);

#endif
