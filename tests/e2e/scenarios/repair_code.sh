# e2e scenario repair_code (run by tests/e2e/run.sh repair_code, after lib.sh).
# A transfer through a 35%-loss link times out on rx with a few blocks short;
# `sluice status --repair` gives a code of at most 40 characters, and ONE
# `sluice-tx send --repair CODE` through the same lossy link completes it.
# First send: one pass at --overhead 60 (k = 128, m = 77: a block needs 128
# of 205 rows, 133 arrive on average at 35% loss), so most blocks decode
# and a few are a handful of rows short.
make_transfer T 1 random:3000
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 35% --seed 7
send T "$P" --rate "$RATE" --overhead 60 || fail "first send failed"
full=$(sed -n 's/^sent .*, \([0-9]*\) datagrams,.*/\1/p' "$W/tx.log" | tail -1)
wait_for "audit_has timeout $id 'repair%20code'" 20 || fail "no timeout with a repair code"
[ -d "$W/rel/$id" ] && fail "released despite unrepaired loss"
stop_linksim
full_ls=$(linksim_count "received")
note "first send: $full datagrams (linksim received $full_ls)"

code=$("$SLUICE" status --state "$W/state" --repair "$id" 2> "$W/repair.txt") ||
    fail "status --repair gave no code: $(cat "$W/repair.txt")"
sed 's/^/# /' "$W/repair.txt"
note "repair code: $code (${#code} characters)"
[ "${#code}" -le 40 ] || fail "repair code longer than 40 characters"
grep -q "repair code $code" "$W/state/xfer/$id/report" || fail "report does not carry the code"
"$SLUICE" status --state "$W/state" --json | grep -q "\"repair\": \"$code\"" ||
    fail "status --json does not carry the code"
"$SLUICE" status --state "$W/state" > "$W/status.txt" || true
grep "repair code" "$W/status.txt" | sed 's/^/# status: /'
grep -q "repair code $code (sluice status --repair $id)" "$W/status.txt" ||
    fail "the human view does not show the code"
short=$(sed -n 's/.*lacks \([0-9]*\) block.*/\1/p' "$W/repair.txt")
[ -n "$short" ] || fail "the code asks for a full pass, not a few blocks: $(cat "$W/repair.txt")"

# refused: a mistyped code (one character changed), a code for another transfer
c6=$(echo "$code" | cut -c6)
if [ "$c6" = 0 ]; then t=2; else t=0; fi
bad=$(echo "$code" | sed "s/^\(.....\)./\1$t/")
[ "$bad" != "$code" ] || fail "could not make a typo"
if send T "$P" --rate "$RATE" --repair "$bad"; then fail "a mistyped code was accepted"; fi
grep -q "check characters do not match" "$W/tx.log" || fail "typo not explained"
make_transfer U 2 random:10
if send U "$P" --rate "$RATE" --repair "$code"; then fail "a code for another transfer was accepted"; fi
grep -q "made for another transfer" "$W/tx.log" || fail "wrong transfer not explained"

# ONE repair send through the same 35%-loss link completes it
: > "$W/linksim.log"
start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 35% --seed 8
send T "$P" --rate "$RATE" --repair "$code" --overhead 60 || fail "repair send failed"
rep=$(sed -n 's/^repair sent: \([0-9]*\) datagrams.*/\1/p' "$W/tx.log" | tail -1)
[ -n "$rep" ] || fail "the repair send did not report its datagrams"
wait_for "released $id" 20 || fail "the repair did not complete the transfer: $(tail -3 "$W/rx.log")"
stop_linksim
rep_ls=$(linksim_count "received")
check_identical T "$id"
audit_has released "$id" '' || fail "release not audited"
note "repair send: $rep datagrams (linksim received $rep_ls) for $short block(s)"
note "ratio repair/full pass: $(awk "BEGIN{printf \"%.4f\", $rep/$full}") (tx), $(awk "BEGIN{printf \"%.4f\", $rep_ls/$full_ls}") (linksim)"
[ $((rep * 10)) -lt "$full" ] || fail "the repair sent $rep datagrams, not a small fraction of $full"
