/* sandbox.h — confine sluice-rx once its files and socket are open.
 *
 * Contract: rx_sandbox() sets no_new_privs, restricts the filesystem with
 * Landlock (ABI 2 or later) to the state and release trees (read, write,
 * create, remove, rename there), plus reading files beneath read_fds (the
 * directories of the policy and of the configuration file), nothing
 * elsewhere, and installs a seccomp
 * filter (libseccomp) that allows only the system calls the receive loop
 * needs: no socket creation, no connect, no send of any kind, no exec. A
 * forbidden call kills the process with SIGSYS.
 *
 * The receive link's descriptor (link_fd) can be neither written to nor
 * duplicated (write, writev, dup or fcntl on it kill the process): a
 * packet socket (eth: links) transmits whatever is written to it. It must
 * stay open until the process exits (a later file given its number could
 * not be written). io_uring operations do not pass through seccomp, and a
 * file ring may write to any descriptor: a file ring together with a
 * packet socket is refused (SL_ERR_INVAL, nothing applied).
 *
 * Without Landlock (not built into the kernel, not enabled at boot, or ABI
 * 1, which cannot allow the release rename across directories) it refuses
 * (SL_ERR_UNSUPPORTED, nothing applied, diag says what is missing) unless
 * allow_no_landlock is set; then it applies seccomp alone, says so in diag
 * and returns SL_OK. Any other failure is an error (SL_ERR_IO).
 *
 * Sanitizer builds (tests only) apply the same, plus what the sanitizers'
 * runtime needs to report under it (sandbox.c: sanitizer_rules).
 */
#ifndef RX_SANDBOX_H
#define RX_SANDBOX_H

#include <stdbool.h>

#include "error.h"

struct rx_sandbox_cfg {
	int state_fd, release_fd;	/* the trees Landlock leaves writable */
	const char *state_path;		/* their names, for messages */
	const char *release_path;
	int link_fd;			/* the receive link's descriptor, or -1 */
	int read_fds[2];		/* directories whose files may be read, not written
					 * (the policy's and the configuration's), or -1 */
	bool file_ring;			/* staged files are written through io_uring */
	bool allow_no_landlock;		/* where Landlock is missing: seccomp alone */
};

int rx_sandbox(const struct rx_sandbox_cfg *cfg, struct sl_diag *d);

#endif
