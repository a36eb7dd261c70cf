# e2e scenario too_few_signatures (run by tests/e2e/run.sh too_few_signatures, after lib.sh).
SIGNERS="alice dana" make_transfer T 1 mixed
id=$(xfer_id T)
P=$(free_port)
start_rx "$P"
send T "$P" --rate "$RATE"
wait_for "audit_has rejected $id 'signatures'" 20 || fail "not rejected for signatures"
audit_reason rejected "$id"
[ -z "$(ls "$W/rel")" ] || fail "released"
if [ -d "$W/state/xfer/$id" ]; then fail "staging not cleaned up"; fi
