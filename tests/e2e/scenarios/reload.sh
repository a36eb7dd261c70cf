# e2e scenario reload (run by tests/e2e/run.sh reload, after lib.sh).
# SIGHUP: the policy and the quota limits change without a restart;
# a bad policy keeps the old one; other changes are named.
P=$(free_port)
printf 'link = udp://127.0.0.1:%s\nkey = %s\npolicy = %s\nstate = %s\nrelease = %s\ntimeout = 4\ntail-grace = 2\nmax-staging = 64M\n' \
    "$P" "$W/link.key" "$W/policy" "$W/state" "$W/rel" > "$W/rx.conf"
"$SLUICE_RX" --config "$W/rx.conf" >> "$W/rx.log" 2>&1 &
RX_PID=$!
PIDS="$PIDS $RX_PID"
wait_for "grep -q 'listening on' '$W/rx.log'" 10 || fail "sluice-rx did not start"
wait_for "grep -q '^staging .*max=67108864 ' '$W/state/status'" 5 || fail "no status"
count() { grep -c "$1" "$W/rx.log" || true; }
hup() { # hup PATTERN: send SIGHUP, wait for one more log line matching PATTERN
    n=$(count "$1")
    kill -HUP "$RX_PID"
    wait_for "[ \$(count '$1') -gt $n ]" 10 || fail "no '$1' after SIGHUP: $(tail -3 "$W/rx.log")"
    kill -0 "$RX_PID" || fail "sluice-rx died on SIGHUP"
}
# quotas, and a restart-only key, written in place
sed 's/64M/96M/; s/^timeout = 4/timeout = 9/' "$W/rx.conf" > "$W/new.conf"
cat "$W/new.conf" > "$W/rx.conf"
hup "reloaded:"
grep -q "reload: changed timeout, which take effect only after a restart" "$W/rx.log" ||
    fail "the restart-only change was not named"
wait_for "grep -q '^staging .*max=100663296 ' '$W/state/status'" 5 || fail "max-staging not reloaded"
# the metrics file is written just after the status file: wait for it too
wait_for "grep -q 'sluice_rx_staging_limit_bytes{kind=\"all\"} 100663296' '$W/state/metrics.prom'" 5 ||
    fail "metrics do not show the new limit"
# a broken policy keeps the one in force
cp "$W/policy" "$W/policy.good"
echo "garbage" > "$W/policy"
hup "reload refused"
grep "reload refused" "$W/rx.log" | tail -1 | sed 's/^/# /'
cat "$W/policy.good" > "$W/policy"
make_transfer T 1 mixed
id=$(xfer_id T)
send T "$P" --rate "$RATE"
wait_for "released $id" 20 || fail "not released under the kept policy"
# a stricter policy (3 of 3) takes effect: two signatures no longer do
"$SLUICE" policy create --officer alice.pub --officer bob.pub --officer carol.pub \
    --threshold 3 --submitter dana.pub --enclave lab --link diode1 --sequence-window 100 \
    -o "$W/policy3" >/dev/null
cat "$W/policy3" > "$W/policy"
hup "reloaded:"
grep -q "reloaded xfer=- .*3%20of%203%20officers" "$W/state/audit.log" || fail "reload not audited"
make_transfer T2 2 mixed
id2=$(xfer_id T2)
send T2 "$P" --rate "$RATE"
wait_for "audit_has rejected $id2 'signatures'" 20 || fail "the reloaded policy was not applied"
# a policy replaced by a new file (an editor's rename, `policy create -o`):
# read too, the sandbox allows reading files in the policy's directory
cp "$W/policy.good" "$W/policy.new"
mv "$W/policy.new" "$W/policy"
n=$(count "new file since\|reloaded: .*2 of 3")
kill -HUP "$RX_PID"
wait_for "[ \$(count 'new file since\|reloaded: .*2 of 3') -gt $n ]" 10 ||
    fail "a replaced policy file was neither read nor explained"
grep -E "new file since|reloaded: .*2 of 3" "$W/rx.log" | tail -1 | sed 's/^/# /'
grep -q "new file since" "$W/rx.log" && fail "the replaced policy file was not read: $(grep 'new file since' "$W/rx.log" | tail -1)"
kill -0 "$RX_PID" || fail "sluice-rx died"
stop_rx
