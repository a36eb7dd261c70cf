/* proto.c — encode/decode of datagram and block bodies (see proto.h). */
#include "proto.h"
#include "bytes.h"

#include <string.h>
#include <unistd.h>

void sl_xfer_hdr_encode(const struct sl_xfer_hdr *x, uint8_t o[SL_XFER_BODY])
{
	memset(o, 0, SL_XFER_BODY);
	memcpy(o, x->manifest_sha256, 32);
	memcpy(o + 32, x->layout, 16);
	sl_put_be64(o + 48, x->sequence);
	sl_put_be64(o + 56, x->total_bytes);
	sl_put_be64(o + 64, x->nchunks);
	sl_put_be32(o + 72, x->chunk_size);
	sl_put_be32(o + 76, x->catalog_len);
	sl_put_be32(o + 80, x->catalog_blocks);
	sl_put_be16(o + 84, x->kmax);
	sl_put_be16(o + 86, x->pass);
	sl_put_be16(o + 88, x->passes);
	o[90] = x->codec;
	o[91] = x->level;
}

int sl_xfer_hdr_decode(const uint8_t *b, size_t len, struct sl_xfer_hdr *x)
{
	if (len != SL_XFER_BODY)
		return SL_ERR_PARSE;
	for (size_t i = 92; i < SL_XFER_BODY; i++)
		if (b[i])
			return SL_ERR_PARSE;
	memcpy(x->manifest_sha256, b, 32);
	memcpy(x->layout, b + 32, 16);
	x->sequence = sl_get_be64(b + 48);
	x->total_bytes = sl_get_be64(b + 56);
	x->nchunks = sl_get_be64(b + 64);
	x->chunk_size = sl_get_be32(b + 72);
	x->catalog_len = sl_get_be32(b + 76);
	x->catalog_blocks = sl_get_be32(b + 80);
	x->kmax = sl_get_be16(b + 84);
	x->pass = sl_get_be16(b + 86);
	x->passes = sl_get_be16(b + 88);
	x->codec = b[90];
	x->level = b[91];
	if (x->chunk_size == 0 || x->kmax < 1 || x->kmax > 254 || x->codec != 1 ||
	    x->catalog_len == 0 || x->catalog_blocks == 0 || x->catalog_blocks > x->catalog_len ||
	    x->passes == 0 || x->pass >= x->passes)
		return SL_ERR_PARSE;
	if (x->nchunks != sl_chunks_of(x->total_bytes, x->chunk_size))
		return SL_ERR_PARSE;
	return SL_OK;
}

