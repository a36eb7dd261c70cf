/* rxh.c — keyed-sequence harness for sluice-rx (see rxh.h). */
#include "rxh.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "bytes.h"
#include "minisign.h"
#include "safefs.h"
#include "sha256.h"

static const char *const officer_names[3] = { "alice", "bob", "carol" };

static void rxh_log(void *ctx, enum sl_log_level level, const char *msg)
{
	struct rxh *h = ctx;
	h->log_lines++;
	if (h->verbose)
		fprintf(stderr, "rx[%d]: %s\n", (int)level, msg);
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int r = SL_OK;

	if (fd < 0)
		return SL_ERR_IO;
	if (sl_pwrite_all(fd, data, len, 0))
		r = SL_ERR_IO;
	close(fd);
	return r;
}

static int make_policy(struct rxh *h)
{
	struct sl_policy *p = NULL;
	struct sl_ms_pubkey pk;
	struct sl_diag d = { "" };
	char *text = NULL;
	size_t len = 0;
	int r = sl_policy_new(&p);

	if (r)
		return r;
	snprintf(p->enclave, sizeof p->enclave, "lab");
	snprintf(p->link, sizeof p->link, "diode1");
	p->threshold = 2;
	for (unsigned i = 0; i < 3 && !r; i++) {
		r = sl_ms_keygen(&pk, &h->officer[i]);
		if (!r)
			r = sl_policy_add_key(p, true, officer_names[i], &pk, &d);
	}
	if (!r)
		r = sl_ms_keygen(&pk, &h->submitter);
	if (!r)
		r = sl_policy_add_key(p, false, "dana", &pk, &d);
	if (!r)
		r = sl_policy_emit(p, &text, &len, &d);
	if (!r)
		r = write_file(h->policy, text, len, 0644);
	free(text);
	sl_policy_free(p);
	return r;
}

int rxh_new(const char *base_dir, struct rxh **out)
{
	struct rxh *h = calloc(1, sizeof *h);
	int r;

	if (!h || sl_crypto_init())
		return free(h), SL_ERR_NOMEM;
	snprintf(h->dir, sizeof h->dir, "%s/rxh-XXXXXX", base_dir ? base_dir : "/tmp");
	if (!mkdtemp(h->dir))
		return free(h), SL_ERR_IO;
	snprintf(h->state, sizeof h->state, "%s/state", h->dir);
	snprintf(h->release, sizeof h->release, "%s/release", h->dir);
	snprintf(h->policy, sizeof h->policy, "%s/policy", h->dir);
	snprintf(h->key, sizeof h->key, "%s/link.key", h->dir);
	randombytes_buf(h->link_key, sizeof h->link_key);
	h->next_seq = 1;
	h->now = 1000000000000ull;
	h->log = (struct sl_logger){ rxh_log, h, SL_LOG_DEBUG };
	h->cfg = (struct rx_cfg){ .window = 64, .window_memory = 128u << 20, .max_active = 4, .timeout_ns = 300000000000ull,
				  .tail_grace_ns = 5000000000ull, .max_catalog = 64u << 20,
				  .max_symsize = SL_WIRE_MAX_SYMSIZE, .sockbuf = 1u << 20,
				  .policy_path = h->policy, .state_dir = h->state,
				  .release_dir = h->release };
	h->dg = malloc(sl_wire_dgram_size(SL_WIRE_MAX_SYMSIZE));
	r = h->dg ? write_file(h->key, h->link_key, sizeof h->link_key, 0600) : SL_ERR_NOMEM;
	if (!r)
		r = make_policy(h);
	if (!r)
		r = sl_fec_new(&h->fec);
	if (r) {
		rxh_free(h);
		return r;
	}
	*out = h;
	return SL_OK;
}

int rxh_start(struct rxh *h)
{
	struct sl_diag d = { "" };
	int r;

	if (h->up)
		return SL_OK;
	r = rx_setup(&h->c, &h->cfg, &h->log, h->key, &d);
	if (!r)
		r = rx_threads_start(&h->c);
	if (r) {
		if (h->verbose)
			fprintf(stderr, "rxh: rx_setup: %s\n", d.msg);
		rx_teardown(&h->c);
		return r;
	}
	h->up = 1;
	return SL_OK;
}

void rxh_stop(struct rxh *h)
{
	if (!h->up)
		return;
	rx_teardown(&h->c);
	h->up = 0;
}

