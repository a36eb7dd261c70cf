/* link.c — link URIs, option checking and dispatch to the back-ends
 * (link_udp.c, link_pcap.c, link_eth.c) through their ops tables. */
#include "link_impl.h"
#include "units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct sl_link_ops *const backends[] = {
	&sl_link_udp_ops,
	&sl_link_pcap_ops,
	&sl_link_eth_ops,
};

#define USAGE "use udp://HOST:PORT, eth:IFACE or pcap:FILE"

/* Split "scheme:target?k=v&k=v" ("udp://" also drops the slashes). */
static int parse_uri(const char *s, struct sl_uri *u, struct sl_diag *d)
{
	const char *colon, *q, *t;
	size_t n;

	memset(u, 0, sizeof *u);
	u->text = s;
	if (!s || !*s)
		return sl_diag_set(d, SL_ERR_PARSE, "empty link URI (" USAGE ")");
	colon = strchr(s, ':');
	if (!colon)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: no scheme (" USAGE ")", s);
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof u->scheme)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: unknown scheme (" USAGE ")", s);
	memcpy(u->scheme, s, n);
	t = colon + 1;
	if (!strcmp(u->scheme, "udp")) {
		if (strncmp(t, "//", 2))
			return sl_diag_set(d, SL_ERR_PARSE, "%s: expected udp://HOST:PORT", s);
		t += 2;
	}
	q = strchr(t, '?');
	n = q ? (size_t)(q - t) : strlen(t);
	if (n >= sizeof u->target)
		return sl_diag_set(d, SL_ERR_TOOBIG, "%s: target longer than %zu bytes", s,
				   sizeof u->target - 1);
	memcpy(u->target, t, n);
	u->target[n] = '\0';
	while (q) {
		const char *k = q + 1, *amp = strchr(k, '&'), *eq;
		size_t len = amp ? (size_t)(amp - k) : strlen(k);
		eq = memchr(k, '=', len);
		if (len == 0)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: empty option", s);
		if (!eq)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: option '%.*s' needs a value (KEY=VALUE)",
					   s, (int)len, k);
		if (u->nopt == SL_URI_MAX_OPTS)
			return sl_diag_set(d, SL_ERR_TOOBIG, "%s: more than %d options", s, SL_URI_MAX_OPTS);
		size_t kl = (size_t)(eq - k), vl = len - kl - 1;
		if (kl == 0 || kl >= sizeof u->opt[0].key || vl >= sizeof u->opt[0].val)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: option '%.*s' too long or empty",
					   s, (int)len, k);
		if (vl == 0)
			return sl_diag_set(d, SL_ERR_PARSE, "%s: option '%.*s' has an empty value",
					   s, (int)kl, k);
		memcpy(u->opt[u->nopt].key, k, kl);
		memcpy(u->opt[u->nopt].val, eq + 1, vl);
		for (unsigned i = 0; i < u->nopt; i++)
			if (!strcmp(u->opt[i].key, u->opt[u->nopt].key))
				return sl_diag_set(d, SL_ERR_PARSE, "%s: option '%s' given twice",
						   s, u->opt[i].key);
		u->nopt++;
		q = amp;
	}
	return SL_OK;
}

static int key_listed(const char *list, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == kl && !strncmp(p, key, kl))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

const char *sl_uri_opt(const struct sl_uri *u, const char *key)
{
	for (unsigned i = 0; i < u->nopt; i++)
		if (!strcmp(u->opt[i].key, key))
			return u->opt[i].val;
	return NULL;
}

int sl_uri_opt_u64(const struct sl_uri *u, const char *key, uint64_t lo, uint64_t hi,
		   uint64_t *out, struct sl_diag *d)
{
	const char *v = sl_uri_opt(u, key);
	uint64_t x;
	int rc;

	if (!v)
		return SL_OK;
	rc = sl_parse_decimal(v, lo, hi, &x);
	if (rc == SL_ERR_PARSE)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: option %s=%s: not a number", u->text, key, v);
	if (rc)
		return sl_diag_set(d, SL_ERR_RANGE, "%s: option %s=%s: must be %" PRIu64 "..%" PRIu64,
				   u->text, key, v, lo, hi);
	*out = x;
	return SL_OK;
}

int sl_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 || strlen(s) != 17)
		return SL_ERR_PARSE;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return SL_OK;
}

int sl_uri_opt_mac(const struct sl_uri *u, const char *key, uint8_t mac[6], struct sl_diag *d)
{
	const char *v = sl_uri_opt(u, key);
	if (v && sl_parse_mac(v, mac))
		return sl_diag_set(d, SL_ERR_PARSE, "%s: option %s=%s: not a MAC address "
				   "(expected xx:xx:xx:xx:xx:xx)", u->text, key, v);
	return SL_OK;
}

int sl_uri_opt_ipv4(const struct sl_uri *u, const char *key, uint32_t *out, struct sl_diag *d)
{
	const char *v = sl_uri_opt(u, key);
	struct in_addr a;
	if (!v)
		return SL_OK;
	if (inet_pton(AF_INET, v, &a) != 1)
		return sl_diag_set(d, SL_ERR_PARSE, "%s: option %s=%s: not an IPv4 address",
				   u->text, key, v);
	*out = ntohl(a.s_addr);
	return SL_OK;
}

