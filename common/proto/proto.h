/* proto.h — the bodies carried inside sluice datagrams and FEC blocks.
 *
 * Contract (normative text: common/PROTOCOL.md, "Bodies"): encoders write a
 * fixed layout; decoders check every field against its range and against
 * the sizes they were given, and return SL_ERR_PARSE on anything else. None
 * of them allocate from a size they read.
 */
#ifndef SL_PROTO_H
#define SL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* --- transfer header (SL_T_XFER body) --- */
#define SL_XFER_BODY 112
struct sl_xfer_hdr {
	uint8_t manifest_sha256[32]; /* SHA-256 of the manifest bytes */
	uint8_t layout[16];          /* identifies the block encoding (see PROTOCOL.md) */
	uint64_t sequence;           /* the manifest's sequence (informational) */
	uint64_t total_bytes;        /* sum of file sizes = length of the stream */
	uint64_t nchunks;            /* ceil(total_bytes / chunk_size) */
	uint32_t chunk_size;         /* raw bytes per chunk (last may be shorter) */
	uint32_t catalog_len;        /* bytes of the catalog */
	uint32_t catalog_blocks;     /* blocks 0..catalog_blocks-1 carry the catalog */
	uint16_t kmax;               /* data symbols per full block */
	uint16_t pass;               /* this pass, from 0 */
	uint16_t passes;             /* passes planned by the sender */
	uint8_t codec;               /* 1 = zstd (chunks may still be stored raw) */
	uint8_t level;               /* zstd level used */
};
void sl_xfer_hdr_encode(const struct sl_xfer_hdr *x, uint8_t out[SL_XFER_BODY]);
/* Chunks of chunk_size (> 0) bytes that hold total bytes, without overflow. */
static inline uint64_t sl_chunks_of(uint64_t total, uint32_t chunk_size)
{
	return total / chunk_size + (total % chunk_size != 0);
}
int sl_xfer_hdr_decode(const uint8_t *b, size_t len, struct sl_xfer_hdr *x);

/* --- heartbeat (SL_T_HEARTBEAT body) --- */
#define SL_HB_BODY 128
enum sl_hb_state { SL_HB_IDLE = 0, SL_HB_SENDING = 1, SL_HB_PASS_DONE = 2, SL_HB_DONE = 3,
		   SL_HB_ABORTED = 4 };
struct sl_heartbeat {
	uint64_t time_ns;        /* sender's CLOCK_REALTIME */
	uint64_t interval_ms;    /* next heartbeat expected within this */
	uint64_t rate_bps;       /* configured wire rate, 0 = unlimited */
	uint64_t sent;           /* datagrams sent in this session before this one */
	uint16_t kmax, m, symsize, interleave;
	uint8_t state;           /* enum sl_hb_state */
	uint8_t level;
	uint16_t pass, passes;
	uint8_t xfer[16];        /* current or last transfer (zero: none yet) */
	uint64_t xfer_sequence;  /* its manifest sequence */
	uint64_t blocks_sent;    /* blocks of the current pass sent so far */
	uint64_t blocks_total;
	char sender[33];         /* sender's host name, NUL-terminated, printable ASCII */
};
/* Fill h->sender with this host's name, made printable ASCII. */
void sl_heartbeat_set_sender(struct sl_heartbeat *h);
void sl_heartbeat_encode(const struct sl_heartbeat *h, uint8_t out[SL_HB_BODY]);
int sl_heartbeat_decode(const uint8_t *b, size_t len, struct sl_heartbeat *h);

/* --- block record: the first SL_BLOCK_REC bytes of every block's data --- */
#define SL_BLOCK_REC 32
enum sl_block_kind { SL_BLK_CATALOG = 1, SL_BLK_CHUNK = 2 };
enum sl_block_codec { SL_CODEC_RAW = 0, SL_CODEC_ZSTD = 1 };
struct sl_block_rec {
	uint8_t kind;       /* enum sl_block_kind */
	uint8_t codec;      /* enum sl_block_codec */
	uint64_t index;     /* catalog piece or chunk index */
	uint64_t offset;    /* byte offset of this piece in the catalog or the stream */
	uint32_t raw_len;   /* bytes after decoding */
	uint32_t stored_len;/* bytes that follow the record in the block */
};
void sl_block_rec_encode(const struct sl_block_rec *r, uint8_t out[SL_BLOCK_REC]);
/* Checks the record against the block's capacity (k * symsize). */
int sl_block_rec_decode(const uint8_t *b, size_t block_bytes, struct sl_block_rec *r);
/* Data symbols needed for a block whose record says stored_len. */
unsigned sl_block_k(uint32_t stored_len, uint16_t symsize);

/* Catalog bytes carried by one catalog block: half a full block, so that a
 * catalog block with 100% parity still has k + m <= kmax (PROTOCOL.md §5.2). */
uint32_t sl_catalog_piece(uint16_t kmax, uint16_t symsize);

/* --- catalog: the manifest and its signature files, as one byte string --- */
#define SL_CATALOG_MAX_ENTRIES 64
#define SL_CATALOG_NAME_MAX 128
struct sl_catalog_entry {
	char name[SL_CATALOG_NAME_MAX + 1];
	const uint8_t *data; /* points into the catalog bytes */
	uint32_t len;
};
struct sl_catalog {
	unsigned n;
	struct sl_catalog_entry e[SL_CATALOG_MAX_ENTRIES];
};
/* Serialised size of n entries with the given names and lengths. */
size_t sl_catalog_size(unsigned n, const char *const *names, const uint32_t *lens);
/* Write into out (sl_catalog_size bytes). */
void sl_catalog_encode(unsigned n, const char *const *names, const uint8_t *const *data,
		       const uint32_t *lens, uint8_t *out);
/* Parse; entry names are only checked to be printable ASCII without '/',
 * and unique; the first entry must be "manifest". */
int sl_catalog_decode(const uint8_t *b, size_t len, struct sl_catalog *c, struct sl_diag *d);

#endif
