/* Fuzz harness: the manifest parser. Every accepted input must re-emit to
 * exactly the same bytes (the format is canonical), and the policy name
 * checks must run on whatever the parser accepts. */
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
	const char **paths = malloc(m->nfiles * sizeof *paths);
	if (paths) {
		for (size_t i = 0; i < m->nfiles; i++) {
			paths[i] = m->files[i].path;
			sl_path_portable(paths[i], NULL);
		}
		sl_casefold_collision(paths, m->nfiles, NULL);
		free(paths);
	}
	sl_manifest_free(m);
	return 0;
}