int rxh_restart(struct rxh *h)
{
	rxh_stop(h);
	return rxh_start(h);
}

int rxh_wipe(struct rxh *h)
{
	struct sl_diag d = { "" };
	int fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = SL_OK;

	if (fd < 0)
		return SL_ERR_IO;
	if (h->up)
		rx_close_state(&h->c);
	sl_remove_tree(fd, "state", NULL);
	sl_remove_tree(fd, "release", NULL);
	close(fd);
	h->now += 1000000000000ull;
	if (h->up)
		r = rx_open_state(&h->c, &h->cfg, &d);
	if (r) {
		rx_teardown(&h->c);
		h->up = 0;
	}
	return r;
}

struct rxh *rxh_for_test(int start)
{
	struct rxh *h = NULL;

	if (rxh_new(NULL, &h) != SL_OK)
		return NULL;
	h->verbose = getenv("RXH_VERBOSE") != NULL;
	if (start && rxh_start(h) != SL_OK) {
		rxh_free(h);
		return NULL;
	}
	return h;
}

void rxh_free(struct rxh *h)
{
	int fd;

	if (!h)
		return;
	rxh_stop(h);
	for (unsigned i = 0; i < 3; i++)
		sl_ms_seckey_free(h->officer[i]);
	sl_ms_seckey_free(h->submitter);
	sl_fec_free(h->fec);
	free(h->dg);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && h->dir[0] == '/') {
		sl_remove_tree(fd, h->dir + 1, NULL);
		close(fd);
	}
	free(h);
}

/* ---- building a transfer ---- */

/* The first `from` in t->manifest replaced by `to`. */
static int edit_text(struct rxh_xfer *t, const char *from, const char *to)
{
	char *at = strstr(t->manifest, from), *n;
	size_t fl = strlen(from), tl = strlen(to);

	if (!at)
		return SL_ERR_NOTFOUND;
	n = malloc(t->manifest_len - fl + tl + 1);
	if (!n)
		return SL_ERR_NOMEM;
	memcpy(n, t->manifest, (size_t)(at - t->manifest));
	memcpy(n + (at - t->manifest), to, tl);
	strcpy(n + (at - t->manifest) + tl, at + fl);
	free(t->manifest);
	t->manifest = n;
	t->manifest_len = strlen(n);
	return SL_OK;
}

static int build_manifest(struct rxh *h, const struct rxh_file *files, size_t n,
			  const struct rxh_opts *o, struct sl_manifest **out, struct rxh_xfer *t)
{
	struct sl_manifest *m = NULL;
	struct sl_manifest_limits lim;
	struct sl_diag d = { "" };
	int r;

	sl_manifest_default_limits(&lim);
	if (o->manifest_text)
		return sl_manifest_parse((const uint8_t *)o->manifest_text, strlen(o->manifest_text), &lim,
					 out, &d);
	r = sl_manifest_new(&m);
	if (r)
		return r;
	if (o->same_id) {
		memcpy(m->id, o->same_id, 16);
		sodium_bin2hex(m->id_hex, sizeof m->id_hex, m->id, 16);
	}
	snprintf(m->submitter, sizeof m->submitter, "dana");
	snprintf(m->enclave, sizeof m->enclave, "lab");
	snprintf(m->link, sizeof m->link, "diode1");
	m->sequence = o->sequence ? o->sequence : h->next_seq++;
	m->created = (int64_t)time(NULL) - 60;
	m->expires = m->created + 86400;
	r = sl_manifest_set_purpose(m, "rx harness", &d);
	if (o->base_id)
		sl_manifest_set_base(m, o->base_id, o->base_sha256);
	for (size_t i = 0; i < n && !r; i++) {
		uint8_t sha[32];
		sl_sha256(files[i].data, files[i].len, sha);
		r = (i < 64 && (o->take >> i & 1) ? sl_manifest_take_file : sl_manifest_add_file)(m, files[i].path, files[i].len, sha,
			0644, (struct timespec){ m->created, (long)i });
	}
	if (!r)
		r = sl_manifest_add_parent_dirs(m, (struct timespec){ m->created, 0 });
	if (!r)
		r = sl_manifest_seal(m, &lim, &d);
	if (!r)
		r = sl_manifest_emit(m, &t->manifest, &t->manifest_len, &d);
	if (!r && o->edit_from)
		r = edit_text(t, o->edit_from, o->edit_to);
	if (r) {
		sl_manifest_free(m);
		return r;
	}
	*out = m;
	return SL_OK;
}

