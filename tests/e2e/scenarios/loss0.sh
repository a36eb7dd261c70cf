# e2e scenario loss0 (run by tests/e2e/run.sh loss0, after lib.sh).
transfer_to_rx T 1 mixed
t0=$(date +%s.%N)
send T "$P" --rate "$RATE"
wait_for "released $id" 20 || fail "not released"
goodput "$t0" T
check_identical T "$id"
audit_has released "$id" "files" || fail "no audit record"
only_released "$id"
