/* Fuzz harness: the manifest parser, versions 1 and 2. Every accepted input
 * must re-emit to exactly the same bytes (the format is canonical: header,
 * dir lines and file lines with their times), sealing a copy of what was
 * parsed must accept it, and the policy name checks must run on whatever the
 * parser accepts, over directories and files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	if (m->version < 2 && m->ndirs)
		abort();
	if (sl_manifest_seal(m, &lim, NULL) != SL_OK)
		abort(); /* the builder's checks accept what the parser accepts */
	const char **paths = malloc((m->nfiles + m->ndirs) * sizeof *paths);
	if (paths) {
		for (size_t i = 0; i < m->ndirs; i++)
			paths[i] = m->dirs[i].path;
		for (size_t i = 0; i < m->nfiles; i++)
			paths[m->ndirs + i] = m->files[i].path;
		for (size_t i = 0; i < m->nfiles + m->ndirs; i++)
			sl_path_portable(paths[i], NULL);
		sl_casefold_collision(paths, m->nfiles + m->ndirs, NULL);
		free(paths);
	}
	sl_manifest_free(m);
	return 0;
}