/* Catalog: the manifest and `signers` officers' signatures. */
static int build_catalog(struct rxh *h, const struct rxh_opts *o, struct rxh_xfer *t)
{
	const char *names[5] = { "manifest" };
	const uint8_t *data[5];
	uint32_t lens[5];
	char *sig[4] = { NULL, NULL, NULL, NULL };
	char sname[4][32];
	unsigned signers = o->signers ? o->signers : 2, n = 1;

	if (signers > 3)
		signers = 3;
	struct sl_diag d = { "" };
	int r = SL_OK;

	data[0] = (const uint8_t *)t->manifest;
	lens[0] = (uint32_t)t->manifest_len;
	for (unsigned i = 0; i < signers + 1 && i < 4 && !r; i++) {
		size_t sl = 0;
		/* the officers', then the submitter's */
		const struct sl_ms_seckey *sk = i < signers && i < 3 ? h->officer[i] : h->submitter;
		r = sl_ms_sign(sk, (const uint8_t *)t->manifest, t->manifest_len,
			       "signature from rxh", "rxh", &sig[i], &sl, &d);
		snprintf(sname[i], sizeof sname[i], "manifest.%s.minisig",
			 sk == h->submitter ? "dana" : officer_names[i]);
		names[n] = sname[i];
		data[n] = (const uint8_t *)sig[i];
		lens[n++] = (uint32_t)sl;
	}
	if (!r) {
		size_t len = sl_catalog_size(n, names, lens);
		t->catalog = malloc(len);
		if (!t->catalog)
			r = SL_ERR_NOMEM;
		else
			sl_catalog_encode(n, names, data, lens, t->catalog);
		t->hdr.catalog_len = (uint32_t)len;
	}
	for (unsigned i = 0; i < 4; i++)
		free(sig[i]);
	return r;
}

static int add_block(struct rxh_xfer *t, uint64_t b, uint8_t kind, uint64_t index, uint64_t off,
		     const uint8_t *src, uint32_t len)
{
	struct sl_block_rec rec = { .kind = kind, .codec = SL_CODEC_RAW, .index = index,
				    .offset = off, .raw_len = len, .stored_len = len };
	size_t zcap = ZSTD_compressBound(len), zn = 0;
	uint8_t *z = t->zstd && kind == SL_BLK_CHUNK ? malloc(zcap) : NULL;
	unsigned k;

	if (z) {
		zn = ZSTD_compress(z, zcap, src, len, 1);
		if (!ZSTD_isError(zn) && zn < len) {
			rec.codec = SL_CODEC_ZSTD;
			rec.stored_len = (uint32_t)zn;
			src = z;
		}
	}
	k = sl_block_k(rec.stored_len, t->symsize);
	t->k[b] = (uint16_t)k;
	t->blocks[b] = calloc(k, t->symsize);
	if (!t->blocks[b]) {
		free(z);
		return SL_ERR_NOMEM;
	}
	sl_block_rec_encode(&rec, t->blocks[b]);
	memcpy(t->blocks[b] + SL_BLOCK_REC, src, rec.stored_len);
	free(z);
	return SL_OK;
}

static int build_blocks(struct rxh_xfer *t)
{
	struct sl_xfer_hdr *x = &t->hdr;
	uint32_t piece = sl_catalog_piece(x->kmax, t->symsize);
	int r = SL_OK;

	x->catalog_blocks = (uint32_t)sl_chunks_of(x->catalog_len, piece);
	t->nblocks = x->catalog_blocks + x->nchunks;
	t->blocks = calloc(t->nblocks, sizeof *t->blocks);
	t->k = calloc(t->nblocks, sizeof *t->k);
	if (!t->blocks || !t->k)
		return SL_ERR_NOMEM;
	for (uint64_t b = 0; b < x->catalog_blocks && !r; b++) {
		uint64_t off = b * piece;
		uint32_t len = (uint32_t)(x->catalog_len - off < piece ? x->catalog_len - off : piece);
		r = add_block(t, b, SL_BLK_CATALOG, b, off, t->catalog + off, len);
	}
	for (uint64_t i = 0; i < x->nchunks && !r; i++) {
		uint64_t off = i * x->chunk_size;
		uint32_t len = (uint32_t)(x->total_bytes - off < x->chunk_size ? x->total_bytes - off
										: x->chunk_size);
		r = add_block(t, x->catalog_blocks + i, SL_BLK_CHUNK, i, off, t->stream + off, len);
	}
	return r;
}

