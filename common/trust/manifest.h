/* manifest.h — the transfer manifest: strict parse and canonical emit.
 *
 * Contract (format in common/MANIFEST.md): sl_manifest_parse() accepts only
 * the exact grammar of version 1 or 2 (fixed header order, single spaces, LF
 * line ends, canonical numbers, times and escapes, directories and files each
 * sorted bytewise by decoded path, no duplicates, counts and sums that add
 * up, limits respected; version 1: no file that is a directory prefix of
 * another; version 2: every directory of the tree listed, none also a file);
 * it never normalises. Any deviation is SL_ERR_PARSE, SL_ERR_NAME,
 * SL_ERR_RANGE, SL_ERR_TOOBIG or SL_ERR_UNSUPPORTED with "line N: reason" in
 * diag. sl_manifest_emit() writes the one canonical text of a manifest, so
 * parse(emit(m)) == m and emit(parse(t)) == t for every accepted t.
 *
 * Version 2 carries directories (dirs[], parents before children, each with
 * mode 0755 and its modification time) and each file's modification time.
 * A version 1 manifest has ndirs == 0 and every mtime zero: its receiver
 * creates only the parents of files and leaves times as it writes them.
 *
 * Version 3 is a delta: it names its base (the transfer id of an earlier
 * release and the SHA-256 of that release's manifest) and lists the complete
 * new tree, each file either sent ("file" lines: files[], in the stream) or
 * taken from the base by content ("take" lines: taken[], never in the
 * stream; their SHA-256 must be a file of the base's tree). Both kinds share
 * one bytewise order in the text; no path is listed twice, whatever its kind.
 * nfiles and total_bytes count the sent files only (the stream); ntaken and
 * taken_bytes the others. Versions 1 and 2 have ntaken == 0 and no base.
 *
 * The wire stream of a transfer is the concatenation of all files[] in
 * manifest order; files[i].offset is where file i starts in it.
 */
#ifndef SL_MANIFEST_H
#define SL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "error.h"
#include "timefmt.h" /* sl_time_format, sl_time_parse: the manifest's created and expires */

#define SL_MANIFEST_VERSION 2 /* what sl_manifest_new() builds; 1, 2 and 3 are read */
#define SL_MANIFEST_VERSION_DELTA 3 /* a manifest with a base (sl_manifest_set_base) */
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
	uint64_t max_files;           /* number of file lines, and of dir lines */
	uint64_t max_total_bytes;     /* sum of file sizes (and each size) */
};

struct sl_manifest_file {
	char *path;          /* decoded UTF-8, '/'-separated, NUL-terminated, validated */
	uint64_t size;
	uint64_t offset;     /* start of this file in the concatenated stream */
	uint8_t sha256[32];
	unsigned mode;       /* 0644 or 0755 */
	struct timespec mtime; /* version 2: modification time, UTC; version 1: zero */
};

struct sl_manifest_dir {
	char *path;          /* as files[].path; every parent is listed before it */
	unsigned mode;       /* 0755 */
	struct timespec mtime; /* modification time to set once its contents are in place */
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
	size_t ndirs;                 /* version 2: every directory below data/ */
	struct sl_manifest_dir *dirs; /* sorted bytewise by path */
	size_t nfiles;
	uint64_t total_bytes;
	struct sl_manifest_file *files;
	/* version 3 (a delta) */
	bool has_base;
	uint8_t base_id[SL_ID_BYTES];
	char base_hex[SL_ID_HEX];
	uint8_t base_sha256[32];      /* of the base's manifest text */
	size_t ntaken;                /* files taken from the base by content */
	uint64_t taken_bytes;
	struct sl_manifest_file *taken; /* sorted by path; offset is 0 */
	/* private */
	char *pool_;                  /* parsed manifests: paths live here */
	size_t cap_, dcap_, tcap_;    /* built manifests: capacity of files, dirs, taken */
};

void sl_manifest_default_limits(struct sl_manifest_limits *lim);

int sl_manifest_parse(const uint8_t *text, size_t len, const struct sl_manifest_limits *lim,
		      struct sl_manifest **out, struct sl_diag *d);
