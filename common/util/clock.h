/* clock.h — the two clocks sluice reads, in nanoseconds.
 *
 * sl_now_ns: CLOCK_MONOTONIC, for pacing, timeouts and durations (never
 * jumps). sl_realtime_ns: CLOCK_REALTIME since the Unix epoch, for what is
 * shown or stamped (heartbeats, capture timestamps). Neither fails.
 */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

uint64_t sl_now_ns(void);
uint64_t sl_realtime_ns(void);

#endif