static void layout_of(struct rxh_xfer *t)
{
	uint8_t buf[40], sha[32];

	memcpy(buf, t->hdr.manifest_sha256, 32);
	sl_put_be32(buf + 32, t->hdr.chunk_size);
	sl_put_be16(buf + 36, t->hdr.kmax);
	sl_put_be16(buf + 38, t->symsize);
	sl_sha256(buf, sizeof buf, sha);
	memcpy(t->hdr.layout, sha, 16);
}

int rxh_xfer_build(struct rxh *h, const struct rxh_file *files, size_t n,
		   const struct rxh_opts *o, struct rxh_xfer *t)
{
	static const struct rxh_opts none;
	struct sl_manifest *m = NULL;
	struct sl_xfer_hdr *x = &t->hdr;
	int r;

	o = o ? o : &none;
	memset(t, 0, sizeof *t);
	t->symsize = o->symsize ? o->symsize : 512;
	t->zstd = o->zstd;
	r = build_manifest(h, files, n, o, &m, t);
	if (r)
		return r;
	if (o->manifest_text) {
		t->manifest = strdup(o->manifest_text);
		t->manifest_len = strlen(o->manifest_text);
	}
	memcpy(t->id, m->id, 16);
	memcpy(t->hex, m->id_hex, 33);
	x->kmax = o->kmax ? o->kmax : 16;
	x->chunk_size = (uint32_t)x->kmax * t->symsize - SL_BLOCK_REC;
	x->total_bytes = m->total_bytes;
	x->nchunks = sl_chunks_of(m->total_bytes, x->chunk_size);
	x->sequence = m->sequence;
	x->passes = 1;
	x->codec = SL_CODEC_ZSTD;
	x->level = 1;
	sl_sha256(t->manifest, t->manifest_len, x->manifest_sha256);
	layout_of(t);
	t->stream = malloc(m->total_bytes ? m->total_bytes : 1);
	r = t->stream ? SL_OK : SL_ERR_NOMEM;
	for (size_t i = 0; i < m->nfiles && !r; i++) {
		for (size_t j = 0; j < n; j++)
			if (!strcmp(files[j].path, m->files[i].path) && files[j].len) /* empty: data may be NULL */
				memcpy(t->stream + m->files[i].offset, files[j].data, files[j].len);
	}
	sl_manifest_free(m);
	if (!r)
		r = build_catalog(h, o, t);
	if (!r)
		r = build_blocks(t);
	if (r)
		rxh_xfer_free(t);
	return r;
}

/* One signature file DIR/manifest.NAME.minisig over t's manifest. */
static int write_sig(const struct rxh_xfer *t, const struct sl_ms_seckey *sk, const char *name,
		     const char *dir)
{
	char path[512], *sig = NULL;
	struct sl_diag d = { "" };
	size_t len = 0;
	int r;

	r = sl_ms_sign(sk, (const uint8_t *)t->manifest, t->manifest_len, "signature from rxh", "rxh",
		       &sig, &len, &d);
	snprintf(path, sizeof path, "%s/manifest.%s.minisig", dir, name);
	if (!r)
		r = sl_write_file(path, sig, len, 0644, true, &d);
	free(sig);
	return r;
}

int rxh_xfer_write_dir(struct rxh *h, const struct rxh_xfer *t, const struct rxh_file *files,
		       size_t n, unsigned signers, const char *dir)
{
	struct sl_diag d = { "" };
	char path[512];
	int r = SL_OK, dfd;

	signers = signers ? (signers > 3 ? 3 : signers) : 2;
	snprintf(path, sizeof path, "%s/data", dir);
	if (mkdir(dir, 0755) || mkdir(path, 0755))
		return SL_ERR_IO;
	snprintf(path, sizeof path, "%s/manifest", dir);
	r = sl_write_file(path, t->manifest, t->manifest_len, 0644, true, &d);
	for (unsigned i = 0; i < signers && !r; i++)
		r = write_sig(t, h->officer[i], officer_names[i], dir);
	if (!r)
		r = write_sig(t, h->submitter, "dana", dir);
	snprintf(path, sizeof path, "%s/data", dir);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return SL_ERR_IO;
	for (size_t i = 0; i < n && !r; i++) {
		const char *slash = strrchr(files[i].path, '/');
		char sub[512];
		if (slash) {
			snprintf(sub, sizeof sub, "%.*s", (int)(slash - files[i].path), files[i].path);
			r = sl_mkdirs_beneath(dfd, sub, &d);
		}
		snprintf(path, sizeof path, "%s/data/%s", dir, files[i].path);
		if (!r)
			r = sl_write_file(path, files[i].data, files[i].len, 0644, true, &d);
	}
	close(dfd);
	return r;
}

