/* crash.c — the crash points of a release (test builds, see rx.h): the
 * receiver exits at once at the one SLUICE_RX_CRASH_AT names, so that the
 * e2e crash_points scenario checks every step is finished after a restart. */
#include <string.h>
#include <unistd.h>

#include "rx.h"

const char *const rx_crash_points[] = { "finishing", "verified", "marker", "ledger", "renamed", "audited", NULL };

void rx_crashpoint_at(const char *crash_at, const struct sl_logger *log, const char *point)
{
	if (!crash_at || strcmp(crash_at, point) != 0)
		return;
	sl_log(log, SL_LOG_ERR, "crash point %s: exiting at once (test build)", point);
	_exit(RX_CRASH_STATUS);
}

void rx_crashpoint(const struct rx_ctx *c, const char *point)
{
	rx_crashpoint_at(c->cfg->crash_at, c->log, point);
}
