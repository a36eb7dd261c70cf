/* chunker.c — read the stream in order, re-hash, compress (see chunker.h). */
#include "chunker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zstd.h>

#include "proto.h"
#include "sha256.h"

struct sl_chunker {
	const struct sl_source *src;
	uint32_t chunk_size;
	int level;
	int datafd;            /* T/data */
	ZSTD_CCtx *cctx;
	uint8_t *z;            /* compressed chunk, chunk_size */
	uint64_t next_index;
	size_t file;           /* current file */
	int fd;                /* its descriptor, -1 if not open */
	uint64_t file_pos;     /* bytes of it read */
	struct sl_sha256 *h;
	uint64_t tot_raw, tot_stored, raw_chunks;
};

int sl_chunker_new(const struct sl_source *src, uint32_t chunk_size, int level,
		   struct sl_chunker **out, struct sl_diag *d)
{
	struct sl_chunker *c = calloc(1, sizeof *c);
	char path[4096];

	*out = NULL;
	if (!c)
		return SL_ERR_NOMEM;
	c->src = src;
	c->chunk_size = chunk_size;
	c->level = level;
	c->fd = -1;
	snprintf(path, sizeof path, "%s/data", src->dir);
	c->datafd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->datafd < 0 && src->nfiles > 0) {
		int r = sl_diag_errno(d, "%s", path);
		free(c);
		return r;
	}
	c->cctx = sl_chunk_cctx(level);
	c->z = malloc(chunk_size);
	if (!c->cctx || !c->z) {
		sl_chunker_free(c);
		return SL_ERR_NOMEM;
	}
	*out = c;
	return SL_OK;
}

void sl_chunker_free(struct sl_chunker *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	if (c->datafd >= 0)
		close(c->datafd);
	sl_sha256_free(c->h);
	ZSTD_freeCCtx(c->cctx);
	free(c->z);
	free(c);
}

/* Open file i beneath T/data without following any symlink. */
static int open_file(struct sl_chunker *c, size_t i, struct sl_diag *d)
{
	const struct sl_source_file *f = &c->src->files[i];
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	struct stat st;
	int fd = (int)syscall(SYS_openat2, c->datafd, f->path, &how, sizeof how);

	if (fd < 0)
		return sl_diag_errno(d, "data/%s", f->path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sl_diag_set(d, SL_ERR_HASH, "data/%s: no longer a regular file", f->path);
	}
	if ((uint64_t)st.st_size != f->size) {
		close(fd);
		return sl_diag_set(d, SL_ERR_HASH,
				   "data/%s changed since it was hashed: size %lld, manifest says %llu; "
				   "re-create and re-sign the manifest",
				   f->path, (long long)st.st_size, (unsigned long long)f->size);
	}
	if (sl_sha256_new(&c->h)) {
		close(fd);
		return SL_ERR_NOMEM;
	}
	c->fd = fd;
	c->file_pos = 0;
	return SL_OK;
}

static int finish_file(struct sl_chunker *c, struct sl_diag *d)
{
	const struct sl_source_file *f = &c->src->files[c->file];
	uint8_t h[32];
	uint8_t extra;
	int r;

	/* The file must end exactly where the manifest says. */
	if (pread(c->fd, &extra, 1, (off_t)f->size) == 1) {
		return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: it grew; "
				   "re-create and re-sign the manifest", f->path);
	}
	r = sl_sha256_final(c->h, h);
	sl_sha256_free(c->h);
	c->h = NULL;
	close(c->fd);
	c->fd = -1;
	if (r)
		return sl_diag_set(d, r, "SHA-256 failed");
	if (memcmp(h, f->sha256, 32) != 0)
		return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: SHA-256 differs "
				   "from the manifest; refusing to send it", f->path);
	c->file++;
	return SL_OK;
}

/* The current file is empty: open it, check it is still empty and that its
 * hash matches, move on. */
static int check_empty(struct sl_chunker *c, struct sl_diag *d)
{
	int r = open_file(c, c->file, d);
	return r ? r : finish_file(c, d);
}

