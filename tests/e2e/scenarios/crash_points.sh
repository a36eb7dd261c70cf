# e2e scenario crash_points (run by tests/e2e/run.sh crash_points, after lib.sh).
# sluice-rx-crashtest _exit()s at one named point of a release (finishing: on
# the release job's thread, the tree's files checked and shaped, before its
# syncfs and the intent); the normal
# sluice-rx restarted on the same state (plus a repeat pass where the crash
# came before the release began) must leave the transfer released once,
# bit-identical, in the ledger once and audited "released" once.
# CRASH_POINTS picks cases (default: all): POINT, the release crashing
# there; POINT+LATER, the restart crashing again at LATER while it
# finishes the release; ledger:old-order and ledger:old-marker, the state
# an older sluice-rx (ledger before marker) left at a crash, made by
# removing or replacing the intent marker after a crash at ledger.
: "${SLUICE_RX_CRASHTEST:?}"
P=$(free_port)
seq=1 ids=""
for spec in ${CRASH_POINTS:-finishing verified marker ledger renamed audited marker+renamed ledger+audited \
    ledger:old-order ledger:old-marker}; do
    point=${spec%%[+:]*} T=T$seq
    make_transfer "$T" "$seq" random:300
    id=$(xfer_id "$T")
    ids="$ids $id"
    crash_rx "$P" "$point"
    send "$T" "$P" --rate "$RATE"
    wait_for "grep -q 'crash point $point:' $W/rx.log" 10 ||
        fail "$spec: sluice-rx-crashtest never reached the crash point"
    rc=0
    wait "$RX_PID" || rc=$?
    [ "$rc" = 86 ] || fail "$spec: sluice-rx-crashtest exited with $rc, not 86 (crash point)"
    case $spec in
    *+*) crash_recovery "${spec#*+}" ;;
    *:old-order) rm "$W/state/xfer/$id/release" ;;
    *:old-marker) rm "$W/state/xfer/$id/release" && : > "$W/state/xfer/$id/released" ;;
    esac
    start_rx "$P"
    repeat=no
    if ! released "$id"; then
        repeat=yes
        send "$T" "$P" --rate "$RATE" --first-pass 2
        wait_for "released $id" 10 ||
            fail "$spec: not released after a restart and a repeat pass ($(grep "xfer=$id" \
                "$W/state/audit.log" | tail -n 1 | cut -d' ' -f3,6 | sed 's/%20/ /g'))"
    fi
    note "crash at $spec: released after the restart$([ $repeat = yes ] && echo " and a repeat pass")"
    # A release that had begun (intent marker written) is finished by the
    # restart alone; only a crash before it needs the sender again.
    [ $repeat = no ] || [ "$point" = verified ] || [ "$point" = finishing ] ||
        fail "$spec: needed a repeat pass"
    released_once "$T" "$id" "$spec"
    stop_rx
    seq=$((seq + 1))
done
# Sent again, every one of them is a replay: nothing new is released.
start_rx "$P"
i=1
while [ $i -lt $seq ]; do
    send "T$i" "$P" --rate "$RATE"
    i=$((i + 1))
done
for id in $ids; do
    wait_for "audit_has replay $id ignored" 10 || fail "re-send of $id not refused as a replay"
    n=$(grep -c "^[0-9]* [^ ]* released xfer=$id " "$W/state/audit.log" || true)
    [ "$n" = 1 ] || fail "$id: $n released entries after the re-send"
done
# shellcheck disable=SC2086
only_released $ids
