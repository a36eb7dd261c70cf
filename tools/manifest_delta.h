/* manifest_delta.h — the difference a delta manifest makes to its base, as
 * `sluice manifest show` leads with it (what an officer reviews). */
#ifndef SL_TOOLS_MANIFEST_DELTA_H
#define SL_TOOLS_MANIFEST_DELTA_H

#include <stdbool.h>
#include "delta.h"
#include "manifest.h"

/* Prints the "Delta" section of m (a version 3 manifest). With its base's
 * manifest (b non-NULL): counts and lists of added, changed, moved and
 * removed files and directories; without: sent and taken files only. Lists
 * are cut at 50 lines unless all. Returns 0, or 1 if b is not m's base
 * (printed: the delta would be refused). */
int show_delta(const struct sl_manifest *m, const struct sl_delta_base *b, bool all);

#endif
