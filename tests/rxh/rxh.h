/* rxh.h — keyed-sequence harness: drive sluice-rx's state machine in process.
 *
 * The harness holds what a sender and a receiver share: a link key, officer
 * and submitter keys, a policy naming them. It builds real transfers (signed
 * manifest, catalog, chunks, FEC parity) in memory and seals chosen headers,
 * symbols and heartbeats with the link key, handing each datagram straight to
 * rx_handle() with a clock the test controls. Nothing touches the network.
 *
 * A test can therefore send exactly the sequence it wants (several sessions,
 * changed layouts, forged rows, absurd headers), restart the receiver on the
 * same STATE (rxh_restart: teardown, then rx_setup's recovery), and look at
 * what was released. Every function returns 0 or a negative sl_err.
 */
#ifndef SL_RXH_H
#define SL_RXH_H

#include <stddef.h>
#include <stdint.h>

#include "rx.h"

struct rxh_file {
	const char *path;
	const uint8_t *data;
	size_t len;
};

/* A transfer built in memory, with one block layout. */
struct rxh_xfer {
	uint8_t id[16];
	char hex[33];
	struct sl_xfer_hdr hdr;
	uint16_t symsize;
	uint8_t *catalog;          /* hdr.catalog_len bytes */
	uint8_t *stream;           /* hdr.total_bytes bytes */
	uint8_t **blocks;          /* per block: k*symsize bytes (record + payload, zero padded) */
	uint16_t *k;               /* per block */
	uint64_t nblocks;
	char *manifest;            /* the manifest text */
	size_t manifest_len;
	int zstd;                  /* chunk blocks compressed where that is smaller */
};

struct rxh_opts {
	uint16_t kmax;             /* 0: 16 */
	uint16_t symsize;          /* 0: 512 */
	int zstd;                  /* compress chunks (zstd, where smaller), as sluice-tx does */
	uint64_t sequence;         /* 0: a fresh one per transfer */
	unsigned signers;          /* officers who sign; default: the threshold */
	const uint8_t *same_id;    /* reuse this transfer id (a re-send with other settings) */
	const char *manifest_text; /* reuse this exact manifest (same id, same hash) */
	const uint8_t *base_id;    /* a delta (manifest version 3) on this base ... */
	unsigned long take;        /* ... taking files[i] from it (bit i), not sending it */
	const uint8_t *base_sha256;/* ... whose manifest has this SHA-256 */
	const char *edit_from;     /* the emitted manifest with its first edit_from */
	const char *edit_to;       /* replaced by edit_to before signing (hostile texts) */
};

struct rxh_session {
	struct sl_wire_tx *tx;
	uint16_t symsize;
	uint16_t interleave;       /* what its heartbeats declare (0: 1) */
};

struct rxh {
	char dir[256];             /* temporary root: state/, release/, keys */
	char state[300], release[300], policy[300], key[300];
	struct rx_cfg cfg;
	struct sl_logger log;
	struct rx_ctx c;
	int up;                    /* rx_setup succeeded and teardown is due */
	uint64_t now;              /* the receiver's clock (ns), advanced by rxh_tick */
	uint8_t link_key[32];
	struct sl_ms_seckey *officer[3], *submitter;
	uint64_t next_seq;
	struct sl_fec *fec;
	uint8_t *dg;               /* scratch datagram */
	unsigned log_lines;        /* lines the receiver logged */
	int verbose;               /* print what the receiver logs */
	int verify_nowait;         /* catalog verdicts picked up by rxh_tick only, not after each datagram */
	int release_nowait;        /* release jobs (rx/finish.c) picked up by rxh_tick only, not waited for */
};

/* A receiver on a fresh temporary STATE under base_dir (NULL: /tmp), policy
 * threshold 2 of 3 officers. cfg fields may be changed before rxh_start. */
int rxh_new(const char *base_dir, struct rxh **out);
/* The receiver a test file's fixture uses: rxh_new under /tmp, printing
 * what it logs when RXH_VERBOSE is set, started when `start`; NULL on failure. */
