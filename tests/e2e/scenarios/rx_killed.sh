# e2e scenario rx_killed (run by tests/e2e/run.sh rx_killed, after lib.sh).
transfer_to_rx T 1 random:12000
send_bg T "$P" --rate 60M
TX=$TX_PID
kill_when "[ -s $W/state/xfer/$id/done ]" "$RX_PID" "nothing staged before the kill"
note "rx killed with SIGKILL mid-transfer"
wait "$TX" || fail "tx failed"
[ -d "$W/rel/$id" ] && fail "released although rx was dead for part of the pass"
start_rx "$P"
send T "$P" --rate "$RATE" --first-pass 2
wait_for "released $id" 20 || fail "repeat pass after restart did not complete it"
grep -q "resumed from disk" "$W/rx.log" || fail "rx did not resume staged state"
check_identical T "$id"
