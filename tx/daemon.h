/* daemon.h — `sluice-tx daemon`: send whatever appears in a spool directory.
 *
 * Contract: tx_daemon() watches SPOOL/outbox/ and sends each transfer
 * directory moved into it, oldest first, with the settings in cfg; then
 * moves it to SPOOL/sent/ or SPOOL/failed/ with a NAME.log beside it. Idle
 * heartbeats go out between transfers. Returns when *stop is set (an
 * interrupted transfer stays in outbox/) or on a spool error.
 */
#ifndef TX_DAEMON_H
#define TX_DAEMON_H

#include <signal.h>
#include "error.h"
#include "sender.h"

int tx_daemon(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		 volatile sig_atomic_t *stop, struct sl_diag *d);

#endif
