/* Fuzz harness: the manifest parser, versions 1, 2 and 3 (deltas: take lines
 * and a base; the delta checks run against the input as its own base). Every accepted input
 * must re-emit to exactly the same bytes (the format is canonical: header,
 * dir lines and file lines with their times), sealing a copy of what was
 * parsed must accept it, and the policy name checks must run on whatever the
 * parser accepts, over directories and files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "manifest.h"
#include "pathname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_manifest_limits lim = { 1 << 20, 4096, 1ull << 40 };
	struct sl_manifest *m;
	char *out;
	size_t len;

	if (sl_manifest_parse(data, size, &lim, &m, NULL) != SL_OK)
		return 0;
	if (sl_manifest_emit(m, &out, &len, NULL) != SL_OK)
		abort();
	if (len != size || memcmp(out, data, size))
		abort(); /* accepted but not canonical */
	free(out);
	for (size_t i = 0; i < m->ndirs; i++)
		if (m->dirs[i].mode != 0755 || !sl_mtime_ok(m->dirs[i].mtime) || sl_manifest_find_dir(m, m->dirs[i].path) != (long)i)
			abort();
	for (size_t i = 0; i < m->nfiles; i++)
		if ((m->version < 2 && (m->files[i].mtime.tv_sec || m->files[i].mtime.tv_nsec)) ||
		    sl_manifest_find_dir(m, m->files[i].path) >= 0)
			abort(); /* version 1 carries no times; no file is also a directory */
	for (size_t i = 0; i < m->ntaken; i++)
		if (!m->has_base || sl_manifest_find_dir(m, m->taken[i].path) >= 0 || sl_manifest_find(m, m->taken[i].path) >= 0 ||
		    sl_manifest_lookup(m, m->taken[i].path) != &m->taken[i])
			abort(); /* taken only in a delta; no path of two kinds */
	if ((m->version < 2 && m->ndirs) || (m->version == 3) != m->has_base)
		abort();
	if (m->has_base) {
		struct sl_delta_base b;
		if (sl_delta_base_parse(data, size, &lim, &b, NULL) != SL_OK)
			abort();
		if (sl_delta_check(m, &b, NULL) == SL_OK)
			abort(); /* it names another transfer as its base */
		for (size_t i = 0; i < sl_manifest_all(m); i++)
			if (!sl_delta_base_find(&b, sl_manifest_at(m, i)->sha256))
				abort();
		sl_delta_base_free(&b);
	}
	if (sl_manifest_seal(m, &lim, NULL) != SL_OK)
		abort(); /* the builder's checks accept what the parser accepts */
	size_t nall = sl_manifest_all(m) + m->ndirs;
	const char **paths = malloc(nall * sizeof *paths);
	if (paths) {
		for (size_t i = 0; i < m->ndirs; i++)
			paths[i] = m->dirs[i].path;
		for (size_t i = 0; i < sl_manifest_all(m); i++)
			paths[m->ndirs + i] = sl_manifest_at(m, i)->path;
		for (size_t i = 0; i < nall; i++)
			sl_path_portable(paths[i], NULL);
		sl_casefold_collision(paths, nall, NULL);
		free(paths);
	}
	sl_manifest_free(m);
	return 0;
}
