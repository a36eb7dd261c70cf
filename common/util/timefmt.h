/* timefmt.h — RFC 3339 UTC times as sluice writes them, "YYYY-MM-DDTHH:MM:SSZ".
 *
 * Years 1970..9999 only (0 .. SL_TIME_MAX_SECONDS seconds since the epoch);
 * the calendar is the C library's (gmtime_r, timegm, strftime). Parsing is
 * strict: exactly that form, a real date (no February 30th), no leap second.
 */
#ifndef SL_TIMEFMT_H
#define SL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define SL_TIME_MAX_SECONDS 253402300799ll /* 9999-12-31T23:59:59Z */

/* t into buf (>= 21 bytes), or "(out of range)"; returns buf. */
const char *sl_time_format(int64_t t, char *buf, size_t len);
/* s[0, len) into *t: SL_OK, SL_ERR_PARSE (not the form) or SL_ERR_RANGE. */
int sl_time_parse(const char *s, size_t len, int64_t *t);

#endif
