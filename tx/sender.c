/* sender.c — the transmit schedule of PROTOCOL.md §6 (see sender.h). */
#include "sender.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chunker.h"
#include "fec.h"
#include "link.h"
#include "pace.h"
#include "progress.h"
#include "proto.h"
#include "sha256.h"

#define BATCH 32
#define XFER_EVERY 256

struct blockref {
	uint64_t spool_off;   /* chunk blocks in the spool */
	uint32_t len;         /* payload length (record + stored) */
};

struct sender {
	const struct sl_send_cfg *cfg;
	const struct sl_source *src;
	struct sl_link *link;
	struct sl_wire_tx *wire;
	struct sl_fec *fec;
	struct sl_pacer pacer;
	struct sl_chunker *chunker;
	struct sl_progress prog;
	size_t dgsize;
	size_t wire_per_dg;
	unsigned pace_step;       /* datagrams per pacer wait */

	/* batch of sealed datagrams */
	uint8_t *batch;
	struct iovec iov[BATCH];
	unsigned nbatch;

	/* schedule */
	uint32_t chunk_size;
	uint64_t nchunks;
	uint32_t catalog_blocks;
	uint32_t piece;           /* catalog bytes per block */
	struct sl_xfer_hdr xh;
	unsigned pass;
	uint64_t blocks_sent;     /* in this pass */
	uint64_t since_xfer;
	uint64_t next_hb_ns;
	uint8_t hb_state;

	/* group buffers: D blocks */
	uint8_t *gdata;           /* D * kmax * symsize */
	uint8_t *gpar;            /* D * 255 * symsize */
	unsigned gk[256], gn[256], gm[256];
	uint16_t grows[256][255];

	int spool_fd;             /* -1 when there is one pass */
	uint64_t spool_end;
	struct blockref *refs;    /* nchunks */

	uint64_t start_ns;
	struct sl_send_result *res;
	struct sl_diag *d;
};

void sl_send_cfg_defaults(struct sl_send_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->suite = SL_SUITE_AES256GCM;
	c->passes = 1;
	c->overhead = 0.125;
	c->interleave = 16;
	c->symsize = 1396;
	c->kmax = 128;
	c->level = 1;
	c->heartbeat_ms = 1000;
	c->preamble = 32;
}

static int flush(struct sender *s)
{
	unsigned done = 0;

	if (s->nbatch == 0)
		return SL_OK;
	/* Pace in steps of at most half the bucket, so the tokens that build up
	 * while a sleep overshoots are kept, not spilled: the average rate then
	 * holds exactly while no burst exceeds the bucket. */
	while (done < s->nbatch) {
		unsigned step = s->nbatch - done, sent = 0;
		if (s->cfg->rate_bps) {
			if (step > s->pace_step)
				step = s->pace_step;
			sl_pacer_wait(&s->pacer, step * s->wire_per_dg);
		}
		while (sent < step) {
			int n = sl_link_send(s->link, s->iov + done + sent, step - sent, s->d);
			if (n < 0)
				return n;
			if (n == 0)
				return sl_diag_set(s->d, SL_ERR_IO, "link accepted no datagrams");
			sent += (unsigned)n;
		}
		done += step;
	}
	s->res->datagrams += s->nbatch;
	s->res->wire_bytes += s->nbatch * s->wire_per_dg;
	s->nbatch = 0;
	return SL_OK;
}

static int emit(struct sender *s, struct sl_wire_hdr *h, const uint8_t *body);
static unsigned parity_for(const struct sender *s, unsigned k, int catalog);

