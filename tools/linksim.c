/* linksim.c — `sluice linksim`: a software model of a hardware data diode.
 *
 * A one-way relay from --in to --out through a FIFO of --queue bytes that
 * drains at --rate (wire bytes, headers counted) and drops what does not
 * fit, then a loss model (Bernoulli or Gilbert–Elliott) applied as each
 * datagram leaves. With a live input (udp:, eth:) it runs in real time;
 * with a pcap: input it runs in simulated time taken from the capture's
 * timestamps and writes each datagram to the pcap: output stamped with
 * the moment its last bit would leave the diode. Models: linksim_model.h.
 */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "cmds.h"
#include "link.h"
#include "linksim_model.h"
#include "pace.h"
#include "units.h"

#define BATCH 64
#define DEFAULT_QUEUE (64u << 10)
#define REC_HDR 16 /* depart (8), length (4), padding (4) */
#define WRAP 0xffffffffu

struct ring {            /* FIFO of records: header + payload, 8-aligned */
	uint8_t *mem;
	size_t size, head, tail, used; /* head: oldest; tail: next write */
	unsigned count;
};

struct counts {
	uint64_t received, rx_bytes;
	uint64_t forwarded, fwd_bytes;
	uint64_t lost, overflow, unsent;
	uint64_t wire_out;     /* wire bytes that left the queue (forwarded + lost) */
};

struct sim {
	struct sl_link *in, *out;
	struct ls_loss loss;
	struct ls_queue_model q;
	struct ring ring;
	struct counts c, last;
	int simulated;          /* pcap input: time from the capture */
	uint64_t rate, queue, seed, duration_s, idle_s, stats_s;
	uint64_t start_ns;      /* first event (realtime ns) */
	uint64_t first_arrival, last_depart, last_input;
	uint64_t next_stats, last_stats;
	int any_arrival;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sluice linksim --in URI --out URI --rate RATE [options]\n"
		"\n"
		"Relay datagrams one way through a model of a hardware diode: a FIFO of\n"
		"--queue bytes drained at --rate (wire bytes, headers counted) that drops\n"
		"what does not fit, then random loss.\n"
		"\n"
		"  --in URI              udp://ADDR:PORT, eth:IFACE or pcap:FILE\n"
		"  --out URI             udp://HOST:PORT, eth:IFACE or pcap:FILE\n"
		"  --rate RATE           drain rate in bit/s: 9600, 250M, 1G (required)\n"
		"  --queue SIZE          FIFO size in wire bytes (default 64K)\n"
		"  --loss P              loss rate: 0.02 or 2%% (default 0)\n"
		"  --burst MEANLEN       Gilbert-Elliott bursts of MEANLEN datagrams on average\n"
		"                        (default: independent, Bernoulli losses)\n"
		"  --seed S              seed for the loss model (default: random, printed)\n"
		"  --duration SEC        stop after SEC seconds\n"
		"  --idle-exit SEC       stop when no input came for SEC seconds and the queue is empty\n"
		"  --stats-interval SEC  print a line of counters every SEC seconds\n"
		"  --sockbuf SIZE        socket buffer for udp links (default 32M)\n"
		"\n"
		"With --in pcap:FILE time is simulated from the capture's timestamps and\n"
		"--out must be pcap:FILE too. Stops on SIGINT/SIGTERM; prints a summary.\n"
		"See sluice-linksim(1).\n");
}

/* ---- the FIFO's storage ---- */

static size_t rec_size(size_t len)
{
	return REC_HDR + ((len + 7) & ~(size_t)7);
}

