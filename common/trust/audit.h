/* audit.h — the receiver's append-only, hash-chained audit log.
 *
 * Contract. One line per event, LF-terminated, ASCII, at most
 * SL_AUDIT_MAX_LINE bytes:
 *   SEQ TIME EVENT xfer=ID manifest=SHA256|- reason=TEXT chain=HEX
 * SEQ counts from 1 by one; TIME is RFC 3339 UTC; EVENT is one word
 * (released, rejected, timeout, replay, started, cut, ...); TEXT is
 * percent-encoded (bytes outside 0x21..0x7e, '%' and '=' as %XX); chain is
 * the lowercase hex SHA-256 of the previous line's chain (64 zeros for the
 * first line), one space, and this line up to and excluding " chain=".
 * Every append is written with O_APPEND and fsync'd; an append that fails
 * is cut off again, so a full disk never leaves half a line in the middle.
 *
 * The head (SEQ and chain of the last entry) is anchored outside the log
 * twice after every append: given to the caller's logger at INFO as
 * "audit #SEQ head HEX" (sluice-rx: stderr, the journal), and written
 * atomically (temp file, fsync, rename, directory fsync) to the head file
 * beside the log: NAME with ".log" replaced by ".head" ("audit.head"),
 * holding "SEQ:HEX\n". The head file is written only after the entry is
 * durable in the log, so the log always holds the entry it names.
 *
 * Opening repairs what a crash or a full disk can leave, and refuses what
 * they cannot: a torn tail (a last line without its LF, or one that does
 * not parse or chain) is cut back to the last good entry and the cut is
 * recorded as a new entry, event "cut", with the byte count, the SHA-256 of
 * the bytes and why. A bad line before the last one, a log that does not
 * hold the entry its head file names (shorter, removed, or a different
 * chain), or an unreadable head file is refused with SL_ERR_CORRUPT and
 * the log is left untouched.
 */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "log.h"

#define SL_AUDIT_MAX_LINE 4096

struct sl_audit;

/* An entry's place in the chain: "SEQ:HEX" as text. seq 0 = none. */
struct sl_audit_head {
	uint64_t seq;
	char chain[65];
};

/* Open (creating, 0640) the log at dirfd/name, check it against its head
 * file, repair a torn tail (see above) and find the chain head. log (may be
 * NULL) must outlive the sl_audit: it receives every head ("audit #N head
 * HEX", INFO), a repair (WARN) and failed appends (ERR). */
int sl_audit_open(int dirfd, const char *name, const struct sl_logger *log,
		  struct sl_audit **out, struct sl_diag *d);
/* Append one entry, fsync it, log its head, rewrite the head file. */
int sl_audit_append(struct sl_audit *a, const char *event, const char *xfer_hex,
		    const char *manifest_hex, const char *reason, struct sl_diag *d);
/* The chain head after the last append (seq 0 for an empty log). */
void sl_audit_get_head(const struct sl_audit *a, struct sl_audit_head *h);
void sl_audit_close(struct sl_audit *a);

/* What a read-only check of a log found. */
enum sl_audit_anchor {
	SL_AUDIT_ANCHOR_NONE = 0,  /* no anchor to check against */
	SL_AUDIT_ANCHOR_HELD,      /* the log holds that entry with that chain */
	SL_AUDIT_ANCHOR_SHORT,     /* the log ends before that entry (or is missing) */
	SL_AUDIT_ANCHOR_DIFFERS,   /* the log's entry of that number has another chain */
	SL_AUDIT_ANCHOR_UNCHECKED, /* the chain breaks before that entry */
};

struct sl_audit_state {
	bool missing;                /* the log file does not exist */
	uint64_t entries;            /* entries whose chain verifies */
	struct sl_audit_head head;   /* the last of them */
	uint64_t bad_line;           /* 0, or the first line that is not a good entry */
	bool torn_tail;              /* ... and it is a torn tail (cut at the next open) */
	uint64_t tail_bytes;         /* the bytes after the last good entry */
	char bad_why[128];           /* why that line is not a good entry */
	char head_file[256];         /* the head file's name */
	bool head_file_present;
	struct sl_audit_head file_head;   /* what it says */
	enum sl_audit_anchor file_anchor; /* whether the log holds it */
	enum sl_audit_anchor given_anchor;/* the same for the caller's head */
};

/* Check a log read-only against its head file and (if given is not NULL
 * and given->seq > 0) a head the caller has (from the journal). Reads the
 * head file before the log, so a log being appended to at the same time
 * is never reported short. Fills st and returns SL_OK when the chain
 * verifies (a torn tail is allowed: an interrupted write) and every anchor
 * is held; otherwise SL_ERR_CORRUPT (or SL_ERR_IO) with the most serious
 * finding, in plain words, in diag. */
int sl_audit_verify(int dirfd, const char *name, const struct sl_audit_head *given,
		    struct sl_audit_state *st, struct sl_diag *d);

/* "SEQ:HEX" (a leading '#' and trailing white space are allowed; HEX is 64
 * hex digits, stored lowercase). Returns 0 or SL_ERR_PARSE. */
int sl_audit_head_parse(const char *text, struct sl_audit_head *h);
/* The head file's name for log `name`: ".log" replaced by ".head", or
 * ".head" appended. SL_ERR_NAME if it does not fit in cap. */
int sl_audit_head_name(const char *name, char *out, size_t cap);

/* Split one line into fields (pointers into a copy in `buf`, >= line length+1).
 * reason is decoded. Returns 0 or SL_ERR_PARSE. */
struct sl_audit_entry {
	uint64_t seq;
	const char *time, *event, *xfer, *manifest, *reason, *chain;
};
int sl_audit_parse_line(const char *line, char *buf, size_t buflen, struct sl_audit_entry *e);

#endif
