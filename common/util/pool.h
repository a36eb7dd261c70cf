/* pool.h — the one way sluice starts and stops its worker threads.
 *
 * A pool is a fixed set of helper threads that sleep until the owner gives
 * them a job: a function every helper runs once, with the job's context and
 * its own worker number (1..helpers; 0 is left for the owner, which usually
 * takes part in the same job between begin and end). Jobs are runs, not
 * queues: sl_pool_begin wakes every helper on fn, sl_pool_end waits until
 * each has returned. How the work is shared (an atomic counter over blocks or
 * files, a long-running loop with its own stop flag) is up to fn.
 *
 * sl_pool_new starts up to `helpers` threads, named for top -H and ps -L
 * ("name" for one helper, "name-N" for several; at most 15 characters
 * kept); when the system refuses one it
 * keeps those it has (sl_pool_helpers says how many: a pool of 0 helpers is
 * valid, the owner then does all the work) and fails only when it cannot
 * allocate the pool. One job at a time; begin and end from one owner thread.
 * A NULL pool is one of 0 helpers for begin, end and run.
 * sl_pool_free (NULL is fine) ends an unfinished job, stops and joins the
 * helpers. Threads inherit the caller's sandbox (Landlock, seccomp) and
 * signal mask; helpers block every signal so that signals go to the owner.
 */
#ifndef SL_POOL_H
#define SL_POOL_H

#include "error.h"

struct sl_pool;
typedef void (*sl_pool_fn)(void *ctx, unsigned worker);

int sl_pool_new(unsigned helpers, const char *name, struct sl_pool **out, struct sl_diag *d);
unsigned sl_pool_helpers(const struct sl_pool *p);
void sl_pool_begin(struct sl_pool *p, sl_pool_fn fn, void *ctx);
void sl_pool_end(struct sl_pool *p);
/* begin, the owner runs fn(ctx, 0), end. */
void sl_pool_run(struct sl_pool *p, sl_pool_fn fn, void *ctx);
/* A thread of its own for a long job: a pool of exactly one helper, named
 * name, already running fn(ctx, 1) (which returns when ctx says stop;
 * sl_pool_free then waits for it). SL_ERR_NOMEM (d) when the thread cannot
 * be had. */
int sl_pool_start_one(const char *name, sl_pool_fn fn, void *ctx, struct sl_pool **out, struct sl_diag *d);
void sl_pool_free(struct sl_pool *p);

#endif
