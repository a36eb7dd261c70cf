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

#define MAX_SIG_BYTES 4096

/* dir/name, a regular file of at most cap bytes, opened beneath dirfd. */
static int read_small_file(int dirfd, const char *name, size_t cap, uint8_t **out, size_t *len,
			   const char *dir, struct sl_diag *d)
{
	char what[PATH_MAX + 256];
	int fd = sl_openat_beneath(dirfd, name, O_RDONLY | O_NOCTTY, 0), r;

	if (fd < 0)
		return sl_diag_errno(d, "%s/%s", dir, name);
	snprintf(what, sizeof what, "%s/%s", dir, name);
	r = sl_read_fd(fd, what, cap, out, len, d);
	close(fd);
	return r;
}

struct sigs {
	unsigned n;
	char *names[SL_CATALOG_MAX_ENTRIES - 1];
	uint8_t *data[SL_CATALOG_MAX_ENTRIES - 1];
	size_t len[SL_CATALOG_MAX_ENTRIES - 1];
};

static void sigs_free(struct sigs *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		free(s->names[i]);
		free(s->data[i]);
	}
	s->n = 0;
}

static int load_sigs(int dirfd, const char *dir, struct sigs *s, struct sl_diag *d)
{
	DIR *dp;
	struct dirent *e;
	int fd = dup(dirfd), r = SL_OK;

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return sl_diag_errno(d, "%s", dir);
	}
	while ((e = readdir(dp))) {
		size_t nl = strlen(e->d_name);
		if (nl < 8 || strcmp(e->d_name + nl - 8, ".minisig") != 0)
			continue;
		if (!sl_sigfile_name_ok(e->d_name)) {
			r = sl_diag_set(d, SL_ERR_NAME, "%s/%s: not an acceptable signature file name",
					dir, e->d_name);
			break;
		}
		if (s->n == SL_CATALOG_MAX_ENTRIES - 1) {
			r = sl_diag_set(d, SL_ERR_TOOBIG, "%s: more than %d signature files", dir,
					SL_CATALOG_MAX_ENTRIES - 1);
			break;
		}
		s->names[s->n] = strdup(e->d_name);
		if (!s->names[s->n]) {
			r = SL_ERR_NOMEM;
			break;
		}
		r = read_small_file(dirfd, e->d_name, MAX_SIG_BYTES, &s->data[s->n], &s->len[s->n], dir, d);
		if (r) {
			free(s->names[s->n]);
			break;
		}
		s->n++;
	}
	closedir(dp);
	if (r)
		return r;
	if (s->n == 0)
		return sl_diag_set(d, SL_ERR_THRESHOLD, "%s: no signature files (*.minisig); "
				   "officers sign with 'sluice manifest sign' or minisign -S", dir);
	/* Sort by name so the catalog is deterministic. */
	for (unsigned i = 1; i < s->n; i++)
		for (unsigned j = i; j > 0 && strcmp(s->names[j - 1], s->names[j]) > 0; j--) {
			char *tn = s->names[j]; uint8_t *td = s->data[j]; size_t tl = s->len[j];
			s->names[j] = s->names[j - 1]; s->data[j] = s->data[j - 1]; s->len[j] = s->len[j - 1];
			s->names[j - 1] = tn; s->data[j - 1] = td; s->len[j - 1] = tl;
		}
	return SL_OK;
}

static int check_policy(const char *policy_path, const uint8_t *mtext, size_t mlen,
			const struct sl_manifest *m, const struct sigs *s, struct sl_diag *d)
{
	struct sl_policy *p;
	struct sl_sigfile sf[SL_CATALOG_MAX_ENTRIES];
	struct sl_sig_result res;
	int r;

	r = sl_policy_load(policy_path, &p, d);
	if (r)
		return r;
	for (unsigned i = 0; i < s->n; i++) {
		sf[i].name = s->names[i];
		sf[i].data = s->data[i];
		sf[i].len = s->len[i];
	}
	memset(&res, 0, sizeof res);
	r = sl_policy_verify_signatures(p, mtext, mlen, m->submitter, sf, s->n, &res, d);
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
	struct sigs sg = { 0 };
	uint8_t *mtext = NULL;
	size_t mlen = 0;
	int dirfd, r;

	*out = NULL;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return sl_diag_errno(d, "transfer directory %s", dir);
	r = read_small_file(dirfd, "manifest", SL_MANIFEST_DEFAULT_MAX_BYTES, &mtext, &mlen, dir, d);
	if (r == SL_OK)
		r = load_sigs(dirfd, dir, &sg, d);
	close(dirfd);
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
		r = check_policy(policy_path, mtext, mlen, m, &sg, d);
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
	s->nsigs = sg.n;

	/* Catalog: the manifest, then the signature files by name. */
	{
		const char *names[SL_CATALOG_MAX_ENTRIES];
		const uint8_t *data[SL_CATALOG_MAX_ENTRIES];
		uint32_t lens[SL_CATALOG_MAX_ENTRIES];
		names[0] = "manifest";
		data[0] = mtext;
		lens[0] = (uint32_t)mlen;
		for (unsigned i = 0; i < sg.n; i++) {
			names[i + 1] = sg.names[i];
			data[i + 1] = sg.data[i];
			lens[i + 1] = (uint32_t)sg.len[i];
		}
		s->catalog_len = sl_catalog_size(sg.n + 1, names, lens);
		s->catalog = malloc(s->catalog_len);
		if (!s->catalog) {
			tx_source_free(s);
			r = SL_ERR_NOMEM;
			m = NULL;
			goto fail;
		}
		sl_catalog_encode(sg.n + 1, names, data, lens, s->catalog);
	}
	free(mtext);
	sigs_free(&sg);
	*out = s;
	return SL_OK;
fail:
	free(mtext);
	sigs_free(&sg);
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
