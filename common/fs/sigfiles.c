/* sigfiles.c — a transfer directory's signature files (see sigfiles.h). */
#include "sigfiles.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "safefs.h"

_Static_assert(SL_TRANSFER_MAX_SIGS == SL_CATALOG_MAX_ENTRIES - 1, "a catalog holds the manifest and the signatures");

void sl_sigfiles_free(struct sl_sigfile *sigs, size_t n)
{
	if (!sigs)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)sigs[i].name);
		free((uint8_t *)sigs[i].data);
	}
	free(sigs);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sl_sigfile *)a)->name, ((const struct sl_sigfile *)b)->name);
}

bool sl_sigfile_named(const char *n)
{
	size_t l = strlen(n);
	return l >= 8 && !strcmp(n + l - 8, ".minisig");
}

int sl_sigfiles_load(int dirfd, bool skip_unsafe, struct sl_sigfile **out, size_t *nout, struct sl_diag *d)
{
	struct sl_sigfile *s = NULL;
	size_t n = 0;
	int fd, rc = SL_OK;
	DIR *dir;
	struct dirent *de;

	*out = NULL;
	*nout = 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		rc = sl_diag_errno(d, "transfer directory");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((de = readdir(dir)) != NULL) {
		uint8_t *buf;
		size_t len;
		if (!sl_sigfile_named(de->d_name))
			continue;
		if (!sl_sigfile_name_ok(de->d_name)) {
			if (skip_unsafe)
				continue;
			rc = sl_diag_set(d, SL_ERR_NAME, "signature file name '%.100s' is not a safe NAME.minisig", de->d_name);
			break;
		}
		if (n == SL_TRANSFER_MAX_SIGS) {
			rc = sl_diag_set(d, SL_ERR_TOOBIG, "more than %d signature files", SL_TRANSFER_MAX_SIGS);
			break;
		}
		if ((rc = sl_read_file_beneath(dirfd, de->d_name, SL_SIGFILE_MAX_BYTES, &buf, &len, d)))
			break;
		struct sl_sigfile *ns = realloc(s, (n + 1) * sizeof *ns);
		char *name = strdup(de->d_name);
		if (!ns || !name) {
			free(name);
			free(buf);
			if (ns)
				s = ns;
			rc = sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
			break;
		}
		s = ns;
		s[n].name = name;
		s[n].data = buf;
		s[n].len = len;
		n++;
	}
	closedir(dir);
	if (rc) {
		sl_sigfiles_free(s, n);
		return rc;
	}
	if (n)
		qsort(s, n, sizeof *s, name_cmp);
	*out = s;
	*nout = n;
	return SL_OK;
}