void rxh_xfer_free(struct rxh_xfer *t)
{
	for (uint64_t b = 0; t->blocks && b < t->nblocks; b++)
		free(t->blocks[b]);
	free(t->blocks);
	free(t->k);
	free(t->catalog);
	free(t->stream);
	free(t->manifest);
	memset(t, 0, sizeof *t);
}

/* ---- sending ---- */

int rxh_session_new(struct rxh *h, uint16_t symsize, struct rxh_session *s)
{
	struct sl_diag d = { "" };
	(void)h;
	s->interleave = 0;
	s->symsize = symsize;
	return sl_wire_tx_new(h->link_key, sl_wire_default_suite(), symsize, &s->tx, &d);
}

void rxh_session_free(struct rxh_session *s)
{
	sl_wire_tx_free(s->tx);
	s->tx = NULL;
}

/* A complete transfer whose release waits for the writer and the hasher
 * (rx_release, storage.c) is released now, as if they were this thread,
 * unless the writer is held (rx_writer_hold) with its chunks. */
static void release_written(struct rxh *h)
{
	char why[64];

	for (struct rx_xfer *x = h->c.xfers, *next; x; x = next) {
		next = x->next;
		if (!x->release_writer || !x->writer || rx_writer_busy(x->writer, x))
			continue;
		(void)rx_hasher_wait(x->hasher, x, why, sizeof why);
		rx_release(&h->c, x);
	}
}

/* Release jobs on their threads (rx/finish.c) waited for and their
 * verdicts applied, as if released on this thread (unless the test looks at
 * what happens meanwhile); a release that waited for the hasher goes on. */
static void release_jobs(struct rxh *h)
{
	for (int i = 0; i < 8 && !h->release_nowait; i++) {
		int any = 0;
		rx_writer_idle(h->c.writer);
		rx_writer_poll(&h->c, NULL);
		release_written(h); /* also one completed by a verdict just applied */
		for (struct rx_xfer *x = h->c.xfers; x; x = x->next)
			any |= x->rjob != NULL;
		if (!any)
			break;
		rx_rjob_poll(&h->c, 1);
	}
}

void rxh_deliver(struct rxh *h, struct rxh_session *s, struct sl_wire_hdr *wh, const uint8_t *body,
		 size_t len)
{
	uint8_t *pad = calloc(1, s->symsize);

	if (!pad)
		return;
	memcpy(pad, body, len < s->symsize ? len : s->symsize);
	if (sl_wire_seal(s->tx, wh, pad, h->dg) == SL_OK) {
		rx_handle(&h->c, h->dg, sl_wire_dgram_size(s->symsize), h->now);
		/* deterministic: as if verified on this thread (unless the test
		 * looks at what happens meanwhile: then only rxh_tick picks a
		 * verdict up, however soon it is ready) */
		if (!h->verify_nowait)
			rx_verify_poll(&h->c, 1);
		/* deterministic: as if written on this thread */
		rx_writer_idle(h->c.writer);
		rx_writer_poll(&h->c, NULL);
		release_written(h);
		release_jobs(h);
	}
	free(pad);
}

void rxh_send_hdr(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t,
		  const struct sl_xfer_hdr *hdr, unsigned pass)
{
	struct sl_xfer_hdr x = hdr ? *hdr : t->hdr;
	struct sl_wire_hdr wh = { .type = SL_T_XFER, .paylen = SL_XFER_BODY };
	uint8_t body[SL_XFER_BODY];

	x.pass = (uint16_t)pass;
	if (x.passes <= pass)
		x.passes = (uint16_t)(pass + 1);
	sl_xfer_hdr_encode(&x, body);
	memcpy(wh.xfer, t->id, 16);
	wh.pass = (uint16_t)pass;
	rxh_deliver(h, s, &wh, body, sizeof body);
}

