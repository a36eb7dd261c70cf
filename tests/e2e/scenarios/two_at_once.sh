# e2e scenario two_at_once (run by tests/e2e/run.sh two_at_once, after lib.sh).
make_transfer U 2 mixed
id2=$(xfer_id U)
transfer_to_rx T 1 random:6000
send_bg T "$P" --rate 100M
A=$TX_PID
send_bg U "$P" --rate 100M
B=$TX_PID
wait "$A" || fail "first tx failed"
wait "$B" || fail "second tx failed"
wait_for "released $id && released $id2" 20 || fail "not both released"
check_identical T "$id"
check_identical U "$id2"
