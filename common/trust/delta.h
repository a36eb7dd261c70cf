/* delta.h — a delta (version 3 manifest) against the manifest of its base.
 *
 * Contract: sl_delta_base_parse() parses a base manifest (any version, a
 * delta too: its tree is its sent and taken files), keeps the SHA-256 of its
 * text and indexes its files by content. sl_delta_check() says whether a
 * delta applies to that base: the base's id and manifest hash are the ones
 * the delta names (signed with it), and every file the delta takes from the
 * base has a file in the base with the same SHA-256 and size. Refusals name
 * the base and the first files that fail (SL_ERR_POLICY, SL_ERR_HASH). It
 * reads no file: rx checks the bytes it copies itself.
 */
#ifndef SL_DELTA_H
#define SL_DELTA_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "manifest.h"

struct sl_delta_base {
	struct sl_manifest *m;
	uint8_t sha256[32];                      /* of the manifest text */
	const struct sl_manifest_file **by_hash; /* every file, sorted by SHA-256 then path */
	size_t n;
};

int sl_delta_base_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
			struct sl_delta_base *b, struct sl_diag *d);
void sl_delta_base_free(struct sl_delta_base *b);
/* A file of the base with this content (the first by path), or NULL. */
const struct sl_manifest_file *sl_delta_base_find(const struct sl_delta_base *b, const uint8_t sha256[32]);
int sl_delta_check(const struct sl_manifest *delta, const struct sl_delta_base *b, struct sl_diag *d);

#endif
