# e2e scenario expired (run by tests/e2e/run.sh expired, after lib.sh).
"$SLUICE" policy create --officer "$W/alice.pub" --officer "$W/bob.pub" \
    --officer "$W/carol.pub" --threshold 2 --submitter "$W/dana.pub" --enclave lab \
    --link diode1 --clock-skew 1s -o "$W/policy.skew" >/dev/null
mv "$W/policy.skew" "$W/policy"
make_transfer T 1 random:50 --expires 1s
sleep 3
P=$(free_port)
start_rx "$P"
send_refused T "$P" "the expired manifest" expire
none_released
