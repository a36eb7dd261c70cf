/* progress.h — the text of a one-line progress display, for any command.
 *
 * The library never prints: sl_progress_line writes the line into a buffer
 * and the command puts it on its terminal. A line is due at the first call
 * and then at most every 250 ms (sl_progress_due). It reads
 *     [############..................]  40% 1.2 GiB / 3.0 GiB  950 Mbit/s  ETA 0:02
 * for bytes (unit NULL; the rate in bit/s when `bits`, else bytes/s), or
 *     [############..................]  40% 400 / 1000 files  250 files/s  ETA 0:02
 * for items; total 0 (unknown) leaves out the bar, the share and the ETA.
 * Rates and the ETA are over the time since sl_progress_start.
 */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct sl_progress {
	uint64_t total;
	uint64_t start_ns, last_ns;
	int drawn;                  /* a line was due at least once */
};

/* "[#######.................]  30%": frac (clamped to [0, 1]) of a bar of
 * `width` (at most 64) characters and the share, into buf; its length. */
size_t sl_progress_bar(double frac, unsigned width, char *buf, size_t len);

void sl_progress_start(struct sl_progress *p, uint64_t total, uint64_t now_ns);
int sl_progress_due(struct sl_progress *p, uint64_t now_ns);
void sl_progress_line(const struct sl_progress *p, uint64_t done, const char *unit, int bits,
		      uint64_t now_ns, char *buf, size_t len);

#endif
