# e2e scenario unseen (run by tests/e2e/run.sh unseen, after lib.sh).
# Everything but heartbeats is lost: rx must say a transfer went missing.
make_transfer T 1 random:200
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
start_forge "$P" "$Q" --drop-type 1 --drop-type 3 --drop-type 4 --idle-exit 3
send T "$P" --rate "$RATE"
wait_for "audit_has unseen $id 'nothing%20of%20it%20arrived'" 20 || fail "missing transfer not reported"
forge_done
[ -z "$(ls "$W/rel")" ] || fail "released"
