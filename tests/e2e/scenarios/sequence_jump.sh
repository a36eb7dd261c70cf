# e2e scenario sequence_jump (run by tests/e2e/run.sh sequence_jump, after lib.sh).
# A signed manifest with sequence 2^63-1 would raise the link's mark out
# of reach: every later transfer would be a "replay". sequence-max-step
# (default 1000000) refuses it and the link goes on.
make_transfer BIG 9223372036854775807 random:20
make_transfer T 2 random:50
make_transfer NEXT 1000002 random:20
make_transfer FAR 2000003 random:20
big=$(xfer_id BIG) id=$(xfer_id T) next=$(xfer_id NEXT) far=$(xfer_id FAR)
P=$(free_port)
start_rx "$P"
send BIG "$P" --rate "$RATE"
wait_for "audit_has rejected $big 'sequence-max-step'" 20 || fail "sequence 2^63-1 not refused"
audit_reason rejected "$big"
send T "$P" --rate "$RATE"
wait_for "released $id" 20 || fail "the next transfer of the link was not released"
send NEXT "$P" --rate "$RATE"  # exactly max-step above the mark 2
wait_for "released $next" 20 || fail "a step of sequence-max-step was not released"
send FAR "$P" --rate "$RATE"   # one more than max-step above 1000002
wait_for "audit_has rejected $far 'sequence-max-step'" 20 || fail "a step above the cap was not refused"
only_released "$id" "$next"
