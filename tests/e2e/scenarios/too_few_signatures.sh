# e2e scenario too_few_signatures (run by tests/e2e/run.sh too_few_signatures, after lib.sh).
SIGNERS="alice dana" transfer_to_rx T 1 mixed
send_refused T "$P" "a transfer signed by one officer" signatures
none_released
if [ -d "$W/state/xfer/$id" ]; then fail "staging not cleaned up"; fi
