/* producer.h — the sender's producer thread: datagrams sealed and in order.
 *
 * Contract. tx_producer_start() runs the schedule of PROTOCOL.md §6 in its
 * own thread: per pass, the catalog blocks, the chunk blocks in groups of D,
 * the catalog blocks again; each group read (first pass: from the files
 * through the chunker, which re-hashes and compresses once; later passes:
 * from a private spool file), FEC-encoded for the rows of its pass, laid
 * out in send order and sealed, and queued. The sending thread takes
 * events in order with tx_producer_next(), puts their datagrams on the
 * wire and gives each back with tx_producer_release(). A small fixed ring
 * of group buffers (allocated once: nothing per datagram) bounds memory and
 * lets reading, compression, FEC and sealing run while the previous group
 * is on the wire, so pacing is not held up.
 *
 * Packet numbers are positions in the schedule: the producer hands them out
 * from one counter in send order (the sender's preamble and first heartbeat
 * take 0 .. cfg.first_packet - 1), so datagram i of an event carries
 * first_packet + i, every number is used once, and numbers only increase
 * on the wire. Within a group the order is row j of every block, then row
 * j + 1 (PROTOCOL.md §6), with control slots among the symbols: a
 * transfer-header slot after every TX_XFER_EVERY datagrams (the sender puts
 * a heartbeat there instead when one is due) and, with cfg.hb_every, a
 * heartbeat slot after every hb_every datagrams (so heartbeats keep coming
 * at low rates, where 256 datagrams take longer than the interval). The
 * sender fills and seals the control slots when it sends them; every
 * symbol arrives sealed.
 *
 * Within a group, the files that lie whole in one of its chunks (small
 * files) are opened, read, hashed and checked by the producer thread and
 * the helpers together (chunker.h, tx_chunker_load; in io_uring batches
 * with cfg.small_uring); pieces of larger files are read and hashed in
 * order by the producer thread, which also takes every file's result in
 * order. Compression, FEC and sealing of the group's blocks are shared
 * with up to 3 helper threads (cfg.threads; each with its own zstd, FEC,
 * SHA-256 and sealing context). A repair pass (cfg.repair, from a repair code) runs
 * the same schedule for one pass but gives each block only the rows the
 * code asks for: a block sends rows (pass·n + j) mod 255 for j < lacked +
 * margin% + TX_REPAIR_EXTRA (the rows a full pass numbered `pass` would
 * start with: new rows), and a block the code does not list sends nothing.
 */
#ifndef TX_PRODUCER_H
#define TX_PRODUCER_H

#include <stdint.h>
#include "error.h"
#include "repair.h"
#include "source.h"
#include "uring_io.h"
#include "wire.h"

enum tx_ev { TX_EV_GROUP = 1, TX_EV_PASS_START, TX_EV_PASS_END, TX_EV_END, TX_EV_ERROR };

/* A datagram the sender makes itself, when it sends it (the producer only
 * gives it its number). */
enum tx_ctl {
	TX_CTL_XFER = 1,     /* transfer header */
	TX_CTL_XFER_OR_HB,   /* transfer header, or a heartbeat (sending) when one is due */
	TX_CTL_HB,           /* heartbeat, state sending */
	TX_CTL_HB_PASS_DONE, /* heartbeat, state pass done */
	TX_CTL_HB_DONE,      /* heartbeat, state done */
};

struct tx_ctl_slot {
	uint32_t at;                     /* datagram index in its event */
	uint8_t kind;                    /* enum tx_ctl */
};

#define TX_GROUP_MAX 256
#define TX_XFER_EVERY 256            /* a transfer-header slot per this many datagrams */

/* One event of the schedule. PASS_START: 3 transfer headers; PASS_END: 3
 * transfer headers and a heartbeat (pass done); END: 3 heartbeats (done);
 * GROUP: the blocks' symbols and control slots; ERROR: nothing. */