static int ring_push(struct ring *r, uint64_t depart, const uint8_t *buf, size_t len)
{
	size_t need = rec_size(len);
	uint32_t l32 = (uint32_t)len;

	if (!r->count) {
		r->head = r->tail = r->used = 0;
		if (need > r->size)
			return -1;
	} else if (r->tail >= r->head) {
		/* records in [head, tail): room at the end, else at the start */
		if (r->size - r->tail < need) {
			if (need >= r->head)
				return -1;
			if (r->size - r->tail >= REC_HDR) {
				uint32_t w = WRAP;
				memcpy(r->mem + r->tail + 8, &w, 4);
			}
			r->used += r->size - r->tail;
			r->tail = 0;
		}
	} else if (r->head - r->tail <= need) {
		return -1; /* wrapped: room only in [tail, head) */
	}
	memcpy(r->mem + r->tail, &depart, 8);
	memcpy(r->mem + r->tail + 8, &l32, 4);
	memcpy(r->mem + r->tail + REC_HDR, buf, len);
	r->tail += need;
	r->used += need;
	r->count++;
	return 0;
}

/* Oldest record: its departure time, payload and length. */
static int ring_peek(struct ring *r, uint64_t *depart, uint8_t **buf, size_t *len)
{
	uint32_t l32;

	if (!r->count)
		return 0;
	if (r->size - r->head < REC_HDR) {
		r->used -= r->size - r->head;
		r->head = 0;
	} else {
		memcpy(&l32, r->mem + r->head + 8, 4);
		if (l32 == WRAP) {
			r->used -= r->size - r->head;
			r->head = 0;
		}
	}
	memcpy(depart, r->mem + r->head, 8);
	memcpy(&l32, r->mem + r->head + 8, 4);
	*buf = r->mem + r->head + REC_HDR;
	*len = l32;
	return 1;
}

static void ring_pop(struct ring *r, size_t len)
{
	size_t n = rec_size(len);
	r->head += n;
	r->used -= n;
	if (--r->count == 0)
		r->head = r->tail = r->used = 0;
}

/* ---- the relay ---- */

/* Send (or lose) every queued datagram whose last bit has left by now.
 * Records are popped as they are batched: their bytes stay intact until
 * the next push, and nothing is pushed before the batch is sent. */
static int depart_until(struct sim *s, uint64_t now)
{
	struct iovec iov[BATCH];
	uint64_t ts[BATCH];
	struct sl_diag d;

	for (;;) {
		unsigned n = 0;
		uint64_t dep;
		uint8_t *buf;
		size_t len;

		while (n < BATCH && ring_peek(&s->ring, &dep, &buf, &len) && dep <= now) {
			ring_pop(&s->ring, len);
			s->c.wire_out += sl_wire_bytes_udp(len);
			s->last_depart = dep;
			if (ls_loss_drop(&s->loss)) {
				s->c.lost++;
				continue;
			}
			iov[n].iov_base = buf;
			iov[n].iov_len = len;
			ts[n++] = dep;
			s->c.forwarded++;
			s->c.fwd_bytes += len;
		}
		if (n && sl_link_send_ts(s->out, iov, ts, n, &d) < (int)n) {
			fprintf(stderr, "sluice linksim: %s\n", d.msg);
			return -1;
		}
		if (n < BATCH)
			return 0;
	}
}

/* A datagram arrives at time t: FIFO or overflow. */
static void arrive(struct sim *s, uint64_t t, const uint8_t *buf, size_t len)
{
	uint64_t dep;

	if (!s->any_arrival) {
		s->any_arrival = 1;
		s->first_arrival = t;
	}
	s->c.received++;
	s->c.rx_bytes += len;
	if (ls_queue_offer(&s->q, t, sl_wire_bytes_udp(len), &dep) ||
	    ring_push(&s->ring, dep, buf, len))
		s->c.overflow++;
}

