/* pool.c — helper threads that run one job at a time (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct helper {
	struct sl_pool *p;
	pthread_t thread;
	unsigned id;
	char name[16];        /* "" for none */
};

struct sl_pool {
	pthread_mutex_t mu;
	pthread_cond_t go;    /* a new job, or stop */
	pthread_cond_t idle;  /* a helper finished the job */
	sl_pool_fn fn;
	void *ctx;
	unsigned gen;         /* jobs begun */
	unsigned running;     /* helpers still in the current job */
	bool in_job, stop;
	unsigned n;           /* helpers started */
	struct helper *h;
};

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct sl_pool *p = h->p;
	unsigned seen = 0;

	if (h->name[0]) /* from the thread itself: prctl, no /proc write (sandboxes allow it) */
		pthread_setname_np(pthread_self(), h->name);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->stop)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->gen == seen) /* stop, and no job this helper has not run */
			break;
		seen = p->gen;
		sl_pool_fn fn = p->fn;
		void *ctx = p->ctx;
		pthread_mutex_unlock(&p->mu);
		fn(ctx, h->id);
		pthread_mutex_lock(&p->mu);
		if (--p->running == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Start helpers with every signal blocked (they inherit the mask). */
static unsigned start_helpers(struct sl_pool *p, unsigned want, const char *name)
{
	sigset_t all, old;
	unsigned n = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; n < want; n++) {
		p->h[n].p = p;
		p->h[n].id = n + 1;
		if (name && want == 1)
			snprintf(p->h[n].name, sizeof p->h[n].name, "%s", name);
		else if (name)
			snprintf(p->h[n].name, sizeof p->h[n].name, "%s-%u", name, n + 1);
		if (pthread_create(&p->h[n].thread, NULL, helper_main, &p->h[n]) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return n;
}

int sl_pool_new(unsigned helpers, const char *name, struct sl_pool **out, struct sl_diag *d)
{
	struct sl_pool *p = calloc(1, sizeof *p);

	*out = NULL;
	if (!p || (helpers && !(p->h = calloc(helpers, sizeof *p->h)))) {
		free(p);
		return sl_diag_set(d, SL_ERR_NOMEM, "out of memory for a pool of %u threads", helpers);
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->n = start_helpers(p, helpers, name);
	*out = p;
	return SL_OK;
}

unsigned sl_pool_helpers(const struct sl_pool *p)
{
	return p ? p->n : 0;
}

void sl_pool_begin(struct sl_pool *p, sl_pool_fn fn, void *ctx)
{
	if (!p || !p->n)
		return;
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->ctx = ctx;
	p->running = p->n;
	p->in_job = true;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
}

void sl_pool_end(struct sl_pool *p)
{
	if (!p || !p->n)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->in_job && p->running)
		pthread_cond_wait(&p->idle, &p->mu);
	p->in_job = false;
	pthread_mutex_unlock(&p->mu);
}

void sl_pool_run(struct sl_pool *p, sl_pool_fn fn, void *ctx)
{
	sl_pool_begin(p, fn, ctx);
	fn(ctx, 0);
	sl_pool_end(p);
}

int sl_pool_start_one(const char *name, sl_pool_fn fn, void *ctx, struct sl_pool **out, struct sl_diag *d)
{
	struct sl_pool *p = NULL;
	int r = sl_pool_new(1, name, &p, d);

	*out = NULL;
	if (r != SL_OK)
		return r;
	if (sl_pool_helpers(p) != 1) {
		sl_pool_free(p);
		return sl_diag_set(d, SL_ERR_NOMEM, "cannot start the %s thread", name);
	}
	sl_pool_begin(p, fn, ctx);
	*out = p;
	return SL_OK;
}

void sl_pool_free(struct sl_pool *p)
{
	if (!p)
		return;
	sl_pool_end(p);
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->h[i].thread, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->idle);
	free(p->h);
	free(p);
}
