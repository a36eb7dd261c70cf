# e2e scenario expired (run by tests/e2e/run.sh expired, after lib.sh).
"$SLUICE" policy create --officer "$W/alice.pub" --officer "$W/bob.pub" \
    --officer "$W/carol.pub" --threshold 2 --submitter "$W/dana.pub" --enclave lab \
    --link diode1 --clock-skew 1s -o "$W/policy.skew" >/dev/null
mv "$W/policy.skew" "$W/policy"
make_transfer T 1 random:50 --expires 1s
id=$(xfer_id T)
sleep 3
P=$(free_port)
start_rx "$P"
send T "$P" --rate "$RATE"
wait_for "audit_has rejected $id 'expire'" 20 || fail "expired manifest not refused"
audit_reason rejected "$id"
[ -z "$(ls "$W/rel")" ] || fail "released"