static void print_stats(struct sim *s, uint64_t now)
{
	char r1[32], q1[32];
	double dt = (double)(now - s->last_stats) / 1e9;
	double rate = dt > 0 ? (double)(s->c.wire_out - s->last.wire_out) * 8 / dt : 0;

	printf("t=%.1fs received %" PRIu64 " forwarded %" PRIu64 " lost %" PRIu64
	       " overflow %" PRIu64 " queue %s out %s\n",
	       (double)(now - s->start_ns) / 1e9, s->c.received, s->c.forwarded, s->c.lost,
	       s->c.overflow, sl_fmt_bytes(ls_queue_backlog(&s->q, now), q1, sizeof q1),
	       sl_fmt_rate(rate, r1, sizeof r1));
	fflush(stdout);
	s->last = s->c;
	s->last_stats = now;
}

static void maybe_stats(struct sim *s, uint64_t now)
{
	if (s->stats_s && now >= s->next_stats) {
		print_stats(s, now);
		while (s->next_stats <= now)
			s->next_stats += s->stats_s * 1000000000ull;
	}
}

static void summary(struct sim *s)
{
	struct sl_link_stats in;
	char b1[32], b2[32], r1[32], r2[32], q1[32], q2[32];
	double span = s->last_depart > s->first_arrival
		      ? (double)(s->last_depart - s->first_arrival) / 1e9 : 0;
	double pct = s->c.received ? 100.0 / (double)s->c.received : 0;

	sl_link_get_stats(s->in, &in);
	printf("linksim summary\n");
	printf("  received:        %" PRIu64 " datagrams, %s\n", s->c.received,
	       sl_fmt_bytes(s->c.rx_bytes, b1, sizeof b1));
	printf("  forwarded:       %" PRIu64 " datagrams, %s\n", s->c.forwarded,
	       sl_fmt_bytes(s->c.fwd_bytes, b2, sizeof b2));
	printf("  dropped by loss: %" PRIu64 " (%.2f%% of those that left the queue)\n", s->c.lost,
	       s->c.lost ? 100.0 * (double)s->c.lost / (double)(s->c.lost + s->c.forwarded) : 0.0);
	printf("  queue overflow:  %" PRIu64 " (%.2f%% of those received)\n", s->c.overflow,
	       (double)s->c.overflow * pct);
	printf("  unsent at exit:  %" PRIu64 "\n", s->c.unsent);
	printf("  output rate:     %s on the wire, %s of datagrams, over %.3f s\n",
	       sl_fmt_rate(span > 0 ? (double)s->c.wire_out * 8 / span : 0, r1, sizeof r1),
	       sl_fmt_rate(span > 0 ? (double)s->c.fwd_bytes * 8 / span : 0, r2, sizeof r2), span);
	printf("  queue peak:      %s of %s\n", sl_fmt_bytes(s->q.peak_bytes, q1, sizeof q1),
	       sl_fmt_bytes(s->queue, q2, sizeof q2));
	if (in.kernel_drops || in.foreign)
		printf("  before linksim:  %" PRIu64 " dropped by the kernel (input buffer full), %"
		       PRIu64 " foreign frames ignored\n", in.kernel_drops, in.foreign);
	fflush(stdout);
}

/* Real time: the input is a live link (udp:, eth:). Time is CLOCK_REALTIME,
 * the clock of the kernel's arrival timestamps. */
