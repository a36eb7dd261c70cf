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
 * sl_ledger_check() refuses, each with its own message:
 *  - an id that was already accepted (on any link): SL_ERR_REPLAY. This is
 *    what makes a transfer a replay; the sequence rules below only keep old
 *    transfers from coming back and the mark from being run up;
 *  - a sequence not above the link's high-water mark, unless window W > 0
 *    and mark - W < sequence and that (link, sequence) was not accepted yet
 *    (late delivery of an older transfer within the window): SL_ERR_REPLAY;
 *  - a sequence more than max_step above the mark (above max_step if the
 *    link has no mark yet): SL_ERR_RANGE. Accepting it would raise the mark
 *    so far (at worst to 2^63-1) that the link's later transfers, numbered
 *    on from the real mark, would all be refused.
 */
#ifndef SL_LEDGER_H
#define SL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include "error.h"
#include "log.h"
#include "manifest.h"

struct sl_ledger;

/* How a link's sequences may move (the policy's sequence-window and
 * sequence-max-step). */
struct sl_ledger_rules {
	uint64_t window;    /* below the mark: accepted once if mark - window < sequence */
	uint64_t max_step;  /* above the mark (0 if none yet): sequence - mark <= max_step */
};

int sl_ledger_open(const char *path, const struct sl_logger *lg, bool *repaired,
		   struct sl_ledger **out, struct sl_diag *d);
void sl_ledger_close(struct sl_ledger *l);

int sl_ledger_check(const struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		    uint64_t sequence, const struct sl_ledger_rules *rules, struct sl_diag *d);
/* Checks again, then appends and syncs. */
int sl_ledger_record(struct sl_ledger *l, const char *link, const uint8_t id[SL_ID_BYTES],
		     uint64_t sequence, const struct sl_ledger_rules *rules, int64_t now, struct sl_diag *d);

/* Whether a transfer with this id was accepted (on any link). */
bool sl_ledger_has_id(const struct sl_ledger *l, const uint8_t id[SL_ID_BYTES]);

/* High-water mark of a link: SL_OK and *mark, or SL_ERR_NOTFOUND if the
 * link has no accepted transfer yet. */
int sl_ledger_mark(const struct sl_ledger *l, const char *link, uint64_t *mark);
size_t sl_ledger_count(const struct sl_ledger *l);

#endif
