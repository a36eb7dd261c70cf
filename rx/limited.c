/* limited.c — log lines a sender can cause at will, rate-limited (token
 * buckets, see rx.h); what is suppressed is counted and said with the next
 * line that gets through. */
#include <stdarg.h>
#include <stdio.h>

#include "rx.h"

int rx_bucket_take(struct rx_bucket *b, uint64_t now, uint64_t burst, uint64_t every_ns)
{
	if (b->last_ns == 0) {
		b->tokens = burst;
		b->last_ns = now;
	}
	if (now > b->last_ns) {
		uint64_t add = (now - b->last_ns) / every_ns;
		if (add) {
			b->tokens = b->tokens + add > burst ? burst : b->tokens + add;
			b->last_ns += add * every_ns;
		}
	}
	if (b->tokens == 0) {
		b->suppressed++;
		return 0;
	}
	b->tokens--;
	return 1;
}

void rx_log_limited(struct rx_ctx *c, enum sl_log_level lvl, uint64_t now, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	/* 20 lines at once, then one a second. */
	if (!rx_bucket_take(&c->log_bucket, now, 20, 1000000000ull)) {
		c->st.log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->log_bucket.suppressed) {
		sl_log(c->log, lvl, "%s (%llu similar lines suppressed before this one)", msg,
		       (unsigned long long)c->log_bucket.suppressed);
		c->log_bucket.suppressed = 0;
	} else {
		sl_log(c->log, lvl, "%s", msg);
	}
}