void rxh_send_symbol(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t b,
		     unsigned row)
{
	struct sl_wire_hdr wh = { .type = SL_T_SYMBOL, .block = b, .row = (uint16_t)row,
				  .k = t->k[b], .m = 4, .paylen = t->symsize };
	uint8_t *par = NULL;
	const uint8_t *body;

	if (b >= t->nblocks || row > 254)
		return;
	if (row < t->k[b]) {
		body = t->blocks[b] + (size_t)row * t->symsize;
	} else {
		const uint8_t *data[255];
		unsigned rows[1] = { row };
		par = malloc(t->symsize);
		if (!par)
			return;
		for (unsigned i = 0; i < t->k[b]; i++)
			data[i] = t->blocks[b] + (size_t)i * t->symsize;
		if (sl_fec_encode(h->fec, t->k[b], t->symsize, data, 1, rows, &par) != SL_OK) {
			free(par);
			return;
		}
		body = par;
	}
	memcpy(wh.xfer, t->id, 16);
	rxh_deliver(h, s, &wh, body, t->symsize);
	free(par);
}

void rxh_send_block(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t b,
		    uint64_t skip, unsigned first_parity)
{
	unsigned lost = 0;

	for (unsigned r = 0; r < t->k[b]; r++) {
		if (r < 64 && (skip >> r & 1))
			lost++;
		else
			rxh_send_symbol(h, s, t, b, r);
	}
	for (unsigned i = 0; i < lost && first_parity + i < 255; i++)
		rxh_send_symbol(h, s, t, b, first_parity + i);
}

void rxh_send_blocks(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t from,
		     uint64_t to)
{
	for (uint64_t b = from; b < to; b++)
		rxh_send_block(h, s, t, b, 0, 0);
}

void rxh_send_all(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, unsigned pass)
{
	rxh_send_hdr(h, s, t, NULL, pass);
	rxh_send_blocks(h, s, t, 0, t->nblocks);
}

struct rx_xfer *rxh_send_catalog(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t)
{
	rxh_send_hdr(h, s, t, NULL, 0);
	rxh_send_blocks(h, s, t, 0, t->hdr.catalog_blocks);
	return rx_xfer_find(&h->c, t->id);
}

void rxh_send_hb(struct rxh *h, struct rxh_session *s, const uint8_t xfer[16], uint8_t state,
		 unsigned pass, unsigned passes)
{
	struct sl_heartbeat hb;
	struct sl_wire_hdr wh = { .type = SL_T_HEARTBEAT, .paylen = SL_HB_BODY };
	uint8_t body[SL_HB_BODY];

	memset(&hb, 0, sizeof hb);
	hb.time_ns = (uint64_t)time(NULL) * 1000000000ull;
	hb.interval_ms = 1000;
	hb.kmax = 16;
	hb.m = 4;
	hb.symsize = s->symsize;
	hb.interleave = s->interleave ? s->interleave : 1;
	hb.state = state;
	hb.pass = (uint16_t)pass;
	hb.passes = (uint16_t)passes;
	if (xfer)
		memcpy(hb.xfer, xfer, 16);
	snprintf(hb.sender, sizeof hb.sender, "rxh");
	sl_heartbeat_encode(&hb, body);
	if (xfer)
		memcpy(wh.xfer, xfer, 16);
	rxh_deliver(h, s, &wh, body, sizeof body);
}

uint8_t *rxh_pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; p && i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

int rxh_one_make(struct rxh *h, struct rxh_one *o, size_t n, unsigned seed, const struct rxh_opts *opts)
{
	struct rxh_file f;
	int r;

	memset(o, 0, sizeof *o);
	o->data = rxh_pattern(n, seed);
	o->n = n;
	if (!o->data)
		return SL_ERR_NOMEM;
	f = (struct rxh_file){ "f.bin", o->data, n };
	r = rxh_xfer_build(h, &f, 1, opts, &o->t);
	if (!r)
		r = rxh_session_new(h, o->t.symsize, &o->s);
	return r;
}

void rxh_one_free(struct rxh_one *o)
{
	rxh_session_free(&o->s);
	rxh_xfer_free(&o->t);
	free(o->data);
}