static int run_live(struct sim *s, struct sl_dgram *dg)
{
	sigset_t unblocked;
	struct sl_diag d;
	uint64_t end = s->duration_s ? s->start_ns + s->duration_s * 1000000000ull : 0;

	sigprocmask(SIG_SETMASK, NULL, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	for (;;) {
		uint64_t now = sl_realtime_ns(), wake = UINT64_MAX, dep;
		uint8_t *buf;
		size_t len;

		if (depart_until(s, now))
			return 1;
		maybe_stats(s, now);
		if (stop_signal || (end && now >= end))
			break;
		if (s->idle_s && !s->ring.count && now - s->last_input >= s->idle_s * 1000000000ull)
			break;
		if (ring_peek(&s->ring, &dep, &buf, &len))
			wake = dep;
		if (s->stats_s && s->next_stats < wake)
			wake = s->next_stats;
		if (end && end < wake)
			wake = end;
		if (s->idle_s && !s->ring.count) {
			uint64_t idle_at = s->last_input + s->idle_s * 1000000000ull;
			if (idle_at < wake)
				wake = idle_at;
		}
		struct pollfd p = { .fd = sl_link_fd(s->in), .events = POLLIN };
		struct timespec ts, *tp = NULL;
		if (wake != UINT64_MAX) {
			uint64_t w = wake > now ? wake - now : 0;
			ts.tv_sec = (time_t)(w / 1000000000ull);
			ts.tv_nsec = (long)(w % 1000000000ull);
			tp = &ts;
		}
		int r = ppoll(&p, 1, tp, &unblocked);
		if (r < 0 && errno != EINTR) {
			perror("sluice linksim: poll");
			return 1;
		}
		if (r <= 0)
			continue;
		int got = sl_link_recv(s->in, dg, BATCH, 0, &d);
		if (got < 0) {
			fprintf(stderr, "sluice linksim: %s\n", d.msg);
			return 1;
		}
		if (got > 0)
			s->last_input = sl_realtime_ns();
		for (int i = 0; i < got; i++) {
			/* departures due before this arrival leave first */
			if (depart_until(s, dg[i].ts_ns))
				return 1;
			arrive(s, dg[i].ts_ns, dg[i].buf, dg[i].len);
		}
	}
	s->c.unsent = s->ring.count;
	return 0;
}

/* Simulated time: the input is a capture; every event happens at the
 * capture's timestamps, the output records carry departure times. */
static int run_capture(struct sim *s, struct sl_dgram *dg)
{
	struct sl_diag d;
	uint64_t end = 0, now = 0;

	for (;;) {
		int got = sl_link_recv(s->in, dg, BATCH, 0, &d);
		if (got == SL_ERR_CLOSED)
			break;
		if (got < 0) {
			fprintf(stderr, "sluice linksim: %s\n", d.msg);
			return 1;
		}
		for (int i = 0; i < got; i++) {
			uint64_t t = dg[i].ts_ns;
			if (!s->any_arrival) {
				s->start_ns = s->last_stats = t;
				s->next_stats = t + s->stats_s * 1000000000ull;
				end = s->duration_s ? t + s->duration_s * 1000000000ull : 0;
			}
			if (t < now)
				t = now; /* a capture out of order: keep time monotonic */
			now = t;
			if ((end && t >= end) || stop_signal)
				goto done;
			if (depart_until(s, t))
				return 1;
			maybe_stats(s, t);
			arrive(s, t, dg[i].buf, dg[i].len);
		}
	}
done:
	if (depart_until(s, UINT64_MAX)) /* the rest drains in simulated time */
		return 1;
	if (s->stats_s && s->any_arrival)
		print_stats(s, s->last_depart > now ? s->last_depart : now);
	return 0;
}

static int parse_u64(const char *opt, const char *v, uint64_t *out)
{
	uint64_t x;

	if (sl_parse_decimal(v, 0, UINT64_MAX, &x)) {
		fprintf(stderr, "sluice linksim: %s '%s': expected a whole number\n", opt, v);
		return -1;
	}
	*out = x;
	return 0;
}

/* What the command line asks for, before anything is opened. */
struct linksim_args {
	const char *in_uri, *out_uri;
	double loss, burst;
	int have_seed;
	uint64_t sockbuf;
};

static int parse_burst(const char *v, double *out)
{
	double b;

	if (sl_parse_real("--burst", v, 1.0, DBL_MAX, &b, NULL)) {
		fprintf(stderr, "sluice linksim: --burst '%s': a mean burst length in "
			"datagrams, at least 1\n", v);
		return -1;
	}
	*out = b;
	return 0;
}

/* Options into *a and *s; 0, or the exit status (0 after --help: *done). */
static int parse_args(int argc, char **argv, struct linksim_args *a, struct sim *s, int *done)
{
	static const struct option lo[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "rate", required_argument, NULL, 'r' },
		{ "queue", required_argument, NULL, 'q' },
		{ "loss", required_argument, NULL, 'l' },
		{ "burst", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "idle-exit", required_argument, NULL, 'e' },
		{ "stats-interval", required_argument, NULL, 't' },
		{ "sockbuf", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_diag d;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case 'i': a->in_uri = optarg; break;
		case 'o': a->out_uri = optarg; break;
		case 'r': r = sl_parse_rate(optarg, &s->rate, &d); break;
		case 'q': r = sl_parse_size(optarg, &s->queue, &d); break;
		case 'l': r = sl_parse_fraction(optarg, &a->loss, &d); break;
		case 'b': if (parse_burst(optarg, &a->burst)) return 2; break;
		case 's':
			if (parse_u64("--seed", optarg, &s->seed))
				return 2;
			a->have_seed = 1;
			break;
		case 'd': r = sl_parse_duration(optarg, &s->duration_s, &d); break;
		case 'e': r = sl_parse_duration(optarg, &s->idle_s, &d); break;
		case 't': r = sl_parse_duration(optarg, &s->stats_s, &d); break;
		case 'B': r = sl_parse_size(optarg, &a->sockbuf, &d); break;
		case 'h': usage(stdout); *done = 1; return 0;
		default: usage(stderr); return 2;
		}
		if (r) {
			fprintf(stderr, "sluice linksim: %s\n", d.msg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice linksim: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* The combination of options, the seed and the loss model; 0 or an exit status. */
static int check_args(const struct linksim_args *a, struct sim *s)
{
	struct sl_diag d;
	char b1[32];

	if (!a->in_uri || !a->out_uri || !s->rate) {
		fprintf(stderr, "sluice linksim: --in, --out and --rate are required "
			"(try 'sluice linksim --help')\n");
		return 2;
	}
	if (s->queue < sl_wire_bytes_udp(1472) || s->queue > (1u << 30)) {
		fprintf(stderr, "sluice linksim: --queue %s: must hold at least one full-size "
			"frame (1538 bytes) and at most 1G\n", sl_fmt_bytes(s->queue, b1, sizeof b1));
		return 2;
	}
	if (s->duration_s > 1000000000 || s->idle_s > 1000000000 || s->stats_s > 1000000000) {
		fprintf(stderr, "sluice linksim: durations above 10^9 seconds are not supported\n");
		return 2;
	}
	if (!a->have_seed) {
		if (sodium_init() < 0) {
			fprintf(stderr, "sluice linksim: libsodium failed to initialise\n");
			return 1;
		}
		randombytes_buf(&s->seed, sizeof s->seed);
	}
	if (ls_loss_init(&s->loss, a->loss, a->burst, s->seed, &d)) {
		fprintf(stderr, "sluice linksim: %s\n", d.msg);
		return 2;
	}
	s->simulated = !strncmp(a->in_uri, "pcap:", 5);
	if (s->simulated && strncmp(a->out_uri, "pcap:", 5)) {
		fprintf(stderr, "sluice linksim: with --in pcap: time comes from the capture, so "
			"--out must be pcap: too (replaying a capture onto a live link is not "
			"supported)\n");
		return 2;
	}
	return 0;
}

/* Both links, the queue's ring and the receive buffers; 0 or -1 (said). */
static int open_sim(const struct linksim_args *a, struct sim *s, struct sl_dgram *dg,
		    uint8_t **dgmem)
{
	struct sl_link_opts lopts = { .sockbuf = a->sockbuf };
	struct sl_diag d;
	char b1[32];

	if (sl_link_open_rx(a->in_uri, &lopts, &s->in, &d) ||
	    sl_link_open_tx(a->out_uri, &lopts, &s->out, &d)) {
		fprintf(stderr, "sluice linksim: %s\n", d.msg);
		return -1;
	}
	if (sl_link_warning(s->in))
		fprintf(stderr, "sluice linksim: warning: %s\n", sl_link_warning(s->in));
	if (sl_link_warning(s->out))
		fprintf(stderr, "sluice linksim: warning: %s\n", sl_link_warning(s->out));

	s->ring.size = s->queue + 4 * rec_size(SL_LINK_MAX_DGRAM);
	s->ring.mem = malloc(s->ring.size);
	*dgmem = malloc((size_t)BATCH * SL_LINK_MAX_DGRAM);
	if (!s->ring.mem || !*dgmem) {
		fprintf(stderr, "sluice linksim: out of memory for a %s queue\n",
			sl_fmt_bytes(s->queue, b1, sizeof b1));
		return -1;
	}
	for (int i = 0; i < BATCH; i++)
		dg[i] = (struct sl_dgram){ *dgmem + (size_t)i * SL_LINK_MAX_DGRAM,
					   SL_LINK_MAX_DGRAM, 0, 0 };
	s->start_ns = s->simulated ? 0 : sl_realtime_ns();
	s->last_input = s->last_stats = s->start_ns;
	s->next_stats = s->start_ns + s->stats_s * 1000000000ull;
	ls_queue_init(&s->q, s->rate, s->queue, s->start_ns);
	return 0;
}

static void banner(const struct linksim_args *a, const struct sim *s)
{
	char b1[32], b2[32];

	printf("linksim: in  %s\n", sl_link_describe(s->in));
	printf("linksim: out %s%s\n", sl_link_describe(s->out),
	       strncmp(a->out_uri, "pcap:", 5) ? "" :
	       "; linksim stamps each record with its departure time");
	printf("linksim: rate %s, queue %s (%.2f ms at that rate), ",
	       sl_fmt_rate((double)s->rate, b1, sizeof b1), sl_fmt_bytes(s->queue, b2, sizeof b2),
	       (double)s->queue * 8e3 / (double)s->rate);
	if (s->loss.kind == LS_LOSS_GILBERT)
		printf("loss %.4g%% in bursts of %.4g (Gilbert-Elliott p=%.6g r=%.6g)",
		       a->loss * 100, a->burst, s->loss.p_gb, s->loss.p_bg);
	else if (s->loss.kind == LS_LOSS_BERNOULLI)
		printf("loss %.4g%% (independent)", a->loss * 100);
	else
		printf("no loss");
	printf(", seed %" PRIu64 "%s\n", s->seed, s->simulated ? ", simulated time" : "");
	fflush(stdout);
}

/* Signals interrupt the wait (ppoll unblocks them) and end the run. */
static void catch_signals(int simulated)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!simulated) {
		sigset_t block;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigprocmask(SIG_BLOCK, &block, NULL);
		prctl(PR_SET_TIMERSLACK, 1000UL); /* wake within ~1 us of a departure */
	}
}

int linksim_main(int argc, char **argv)
{
	struct linksim_args a = { 0 };
	struct sim s = { .queue = DEFAULT_QUEUE };
	struct sl_dgram dg[BATCH];
	uint8_t *dgmem = NULL;
	struct sl_diag d;
	int done = 0, ret;

	ret = parse_args(argc, argv, &a, &s, &done);
	if (ret || done)
		return ret;
	ret = check_args(&a, &s);
	if (ret)
		return ret;
	ret = 1;
	if (open_sim(&a, &s, dg, &dgmem))
		goto out;
	banner(&a, &s);
	catch_signals(s.simulated);
	ret = s.simulated ? run_capture(&s, dg) : run_live(&s, dg);
	if (stop_signal)
		printf("linksim: stopped by %s\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	summary(&s);
	if (sl_link_flush(s.out, &d)) {
		fprintf(stderr, "sluice linksim: %s\n", d.msg);
		ret = 1;
	}
out:
	sl_link_close(s.in);
	sl_link_close(s.out);
	free(s.ring.mem);
	free(dgmem);
	return ret;
}
