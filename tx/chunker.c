/* chunker.c — read the stream in order, re-hash, compress (see chunker.h). */
#include "chunker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "proto.h"
#include "safefs.h"
#include "sha256.h"

#define SEGMAX 4096    /* file pieces being read ahead (a group of small files) */
#define DESTMAX 256    /* chunks whose buffer is known ahead (a group) */

struct seg {
	struct sl_uio_op op;
	uint64_t chunk;
	size_t file;
	int first;             /* first piece of its file: owns op.fd until hashed */
	int last;              /* ends its file */
	int whole;             /* the whole file: loaded by tx_chunker_load (op.fd -1) */
	int loaded;            /* and it was: lr, ld say how */
	int lr;                /* SL_OK, or the error, */
	struct sl_diag *ld;    /* with its message (malloc'd; NULL when lr is SL_OK) */
};

struct tx_chunker {
	const struct tx_source *src;
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
	/* reading ahead */
	struct sl_uio *uio;
	int own_uio;
	uint8_t *dest[DESTMAX];  /* chunk i's raw bytes go to dest[i % DESTMAX] */
	uint64_t dest_next;      /* next chunk without a destination */
	struct seg seg[SEGMAX];  /* pieces read ahead, a FIFO */
	unsigned seg_head, nseg;
	uint64_t seg_popped;     /* segments taken so far (seg_head = seg_popped % SEGMAX) */
	uint64_t load_upto;      /* segments up to here were in a batch of tx_chunker_loads */
	uint64_t load_lo;        /* the current batch: load_n segments from load_lo, */
	unsigned load_n, load_next; /* the next one to take (atomic) */
	struct sl_sha256 *lctx;  /* for whole files no batch took */
	uint64_t plan_chunk;     /* planning cursor: chunk, offset in it, */
	size_t plan_coff;
	size_t plan_file;        /* file, offset in it, its descriptor */
	uint64_t plan_fpos;
	int plan_fd;
	int plan_err;            /* planning stopped here: reported in order */
	struct sl_diag plan_diag;
};

static size_t chunk_want(const struct tx_chunker *c, uint64_t index)
{
	uint64_t off = index * c->chunk_size;
	return (size_t)(c->src->total_bytes - off < c->chunk_size ? c->src->total_bytes - off
								  : c->chunk_size);
}

static uint8_t *dest_of(const struct tx_chunker *c, uint64_t index)
{
	return c->dest[index % DESTMAX];
}

int tx_chunker_new(const struct tx_source *src, uint32_t chunk_size, int level,
		   struct sl_uio *uio, struct tx_chunker **out, struct sl_diag *d)
{
	struct tx_chunker *c = calloc(1, sizeof *c);
	char path[4096];

	*out = NULL;
	if (!c)
		return SL_ERR_NOMEM;
	c->src = src;
	c->chunk_size = chunk_size;
	c->level = level;
	c->fd = -1;
	c->plan_fd = -1;
	snprintf(path, sizeof path, "%s/data", src->dir);
	c->datafd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->datafd < 0 && src->nfiles > 0) {
		int r = sl_diag_errno(d, "%s", path);
		free(c);
		return r;
	}
	c->cctx = tx_chunk_cctx(level);
	c->z = malloc(chunk_size);
	if (!c->cctx || !c->z || sl_sha256_new(&c->lctx)) {
		tx_chunker_free(c);
		return SL_ERR_NOMEM;
	}
	c->uio = uio;
	if (!uio) {
		int r = sl_uio_new(SL_UIO_PLAIN, SEGMAX, 0, &c->uio, d);
		if (!r)
			r = sl_uio_register(c->uio, NULL, 0, d);
		c->own_uio = c->uio != NULL;
		if (r) {
			tx_chunker_free(c);
			return r;
		}
	}
	*out = c;
	return SL_OK;
}

