/* daemon.h — `sluice-tx daemon`: send whatever appears in a spool directory.
 *
 * Contract: tx_daemon() watches SPOOL/outbox/ and sends each transfer
 * directory moved into it, oldest first, with the settings in cfg; then
 * moves it to SPOOL/sent/ or SPOOL/failed/ with a NAME.log beside it. Idle
 * heartbeats go out between transfers. Returns when *stop is set (an
 * interrupted transfer stays in outbox/) or on a spool error.
 *
 * The same loop in steps: tx_daemon_open() creates and opens the spool's
 * directories and the idle heartbeats' session (on cfg->link_uri);
 * cfg, spool and policy are kept, not copied: they outlive it.
 * tx_daemon_step() sends an idle heartbeat when one is due, then takes the
 * oldest transfer of outbox/ if there is one, and says what it did (enum
 * tx_daemon_did), or returns a negative sl_err when a transfer cannot be
 * moved out of outbox/ (it would be sent again: the daemon stops).
 * tx_daemon() is open, steps (a 200 ms nap after an idle one) until *stop
 * or an error or TX_DAEMON_STOPPED, close.
 */
#ifndef TX_DAEMON_H
#define TX_DAEMON_H

#include <signal.h>
#include "error.h"
#include "sender.h"

enum tx_daemon_did {
	TX_DAEMON_IDLE,      /* outbox/ holds no transfer directory */
	TX_DAEMON_SENT,      /* the oldest was sent, and moved to sent/ with its log */
	TX_DAEMON_FAILED,    /* it was refused or its send failed: moved to failed/ with the reason */
	TX_DAEMON_STOPPED,   /* cfg->stop interrupted its send: it stays in outbox/ */
};

struct tx_daemon;

int tx_daemon_open(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		   struct tx_daemon **out, struct sl_diag *d);
int tx_daemon_step(struct tx_daemon *dm, struct sl_diag *d);
void tx_daemon_close(struct tx_daemon *dm);

int tx_daemon(const struct tx_send_cfg *cfg, const char *spool, const char *policy,
		 volatile sig_atomic_t *stop, struct sl_diag *d);

#endif
