# e2e scenario forged_in_flight (run by tests/e2e/run.sh forged_in_flight, after lib.sh).
make_transfer T 1 random:400
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
# block 1 is chunk 0 (block 0 is the catalog); row 1 is raw file bytes.
"$SLUICE_FORGE" --in "udp://127.0.0.1:$P" --out "udp://127.0.0.1:$Q" --key "$W/link.key" \
    --block 1 --row 1 --idle-exit 4 > "$W/forge.log" 2>&1 &
FG=$!
PIDS="$PIDS $FG"
sleep 0.3
send T "$P" --rate "$RATE"
wait_for "audit_has rejected $id 'SHA-256'" 20 || fail "forged content not rejected by hash"
wait "$FG" || true
cat "$W/forge.log" | sed 's/^/# /'
[ -z "$(ls "$W/rel")" ] || fail "forged transfer released"