void tx_chunker_free(struct tx_chunker *c)
{
	if (!c)
		return;
	/* Nothing may still be reading into the caller's buffers. */
	if (c->uio)
		sl_uio_drain(c->uio, NULL);
	for (unsigned i = 0; i < c->nseg; i++) {
		struct seg *s = &c->seg[(c->seg_head + i) % SEGMAX];
		if (s->first)
			close(s->op.fd);
		free(s->ld);
	}
	if (c->plan_fd >= 0)
		close(c->plan_fd);
	if (c->own_uio)
		sl_uio_free(c->uio);
	if (c->fd >= 0)
		close(c->fd);
	if (c->datafd >= 0)
		close(c->datafd);
	sl_sha256_free(c->h);
	sl_sha256_free(c->lctx);
	ZSTD_freeCCtx(c->cctx);
	free(c->z);
	free(c);
}

/* Open file i beneath T/data without following any symlink; it must still
 * be a regular file of the manifest's size. */
static int open_checked(const struct tx_chunker *c, size_t i, int *out, struct sl_diag *d)
{
	const struct tx_source_file *f = &c->src->files[i];
	struct stat st;
	int fd = sl_openat_beneath(c->datafd, f->path, O_RDONLY, 0);

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
	*out = fd;
	return SL_OK;
}

/* What a file that no longer matches the manifest is told. */
static int grew(struct sl_diag *d, const char *path)
{
	return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: it grew; "
			   "re-create and re-sign the manifest", path);
}

static int shrank(struct sl_diag *d, const char *path)
{
	return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: it shrank", path);
}

static int differs(struct sl_diag *d, const char *path)
{
	return sl_diag_set(d, SL_ERR_HASH, "data/%s changed since it was hashed: SHA-256 differs "
			   "from the manifest; refusing to send it", path);
}

/* Open file i and start its hash (zero-length files; the others are
 * opened by the planning below). */
static int open_file(struct tx_chunker *c, size_t i, struct sl_diag *d)
{
	int fd, r = open_checked(c, i, &fd, d);

	if (r)
		return r;
	if (sl_sha256_new(&c->h)) {
		close(fd);
		return SL_ERR_NOMEM;
	}
	c->fd = fd;
	c->file_pos = 0;
	return SL_OK;
}

static int finish_file(struct tx_chunker *c, struct sl_diag *d)
{
	const struct tx_source_file *f = &c->src->files[c->file];
	uint8_t h[32];
	uint8_t extra;
	int r;

	/* The file must end exactly where the manifest says. */
	if (pread(c->fd, &extra, 1, (off_t)f->size) == 1)
		return grew(d, f->path);
	r = sl_sha256_final(c->h, h);
	sl_sha256_free(c->h);
	c->h = NULL;
	close(c->fd);
	c->fd = -1;
	if (r)
		return sl_diag_set(d, r, "SHA-256 failed");
	if (memcmp(h, f->sha256, 32) != 0)
		return differs(d, f->path);
	c->file++;
	return SL_OK;
}

/* The current file is empty: open it, check it is still empty and that its
 * hash matches, move on. */
static int check_empty(struct tx_chunker *c, struct sl_diag *d)
{
	int r = open_file(c, c->file, d);
	return r ? r : finish_file(c, d);
}

/* ---- reading ahead ----
 *
 * Chunks whose destination is known (tx_chunker_prefetch) are cut into
 * segments, one per file piece, and the segments' reads are started (up to
 * SEGMAX at once), opening files ahead of the hashing. tx_chunker_read()
 * then takes the segments of its chunk in order, waits for each, hashes it
 * and checks each file at its end, exactly as a plain in-order read would:
 * the same bytes, the same checks, the same messages, in the same order (an
 * error met while planning ahead is reported when the hashing reaches it). */

/* Open file i for planning: regular, the manifest's size. */
static int plan_open(struct tx_chunker *c, size_t i, struct sl_diag *d)
{
	int fd, r = open_checked(c, i, &fd, d);
	return r ? r : fd;
}

