# e2e scenario wrong_key (run by tests/e2e/run.sh wrong_key, after lib.sh).
transfer_to_rx T 1 mixed
"$SLUICE_TX" send --link "udp://127.0.0.1:$P" --key "$W/other.key" --rate "$RATE" --no-progress \
    "$W/T" >> "$W/tx.log" 2>&1
sleep 2
fails=$(status_field auth_failures)
note "authentication failures: $fails"
[ "${fails:-0}" -gt 100 ] || fail "datagrams under the wrong key were not counted"
[ -z "$(ls "$W/state/xfer")" ] || fail "something was staged"
[ -z "$(ls "$W/rel")" ] || fail "something was released"
