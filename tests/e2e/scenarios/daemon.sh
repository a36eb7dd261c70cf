# e2e scenario daemon (run by tests/e2e/run.sh daemon, after lib.sh).
make_transfer T 1 mixed
make_transfer U 2 random:300
SIGNERS="alice" make_transfer BAD 3 random:10
id=$(xfer_id T) id2=$(xfer_id U)
P=$(free_port)
start_rx "$P"
"$SLUICE_TX" daemon --watch "$W/spool" --link "udp://127.0.0.1:$P" --key "$W/link.key" \
    --rate "$RATE" --policy "$W/policy" >> "$W/txd.log" 2>&1 &
TXD=$!
PIDS="$PIDS $TXD"
wait_for "[ -d $W/spool/outbox ]" 10 || fail "daemon did not create its spool"
mv "$W/T" "$W/spool/outbox/first"
mv "$W/BAD" "$W/spool/outbox/unsigned"
mv "$W/U" "$W/spool/outbox/second"
wait_for "released $id && released $id2" 30 || fail "daemon did not send both transfers"
wait_for "[ -f $W/spool/failed/unsigned.log ]" 10 || fail "unsigned transfer not moved to failed/"
sed 's/^/# failed: /' "$W/spool/failed/unsigned.log"
[ -d "$W/spool/sent/first" ] && [ -f "$W/spool/sent/second.log" ] || fail "sent/ not filled"
sleep 2
grep -q "state=idle" "$W/state/status" || fail "no idle heartbeats between transfers"
# Sends pace from a SCHED_FIFO thread where permitted; between them no
# thread of the daemon may stay in a real-time class.
for task in /proc/"$TXD"/task/*; do
    pol=$(awk '{print $41}' "$task/stat")
    [ "$pol" = 0 ] || fail "idle daemon thread ${task##*/} in scheduling policy $pol"
done
kill -TERM "$TXD"
rc=0
wait "$TXD" || rc=$?
[ "$rc" = 0 ] || fail "daemon exited with $rc on SIGTERM"
only_released "$id" "$id2"