static void plan(struct tx_chunker *c)
{
	while (c->nseg < SEGMAX && !c->plan_err && c->plan_chunk < c->dest_next) {
		const struct tx_source_file *f;
		struct seg *s;
		size_t want = chunk_want(c, c->plan_chunk), n;
		if (c->plan_coff == want) {
			c->plan_chunk++;
			c->plan_coff = 0;
			continue;
		}
		while (c->plan_file < c->src->nfiles && c->src->files[c->plan_file].size == 0)
			c->plan_file++;
		if (c->plan_file >= c->src->nfiles) {
			c->plan_err = sl_diag_set(&c->plan_diag, SL_ERR_INVAL, "stream ended early");
			break;
		}
		f = &c->src->files[c->plan_file];
		s = &c->seg[(c->seg_head + c->nseg) % SEGMAX];
		n = want - c->plan_coff;
		if (c->plan_fd < 0 && n >= f->size) {
			/* the whole file in this chunk: left for tx_chunker_load */
			*s = (struct seg){ .chunk = c->plan_chunk, .file = c->plan_file, .last = 1, .whole = 1,
					   .op = { .fd = -1, .buf = dest_of(c, c->plan_chunk) + c->plan_coff,
						   .len = (size_t)f->size, .name = f->path } };
			c->nseg++;
			c->plan_coff += (size_t)f->size;
			c->plan_file++;
			continue;
		}
		s->first = c->plan_fd < 0;
		s->whole = s->loaded = s->lr = 0;
		s->ld = NULL;
		if (s->first) {
			int fd = plan_open(c, c->plan_file, &c->plan_diag);
			if (fd < 0) {
				c->plan_err = fd;
				break;
			}
			c->plan_fd = fd;
			c->plan_fpos = 0;
		}
		if (n > f->size - c->plan_fpos)
			n = (size_t)(f->size - c->plan_fpos);
		s->chunk = c->plan_chunk;
		s->file = c->plan_file;
		s->last = c->plan_fpos + n == f->size;
		s->op = (struct sl_uio_op){ .fd = c->plan_fd, .buf = dest_of(c, c->plan_chunk) + c->plan_coff,
					    .len = n, .off = c->plan_fpos, .name = f->path };
		c->plan_err = sl_uio_queue(c->uio, &s->op, &c->plan_diag);
		if (c->plan_err)
			break;
		c->nseg++;
		c->plan_coff += n;
		c->plan_fpos += n;
		if (s->last) {
			c->plan_fd = -1; /* the segment owns it now */
			c->plan_file++;
		}
	}
	if (!c->plan_err)
		c->plan_err = sl_uio_submit(c->uio, &c->plan_diag);
}

/* The bytes of whole file s->file, read into s->op.buf: its hash must be
 * the manifest's. */
static int check_hash(const struct tx_chunker *c, const struct seg *s, struct sl_sha256 *ctx,
		      struct sl_diag *d)
{
	uint8_t h[32];
	int r = sl_sha256_reset(ctx);

	if (!r)
		r = sl_sha256_update(ctx, s->op.buf, s->op.len);
	if (!r)
		r = sl_sha256_final(ctx, h);
	if (r)
		return sl_diag_set(d, r, "SHA-256 failed");
	if (memcmp(h, c->src->files[s->file].sha256, 32) != 0)
		return differs(d, s->op.name);
	return SL_OK;
}

/* Read whole file s->file into s->op.buf with one preadv that asks for a
 * byte more (a file that grew shows it), check its hash with ctx. The same
 * checks and messages as the in-order path. Any thread. */
static int load_whole(const struct tx_chunker *c, const struct seg *s, struct sl_sha256 *ctx,
		      struct sl_diag *d)
{
	const struct tx_source_file *f = &c->src->files[s->file];
	size_t got = 0;
	uint8_t extra;
	int fd = -1, r;

	r = open_checked(c, s->file, &fd, d);

