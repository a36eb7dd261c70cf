/* timefmt.c — RFC 3339 UTC times (timefmt.h). */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "units.h"

const char *sl_time_format(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || t > SL_TIME_MAX_SECONDS || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "(out of range)");
	return buf;
}

/* The fixed-width field s[0, n): n decimal digits exactly, as an int. */
static int digits(const char *s, size_t n, int *v)
{
	uint64_t x;

	if (sl_parse_decimal_n(s, n, 0, 9999, &x))
		return -1;
	*v = (int)x;
	return 0;
}

int sl_time_parse(const char *s, size_t len, int64_t *t)
{
	struct tm tm = { 0 }, back;
	int y, mo, d;
	time_t tt;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return SL_ERR_PARSE;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &tm.tm_hour) || digits(s + 14, 2, &tm.tm_min) || digits(s + 17, 2, &tm.tm_sec))
		return SL_ERR_PARSE;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return SL_ERR_RANGE;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tt = timegm(&tm);
	/* timegm normalises (February 30th becomes March 2nd): a real date comes back unchanged */
	if (tt == (time_t)-1 || !gmtime_r(&tt, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return SL_ERR_RANGE;
	*t = (int64_t)tt;
	return SL_OK;
}