/* Fill raw[0..want) from the files, in order. */
static int read_stream(struct sl_chunker *c, uint8_t *raw, size_t want, struct sl_diag *d)
{
	size_t got = 0;
	int r;

	while (got < want) {
		const struct sl_source_file *f;
		if (c->file >= c->src->nfiles)
			return sl_diag_set(d, SL_ERR_INVAL, "stream ended early");
		f = &c->src->files[c->file];
		if (c->fd < 0) {
			r = open_file(c, c->file, d);
			if (r)
				return r;
		}
		while (got < want && c->file_pos < f->size) {
			size_t n = want - got;
			ssize_t k;
			if (n > f->size - c->file_pos)
				n = (size_t)(f->size - c->file_pos);
			k = pread(c->fd, raw + got, n, (off_t)c->file_pos);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return sl_diag_errno(d, "data/%s", f->path);
			if (k == 0)
				return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: it shrank",
						   f->path);
			sl_sha256_update(c->h, raw + got, (size_t)k);
			got += (size_t)k;
			c->file_pos += (uint64_t)k;
		}
		if (c->file_pos == f->size) {
			r = finish_file(c, d);
			if (r)
				return r;
		}
	}
	/* Zero-length files right after this chunk are checked now, in order. */
	while (c->file < c->src->nfiles && c->src->files[c->file].size == 0 &&
	       c->src->files[c->file].offset == c->tot_raw + want) {
		r = check_empty(c, d);
		if (r)
			return r;
	}
	return SL_OK;
}

int sl_chunker_read(struct sl_chunker *c, uint64_t index, uint8_t *out, size_t *want_out,
		    struct sl_diag *d)
{
	uint64_t off = index * c->chunk_size;
	size_t want;
	int r;

	if (index != c->next_index || off >= c->src->total_bytes)
		return sl_diag_set(d, SL_ERR_INVAL, "chunk %llu out of order", (unsigned long long)index);
	if (index == 0) {
		/* Leading zero-length files. */
		while (c->file < c->src->nfiles && c->src->files[c->file].size == 0) {
			r = open_file(c, c->file, d);
			if (!r)
				r = finish_file(c, d);
			if (r)
				return r;
		}
	}
	want = (size_t)(c->src->total_bytes - off < c->chunk_size ? c->src->total_bytes - off
								     : c->chunk_size);
	/* Read straight into the block; sl_chunker_pack copies only a chunk
	 * that shrinks (its compressed form), so incompressible data is never
	 * moved. */
	r = read_stream(c, out + SL_BLOCK_REC, want, d);
	if (r)
		return r;
	c->tot_raw += want;
	c->next_index++;
	*want_out = want;
	return SL_OK;
}

int sl_chunk_pack(ZSTD_CCtx *cctx, uint8_t *zbuf, uint64_t index, uint32_t chunk_size,
		  uint8_t *out, size_t want, size_t *len)
{
	struct sl_block_rec rec = { .kind = SL_BLK_CHUNK, .index = index,
				    .offset = index * chunk_size };
	size_t z = want > 1 ? ZSTD_compress2(cctx, zbuf, want - 1, out + SL_BLOCK_REC, want) : 0;
	int raw = want <= 1 || ZSTD_isError(z) || z == 0 || z >= want;

	if (raw) {
		/* Does not shrink (or does not fit): store raw, already in place. */
		rec.codec = SL_CODEC_RAW;
		rec.stored_len = (uint32_t)want;
	} else {
		memcpy(out + SL_BLOCK_REC, zbuf, z);
		rec.codec = SL_CODEC_ZSTD;
		rec.stored_len = (uint32_t)z;
	}
	rec.raw_len = (uint32_t)want;
	sl_block_rec_encode(&rec, out);
	*len = SL_BLOCK_REC + rec.stored_len;
	return raw;
}

ZSTD_CCtx *sl_chunk_cctx(int level)
{
	ZSTD_CCtx *z = ZSTD_createCCtx();
	if (!z)
		return NULL;
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 1);
	return z;
}

void sl_chunker_account(struct sl_chunker *c, size_t stored, int raw)
{
	c->tot_stored += stored;
	c->raw_chunks += raw != 0;
}

int sl_chunker_next(struct sl_chunker *c, uint64_t index, uint8_t *out, size_t *len,
		    struct sl_diag *d)
{
	size_t want;
	int raw, r = sl_chunker_read(c, index, out, &want, d);

	if (r)
		return r;
	raw = sl_chunk_pack(c->cctx, c->z, index, c->chunk_size, out, want, len);
	sl_chunker_account(c, *len - SL_BLOCK_REC, raw);
	return SL_OK;
}

void sl_chunker_totals(const struct sl_chunker *c, uint64_t *raw, uint64_t *stored,
		       uint64_t *raw_chunks)
{
	*raw = c->tot_raw;
	*stored = c->tot_stored;
	*raw_chunks = c->raw_chunks;
}

int sl_chunker_finish(struct sl_chunker *c, struct sl_diag *d)
{
	while (c->file < c->src->nfiles) {
		int r;
		if (c->src->files[c->file].size != 0)
			return sl_diag_set(d, SL_ERR_INVAL, "data/%s was not read",
					   c->src->files[c->file].path);
		r = check_empty(c, d);
		if (r)
			return r;
	}
	return SL_OK;
}
