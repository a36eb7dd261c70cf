/* link_impl.h — PRIVATE to link*.c: the back-end ops table, the link
 * object and the parsed URI. Not part of libsluice's interface. */
#ifndef SL_LINK_IMPL_H
#define SL_LINK_IMPL_H

#include "link.h"
#include "clock.h"

#define SL_URI_MAX_OPTS 16

struct sl_uri {
	char scheme[8];        /* "udp", "eth", "pcap" */
	char target[4096];     /* HOST:PORT, IFACE or FILE */
	unsigned nopt;
	struct {
		char key[32];
		char val[256];
	} opt[SL_URI_MAX_OPTS];
	const char *text;      /* the whole URI, for messages */
};

struct sl_link_ops {
	const char *scheme;
	const char *tx_keys;   /* option keys accepted on tx, space separated */
	const char *rx_keys;   /* ... on rx */
	int (*open)(struct sl_link *l, const struct sl_uri *u, const struct sl_link_opts *o,
		    struct sl_diag *d);
	int (*send)(struct sl_link *l, const struct iovec *dg, const uint64_t *ts_ns,
		    unsigned n, struct sl_diag *d);
	int (*recv)(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		    struct sl_diag *d);
	int (*flush)(struct sl_link *l, struct sl_diag *d);
	void (*close)(struct sl_link *l);
};

struct sl_link {
	const struct sl_link_ops *ops;
	int tx;                 /* 1: opened for sending, 0: receiving */
	int fd;                 /* pollable descriptor or -1 */
	struct sl_link_stats st;
	char desc[320];
	char warn[320];         /* empty: no warning */
	void *priv;             /* back-end state */
};

extern const struct sl_link_ops sl_link_udp_ops;
extern const struct sl_link_ops sl_link_pcap_ops;
extern const struct sl_link_ops sl_link_eth_ops;

/* Option value for key, or NULL when absent. */
const char *sl_uri_opt(const struct sl_uri *u, const char *key);
/* Typed option parsers: absent leaves *out unchanged and returns 0. */
int sl_uri_opt_u64(const struct sl_uri *u, const char *key, uint64_t lo, uint64_t hi,
		   uint64_t *out, struct sl_diag *d);
int sl_uri_opt_mac(const struct sl_uri *u, const char *key, uint8_t mac[6], struct sl_diag *d);
int sl_uri_opt_ipv4(const struct sl_uri *u, const char *key, uint32_t *out, struct sl_diag *d);
int sl_uri_opt_bool(const struct sl_uri *u, const char *key, int *out, struct sl_diag *d);

int sl_parse_mac(const char *s, uint8_t mac[6]);

/* Realtime clock in ns since the epoch (pcap timestamps). */

#endif
