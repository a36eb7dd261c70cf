/* sigfiles.h — a transfer directory's signature files, T/NAME.minisig
 * (MANIFEST.md, "Transfer directory"), as sluice-tx sends them and
 * `sluice manifest verify` checks them.
 *
 * Contract: sl_sigfiles_load() reads every *.minisig at the top of dirfd,
 * each opened beneath it (safefs.h: no symlink, no mount crossed), a regular
 * file of at most SL_SIGFILE_MAX_BYTES, at most SL_TRANSFER_MAX_SIGS of
 * them, sorted by name (strcmp). A name that is not safe
 * (sl_sigfile_name_ok) is an error (SL_ERR_NAME), or with skip_unsafe left
 * out (the verifier reports such names itself). Messages name the file,
 * not the directory. Zero files is SL_OK with *n 0. Free with
 * sl_sigfiles_free().
 */
#ifndef SL_SIGFILES_H
#define SL_SIGFILES_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "policy.h"

/* A transfer travels as a catalog of at most 64 entries (PROTOCOL.md 5.2,
 * SL_CATALOG_MAX_ENTRIES), the manifest and its signature files: 63 is all
 * a sender can send and all a verifier should accept. */
#define SL_TRANSFER_MAX_SIGS 63
#define SL_SIGFILE_MAX_BYTES 4096

int sl_sigfiles_load(int dirfd, bool skip_unsafe, struct sl_sigfile **sigs, size_t *n, struct sl_diag *d);
void sl_sigfiles_free(struct sl_sigfile *sigs, size_t n);

/* Whether a name ends in ".minisig": a signature file, safe name or not. */
bool sl_sigfile_named(const char *name);

#endif
