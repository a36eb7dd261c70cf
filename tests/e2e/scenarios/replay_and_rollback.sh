# e2e scenario replay_and_rollback (run by tests/e2e/run.sh replay_and_rollback, after lib.sh).
make_transfer T 5 mixed
make_transfer LOW 3 random:100
id=$(xfer_id T) low=$(xfer_id LOW)
P=$(free_port)
start_rx "$P"
send T "$P" --rate "$RATE"
wait_for "released $id" 20 || fail "first send not released"
# The same transfer again: nothing new.
send T "$P" --rate "$RATE"
wait_for "audit_has replay $id ignored" 10 || fail "replay not recorded"
only_released "$id"
# Rollback: with no sequence window, a sequence below the mark is refused.
stop_rx
"$SLUICE" policy create --officer "$W/alice.pub" --officer "$W/bob.pub" \
    --officer "$W/carol.pub" --threshold 2 --submitter "$W/dana.pub" --enclave lab \
    --link diode1 -o "$W/policy.strict" >/dev/null
mv "$W/policy.strict" "$W/policy"
start_rx "$P"
send LOW "$P" --rate "$RATE"
wait_for "audit_has rejected $low 'sequence'" 20 || fail "lower sequence not refused"
audit_reason rejected "$low"
only_released "$id"
