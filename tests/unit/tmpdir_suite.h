/* tmpdir_suite.h — the fixture of a Criterion test file whose every test
 * works in a fresh directory of its own (tmpdir.h): `tmp` is its path and
 * `tmp_fd` the directory opened; tmp_setup makes it with mkdtemp under
 * /tmp, named after the test binary (e.g. /tmp/sluice-test_link-a1B2c3), and
 * tmp_teardown removes it with everything in it however the test ended.
 * Include it once, from the test file; a fixture that does more calls
 * these from its own init and fini. */
#ifndef SL_TEST_TMPDIR_SUITE_H
#define SL_TEST_TMPDIR_SUITE_H

#include "tmpdir.h"

static char tmp[64];
static int tmp_fd = -1;

static inline void tmp_setup(void)
{
	tmp_fd = tmpdir_make(tmp, sizeof tmp, program_invocation_short_name);
}

static inline void tmp_teardown(void)
{
	tmpdir_remove(tmp, tmp_fd);
	tmp_fd = -1;
}

#endif
