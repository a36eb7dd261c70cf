# e2e scenario beyond_repair (run by tests/e2e/run.sh beyond_repair, after lib.sh).
# 35% loss in one pass is more than 12.5% parity can repair.
make_transfer T 1 random:3000
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 35% --seed 21
send T "$P" --rate "$RATE"
wait_for "audit_has timeout $id 'missing'" 20 || fail "no timeout report"
[ -d "$W/rel/$id" ] && fail "released despite unrepaired loss"
grep -q "^missing blocks" "$W/state/xfer/$id/report" || fail "report does not name missing blocks"
head -3 "$W/state/xfer/$id/report" | sed 's/^/# report: /'
stop_linksim
# A later repeat pass (new rows: passes 2 and 3) completes it.
send T "$Q" --rate "$RATE" --first-pass 2 --passes 2
wait_for "released $id" 20 || fail "repeat pass did not complete the transfer"
check_identical T "$id"
