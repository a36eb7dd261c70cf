/* clock.c — the monotonic and the real-time clock in nanoseconds. */
#include <time.h>

#include "clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sl_now_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t sl_realtime_ns(void)
{
	return read_ns(CLOCK_REALTIME);
}
