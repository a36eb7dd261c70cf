/* proto.c — encode/decode of datagram and block bodies (see proto.h). */
#include "proto.h"
#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

/* A body's fields, each written once for both directions: its offset,
 * the member it holds and that member's size: a big-endian integer of 1, 2,
 * 4 or 8 bytes, or (raw) the member's bytes as they are. A member whose
 * type changes changes the wire: tests/unit/test_proto_layout.c pins the
 * bytes to PROTOCOL.md's tables. */
struct field {
	uint8_t off, size;
	uint16_t at;
	bool raw;
};
#define INT(T, m, o) { (o), sizeof(((T *)0)->m), offsetof(T, m), false }
#define RAW(T, m, o) { (o), sizeof(((T *)0)->m), offsetof(T, m), true }

static void put_fields(uint8_t *o, const void *s, const struct field *f, size_t n)
{
	for (; n--; f++) {
		const uint8_t *p = (const uint8_t *)s + f->at;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;

		switch (f->raw ? 0 : f->size) {
		case 1: memcpy(&u8, p, 1); o[f->off] = u8; break;
		case 2: memcpy(&u16, p, 2); sl_put_be16(o + f->off, u16); break;
		case 4: memcpy(&u32, p, 4); sl_put_be32(o + f->off, u32); break;
		case 8: memcpy(&u64, p, 8); sl_put_be64(o + f->off, u64); break;
		default: memcpy(o + f->off, p, f->size); break;
		}
	}
}

static void get_fields(const uint8_t *b, void *s, const struct field *f, size_t n)
{
	for (; n--; f++) {
		uint8_t *p = (uint8_t *)s + f->at;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;

		switch (f->raw ? 0 : f->size) {
		case 1: *p = b[f->off]; break;
		case 2: u16 = sl_get_be16(b + f->off); memcpy(p, &u16, 2); break;
		case 4: u32 = sl_get_be32(b + f->off); memcpy(p, &u32, 4); break;
		case 8: u64 = sl_get_be64(b + f->off); memcpy(p, &u64, 8); break;
		default: memcpy(p, b + f->off, f->size); break;
		}
	}
}

static bool all_zero(const uint8_t *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i])
			return false;
	return true;
}

#define NFIELDS(t) (sizeof t / sizeof t[0])

/* PROTOCOL.md §4; bytes 92.. are zero. */
static const struct field xfer_fields[] = {
	RAW(struct sl_xfer_hdr, manifest_sha256, 0), RAW(struct sl_xfer_hdr, layout, 32),
	INT(struct sl_xfer_hdr, sequence, 48), INT(struct sl_xfer_hdr, total_bytes, 56),
	INT(struct sl_xfer_hdr, nchunks, 64), INT(struct sl_xfer_hdr, chunk_size, 72),
	INT(struct sl_xfer_hdr, catalog_len, 76), INT(struct sl_xfer_hdr, catalog_blocks, 80),
	INT(struct sl_xfer_hdr, kmax, 84), INT(struct sl_xfer_hdr, pass, 86),
	INT(struct sl_xfer_hdr, passes, 88), INT(struct sl_xfer_hdr, codec, 90),
	INT(struct sl_xfer_hdr, level, 91),
};

void sl_xfer_hdr_encode(const struct sl_xfer_hdr *x, uint8_t o[SL_XFER_BODY])
{
	memset(o, 0, SL_XFER_BODY);
	put_fields(o, x, xfer_fields, NFIELDS(xfer_fields));
}

int sl_xfer_hdr_decode(const uint8_t *b, size_t len, struct sl_xfer_hdr *x)
{
	if (len != SL_XFER_BODY || !all_zero(b, 92, SL_XFER_BODY))
		return SL_ERR_PARSE;
	get_fields(b, x, xfer_fields, NFIELDS(xfer_fields));
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

/* PROTOCOL.md §3; the sender's name at 86..117 (printable, zero-padded),
 * bytes 118.. zero. */
static const struct field hb_fields[] = {
	INT(struct sl_heartbeat, time_ns, 0), INT(struct sl_heartbeat, interval_ms, 8),
	INT(struct sl_heartbeat, rate_bps, 16), INT(struct sl_heartbeat, sent, 24),
	INT(struct sl_heartbeat, kmax, 32), INT(struct sl_heartbeat, m, 34),
	INT(struct sl_heartbeat, symsize, 36), INT(struct sl_heartbeat, interleave, 38),
	INT(struct sl_heartbeat, state, 40), INT(struct sl_heartbeat, level, 41),
	INT(struct sl_heartbeat, pass, 42), INT(struct sl_heartbeat, passes, 44),
	RAW(struct sl_heartbeat, xfer, 46), INT(struct sl_heartbeat, xfer_sequence, 62),
	INT(struct sl_heartbeat, blocks_sent, 70), INT(struct sl_heartbeat, blocks_total, 78),
};

void sl_heartbeat_encode(const struct sl_heartbeat *h, uint8_t o[SL_HB_BODY])
{
	memset(o, 0, SL_HB_BODY);
	put_fields(o, h, hb_fields, NFIELDS(hb_fields));
	memcpy(o + 86, h->sender, strnlen(h->sender, 32));
}

int sl_heartbeat_decode(const uint8_t *b, size_t len, struct sl_heartbeat *h)
{
	size_t i;

	if (len != SL_HB_BODY)
		return SL_ERR_PARSE;
	memset(h, 0, sizeof *h);
	get_fields(b, h, hb_fields, NFIELDS(hb_fields));
	for (i = 0; i < 32 && b[86 + i]; i++) {
		if (b[86 + i] < 0x21 || b[86 + i] > 0x7e)
			return SL_ERR_PARSE;
		h->sender[i] = (char)b[86 + i];
	}
	if (!all_zero(b, 86 + i, SL_HB_BODY))
		return SL_ERR_PARSE;
	if (h->state > SL_HB_ABORTED || h->interval_ms == 0 || h->interval_ms > 3600000 ||
	    h->kmax > 254 || h->blocks_sent > h->blocks_total)
		return SL_ERR_PARSE;
	return SL_OK;
}

#define BLK_MAGIC 0x534C424Bu /* "SLBK" */

/* PROTOCOL.md §5; the magic at 0, bytes 6 and 7 zero. */
static const struct field blk_fields[] = {
	INT(struct sl_block_rec, kind, 4), INT(struct sl_block_rec, codec, 5),
	INT(struct sl_block_rec, index, 8), INT(struct sl_block_rec, offset, 16),
	INT(struct sl_block_rec, raw_len, 24), INT(struct sl_block_rec, stored_len, 28),
};

void sl_block_rec_encode(const struct sl_block_rec *r, uint8_t o[SL_BLOCK_REC])
{
	memset(o, 0, SL_BLOCK_REC);
	sl_put_be32(o, BLK_MAGIC);
	put_fields(o, r, blk_fields, NFIELDS(blk_fields));
}

int sl_block_rec_decode(const uint8_t *b, size_t block_bytes, struct sl_block_rec *r)
{
	if (block_bytes < SL_BLOCK_REC || sl_get_be32(b) != BLK_MAGIC || b[6] || b[7])
		return SL_ERR_PARSE;
	get_fields(b, r, blk_fields, NFIELDS(blk_fields));
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
	return all_zero(b, SL_BLOCK_REC + r->stored_len, block_bytes) ? SL_OK : SL_ERR_PARSE;
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
