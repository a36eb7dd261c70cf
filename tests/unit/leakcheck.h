/* leakcheck.h — under AddressSanitizer, a leak check a test can assert on
 * at a step of its own (which case, which stop), before its process ends.
 * Every unit test's process is checked at its end too (leaks_fail.sh, in
 * tests/meson.build): LeakSanitizer's report alone, printed after Criterion
 * has reported the test passed, would not fail it. leaked() is 0 in other
 * builds. */
#ifndef SL_TEST_LEAKCHECK_H
#define SL_TEST_LEAKCHECK_H

#if defined(__SANITIZE_ADDRESS__)
#define SL_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_TEST_LSAN 1
#endif
#endif

#ifdef SL_TEST_LSAN
#include <sanitizer/lsan_interface.h>
static inline int leaked(void)
{
	return __lsan_do_recoverable_leak_check();
}
#else
static inline int leaked(void)
{
	return 0;
}
#endif

#endif
