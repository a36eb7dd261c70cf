#!/bin/sh
# leaks_fail.sh PROGRAM [ARGS...] — run a Criterion test program of the
# AddressSanitizer build and fail it when LeakSanitizer reported a leak in
# any of its test processes. Criterion has reported each test's result by
# the time its process ends, where LeakSanitizer checks: the report alone
# leaves the test passed. Everything the program writes is passed on.
err=$(mktemp) || exit 1 # stderr of the test program, kept to look for a leak report
trap 'rm -f "$err"' EXIT
"$@" 2>"$err"
rc=$?
cat "$err" >&2
if grep -q "ERROR: LeakSanitizer" "$err"; then
	echo "leaks_fail.sh: LeakSanitizer found leaks in $(basename "$1") (its report is above)" >&2
	[ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
