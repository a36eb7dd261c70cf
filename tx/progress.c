/* progress.c — terminal progress bar (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>

#include "units.h"

void sl_progress_start(struct sl_progress *p, uint64_t total, uint64_t now)
{
	memset(p, 0, sizeof *p);
	p->total = total;
	p->start_ns = p->pass_start_ns = now;
}

void sl_progress_update(struct sl_progress *p, uint64_t done, unsigned pass, unsigned passes,
			uint64_t now)
{
	char bar[31], a[32], b[32], rate[32], eta[32];
	double frac, secs, bps;
	unsigned fill;

	if (pass != p->pass) {
		p->pass = pass;
		p->pass_start_ns = now;
	}
	if (p->drawn && now - p->last_draw_ns < 250000000ull)
		return;
	p->last_draw_ns = now;
	frac = p->total ? (double)done / (double)p->total : 1.0;
	if (frac > 1.0)
		frac = 1.0;
	fill = (unsigned)(frac * 30.0);
	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	secs = (double)(now - p->pass_start_ns) / 1e9;
	bps = secs > 0 ? (double)done * 8.0 / secs : 0;
	if (bps > 0 && frac < 1.0) {
		double left = (double)(p->total - done) * 8.0 / bps;
		snprintf(eta, sizeof eta, "%u:%02u", (unsigned)(left / 60), (unsigned)left % 60);
	} else {
		snprintf(eta, sizeof eta, "--:--");
	}
	fprintf(stderr, "\r[%s] %3.0f%% %s / %s  %s  ETA %s  pass %u/%u ", bar, frac * 100.0,
		sl_fmt_bytes(done, a, sizeof a), sl_fmt_bytes(p->total, b, sizeof b),
		sl_fmt_rate(bps, rate, sizeof rate), eta, pass, passes);
	fflush(stderr);
	p->drawn = 1;
}

void sl_progress_end(struct sl_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
