/* source.c — load a transfer directory for sending (see source.h). */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "minisign.h"
#include "policy.h"
#include "proto.h"
#include "safefs.h"
#include "sha256.h"
#include "sigfiles.h"

_Static_assert(SL_TRANSFER_MAX_SIGS + 1 <= SL_CATALOG_MAX_ENTRIES, "the catalog below holds the signatures");

/* dir's manifest (a regular file of at most the default manifest size)
 * and its signature files (sl_sigfiles_load: every *.minisig, by name, at
 * most SL_TRANSFER_MAX_SIGS of SL_SIGFILE_MAX_BYTES; at least one). */
static int load_files(const char *dir, uint8_t **mtext, size_t *mlen, struct sl_sigfile **sg, size_t *nsg,
		      struct sl_diag *d)
{
	char what[PATH_MAX + 16], why[sizeof d->msg];
	int dirfd, fd, r;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return sl_diag_errno(d, "transfer directory %s", dir);
	snprintf(what, sizeof what, "%s/manifest", dir);
	fd = sl_openat_beneath(dirfd, "manifest", O_RDONLY | O_NOCTTY, 0);
	if (fd < 0) {
		r = sl_diag_errno(d, "%s", what);
		close(dirfd);
		return r;
	}
	r = sl_read_fd(fd, what, SL_MANIFEST_DEFAULT_MAX_BYTES, mtext, mlen, d);
	close(fd);
	if (!r && (r = sl_sigfiles_load(dirfd, false, sg, nsg, d))) {
		snprintf(why, sizeof why, "%s", d ? d->msg : "");
		sl_diag_set(d, r, "%s: %s", dir, why);
	}
	close(dirfd);
	if (!r && *nsg == 0)
		r = sl_diag_set(d, SL_ERR_THRESHOLD, "%s: no signature files (*.minisig); "
				"officers sign with 'sluice manifest sign' or minisign -S", dir);
	return r;
}

static int check_policy(const char *policy_path, const uint8_t *mtext, size_t mlen,
			const struct sl_manifest *m, const struct sl_sigfile *sg, size_t nsg, struct sl_diag *d)
{
	struct sl_policy *p;
	struct sl_sig_result res;
	int r;

	r = sl_policy_load(policy_path, &p, d);
	if (r)
		return r;
	memset(&res, 0, sizeof res);
	r = sl_policy_verify_signatures(p, mtext, mlen, m->submitter, sg, nsg, &res, d);
	sl_sig_result_clear(&res);
	if (!r)
		r = sl_policy_check_manifest(p, m, (int64_t)time(NULL), d);
	sl_policy_free(p);
	return r;
}

int tx_source_open(const char *dir, const char *policy_path, struct tx_source **out,
		   struct sl_diag *d)
{
	struct tx_source *s;
	struct sl_manifest *m = NULL;
	struct sl_sigfile *sg = NULL;
	size_t nsg = 0;
	uint8_t *mtext = NULL;
	size_t mlen = 0;
	int r;

	*out = NULL;
	r = load_files(dir, &mtext, &mlen, &sg, &nsg, d);
	if (r)
		goto fail;
	r = sl_manifest_parse(mtext, mlen, NULL, &m, d);
	if (r) {
		char why[sizeof d->msg];
		snprintf(why, sizeof why, "%s", d ? d->msg : "");
		sl_diag_set(d, r, "%s/manifest: %s", dir, why);
		goto fail;
	}
	if (policy_path) {
		r = check_policy(policy_path, mtext, mlen, m, sg, nsg, d);
		if (r)
			goto fail;
	}

	s = calloc(1, sizeof *s);
	if (!s || !(s->dir = strdup(dir)) ||
	    !(s->files = calloc(m->nfiles ? m->nfiles : 1, sizeof *s->files))) {
		if (s)
			free(s->dir);
		free(s);
		r = SL_ERR_NOMEM;
		goto fail;
	}
	memcpy(s->id, m->id, 16);
	memcpy(s->id_hex, m->id_hex, 33);
	s->sequence = m->sequence;
	s->total_bytes = m->total_bytes;
	s->nfiles = m->nfiles;
	for (size_t i = 0; i < m->nfiles; i++) {
		s->files[i].path = m->files[i].path;
		s->files[i].size = m->files[i].size;
		s->files[i].offset = m->files[i].offset;
		memcpy(s->files[i].sha256, m->files[i].sha256, 32);
	}
	s->manifest = m;
	sl_sha256(mtext, mlen, s->manifest_sha256);
	s->nsigs = (unsigned)nsg;

	/* Catalog: the manifest, then the signature files by name. */
	{
		const char *names[SL_CATALOG_MAX_ENTRIES];
		const uint8_t *data[SL_CATALOG_MAX_ENTRIES];
		uint32_t lens[SL_CATALOG_MAX_ENTRIES];
		names[0] = "manifest";
		data[0] = mtext;
		lens[0] = (uint32_t)mlen;
		for (size_t i = 0; i < nsg; i++) {
			names[i + 1] = sg[i].name;
			data[i + 1] = sg[i].data;
			lens[i + 1] = (uint32_t)sg[i].len;
		}
		s->catalog_len = sl_catalog_size((unsigned)nsg + 1, names, lens);
		s->catalog = malloc(s->catalog_len);
		if (!s->catalog) {
			tx_source_free(s);
			r = SL_ERR_NOMEM;
			m = NULL;
			goto fail;
		}
		sl_catalog_encode((unsigned)nsg + 1, names, data, lens, s->catalog);
	}
	free(mtext);
	sl_sigfiles_free(sg, nsg);
	*out = s;
	return SL_OK;
fail:
	free(mtext);
	sl_sigfiles_free(sg, nsg);
	sl_manifest_free(m);
	return r;
}

void tx_source_free(struct tx_source *s)
{
	if (!s)
		return;
	sl_manifest_free(s->manifest);
	free(s->files);
	free(s->catalog);
	free(s->dir);
	free(s);
}