int sl_uri_opt_bool(const struct sl_uri *u, const char *key, int *out, struct sl_diag *d)
{
	const char *v = sl_uri_opt(u, key);
	if (!v)
		return SL_OK;
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return sl_diag_set(d, SL_ERR_PARSE, "%s: option %s=%s: expected 0 or 1", u->text, key, v);
	return SL_OK;
}

static int open_link(const char *uri, const struct sl_link_opts *o, int tx,
		     struct sl_link **out, struct sl_diag *d)
{
	static const struct sl_link_opts defaults;
	struct sl_uri *u;
	struct sl_link *l;
	const struct sl_link_ops *ops = NULL;
	int r;

	*out = NULL;
	if (!o)
		o = &defaults;
	u = malloc(sizeof *u);
	if (!u)
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
	r = parse_uri(uri, u, d);
	if (r)
		goto done;
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (!strcmp(backends[i]->scheme, u->scheme))
			ops = backends[i];
	if (!ops) {
		r = sl_diag_set(d, SL_ERR_PARSE, "%s: unknown scheme '%s' (" USAGE ")", uri, u->scheme);
		goto done;
	}
	if (!u->target[0]) {
		r = sl_diag_set(d, SL_ERR_PARSE, "%s: missing %s", uri,
				!strcmp(u->scheme, "udp") ? "HOST:PORT" :
				!strcmp(u->scheme, "eth") ? "interface name" : "file name");
		goto done;
	}
	for (unsigned i = 0; i < u->nopt; i++) {
		const char *keys = tx ? ops->tx_keys : ops->rx_keys;
		if (!key_listed(keys, u->opt[i].key)) {
			r = sl_diag_set(d, SL_ERR_PARSE, "%s: unknown option '%s' for %s %s (known: %s)",
					uri, u->opt[i].key, u->scheme, tx ? "sending" : "receiving",
					*keys ? keys : "none");
			goto done;
		}
	}
	l = calloc(1, sizeof *l);
	if (!l) {
		r = sl_diag_set(d, SL_ERR_NOMEM, "out of memory");
		goto done;
	}
	l->ops = ops;
	l->tx = tx;
	l->fd = -1;
	r = ops->open(l, u, o, d);
	if (r) {
		free(l);
		goto done;
	}
	*out = l;
done:
	free(u);
	return r;
}

int sl_link_open_tx(const char *uri, const struct sl_link_opts *o,
		    struct sl_link **out, struct sl_diag *d)
{
	return open_link(uri, o, 1, out, d);
}

int sl_link_open_rx(const char *uri, const struct sl_link_opts *o,
		    struct sl_link **out, struct sl_diag *d)
{
	return open_link(uri, o, 0, out, d);
}

static int check_send(struct sl_link *l, const struct iovec *dg, unsigned n, struct sl_diag *d)
{
	if (!l->tx)
		return sl_diag_set(d, SL_ERR_INVAL, "%s: opened for receiving, cannot send", l->desc);
	for (unsigned i = 0; i < n; i++) {
		if (dg[i].iov_len == 0)
			return sl_diag_set(d, SL_ERR_INVAL, "%s: datagram %u is empty", l->desc, i);
		if (dg[i].iov_len > SL_LINK_MAX_DGRAM)
			return sl_diag_set(d, SL_ERR_TOOBIG, "%s: datagram %u is %zu bytes, over the "
					   "%d-byte limit", l->desc, i, dg[i].iov_len, SL_LINK_MAX_DGRAM);
	}
	return SL_OK;
}

int sl_link_send(struct sl_link *l, const struct iovec *dg, unsigned n, struct sl_diag *d)
{
	int r = check_send(l, dg, n, d);
	if (r || n == 0)
		return r;
	return l->ops->send(l, dg, NULL, n, d);
}

int sl_link_send_ts(struct sl_link *l, const struct iovec *dg, const uint64_t *ts_ns,
		    unsigned n, struct sl_diag *d)
{
	int r = check_send(l, dg, n, d);
	if (r || n == 0)
		return r;
	return l->ops->send(l, dg, ts_ns, n, d);
}

int sl_link_recv(struct sl_link *l, struct sl_dgram *dg, unsigned n, int timeout_ms,
		 struct sl_diag *d)
{
	if (l->tx)
		return sl_diag_set(d, SL_ERR_INVAL, "%s: opened for sending, cannot receive", l->desc);
	if (n == 0)
		return 0;
	return l->ops->recv(l, dg, n, timeout_ms, d);
}

int sl_link_flush(struct sl_link *l, struct sl_diag *d)
{
	return l->ops->flush ? l->ops->flush(l, d) : SL_OK;
}

int sl_link_fd(const struct sl_link *l)
{
	return l->fd;
}

void sl_link_get_stats(const struct sl_link *l, struct sl_link_stats *st)
{
	static const struct sl_link_stats none;
	*st = l ? l->st : none;
}

const char *sl_link_describe(const struct sl_link *l)
{
	return l ? l->desc : "no link (driven in process)";
}

const char *sl_link_warning(const struct sl_link *l)
{
	return l->warn[0] ? l->warn : NULL;
}

void sl_link_close(struct sl_link *l)
{
	if (!l)
		return;
	if (l->tx && l->ops->flush)
		l->ops->flush(l, NULL);
	l->ops->close(l);
	free(l);
}