void rxh_tick(struct rxh *h, uint64_t ns)
{
	h->now += ns;
	rx_verify_poll(&h->c, !h->verify_nowait); /* as if verified on this thread */
	rx_writer_idle(h->c.writer); /* as if the chunks were written on this thread */
	rx_tick(&h->c, h->now, 0);
	/* its checkpoint done and what failed counted before the test looks */
	rx_writer_idle(h->c.writer);
	rx_writer_poll(&h->c, NULL);
	release_jobs(h);
}

void rxh_settle(struct rxh *h)
{
	rx_verify_poll(&h->c, 1); /* catalog verdicts first: then the tree opens */
	/* The hasher thread works in real time: give it up to 10 s. */
	for (int i = 0; i < 50000; i++) {
		int busy = 0;
		for (struct rx_xfer *x = h->c.xfers; x; x = x->next)
			if (x->state == RX_X_ACTIVE && x->catalog_ok && x->ndone == x->hdr.nchunks &&
			    !rx_hasher_finished(h->c.hasher, x))
				busy = 1;
		if (!busy)
			break;
		usleep(200);
	}
	rxh_tick(h, 1000000);
	/* A delta's copy from its base runs on a thread too: up to 10 s more,
	 * ticking so the release follows it. */
	for (int i = 0; i < 50000; i++) {
		int copying = 0;
		for (struct rx_xfer *x = h->c.xfers; x; x = x->next)
			copying |= x->basejob != NULL;
		if (!copying)
			break;
		usleep(200);
		rxh_tick(h, 1000);
	}
}

/* ---- looking at the result ---- */

int rxh_is_released(const struct rxh *h, const char *hex)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s/manifest", h->release, hex);
	return stat(p, &st) == 0;
}

int rxh_released_file_is(const struct rxh *h, const char *hex, const char *path, const uint8_t *data,
			 size_t len)
{
	char p[1024];
	uint8_t *buf;
	ssize_t n;
	int fd, ok;

	snprintf(p, sizeof p, "%s/%s/data/%s", h->release, hex, path);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	buf = malloc(len + 1);
	n = buf ? read(fd, buf, len + 1) : -1;
	close(fd);
	ok = n == (ssize_t)len && (len == 0 || memcmp(buf, data, len) == 0);
	free(buf);
	return ok;
}

unsigned rxh_audit_count(const struct rxh *h, const char *event, const char *hex)
{
	char p[512], line[4096], ev[64];
	unsigned n = 0;
	FILE *f;

	snprintf(p, sizeof p, "%s/audit.log", h->state);
	snprintf(ev, sizeof ev, " %s ", event);
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, ev) && (!hex || strstr(line, hex)))
			n++;
	fclose(f);
	return n;
}

static uint64_t du(int dirfd)
{
	int fd = dup(dirfd);
	DIR *dp = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	uint64_t sum = 0;

	if (!dp) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(dp))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				sum += du(sub);
				close(sub);
			}
		} else {
			sum += (uint64_t)st.st_blocks * 512;
		}
	}
	closedir(dp);
	return sum;
}

uint64_t rxh_staging_bytes(const struct rxh *h)
{
	char p[512];
	uint64_t sum = 0;
	int fd;

	snprintf(p, sizeof p, "%s/xfer", h->state);
	if ((fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		sum += du(fd);
		close(fd);
	}
	snprintf(p, sizeof p, "%s/release", h->state);
	if ((fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		sum += du(fd);
		close(fd);
	}
	return sum;
}

int rxh_quota_agrees(const struct rxh *h, char *why, size_t cap)
{
	uint64_t staged = 0, unvouched = 0;
	unsigned nstaged = 0, marked = 0;

	for (const struct rx_xfer *x = h->c.xfers; x; x = x->next) {
		staged += x->staged_bytes;
		unvouched += x->catalog_ok ? 0 : x->staged_bytes;
		nstaged += x->dirfd >= 0;
		marked += x->evicted != NULL;
	}
	snprintf(why, cap, "staged %llu (sum %llu), unvouched %llu (sum %llu), nstaged %u (count %u), "
		 "nevicting %u (marked %u)", (unsigned long long)h->c.staged_bytes,
		 (unsigned long long)staged, (unsigned long long)h->c.unvouched_bytes,
		 (unsigned long long)unvouched, h->c.nstaged, nstaged, h->c.nevicting, marked);
	return staged == h->c.staged_bytes && unvouched == h->c.unvouched_bytes &&
	       nstaged == h->c.nstaged && !h->c.nevicting && !marked;
}
