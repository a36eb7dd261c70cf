# e2e scenario tx_killed (run by tests/e2e/run.sh tx_killed, after lib.sh).
make_transfer U 2 mixed
id2=$(xfer_id U)
transfer_to_rx T 1 random:12000
send_bg T "$P" --rate 40M
TX=$TX_PID
kill_when "[ -d $W/state/xfer/$id ]" "$TX" "transfer never started"
wait_for "audit_has timeout $id 'no%20data'" 20 || fail "rx did not time out the transfer"
[ -d "$W/rel/$id" ] && fail "partial transfer released"
kill -0 "$RX_PID" || fail "rx died"
send U "$P" --rate "$RATE"
wait_for "released $id2" 20 || fail "rx stopped serving after the timeout"
only_released "$id2"
