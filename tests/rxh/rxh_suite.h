/* rxh_suite.h — the fixture of a Criterion test file whose every test drives
 * a receiver of its own (tests/rxh): `h`, made before each test and freed
 * after it however the test ended. Include it once, from the test file.
 *
 *   rxh_suite_up          h is a started receiver
 *   rxh_suite_up_stopped  h is made but not started (the test changes h->cfg,
 *                         then calls rxh_start itself)
 *   rxh_suite_down        h is stopped, its temporary tree removed, NULL
 *
 * A file whose fixture does more calls these from its own init and fini;
 * rxh_for_test prints what the receiver logs when RXH_VERBOSE is set. */
#ifndef SL_RXH_SUITE_H
#define SL_RXH_SUITE_H

#include <criterion/criterion.h>

#include "rxh.h"

static struct rxh *h;

static inline void rxh_suite_up(void)
{
	cr_assert_not_null(h = rxh_for_test(1), "a started receiver under /tmp");
}

static inline void rxh_suite_up_stopped(void)
{
	cr_assert_not_null(h = rxh_for_test(0), "a receiver under /tmp");
}

static inline void rxh_suite_down(void)
{
	rxh_free(h);
	h = NULL;
}

#endif
