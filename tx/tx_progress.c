/* tx_progress.c — sluice-tx's progress line (see tx_progress.h). */
#include "tx_progress.h"

#include <stdio.h>
#include <string.h>

void tx_progress_start(struct tx_progress *p, uint64_t total_bytes, uint64_t now_ns)
{
	memset(p, 0, sizeof *p);
	sl_progress_start(&p->line, total_bytes, now_ns);
}

void tx_progress_update(struct tx_progress *p, uint64_t done, unsigned pass, unsigned passes,
			uint64_t now_ns)
{
	char text[160];

	if (pass != p->pass) {
		int drawn = p->line.drawn;
		p->pass = pass;
		sl_progress_start(&p->line, p->line.total, now_ns);
		p->line.drawn = drawn;
		p->line.last_ns = 0; /* draw the new pass at once */
	}
	if (!sl_progress_due(&p->line, now_ns))
		return;
	sl_progress_line(&p->line, done, NULL, 1, now_ns, text, sizeof text);
	fprintf(stderr, "\r%s  pass %u/%u ", text, pass, passes);
	fflush(stderr);
	p->drawn = 1;
}

void tx_progress_end(struct tx_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
