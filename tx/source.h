/* source.h — a transfer directory as the sender sees it.
 *
 * Contract: tx_source_open() reads T/manifest and every T/NAME.minisig, parses
 * the manifest strictly, optionally checks the signatures against a policy,
 * and builds the catalog (PROTOCOL.md §5.2). It opens no data file yet; the
 * chunker reads them in manifest order and re-hashes them as it goes.
 */
#ifndef TX_SOURCE_H
#define TX_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct tx_source_file {
	const char *path;     /* decoded, relative to T/data */
	uint64_t size;
	uint64_t offset;      /* in the stream */
	uint8_t sha256[32];
};

struct tx_source {
	char *dir;
	uint8_t id[16];
	char id_hex[33];
	uint64_t sequence;
	uint64_t total_bytes;
	size_t nfiles;
	struct tx_source_file *files;
	uint8_t manifest_sha256[32];
	uint8_t *catalog;     /* serialised catalog */
	size_t catalog_len;
	unsigned nsigs;
	void *manifest;       /* the parsed manifest (struct sl_manifest *) */
};

/* policy_path may be NULL: then signatures are only checked for syntax. */
int tx_source_open(const char *dir, const char *policy_path, struct tx_source **out,
		   struct sl_diag *d);
void tx_source_free(struct tx_source *s);

#endif