void sl_manifest_free(struct sl_manifest *m);

int sl_manifest_id_bytes(const struct sl_manifest *m, uint8_t id[SL_ID_BYTES]);

/* Building a manifest (sluice manifest create):
 * sl_manifest_new() gives an empty version 2 manifest with a fresh random id;
 * fill the header fields, add directories and files (paths are copied), then
 * sl_manifest_seal() sorts them, computes offsets and totals and checks every
 * rule exactly as the parser would (a missing parent directory is an error;
 * sl_manifest_add_parent_dirs() adds every one not added yet, mode 0755 with
 * the given time). To build version 1, set version = 1 and add no
 * directories and no times. sl_manifest_emit() needs a sealed manifest. */
int sl_manifest_new(struct sl_manifest **out);
int sl_manifest_set_purpose(struct sl_manifest *m, const char *purpose, struct sl_diag *d);
int sl_manifest_add_file(struct sl_manifest *m, const char *path, uint64_t size,
			 const uint8_t sha256[32], unsigned mode, struct timespec mtime);
/* A delta (version 3): the base and the files taken from it. */
void sl_manifest_set_base(struct sl_manifest *m, const uint8_t id[SL_ID_BYTES], const uint8_t sha256[32]);
int sl_manifest_take_file(struct sl_manifest *m, const char *path, uint64_t size,
			  const uint8_t sha256[32], unsigned mode, struct timespec mtime);
int sl_manifest_add_dir(struct sl_manifest *m, const char *path, unsigned mode, struct timespec mtime);
int sl_manifest_add_parent_dirs(struct sl_manifest *m, struct timespec mtime);
/* Room for this many directories and files (a builder that knows saves the
 * growing). */
int sl_manifest_reserve(struct sl_manifest *m, size_t ndirs, size_t nfiles);
int sl_manifest_seal(struct sl_manifest *m, const struct sl_manifest_limits *lim, struct sl_diag *d);
/* *text is malloc'd (caller frees), NUL-terminated, *len its length (the NUL
 * not counted). */
int sl_manifest_emit(const struct sl_manifest *m, char **text, size_t *len, struct sl_diag *d);

/* Index of `path` (decoded) in m->files (m->dirs, m->taken), or -1. Binary search. */
long sl_manifest_find(const struct sl_manifest *m, const char *path);
long sl_manifest_find_taken(const struct sl_manifest *m, const char *path);
/* The file line of `path`, sent or taken, or NULL. */
const struct sl_manifest_file *sl_manifest_lookup(const struct sl_manifest *m, const char *path);
/* Every file of the tree, sent and taken: sl_manifest_all(m) of them, the
 * i-th by sl_manifest_at(m, i) (sent files first, then taken; not path order). */
size_t sl_manifest_all(const struct sl_manifest *m);
const struct sl_manifest_file *sl_manifest_at(const struct sl_manifest *m, size_t i);
/* The stream offset `off` in files[0..n): the index of the first non-empty
 * file holding it (files[i].offset <= off < files[i].offset + files[i].size),
 * or n when off is at or past the end of the last non-empty file (and when n
 * is 0). files must be in stream order with each file starting where the one
 * before ends, as a parsed or sealed manifest's files[] are (or a copy of
 * them). Binary search. */
size_t sl_manifest_file_at(const struct sl_manifest_file *files, size_t n, uint64_t off);
long sl_manifest_find_dir(const struct sl_manifest *m, const char *path);

/* A manifest time: canonical "SECONDS.NNNNNNNNN" (no leading zeros in the
 * seconds, exactly nine digits of nanoseconds), 0 .. SL_TIME_MAX_SECONDS.
 * sl_mtime_format needs buf >= SL_MTIME_BUF. */
#define SL_MTIME_BUF 24
int sl_mtime_parse(const char *s, size_t len, struct timespec *t);
const char *sl_mtime_format(struct timespec t, char *buf, size_t len);
bool sl_mtime_ok(struct timespec t);
/* For people: "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ" (buf >= SL_MTIME_UTC_BUF). */
#define SL_MTIME_UTC_BUF 32
const char *sl_mtime_format_utc(struct timespec t, char *buf, size_t len);


#endif
