/* progress.h — a one-line progress bar for a terminal (stderr).
 * Redrawn at most 4 times a second: bar, bytes, rate, ETA, pass.
 * The caller decides whether to use it (isatty). */
#ifndef SL_TX_PROGRESS_H
#define SL_TX_PROGRESS_H

#include <stdint.h>

struct sl_progress {
	uint64_t total;
	uint64_t start_ns, last_draw_ns, pass_start_ns;
	unsigned pass;
	int drawn;
};

void sl_progress_start(struct sl_progress *p, uint64_t total_bytes, uint64_t now_ns);
void sl_progress_update(struct sl_progress *p, uint64_t done_bytes, unsigned pass,
			unsigned passes, uint64_t now_ns);
void sl_progress_end(struct sl_progress *p); /* ends the line */

#endif
