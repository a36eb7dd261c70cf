/* sandbox.h — confine sluice-rx once its files and socket are open.
 *
 * Contract: sl_rx_sandbox() sets no_new_privs, restricts the filesystem with
 * Landlock to the state and release trees (read/write/create/remove/rename
 * there, nothing elsewhere), and installs a seccomp filter (libseccomp) that
 * allows only the system calls the receive loop needs: no socket creation,
 * no connect, no send of any kind, no exec. A kernel without Landlock is
 * reported in diag (warning, returns 0); a seccomp failure is an error.
 */
#ifndef SL_RX_SANDBOX_H
#define SL_RX_SANDBOX_H

#include "error.h"

int sl_rx_sandbox(int state_fd, int release_fd, const char *state_path,
		  const char *release_path, struct sl_diag *d);

#endif
