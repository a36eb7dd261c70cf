/* test_status.c — `sluice status`'s reading of STATE/status (tools/status.c):
 * numbers as sluice-rx writes them, -1 for none, nothing else taken. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "status.h"

Test(status, numbers_as_written)
{
	const char *l = "storage state=ok free=-1 reserve=4096 a=+5 b=18446744073709551616 c= 7 "
			"d=18446744073709551615";
	unsigned long long v = 1;

	cr_assert_eq(status_num(l, "reserve="), 4096);
	cr_assert_eq(status_num(l, "d="), UINT64_MAX);
	cr_assert_not(status_get(l, "free=", &v), "-1 is none");
	cr_assert_eq(status_num(l, "free="), 0);
	cr_assert_eq(status_num(l, "a="), 0, "a sign is not written");
	cr_assert_eq(status_num(l, "b="), 0, "overflow");
	cr_assert_eq(status_num(l, "c="), 0, "an empty value");
	cr_assert_eq(status_num(l, "missing="), 0);
	cr_assert_eq(status_value("42"), 42);
	cr_assert_eq(status_value(" 42"), 0);
	cr_assert_eq(status_value("42x"), 0);
}

Test(status, done_of_total)
{
	unsigned long long a = 9, b = 9;

	status_pair("xfer x chunks=3/10 bytes=5 odd=+1/2 big=1/99999999999999999999", "chunks=", &a, &b);
	cr_assert(a == 3 && b == 10);
	status_pair("xfer x bytes=5", "bytes=", &a, &b);
	cr_assert(a == 0 && b == 0, "no total: nothing known");
	status_pair("xfer x odd=+1/2", "odd=", &a, &b);
	cr_assert(a == 0 && b == 2);
	status_pair("xfer x big=1/99999999999999999999", "big=", &a, &b);
	cr_assert(a == 1 && b == 0);
}

Test(status, silent_sender)
{
	cr_assert(status_session_silent("session 1 state=sending last_heartbeat_ms=6000 idle_ms=1"));
	cr_assert_not(status_session_silent("session 1 state=sending last_heartbeat_ms=-1 idle_ms=1"),
		      "no heartbeat yet");
	cr_assert_not(status_session_silent("session 1 state=sending last_heartbeat_ms=4000 idle_ms=1"));
	cr_assert_not(status_session_silent("session 1 state=done last_heartbeat_ms=6000 idle_ms=1"));
}