struct rxh *rxh_for_test(int start);
int rxh_start(struct rxh *h);           /* rx_setup + hasher */
void rxh_stop(struct rxh *h);           /* rx_teardown */
int rxh_restart(struct rxh *h);         /* a crash or stop, then a start on the same STATE */
void rxh_free(struct rxh *h);           /* stops, removes the temporary tree */
/* Empty STATE and RELEASE (keys stay); a running receiver starts over on
 * them without being torn down (rx_close_state, rx_open_state). */
int rxh_wipe(struct rxh *h);

/* Build transfer files[0..n) with the given options. */
int rxh_xfer_build(struct rxh *h, const struct rxh_file *files, size_t n,
		   const struct rxh_opts *o, struct rxh_xfer *t);
void rxh_xfer_free(struct rxh_xfer *t);
/* The transfer as sluice-tx takes it: DIR/manifest, DIR/manifest.NAME.minisig
 * (the same signers as its catalog) and DIR/data/<path> for each file (DIR
 * is created; files must be the ones t was built from). */
int rxh_xfer_write_dir(struct rxh *h, const struct rxh_xfer *t, const struct rxh_file *files,
		       size_t n, unsigned signers, const char *dir);

int rxh_session_new(struct rxh *h, uint16_t symsize, struct rxh_session *s);
void rxh_session_free(struct rxh_session *s);

/* Seal and deliver one datagram (h->session, packet, suite, symsize filled in). */
void rxh_deliver(struct rxh *h, struct rxh_session *s, struct sl_wire_hdr *wh, const uint8_t *body,
		 size_t len);
/* The transfer header of t for `pass` of `passes` (hdr may be altered by the caller first). */
void rxh_send_hdr(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t,
		  const struct sl_xfer_hdr *hdr, unsigned pass);
/* One symbol of block b, row r (data row < k, parity row >= k, computed). */
void rxh_send_symbol(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t b,
		     unsigned row);
/* A whole block: its k data rows except those in `skip` (bitmask over rows
 * 0..63), then enough parity rows from `first_parity` to replace them. */
void rxh_send_block(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t b,
		    uint64_t skip, unsigned first_parity);
/* Blocks [from, to), each whole. */
void rxh_send_blocks(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, uint64_t from,
		     uint64_t to);
/* Header, then every block whole. */
void rxh_send_all(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t, unsigned pass);
/* The header (pass 0) and every catalog block whole: the receiver's
 * transfer (rx_xfer_find), NULL when it keeps none. */
struct rx_xfer *rxh_send_catalog(struct rxh *h, struct rxh_session *s, const struct rxh_xfer *t);
void rxh_send_hb(struct rxh *h, struct rxh_session *s, const uint8_t xfer[16], uint8_t state,
		 unsigned pass, unsigned passes);

/* Test data: n bytes that differ per position and seed (a misplaced symbol shows). */
uint8_t *rxh_pattern(size_t n, unsigned seed);
/* A one-file transfer ("f.bin", n pattern bytes) and a session for it. */
struct rxh_one {
	uint8_t *data;
	size_t n;
	struct rxh_xfer t;
	struct rxh_session s;
};
int rxh_one_make(struct rxh *h, struct rxh_one *o, size_t n, unsigned seed, const struct rxh_opts *opts);
void rxh_one_free(struct rxh_one *o);

/* Advance the clock by ns and run the receiver's periodic work. */
void rxh_tick(struct rxh *h, uint64_t ns);
/* Wait (bounded) until the hasher caught up, then tick: releases happen
 * (a delta: once its copy from the base is done too). */
void rxh_settle(struct rxh *h);

/* RELEASE/<hex>/data/<path> has exactly these bytes: 1; else 0. */
int rxh_released_file_is(const struct rxh *h, const char *hex, const char *path, const uint8_t *data,
			 size_t len);
int rxh_is_released(const struct rxh *h, const char *hex);
/* Lines of audit.log whose event is `event` and which name `hex` (NULL: any). */
unsigned rxh_audit_count(const struct rxh *h, const char *event, const char *hex);
/* Bytes under STATE/xfer and STATE/release (staging). */
uint64_t rxh_staging_bytes(const struct rxh *h);
/* The quota's totals agree with the known transfers (staged bytes, those
 * of unvouched ones, transfers with staging) and none is left marked to go
 * (x->evicted) between datagrams and ticks: 1; else 0 and why. */
int rxh_quota_agrees(const struct rxh *h, char *why, size_t cap);

#endif
