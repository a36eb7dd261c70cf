/* manifest.h — the transfer manifest: strict parse and canonical emit.
 *
 * Contract (format in common/MANIFEST.md): sl_manifest_parse() accepts only
 * the exact grammar (fixed header order, single spaces, LF line ends, canonical
 * numbers and escapes, files sorted bytewise by decoded path, no duplicates,
 * no file that is a directory prefix of another, counts and sums that add up,
 * limits respected); it never normalises. Any deviation is SL_ERR_PARSE,
 * SL_ERR_NAME, SL_ERR_RANGE or SL_ERR_TOOBIG with "line N: reason" in diag.
 * sl_manifest_emit() writes the one canonical text of a manifest, so
 * parse(emit(m)) == m and emit(parse(t)) == t for every accepted t.
 *
 * The wire stream of a transfer is the concatenation of all files in manifest
 * order; files[i].offset is where file i starts in it.
 */
#ifndef SL_MANIFEST_H
#define SL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

#define SL_MANIFEST_VERSION 1
#define SL_ID_BYTES 16
#define SL_ID_HEX 33          /* 32 lowercase hex characters and a NUL */
#define SL_LABEL_MAX 64       /* submitter, enclave, link names */
#define SL_PURPOSE_MAX 1024   /* decoded bytes */

/* Caps applied while parsing; NULL limits means these defaults. */
#define SL_MANIFEST_DEFAULT_MAX_BYTES (256ull << 20)
#define SL_MANIFEST_DEFAULT_MAX_FILES 1000000ull
#define SL_MANIFEST_DEFAULT_MAX_TOTAL (16ull << 40)

struct sl_manifest_limits {
	uint64_t max_manifest_bytes;  /* size of the manifest text */
	uint64_t max_files;           /* number of file lines */
	uint64_t max_total_bytes;     /* sum of file sizes (and each size) */
};

struct sl_manifest_file {
	char *path;          /* decoded UTF-8, '/'-separated, NUL-terminated, validated */
	uint64_t size;
	uint64_t offset;     /* start of this file in the concatenated stream */
	uint8_t sha256[32];
	unsigned mode;       /* 0644 or 0755 */
};

struct sl_manifest {
	unsigned version;
	char id_hex[SL_ID_HEX];
	uint8_t id[SL_ID_BYTES];
	uint64_t sequence;            /* 0 .. 2^63-1 */
	int64_t created, expires;     /* unix seconds, UTC */
	char submitter[SL_LABEL_MAX + 1];
	char enclave[SL_LABEL_MAX + 1];
	char link[SL_LABEL_MAX + 1];
	char *purpose;                /* decoded UTF-8, no control characters */
	size_t nfiles;
	uint64_t total_bytes;
	struct sl_manifest_file *files;
	/* private */
	char *pool_;                  /* parsed manifests: paths live here */
	size_t cap_;                  /* built manifests: capacity of files */
};

void sl_manifest_default_limits(struct sl_manifest_limits *lim);

int sl_manifest_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
		      struct sl_manifest **out, struct sl_diag *d);
void sl_manifest_free(struct sl_manifest *m);

int sl_manifest_id_bytes(const struct sl_manifest *m, uint8_t id[SL_ID_BYTES]);

/* Building a manifest (sluice manifest create):
 * sl_manifest_new() gives an empty manifest with a fresh random id;
 * fill the header fields, add files (path is copied), then sl_manifest_seal()
 * sorts the files, computes offsets and totals and checks every rule exactly
 * as the parser would. sl_manifest_emit() needs a sealed manifest. */
int sl_manifest_new(struct sl_manifest **out);
int sl_manifest_set_purpose(struct sl_manifest *m, const char *purpose, struct sl_diag *d);
int sl_manifest_add_file(struct sl_manifest *m, const char *path, uint64_t size,
			 const uint8_t sha256[32], unsigned mode);
int sl_manifest_seal(struct sl_manifest *m, const struct sl_manifest_limits *lim, struct sl_diag *d);
/* *text is malloc'd (caller frees), *len its length; no NUL counted. */
int sl_manifest_emit(const struct sl_manifest *m, char **text, size_t *len, struct sl_diag *d);

/* Index of `path` (decoded) in m->files, or -1. Binary search. */
long sl_manifest_find(const struct sl_manifest *m, const char *path);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (years 1970..9999). buf >= 21. */
const char *sl_time_format(int64_t t, char *buf, size_t len);
int sl_time_parse(const char *s, size_t len, int64_t *t);

#endif