void sl_heartbeat_set_sender(struct sl_heartbeat *h)
{
	memset(h->sender, 0, sizeof h->sender);
	if (gethostname(h->sender, sizeof h->sender - 1) != 0)
		strcpy(h->sender, "unknown");
	for (char *p = h->sender; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

void sl_heartbeat_encode(const struct sl_heartbeat *h, uint8_t o[SL_HB_BODY])
{
	memset(o, 0, SL_HB_BODY);
	sl_put_be64(o, h->time_ns);
	sl_put_be64(o + 8, h->interval_ms);
	sl_put_be64(o + 16, h->rate_bps);
	sl_put_be64(o + 24, h->sent);
	sl_put_be16(o + 32, h->kmax);
	sl_put_be16(o + 34, h->m);
	sl_put_be16(o + 36, h->symsize);
	sl_put_be16(o + 38, h->interleave);
	o[40] = h->state;
	o[41] = h->level;
	sl_put_be16(o + 42, h->pass);
	sl_put_be16(o + 44, h->passes);
	memcpy(o + 46, h->xfer, 16);
	sl_put_be64(o + 62, h->xfer_sequence);
	sl_put_be64(o + 70, h->blocks_sent);
	sl_put_be64(o + 78, h->blocks_total);
	memcpy(o + 86, h->sender, strnlen(h->sender, 32));
}

int sl_heartbeat_decode(const uint8_t *b, size_t len, struct sl_heartbeat *h)
{
	size_t i;

	if (len != SL_HB_BODY)
		return SL_ERR_PARSE;
	memset(h, 0, sizeof *h);
	h->time_ns = sl_get_be64(b);
	h->interval_ms = sl_get_be64(b + 8);
	h->rate_bps = sl_get_be64(b + 16);
	h->sent = sl_get_be64(b + 24);
	h->kmax = sl_get_be16(b + 32);
	h->m = sl_get_be16(b + 34);
	h->symsize = sl_get_be16(b + 36);
	h->interleave = sl_get_be16(b + 38);
	h->state = b[40];
	h->level = b[41];
	h->pass = sl_get_be16(b + 42);
	h->passes = sl_get_be16(b + 44);
	memcpy(h->xfer, b + 46, 16);
	h->xfer_sequence = sl_get_be64(b + 62);
	h->blocks_sent = sl_get_be64(b + 70);
	h->blocks_total = sl_get_be64(b + 78);
	for (i = 0; i < 32 && b[86 + i]; i++) {
		if (b[86 + i] < 0x21 || b[86 + i] > 0x7e)
			return SL_ERR_PARSE;
		h->sender[i] = (char)b[86 + i];
	}
	for (; i < 32; i++)
		if (b[86 + i])
			return SL_ERR_PARSE;
	for (i = 118; i < SL_HB_BODY; i++)
		if (b[i])
			return SL_ERR_PARSE;
	if (h->state > SL_HB_ABORTED || h->interval_ms == 0 || h->interval_ms > 3600000 ||
	    h->kmax > 254 || h->blocks_sent > h->blocks_total)
		return SL_ERR_PARSE;
	return SL_OK;
}

#define BLK_MAGIC 0x534C424Bu /* "SLBK" */

void sl_block_rec_encode(const struct sl_block_rec *r, uint8_t o[SL_BLOCK_REC])
{
	memset(o, 0, SL_BLOCK_REC);
	sl_put_be32(o, BLK_MAGIC);
	o[4] = r->kind;
	o[5] = r->codec;
	sl_put_be64(o + 8, r->index);
	sl_put_be64(o + 16, r->offset);
	sl_put_be32(o + 24, r->raw_len);
	sl_put_be32(o + 28, r->stored_len);
}

int sl_block_rec_decode(const uint8_t *b, size_t block_bytes, struct sl_block_rec *r)
{
	if (block_bytes < SL_BLOCK_REC || sl_get_be32(b) != BLK_MAGIC || b[6] || b[7])
		return SL_ERR_PARSE;
	r->kind = b[4];
	r->codec = b[5];
	r->index = sl_get_be64(b + 8);
	r->offset = sl_get_be64(b + 16);
	r->raw_len = sl_get_be32(b + 24);
	r->stored_len = sl_get_be32(b + 28);
	if (r->kind != SL_BLK_CATALOG && r->kind != SL_BLK_CHUNK)
		return SL_ERR_PARSE;
	if (r->codec != SL_CODEC_RAW && r->codec != SL_CODEC_ZSTD)
		return SL_ERR_PARSE;
	if (r->kind == SL_BLK_CATALOG && r->codec != SL_CODEC_RAW)
		return SL_ERR_PARSE;
	if (r->stored_len > block_bytes - SL_BLOCK_REC || r->raw_len == 0)
		return SL_ERR_PARSE;
	if (r->codec == SL_CODEC_RAW && r->raw_len != r->stored_len)
		return SL_ERR_PARSE;
	/* The rest of the block is zero padding, which must really be zero. */
	for (size_t i = SL_BLOCK_REC + r->stored_len; i < block_bytes; i++)
		if (b[i])
			return SL_ERR_PARSE;
	return SL_OK;
}

unsigned sl_block_k(uint32_t stored_len, uint16_t symsize)
{
	return (unsigned)(((uint64_t)SL_BLOCK_REC + stored_len + symsize - 1) / symsize);
}

uint32_t sl_catalog_piece(uint16_t kmax, uint16_t symsize)
{
	unsigned half = kmax / 2 ? kmax / 2 : 1;
	return (uint32_t)half * symsize - SL_BLOCK_REC;
}

#define CAT_MAGIC 0x534C4354u /* "SLCT" */

size_t sl_catalog_size(unsigned n, const char *const *names, const uint32_t *lens)
{
	size_t s = 8;
	for (unsigned i = 0; i < n; i++)
		s += 2 + strlen(names[i]) + 4 + lens[i];
	return s;
}

void sl_catalog_encode(unsigned n, const char *const *names, const uint8_t *const *data,
		       const uint32_t *lens, uint8_t *o)
{
	sl_put_be32(o, CAT_MAGIC);
	sl_put_be32(o + 4, n);
	o += 8;
	for (unsigned i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		sl_put_be16(o, (uint16_t)nl);
		memcpy(o + 2, names[i], nl);
		o += 2 + nl;
		sl_put_be32(o, lens[i]);
		memcpy(o + 4, data[i], lens[i]);
		o += 4 + lens[i];
	}
}

int sl_catalog_decode(const uint8_t *b, size_t len, struct sl_catalog *c, struct sl_diag *d)
{
	size_t pos = 8;
	uint32_t n;

	c->n = 0;
	if (len < 8 || sl_get_be32(b) != CAT_MAGIC)
		return sl_diag_set(d, SL_ERR_PARSE, "catalog: bad magic");
	n = sl_get_be32(b + 4);
	if (n < 1 || n > SL_CATALOG_MAX_ENTRIES)
		return sl_diag_set(d, SL_ERR_PARSE, "catalog: %u entries (1..%u allowed)", n,
				   SL_CATALOG_MAX_ENTRIES);
	for (uint32_t i = 0; i < n; i++) {
		struct sl_catalog_entry *e = &c->e[i];
		uint16_t nl;
		uint32_t dl;

		if (len - pos < 2)
			return sl_diag_set(d, SL_ERR_PARSE, "catalog: truncated at entry %u", i);
		nl = sl_get_be16(b + pos);
		pos += 2;
		if (nl == 0 || nl > SL_CATALOG_NAME_MAX || len - pos < (size_t)nl + 4)
			return sl_diag_set(d, SL_ERR_PARSE, "catalog: entry %u: bad name length %u", i, nl);
		for (uint16_t j = 0; j < nl; j++) {
			uint8_t ch = b[pos + j];
			if (ch < 0x21 || ch > 0x7e || ch == '/' || ch == '\\')
				return sl_diag_set(d, SL_ERR_PARSE, "catalog: entry %u: name has a forbidden byte", i);
		}
		memcpy(e->name, b + pos, nl);
		e->name[nl] = '\0';
		pos += nl;
		dl = sl_get_be32(b + pos);
		pos += 4;
		if (len - pos < dl)
			return sl_diag_set(d, SL_ERR_PARSE, "catalog: entry '%s' truncated", e->name);
		e->data = b + pos;
		e->len = dl;
		pos += dl;
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(c->e[j].name, e->name))
				return sl_diag_set(d, SL_ERR_PARSE, "catalog: entry '%s' appears twice", e->name);
		c->n = i + 1;
	}
	if (pos != len)
		return sl_diag_set(d, SL_ERR_PARSE, "catalog: %zu trailing bytes", len - pos);
	if (strcmp(c->e[0].name, "manifest") != 0)
		return sl_diag_set(d, SL_ERR_PARSE, "catalog: first entry is '%s', expected 'manifest'",
				   c->e[0].name);
	return SL_OK;
}
