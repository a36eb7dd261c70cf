# e2e scenario repair_full (run by tests/e2e/run.sh repair_full, after lib.sh).
# 35% loss against the default 12.5% parity leaves nearly every block short:
# more than a repair code can list, so the code asks for a full pass, and
# sluice-tx given that code sends one normal pass with new rows.
make_transfer T 1 random:3000
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 35% --seed 21
send T "$P" --rate "$RATE" || fail "first send failed"
wait_for "audit_has timeout $id 'repair%20code'" 20 || fail "no timeout with a repair code"
stop_linksim
code=$("$SLUICE" status --state "$W/state" --repair "$id" 2> "$W/repair.txt") ||
    fail "status --repair gave no code: $(cat "$W/repair.txt")"
sed 's/^/# /' "$W/repair.txt"
grep -q "full pass" "$W/repair.txt" || fail "expected a full-pass code: $(cat "$W/repair.txt")"
[ "${#code}" -le 10 ] || fail "a full-pass code is short, not $code"
# the full pass the code asks for, over a clean link
send T "$Q" --rate "$RATE" --repair "$code" || fail "repair send failed"
grep -q "sending a full pass with new rows (pass 2)" "$W/tx.log" || fail "tx did not send a full pass"
wait_for "released $id" 20 || fail "the full pass did not complete the transfer"
check_identical T "$id"
