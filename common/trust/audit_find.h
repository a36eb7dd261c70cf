/* audit_find.h — looking entries up in the tail of an audit log (read only).
 *
 * Contract. An *entry* is a line of the log (audit.h) that ends in LF,
 * splits into the audit fields (sl_audit_parse_line) and whose chain field
 * is 64 lowercase hex digits; a torn line (cut short by a crash, even if a
 * LF was added after it) is not an entry. Entries carry increasing sequence
 * numbers, so the entries appended after one whose number is S are exactly
 * those with a number above S, all at the end of the file: these functions
 * read the file backwards from its end, in growing windows, only as far as
 * needed. They neither check the hash chain (sl_audit_verify does) nor
 * write anything, and they need no struct sl_audit (the log may be open for
 * appending at the same time, by the same thread).
 */
#ifndef SL_AUDIT_FIND_H
#define SL_AUDIT_FIND_H

#include <stdint.h>
#include "error.h"

/* The sequence number of the log's last entry (0: no entry yet) at dirfd/name. */
int sl_audit_last_seq(int dirfd, const char *name, uint64_t *seq, struct sl_diag *d);

/* Whether an entry numbered above `after` has event `event` and xfer=`xfer_hex`:
 * 1 yes, 0 no, or a negative sl_err if the log cannot be read. */
int sl_audit_find_after(int dirfd, const char *name, uint64_t after, const char *event,
			const char *xfer_hex, struct sl_diag *d);

#endif