	while (!r && got < s->op.len) {
		struct iovec iov[2] = { { s->op.buf + got, s->op.len - got }, { &extra, 1 } };
		ssize_t n = preadv(fd, iov, 2, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = sl_diag_errno(d, "data/%s", f->path);
		else if (n == 0)
			r = shrank(d, f->path);
		else
			got += (size_t)n;
	}
	if (r)
		goto out;
	/* the last read asked past the end and got the end: no byte more */
	if (got > s->op.len) {
		r = grew(d, f->path);
		goto out;
	}
	r = check_hash(c, s, ctx, d);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static void load_seg(const struct tx_chunker *c, struct seg *s, struct sl_sha256 *ctx)
{
	struct sl_diag d = { "" };

	s->lr = load_whole(c, s, ctx, &d);
	if (s->lr && (s->ld = malloc(sizeof *s->ld)))
		*s->ld = d;
	s->loaded = 1;
}

unsigned tx_chunker_loads(struct tx_chunker *c)
{
	uint64_t end = c->seg_popped + c->nseg;
	unsigned whole = 0;

	if (c->load_upto < c->seg_popped)
		c->load_upto = c->seg_popped;
	c->load_lo = c->load_upto;
	c->load_n = (unsigned)(end - c->load_upto);
	c->load_next = 0;
	c->load_upto = end;
	for (unsigned i = 0; i < c->load_n; i++)
		whole += c->seg[(c->load_lo + i) % SEGMAX].whole;
	return whole;
}

/* Whole files of the batch through fl, a run of them at a time: those it
 * read as expected are hashed here, the others (and a hash that differs)
 * are read again the ordinary way, which says why. */
static void load_fast(struct tx_chunker *c, struct tx_fileload *fl, struct sl_sha256 *ctx)
{
	struct tx_fileload_item v[TX_FILELOAD_BATCH];
	struct seg *sv[TX_FILELOAD_BATCH];
	unsigned i, n;

	while ((i = __atomic_fetch_add(&c->load_next, TX_FILELOAD_BATCH, __ATOMIC_RELAXED)) < c->load_n) {
		n = 0;
		for (unsigned j = i; j < c->load_n && j < i + TX_FILELOAD_BATCH; j++) {
			struct seg *s = &c->seg[(c->load_lo + j) % SEGMAX];
			if (!s->whole || s->loaded)
				continue;
			sv[n] = s;
			v[n++] = (struct tx_fileload_item){ .path = s->op.name, .buf = s->op.buf,
							    .size = s->op.len };
		}
		tx_fileload_batch(fl, c->datafd, v, n);
		for (unsigned j = 0; j < n; j++) {
			if (v[j].ok && check_hash(c, sv[j], ctx, NULL) == SL_OK)
				sv[j]->loaded = 1;
			else
				load_seg(c, sv[j], ctx);
		}
	}
}

void tx_chunker_load(struct tx_chunker *c, struct tx_fileload *fl, struct sl_sha256 *ctx)
{
	unsigned i;

	if (fl) {
		load_fast(c, fl, ctx);
		return;
	}
	while ((i = __atomic_fetch_add(&c->load_next, 1, __ATOMIC_RELAXED)) < c->load_n) {
		struct seg *s = &c->seg[(c->load_lo + i) % SEGMAX];
		if (s->whole && !s->loaded)
			load_seg(c, s, ctx);
	}
}

int tx_chunker_prefetch(struct tx_chunker *c, uint64_t index, uint8_t *out)
{
	if (index != c->dest_next || index - c->next_index >= DESTMAX ||
	    index * c->chunk_size >= c->src->total_bytes)
		return SL_ERR_INVAL;
	c->dest[index % DESTMAX] = out + SL_BLOCK_REC;
	c->dest_next++;
	plan(c);
	return SL_OK;
}

/* The oldest segment is done with (its struct stays until planned over). */
static void pop(struct tx_chunker *c)
{
	c->seg_head = (c->seg_head + 1) % SEGMAX;
	c->nseg--;
	c->seg_popped++;
}

/* A whole file that failed: its message, in order. */
static int whole_failed(struct seg *s, struct sl_diag *d)
{
	int r = s->lr;

	if (d && s->ld)
		*d = *s->ld;
	else if (!s->ld)
		sl_diag_set(d, r, "data/%s: %s", s->op.name, sl_strerror(r));
	free(s->ld);
	s->ld = NULL;
	return r;
}

/* Fill chunk `index` (want bytes) from its segments, in order. */
static int read_chunk(struct tx_chunker *c, uint64_t index, size_t want, struct sl_diag *d)
{
	size_t got = 0;
	int r;

	while (got < want) {
		struct seg *s;
		const struct tx_source_file *f;
		plan(c);
		if (c->nseg == 0 || c->seg[c->seg_head].chunk != index) {
			if (d && c->plan_err)
				*d = c->plan_diag;
			return c->plan_err ? c->plan_err : sl_diag_set(d, SL_ERR_INVAL, "chunk %llu not planned",
								       (unsigned long long)index);
		}
		s = &c->seg[c->seg_head];
		/* zero-length files before this piece, in order */
		while (c->file < s->file) {
			r = check_empty(c, d);
			if (r)
				return r;
		}
		f = &c->src->files[s->file];
		if (s->whole) {
			/* read, checked and hashed already (or now), in order here */
			if (!s->loaded)
				load_seg(c, s, c->lctx);
			pop(c);
			if (s->lr)
				return whole_failed(s, d);
			got += s->op.len;
			c->file++;
			continue;
		}
		if (s->first) {
			/* the hash of this file starts here; the descriptor is ours */
			if (sl_sha256_new(&c->h))
				return SL_ERR_NOMEM;
			c->fd = s->op.fd;
			c->file_pos = 0;
			s->first = 0;
		}
		r = sl_uio_wait(c->uio, &s->op, NULL);
		pop(c);
		if (r) {
			errno = s->op.err;
			return sl_diag_errno(d, "data/%s", f->path);
		}
		sl_sha256_update(c->h, s->op.buf, s->op.done);
		got += s->op.done;
		c->file_pos += s->op.done;
		if (s->op.done < s->op.len)
			return shrank(d, f->path);
		if (s->last) {
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

int tx_chunker_read(struct tx_chunker *c, uint64_t index, uint8_t *out, size_t *want_out,
		    struct sl_diag *d)
{
	uint64_t off = index * c->chunk_size;
	size_t want;
	int r;

	if (index != c->next_index || off >= c->src->total_bytes)
		return sl_diag_set(d, SL_ERR_INVAL, "chunk %llu out of order", (unsigned long long)index);
	if (index == c->dest_next && tx_chunker_prefetch(c, index, out) != SL_OK)
		return sl_diag_set(d, SL_ERR_INVAL, "chunk %llu cannot be read", (unsigned long long)index);
	if (dest_of(c, index) != out + SL_BLOCK_REC)
		return sl_diag_set(d, SL_ERR_INVAL, "chunk %llu: not the buffer it was read ahead into",
				   (unsigned long long)index);
	if (index == 0) {
		/* Leading zero-length files. */
		while (c->file < c->src->nfiles && c->src->files[c->file].size == 0) {
			r = check_empty(c, d);
			if (r)
				return r;
		}
	}
	want = chunk_want(c, index);
	/* Read straight into the block; sl_chunker_pack copies only a chunk
	 * that shrinks (its compressed form), so incompressible data is never
	 * moved. */
	r = read_chunk(c, index, want, d);
	if (r)
		return r;
	c->tot_raw += want;
	c->next_index++;
	*want_out = want;
	return SL_OK;
}

int tx_chunk_pack(ZSTD_CCtx *cctx, uint8_t *zbuf, uint64_t index, uint32_t chunk_size,
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

ZSTD_CCtx *tx_chunk_cctx(int level)
{
	ZSTD_CCtx *z = ZSTD_createCCtx();
	if (!z)
		return NULL;
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 1);
	return z;
}

void tx_chunker_account(struct tx_chunker *c, size_t stored, int raw)
{
	c->tot_stored += stored;
	c->raw_chunks += raw != 0;
}

int tx_chunker_next(struct tx_chunker *c, uint64_t index, uint8_t *out, size_t *len,
		    struct sl_diag *d)
{
	size_t want;
	int raw, r = tx_chunker_read(c, index, out, &want, d);

	if (r)
		return r;
	raw = tx_chunk_pack(c->cctx, c->z, index, c->chunk_size, out, want, len);
	tx_chunker_account(c, *len - SL_BLOCK_REC, raw);
	return SL_OK;
}

void tx_chunker_totals(const struct tx_chunker *c, uint64_t *raw, uint64_t *stored,
		       uint64_t *raw_chunks)
{
	*raw = c->tot_raw;
	*stored = c->tot_stored;
	*raw_chunks = c->raw_chunks;
}

int tx_chunker_finish(struct tx_chunker *c, struct sl_diag *d)
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