static void fill_heartbeat(struct sender *s, struct sl_heartbeat *hb, uint8_t state)
{
	struct timespec ts;

	memset(hb, 0, sizeof *hb);
	clock_gettime(CLOCK_REALTIME, &ts);
	hb->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	hb->interval_ms = s->cfg->heartbeat_ms;
	hb->rate_bps = s->cfg->rate_bps;
	hb->sent = sl_wire_tx_packets(s->wire);
	hb->kmax = s->cfg->kmax;
	hb->m = (uint16_t)parity_for(s, s->cfg->kmax, 0);
	hb->symsize = s->cfg->symsize;
	hb->interleave = (uint16_t)s->cfg->interleave;
	hb->state = state;
	hb->level = (uint8_t)s->cfg->level;
	hb->pass = (uint16_t)s->pass;
	hb->passes = (uint16_t)(s->cfg->first_pass + s->cfg->passes);
	memcpy(hb->xfer, s->src->id, 16);
	hb->xfer_sequence = s->src->sequence;
	hb->blocks_total = s->catalog_blocks + s->nchunks;
	hb->blocks_sent = s->blocks_sent > hb->blocks_total ? hb->blocks_total : s->blocks_sent;
	if (gethostname(hb->sender, sizeof hb->sender - 1) != 0)
		strcpy(hb->sender, "unknown");
	hb->sender[32] = '\0';
	for (char *p = hb->sender; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

static int send_heartbeat(struct sender *s, uint8_t state)
{
	struct sl_heartbeat hb;
	uint8_t body[SL_HB_BODY];
	struct sl_wire_hdr h = { .type = SL_T_HEARTBEAT, .paylen = SL_HB_BODY };

	fill_heartbeat(s, &hb, state);
	sl_heartbeat_encode(&hb, body);
	memcpy(h.xfer, s->src->id, 16);
	h.pass = (uint16_t)s->pass;
	s->next_hb_ns = sl_now_ns() + (uint64_t)s->cfg->heartbeat_ms * 1000000ull;
	return emit(s, &h, body);
}

static int send_xfer(struct sender *s)
{
	uint8_t body[SL_XFER_BODY];
	struct sl_wire_hdr h = { .type = SL_T_XFER, .paylen = SL_XFER_BODY };

	s->xh.pass = (uint16_t)s->pass;
	sl_xfer_hdr_encode(&s->xh, body);
	memcpy(h.xfer, s->src->id, 16);
	h.pass = (uint16_t)s->pass;
	s->since_xfer = 0;
	return emit(s, &h, body);
}

/* Seal one datagram into the batch; flush when full; interleave transfer
 * headers and heartbeats as the schedule requires. */
static int emit(struct sender *s, struct sl_wire_hdr *h, const uint8_t *body)
{
	int r = sl_wire_seal(s->wire, h, body, s->batch + (size_t)s->nbatch * s->dgsize);
	if (r)
		return sl_diag_set(s->d, r, "packet counter exhausted; restart the sender");
	s->nbatch++;
	s->since_xfer++;
	if (s->nbatch == BATCH) {
		uint64_t now;
		r = flush(s);
		if (r)
			return r;
		now = sl_now_ns();
		if (s->cfg->progress) {
			uint64_t nb = s->catalog_blocks + s->nchunks;
			uint64_t done = nb ? (uint64_t)((double)s->src->total_bytes *
							(double)s->blocks_sent / (double)nb) : 0;
			sl_progress_update(&s->prog, done, s->pass + 1,
					   s->cfg->first_pass + s->cfg->passes, now);
		}
		if (s->cfg->stop && *s->cfg->stop)
			return SL_ERR_AGAIN;
		if (h->type == SL_T_SYMBOL && now >= s->next_hb_ns) {
			r = send_heartbeat(s, s->hb_state);
			if (r)
				return r;
		}
	}
	if (h->type == SL_T_SYMBOL && s->since_xfer >= XFER_EVERY)
		return send_xfer(s);
	return SL_OK;
}

static unsigned parity_for(const struct sender *s, unsigned k, int catalog)
{
	unsigned m = catalog ? k : (unsigned)ceil(k * s->cfg->overhead - 1e-9);
	if (m < 1)
		m = 1;
	if (k + m > 255)
		m = 255 - k;
	return m;
}

/* Send the group of `count` blocks whose payloads are already in gdata,
 * with the rows of virtual pass vp. blocks[i] is the block number. */
static int send_group(struct sender *s, const uint64_t *blocks, unsigned count,
		      const unsigned *lens, unsigned vp, int catalog)
{
	size_t S = s->cfg->symsize;
	size_t bsz = (size_t)s->cfg->kmax * S;
	unsigned maxn = 0;
	int r;

	for (unsigned b = 0; b < count; b++) {
		uint8_t *data = s->gdata + b * bsz;
		const uint8_t *dptr[255];
		unsigned prow[255];
		uint8_t *pout[255];
		unsigned k = sl_block_k(lens[b] - SL_BLOCK_REC, (uint16_t)S);
		unsigned m = parity_for(s, k, catalog);
		unsigned n = k + m, np = 0;

		memset(data + lens[b], 0, k * S - lens[b]);
		s->gk[b] = k;
		s->gm[b] = m;
		s->gn[b] = n;
		for (unsigned j = 0; j < n; j++) {
			unsigned row = (unsigned)(((uint64_t)vp * n + j) % 255);
			s->grows[b][j] = (uint16_t)row;
			if (row >= k) {
				prow[np] = row;
				pout[np] = s->gpar + ((size_t)b * 255 + np) * S;
				np++;
			}
		}
		for (unsigned i = 0; i < k; i++)
			dptr[i] = data + i * S;
		if (np) {
			r = sl_fec_encode(s->fec, k, S, dptr, np, prow, pout);
			if (r)
				return sl_diag_set(s->d, r, "FEC encode failed (k=%u, %u rows)", k, np);
		}
		if (n > maxn)
			maxn = n;
	}
	/* Interleave: row j of every block, then row j+1. */
	for (unsigned j = 0; j < maxn; j++) {
		for (unsigned b = 0; b < count; b++) {
			struct sl_wire_hdr h = { .type = SL_T_SYMBOL };
			unsigned row, pidx = 0;
			const uint8_t *sym;

			if (j >= s->gn[b])
				continue;
			row = s->grows[b][j];
			if (row < s->gk[b]) {
				sym = s->gdata + b * bsz + (size_t)row * S;
			} else {
				for (unsigned t = 0; t < j; t++)
					if (s->grows[b][t] >= s->gk[b])
						pidx++;
				sym = s->gpar + ((size_t)b * 255 + pidx) * S;
			}
			memcpy(h.xfer, s->src->id, 16);
			h.block = blocks[b];
			h.row = (uint16_t)row;
			h.k = (uint16_t)s->gk[b];
			h.m = (uint16_t)s->gm[b];
			h.pass = (uint16_t)s->pass;
			h.paylen = (uint16_t)S;
			r = emit(s, &h, sym);
			if (r)
				return r;
		}
	}
	s->blocks_sent += count;
	return SL_OK;
}

static int send_catalog(struct sender *s, unsigned vp)
{
	size_t bsz = (size_t)s->cfg->kmax * s->cfg->symsize;
	uint64_t blocks[256];
	unsigned lens[256];
	unsigned count = 0;
	int r;

	for (uint32_t i = 0; i < s->catalog_blocks; i++) {
		uint8_t *p = s->gdata + count * bsz;
		uint64_t off = (uint64_t)i * s->piece;
		uint32_t len = (uint32_t)(s->src->catalog_len - off < s->piece ? s->src->catalog_len - off
									       : s->piece);
		struct sl_block_rec rec = { .kind = SL_BLK_CATALOG, .codec = SL_CODEC_RAW, .index = i,
					    .offset = off, .raw_len = len, .stored_len = len };
		sl_block_rec_encode(&rec, p);
		memcpy(p + SL_BLOCK_REC, s->src->catalog + off, len);
		blocks[count] = i;
		lens[count] = SL_BLOCK_REC + len;
		if (++count == s->cfg->interleave || i + 1 == s->catalog_blocks) {
			r = send_group(s, blocks, count, lens, vp, 1);
			if (r)
				return r;
			count = 0;
		}
	}
	return SL_OK;
}

static int spool_write(struct sender *s, uint64_t chunk, const uint8_t *p, size_t len)
{
	size_t done = 0;

	s->refs[chunk].spool_off = s->spool_end;
	s->refs[chunk].len = (uint32_t)len;
	while (done < len) {
		ssize_t n = pwrite(s->spool_fd, p + done, len - done, (off_t)(s->spool_end + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_diag_errno(s->d, "writing the compressed spool");
		done += (size_t)n;
	}
	s->spool_end += len;
	return SL_OK;
}

static int spool_read(struct sender *s, uint64_t chunk, uint8_t *p)
{
	size_t len = s->refs[chunk].len, done = 0;

	while (done < len) {
		ssize_t n = pread(s->spool_fd, p + done, len - done,
				  (off_t)(s->refs[chunk].spool_off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sl_diag_errno(s->d, "reading the compressed spool");
		done += (size_t)n;
	}
	return SL_OK;
}

static int send_chunks(struct sender *s, int produce)
{
	size_t bsz = (size_t)s->cfg->kmax * s->cfg->symsize;
	uint64_t blocks[256];
	unsigned lens[256];
	unsigned count = 0;
	int r;

	for (uint64_t c = 0; c < s->nchunks; c++) {
		uint8_t *p = s->gdata + count * bsz;
		if (produce) {
			size_t len;
			r = sl_chunker_next(s->chunker, c, p, &len, s->d);
			if (r)
				return r;
			if (s->spool_fd >= 0) {
				r = spool_write(s, c, p, len);
				if (r)
					return r;
			}
			lens[count] = (unsigned)len;
			s->res->raw_bytes += ((c + 1) * s->chunk_size > s->src->total_bytes
					      ? s->src->total_bytes - c * s->chunk_size : s->chunk_size);
		} else {
			r = spool_read(s, c, p);
			if (r)
				return r;
			lens[count] = s->refs[c].len;
		}
		blocks[count] = s->catalog_blocks + c;
		if (++count == s->cfg->interleave || c + 1 == s->nchunks) {
			r = send_group(s, blocks, count, lens, s->pass, 0);
			if (r)
				return r;
			count = 0;
		}
	}
	if (produce) {
		r = sl_chunker_finish(s->chunker, s->d);
		if (r)
			return r;
	}
	return SL_OK;
}

static void layout_id(const struct sender *s, uint8_t out[16])
{
	uint8_t buf[32 + 4 + 2 + 2 + 1 + 1 + 15], h[32];
	uint8_t *p = buf;

	memcpy(p, s->src->manifest_sha256, 32);
	p += 32;
	p[0] = (uint8_t)(s->chunk_size >> 24); p[1] = (uint8_t)(s->chunk_size >> 16);
	p[2] = (uint8_t)(s->chunk_size >> 8); p[3] = (uint8_t)s->chunk_size;
	p += 4;
	p[0] = (uint8_t)(s->cfg->kmax >> 8); p[1] = (uint8_t)s->cfg->kmax;
	p[2] = (uint8_t)(s->cfg->symsize >> 8); p[3] = (uint8_t)s->cfg->symsize;
	p += 4;
	p[0] = 1; /* codec */
	p[1] = (uint8_t)s->cfg->level;
	p += 2;
	memcpy(p, "sluice-layout-1", 15);
	sl_sha256(buf, sizeof buf, h);
	memcpy(out, h, 16);
}

static int run(struct sender *s)
{
	const struct sl_send_cfg *c = s->cfg;
	unsigned last = c->first_pass + c->passes;
	int r;

	s->hb_state = SL_HB_SENDING;
	for (unsigned i = 0; i < c->preamble; i++) {
		struct sl_wire_hdr h = { .type = SL_T_PREAMBLE, .paylen = 0 };
		r = emit(s, &h, (const uint8_t *)"");
		if (r)
			return r;
	}
	r = send_heartbeat(s, SL_HB_SENDING);
	if (r)
		return r;
	for (s->pass = c->first_pass; s->pass < last; s->pass++) {
		s->blocks_sent = 0;
		for (int i = 0; i < 3 && !r; i++)
			r = send_xfer(s);
		if (!r)
			r = send_catalog(s, 2 * s->pass);
		if (!r)
			r = send_chunks(s, s->pass == c->first_pass);
		if (!r)
			r = send_catalog(s, 2 * s->pass + 1);
		for (int i = 0; i < 3 && !r; i++)
			r = send_xfer(s);
		if (!r)
			r = send_heartbeat(s, SL_HB_PASS_DONE);
		if (r)
			return r;
		sl_log(c->log, SL_LOG_INFO, "pass %u of %u sent", s->pass + 1, last);
	}
	s->pass = last - 1;
	for (int i = 0; i < 3 && !r; i++)
		r = send_heartbeat(s, SL_HB_DONE);
	if (!r)
		r = flush(s);
	return r;
}

int sl_send(const struct sl_send_cfg *cfg, const struct sl_source *src,
	    struct sl_send_result *res, struct sl_diag *d)
{
	struct sender s;
	struct sl_link_opts lo = { 0 };
	uint64_t burst;
	int r;

	memset(res, 0, sizeof *res);
	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.src = src;
	s.res = res;
	s.d = d;
	s.spool_fd = -1;

	if (cfg->kmax < 1 || cfg->kmax > 254 || cfg->interleave < 1 || cfg->interleave > 256 ||
	    cfg->passes < 1 || cfg->first_pass + cfg->passes > 65535 || cfg->overhead < 0 ||
	    cfg->overhead > 10)
		return sl_diag_set(d, SL_ERR_INVAL, "invalid sender configuration");
	s.chunk_size = (uint32_t)cfg->kmax * cfg->symsize - SL_BLOCK_REC;
	s.nchunks = (src->total_bytes + s.chunk_size - 1) / s.chunk_size;
	s.piece = s.chunk_size;
	s.catalog_blocks = (uint32_t)((src->catalog_len + s.piece - 1) / s.piece);
	s.dgsize = sl_wire_dgram_size(cfg->symsize);
	s.wire_per_dg = sl_wire_bytes_udp(s.dgsize);

	memcpy(s.xh.manifest_sha256, src->manifest_sha256, 32);
	layout_id(&s, s.xh.layout);
	s.xh.sequence = src->sequence;
	s.xh.total_bytes = src->total_bytes;
	s.xh.nchunks = s.nchunks;
	s.xh.chunk_size = s.chunk_size;
	s.xh.catalog_len = (uint32_t)src->catalog_len;
	s.xh.catalog_blocks = s.catalog_blocks;
	s.xh.kmax = cfg->kmax;
	s.xh.passes = (uint16_t)(cfg->first_pass + cfg->passes);
	s.xh.codec = 1;
	s.xh.level = (uint8_t)cfg->level;

	burst = cfg->burst_bytes ? cfg->burst_bytes : 48 * 1024;
	if (burst < 2 * s.wire_per_dg)
		burst = 2 * s.wire_per_dg; /* at least two datagrams */
	s.pace_step = (unsigned)(burst / (2 * s.wire_per_dg));
	if (s.pace_step > BATCH)
		s.pace_step = BATCH;
	if (cfg->rate_bps && sl_pacer_init(&s.pacer, cfg->rate_bps, burst, sl_now_ns()) != 0)
		return sl_diag_set(d, SL_ERR_INVAL, "cannot pace at this rate and burst");

	s.batch = malloc(BATCH * s.dgsize);
	s.gdata = malloc((size_t)cfg->interleave * cfg->kmax * cfg->symsize);
	s.gpar = malloc((size_t)cfg->interleave * 255 * cfg->symsize);
	if (!s.batch || !s.gdata || !s.gpar) {
		r = SL_ERR_NOMEM;
		goto out;
	}
	for (unsigned i = 0; i < BATCH; i++) {
		s.iov[i].iov_base = s.batch + i * s.dgsize;
		s.iov[i].iov_len = s.dgsize;
	}
	r = sl_fec_new(&s.fec);
	if (r)
		goto out;
	r = sl_chunker_new(src, s.chunk_size, cfg->level, &s.chunker, d);
	if (r)
		goto out;
	if (cfg->passes > 1) {
		const char *dir = cfg->spool_dir ? cfg->spool_dir : (getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp");
		s.spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (s.spool_fd < 0) {
			r = sl_diag_errno(d, "cannot create the compressed spool in %s (set --spool DIR)", dir);
			goto out;
		}
		s.refs = calloc(s.nchunks ? s.nchunks : 1, sizeof *s.refs);
		if (!s.refs) {
			r = SL_ERR_NOMEM;
			goto out;
		}
	}
	r = sl_wire_tx_new(cfg->link_key, cfg->suite, cfg->symsize, &s.wire, d);
	if (r)
		goto out;
	res->session = sl_wire_tx_session(s.wire);
	lo.sockbuf = 0;
	r = sl_link_open_tx(cfg->link_uri, &lo, &s.link, d);
	if (r)
		goto out;
	sl_log(cfg->log, SL_LOG_INFO, "session %016llx: %s, %s, %zu-byte datagrams, k=%u m=%u D=%u",
	       (unsigned long long)res->session, sl_link_describe(s.link), sl_suite_name(cfg->suite),
	       s.dgsize, cfg->kmax, parity_for(&s, cfg->kmax, 0), cfg->interleave);

	s.start_ns = sl_now_ns();
	if (cfg->progress)
		sl_progress_start(&s.prog, src->total_bytes, s.start_ns);
	res->blocks = s.catalog_blocks + s.nchunks;
	r = run(&s);
	if (r == SL_ERR_AGAIN || (r && s.link && s.wire)) {
		/* Interrupted or failed: tell the receiver, best effort. */
		struct sl_diag ignore;
		struct sl_diag *saved = s.d;
		int stopped = r == SL_ERR_AGAIN;
		s.d = &ignore;
		s.nbatch = 0;
		for (int i = 0; i < 3; i++)
			if (send_heartbeat(&s, SL_HB_ABORTED))
				break;
		flush(&s);
		s.d = saved;
		if (stopped)
			sl_diag_set(d, SL_ERR_AGAIN, "interrupted; the receiver was told the transfer stopped");
	}
	if (s.link) {
		int fr = sl_link_flush(s.link, r ? NULL : d);
		if (!r)
			r = fr;
	}
	res->seconds = (double)(sl_now_ns() - s.start_ns) / 1e9;
	sl_chunker_totals(s.chunker, &res->raw_bytes, &res->stored_bytes, &(uint64_t){ 0 });
	if (cfg->progress)
		sl_progress_end(&s.prog);
out:
	sl_link_close(s.link);
	sl_wire_tx_free(s.wire);
	sl_chunker_free(s.chunker);
	sl_fec_free(s.fec);
	if (s.spool_fd >= 0)
		close(s.spool_fd);
	free(s.refs);
	free(s.batch);
	free(s.gdata);
	free(s.gpar);
	return r;
}
