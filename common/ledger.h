/* ledger.h — replay and rollback protection: the accepted-transfer ledger.
 *
 * Contract (format in common/MANIFEST.md, "Ledger"): an append-only text
 * file, one line per accepted transfer (link, sequence, id, time, checksum).
 * sl_ledger_record() appends one line with a single write() and fdatasync()s
 * before returning, so an accepted transfer is never forgotten after a crash.
 * sl_ledger_open() takes an exclusive lock (SL_ERR_AGAIN if another process
 * holds it), loads every entry and verifies every checksum. A damaged *last*
 * line (no line feed, or a checksum mismatch: a torn append) is cut off and the
 * file repaired (the caller is told through the logger and `repaired`); a
 * damaged line anywhere else is SL_ERR_CORRUPT: it is never skipped or read
 * as something else.
 *
 * sl_ledger_check() refuses (SL_ERR_REPLAY, each with its own message):
 *  - an id that was already accepted (on any link);
 *  - a sequence not above the link's high-water mark, unless window W > 0
 *    and mark - W < sequence and that (link, sequence) was not accepted yet
 *    (late delivery of an older transfer within the window).
 */
#ifndef SL_LEDGER_H
#define SL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "log.h"
#include "manifest.h"

struct sl_ledger;

int sl_ledger_open(const char *path, const struct sl_logger *lg, bool *repaired,
		   struct sl_ledger **out, struct sl_diag *d);
void sl_ledger_close(struct sl_ledger *l);

int sl_ledger_check(const struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		    uint64_t sequence, uint64_t window, struct sl_diag *d);
/* Whether a record holds this transfer id (on any link). */
bool sl_ledger_has(const struct sl_ledger *l, const uint8_t id[SL_ID_BYTES]);
/* Checks again, then appends and syncs. */
int sl_ledger_record(struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		     uint64_t sequence, uint64_t window, int64_t now, struct sl_diag *d);

/* High-water mark of a link: SL_OK and *mark, or SL_ERR_NOTFOUND if the
 * link has no accepted transfer yet. */
int sl_ledger_mark(const struct sl_ledger *l, const char *link, uint64_t *mark);
size_t sl_ledger_count(const struct sl_ledger *l);

#endif
