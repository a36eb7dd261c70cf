/* tx_progress.h — sluice-tx's progress line on stderr: the common progress
 * text (util/progress.h: bar, bytes, rate in bit/s, ETA) and the pass,
 * redrawn in place at most 4 times a second. Rate and ETA restart with
 * each pass. The caller decides whether to use it (isatty). */
#ifndef TX_PROGRESS_H
#define TX_PROGRESS_H

#include <stdint.h>

#include "progress.h"

struct tx_progress {
	struct sl_progress line;
	unsigned pass;
	int drawn;                  /* something is on the terminal's line */
};

void tx_progress_start(struct tx_progress *p, uint64_t total_bytes, uint64_t now_ns);
void tx_progress_update(struct tx_progress *p, uint64_t done_bytes, unsigned pass,
			unsigned passes, uint64_t now_ns);
void tx_progress_end(struct tx_progress *p); /* ends the line */

#endif
