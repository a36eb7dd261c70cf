/* leakcheck.h — under AddressSanitizer, a leak check a test can assert on:
 * LeakSanitizer's own check at exit only prints, after Criterion has
 * reported the test as passed. leaked() is 0 in other builds. */
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
