# e2e scenario replay_resend (run by tests/e2e/run.sh replay_resend, after lib.sh).
# A capture of T sent with other settings (blocks of 16 symbols of 512
# bytes), cut short, is replayed into rx while T is sent again with the
# defaults: transfer headers of two layouts of one transfer interleave.
# rx may start staging over at each change, but it must neither crash
# nor mix the layouts, and once the replay is over T must come through.
make_transfer T 1 random:3000
make_transfer U 2 mixed
id=$(xfer_id T) id2=$(xfer_id U)
"$SLUICE_TX" send --link "pcap:$W/old.pcap" --key "$W/link.key" --rate 1G --no-progress \
    --block 16 --symbol-size 512 "$W/T" >> "$W/tx.log" 2>&1 || fail "tx to pcap failed"
P=$(free_port)
start_rx "$P"
# the first 3000 datagrams (under half) of the capture, up to 3 times
# over, at 10 Mbit/s (about 1.6 s a round), for at most 6 s
"$SLUICE_REPLAY" --in "pcap:$W/old.pcap" --out "udp://127.0.0.1:$P" --first 3000 --loops 3 \
    --rate 10M --max-seconds 6 > "$W/replay.log" 2>&1 &
RP=$!
PIDS="$PIDS $RP"
# rx assembles blocks of the old layout before the new send starts
wait_for "grep -q 'xfer $id state=receiving' $W/state/status 2>/dev/null" 10 ||
    fail "rx did not start assembling the replayed capture"
send_bg T "$P" --rate 20M --passes 2
TX=$TX_PID
wait "$TX" || fail "tx failed"
wait "$RP" || fail "replay failed: $(cat "$W/replay.log")"
sed 's/^/# /' "$W/replay.log"
kill -0 "$RX_PID" 2>/dev/null || fail "sluice-rx died during the replay"
note "layout changes rx saw: $(grep -c 'changed the block layout' "$W/rx.log" || true)"
if wait_for "released $id" 6; then
    note "released by the send that overlapped the replay"
else
    # The last header rx saw may have been the capture's: a repeat
    # pass, with nothing replayed any more, must complete it.
    note "not released by the overlapping send; one repeat pass"
    send T "$P" --rate "$RATE" --first-pass 3 || fail "repeat pass failed"
    wait_for "released $id" 20 || fail "T not released after the replay ended"
fi
kill -0 "$RX_PID" 2>/dev/null || fail "sluice-rx died"
send U "$P" --rate "$RATE"
wait_for "released $id2" 20 || fail "rx stopped serving after the replay"
only_released "$id" "$id2"
check_identical T "$id"
check_identical U "$id2"