struct tx_group {
	enum tx_ev ev;
	unsigned pass;                   /* pass number of the event */
	int catalog;                     /* catalog blocks */
	unsigned count;                  /* blocks in the group */
	uint64_t first_packet;           /* datagram i has packet number first_packet + i */
	unsigned ndg;                    /* datagrams of the event */
	uint8_t *dg;                     /* ndg datagrams, cfg.dgsize apart: symbols sealed,
					  * control slots for the sender to fill */
	struct tx_ctl_slot *ctl;         /* the control slots, in order */
	unsigned nctl;
	/* the producer's own, per block */
	uint64_t blocks[TX_GROUP_MAX];
	uint16_t k[TX_GROUP_MAX], m[TX_GROUP_MAX], n[TX_GROUP_MAX];
	uint16_t rows[TX_GROUP_MAX][255];/* row sent as the j-th symbol of block b */
	uint32_t pos[TX_GROUP_MAX][255]; /* and its datagram index */
	uint8_t *data;                   /* count * kmax * symsize */
};

struct tx_producer_cfg {
	const struct tx_source *src;
	uint32_t chunk_size;             /* raw bytes per chunk */
	uint32_t piece;                  /* catalog bytes per catalog block */
	uint32_t catalog_blocks;
	uint64_t nchunks;
	uint16_t kmax, symsize;
	unsigned interleave;
	double overhead;
	int level;
	unsigned first_pass, passes;
	const char *spool_dir;
	unsigned threads;                /* compression, FEC and sealing threads, 0: one per core (<= 4) */
	int small_uring;                 /* files that lie whole in a chunk: read in io_uring
					  * batches by the workers (fileload.h) where io_uring can
					  * be set up; 0: open, fstat, preadv, close each */
	enum sl_uio_mode file_io;        /* file reads: pread, or io_uring into the registered
					  * group buffers, a group's chunks read ahead */
	const struct sl_repair *repair;  /* non-NULL: one pass (first_pass) of only the blocks
					  * it lists, each with the rows it lacks plus the margin,
					  * the catalog in the pass's first catalog round only */
	unsigned repair_margin;          /* percent of the rows lacked, added to each */
	const struct sl_wire_tx *wire;   /* the session: each worker seals with a clone */
	const uint8_t *link_key;         /* its link key (NULL: unkeyed) */
	uint64_t first_packet;           /* the first number the producer hands out */
	unsigned hb_every;               /* a heartbeat slot per this many datagrams; 0: none */
};

struct tx_producer;

/* Rows added to every repaired block besides the margin (nothing confirms
 * that a repair arrived: a block that lacks one row gets 1 + 1 + 4). */
#define TX_REPAIR_EXTRA 4

/* Parity rows per pass for a block of k data symbols (PROTOCOL.md §6). */
unsigned tx_parity_for(double overhead, unsigned k, unsigned kmax, int catalog);

int tx_producer_start(const struct tx_producer_cfg *cfg, struct tx_producer **out,
		      struct sl_diag *d);
/* The next event (blocks until there is one). After TX_EV_END or
 * TX_EV_ERROR no further events come; the error's text is in *d. */
struct tx_group *tx_producer_next(struct tx_producer *p, struct sl_diag *d);
void tx_producer_release(struct tx_producer *p, struct tx_group *g);
/* The error code behind an TX_EV_ERROR event. */
int tx_producer_error(const struct tx_producer *p);
/* Stop early (if still running), join the thread, free everything. */
void tx_producer_free(struct tx_producer *p);
/* n packet numbers nobody else gets (*first .. *first + n - 1), above every
 * number handed out so far: for the sender's datagrams after the schedule
 * (aborted heartbeats). SL_ERR_RANGE when the counter would wrap. Any
 * thread. */
int tx_producer_take_packets(struct tx_producer *p, unsigned n, uint64_t *first);
/* Totals of the chunker: raw bytes read, bytes after compression. */
void tx_producer_totals(struct tx_producer *p, uint64_t *raw, uint64_t *stored);

#endif
