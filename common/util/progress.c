/* progress.c — the text of a progress line (progress.h). */
#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "units.h"

#define REDRAW_NS 250000000ull
#define BAR 30

void sl_progress_start(struct sl_progress *p, uint64_t total, uint64_t now_ns)
{
	memset(p, 0, sizeof *p);
	p->total = total;
	p->start_ns = now_ns;
}

int sl_progress_due(struct sl_progress *p, uint64_t now_ns)
{
	if (p->drawn && now_ns - p->last_ns < REDRAW_NS)
		return 0;
	p->drawn = 1;
	p->last_ns = now_ns;
	return 1;
}

size_t sl_progress_bar(double frac, unsigned width, char *buf, size_t len)
{
	char b[65];
	unsigned fill;
	int n;

	if (!len)
		return 0;
	width = width > 64 ? 64 : width;
	frac = frac >= 1.0 ? 1.0 : frac > 0 ? frac : 0.0;
	fill = (unsigned)(frac * width);
	memset(b, '#', fill);
	memset(b + fill, '.', width - fill);
	b[width] = '\0';
	n = snprintf(buf, len, "[%s] %3.0f%%", b, frac * 100.0);
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/* "[####....]  42% " of done/total, or nothing when the total is unknown. */
static size_t bar(const struct sl_progress *p, uint64_t done, char *buf, size_t len)
{
	size_t n;

	if (!p->total)
		return 0;
	n = sl_progress_bar(done >= p->total ? 1.0 : (double)done / (double)p->total, BAR, buf, len);
	if (n + 1 < len) {
		buf[n++] = ' ';
		buf[n] = '\0';
	}
	return n;
}

void sl_progress_line(const struct sl_progress *p, uint64_t done, const char *unit, int bits,
		      uint64_t now_ns, char *buf, size_t len)
{
	double secs = (double)(now_ns - p->start_ns) / 1e9, per_s = secs > 0 ? (double)done / secs : 0;
	char a[32], b[32], rate[32], eta[32] = "";
	size_t n;

	if (!len)
		return;
	n = bar(p, done, buf, len);
	if (unit) {
		snprintf(a, sizeof a, "%llu", (unsigned long long)done);
		snprintf(b, sizeof b, "%llu %s", (unsigned long long)p->total, unit);
		snprintf(rate, sizeof rate, "%.0f %s/s", per_s, unit);
	} else {
		sl_fmt_bytes(done, a, sizeof a);
		sl_fmt_bytes(p->total, b, sizeof b);
		if (bits) {
			sl_fmt_rate(per_s * 8.0, rate, sizeof rate);
		} else {
			sl_fmt_bytes((uint64_t)per_s, rate, sizeof rate);
			strcat(rate, "/s");
		}
	}
	if (p->total && done < p->total) {
		if (per_s > 0) {
			double left = (double)(p->total - done) / per_s;
			snprintf(eta, sizeof eta, "  ETA %u:%02u", (unsigned)(left / 60), (unsigned)left % 60);
		} else {
			snprintf(eta, sizeof eta, "  ETA --:--");
		}
	}
	if (p->total)
		snprintf(buf + n, len - n, "%s / %s  %s%s", a, b, rate, eta);
	else
		snprintf(buf + n, len - n, "%s%s%s  %s", a, unit ? " " : "", unit ? unit : "", rate);
}
