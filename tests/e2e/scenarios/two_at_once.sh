# e2e scenario two_at_once (run by tests/e2e/run.sh two_at_once, after lib.sh).
make_transfer T 1 random:6000
make_transfer U 2 mixed
id=$(xfer_id T) id2=$(xfer_id U)
P=$(free_port)
start_rx "$P"
send_bg T "$P" --rate 100M
A=$TX_PID
send_bg U "$P" --rate 100M
B=$TX_PID
wait "$A" || fail "first tx failed"
wait "$B" || fail "second tx failed"
wait_for "released $id && released $id2" 20 || fail "not both released"
check_identical T "$id"
check_identical U "$id2"
