/* sender.h — one transfer onto the link: schedule, FEC, sealing, pacing.
 *
 * Contract: tx_send() sends the transfer `src` for cfg->passes passes
 * following PROTOCOL.md §6 (transfer headers, catalog, interleaved chunk
 * blocks, new rows every pass, heartbeats), never exceeding cfg->rate_bps
 * on the wire (headers counted) beyond cfg->burst_bytes. Compression
 * happens once; later passes re-read the compressed blocks from a private
 * spool file. It stops early (SL_ERR_AGAIN) when *cfg->stop becomes
 * non-zero, after telling the receiver with "aborted" heartbeats.
 *
 * Threads: the producer's (producer.h) read, hash, compress, FEC-encode
 * and seal every symbol, numbered by its place in the schedule, into
 * buffers allocated once; the calling thread only paces, fills the
 * control slots (preamble, transfer headers, heartbeats) and hands the
 * sealed datagrams to the link where they lie.
 */
#ifndef TX_SENDER_H
#define TX_SENDER_H

#include <signal.h>
#include <stdint.h>
#include "error.h"
#include "repair.h"
#include "uring_io.h"
#include "log.h"
#include "source.h"
#include "wire.h"

struct tx_send_cfg {
	const char *link_uri;
	struct sl_link *link;         /* an open link to send on, borrowed (the daemon's: one
				       * capture file, one socket); NULL: link_uri opened */
	const uint8_t *link_key;      /* NULL with suite SL_SUITE_NONE */
	enum sl_suite suite;
	uint64_t rate_bps;            /* 0: unlimited */
	uint64_t burst_bytes;         /* 0: default */
	unsigned passes;              /* passes to send in this run, >= 1 */
	unsigned first_pass;          /* number of the first pass (0-based), for later repeats */
	double overhead;              /* parity / data, e.g. 0.125 */
	unsigned interleave;          /* D */
	uint16_t symsize;
	uint16_t kmax;
	int level;                    /* zstd level */
	unsigned heartbeat_ms;
	unsigned preamble;            /* warm-up datagrams */
	int progress;                 /* draw a progress bar on stderr */
	const char *spool_dir;        /* where the compressed spool lives (O_TMPFILE) */
	enum { TX_RT_AUTO, TX_RT_OFF, TX_RT_REQUIRED } realtime;
				      /* paced: send from a SCHED_FIFO thread (auto:
				       * when permitted; required: or fail) */
	unsigned threads;             /* compression, FEC and sealing threads; 0: one per core, <= 4 */
	enum sl_uio_mode file_io;     /* file reads: plain pread or io_uring (default plain) */
	int small_uring;              /* small files (whole in a chunk) read in io_uring batches
				       * where io_uring can be set up (default; --file-io auto) */
	const struct sl_repair *repair; /* a repair code's list: one pass (first_pass) of only
				       * those blocks and rows (producer.h); NULL: normal passes */
	unsigned repair_margin;       /* percent added to the rows a repaired block lacks */
	const struct sl_logger *log;
	volatile sig_atomic_t *stop;
};

struct tx_send_result {
	uint64_t datagrams;
	uint64_t wire_bytes;          /* Ethernet wire bytes the pacer accounted */
	uint64_t raw_bytes;           /* stream bytes */
	uint64_t stored_bytes;        /* after compression */
	uint64_t blocks;              /* per pass */
	double seconds;
	uint64_t session;
	uint64_t starved_ns;          /* the sender waited for the producer this long */
	uint64_t unused_ns;           /* paced: line time that went unused, because the
				       * sender had no data ready or woke late */
};

void tx_send_cfg_defaults(struct tx_send_cfg *c);

/* The fields of a heartbeat every sender state shares (time, rate, code
 * parameters, `sent` datagrams so far, state), the rest zero, the sender
 * flag set; callers add what they know of a transfer. */
struct sl_heartbeat;
void tx_heartbeat_fill(const struct tx_send_cfg *cfg, uint64_t sent, uint8_t state,
		       struct sl_heartbeat *hb);
int tx_send(const struct tx_send_cfg *cfg, const struct tx_source *src,
	    struct tx_send_result *res, struct sl_diag *d);

#endif
