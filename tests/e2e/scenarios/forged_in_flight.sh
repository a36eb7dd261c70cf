# e2e scenario forged_in_flight (run by tests/e2e/run.sh forged_in_flight, after lib.sh).
make_transfer T 1 random:400
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
# block 1 is chunk 0 (block 0 is the catalog); row 1 is raw file bytes.
start_forge "$P" "$Q" --block 1 --row 1 --idle-exit 4
send T "$P" --rate "$RATE"
wait_for "audit_has rejected $id 'SHA-256'" 20 || fail "forged content not rejected by hash"
forge_done
[ -z "$(ls "$W/rel")" ] || fail "forged transfer released"
