#!/bin/sh
# transfer.sh SCENARIO — one end-to-end scenario of sluice-tx → (linksim) → sluice-rx
# over loopback, with the real binaries. Paths come from SLUICE, SLUICE_TX,
# SLUICE_RX, SLUICE_FORGE, SLUICE_FLOOD, SLUICE_REPLAY (set by meson). Exit 0
# when the scenario holds.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/flood.sh"

scenario=${1:?scenario}
setup_keys

# file_uring_SCENARIO: SCENARIO with file reads and writes on io_uring on both
# sides (--file-io uring; the rx sandbox stays on).
case $scenario in
file_uring_*)
    scenario=${scenario#file_uring_}
    TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
    note "file I/O on io_uring (tx and rx)"
    ;;
esac

# Rates stay modest: tx, rx and linksim share this machine's two cores.
RATE=300M

case $scenario in

loss0)
    make_transfer T 1 mixed
    id=$(xfer_id T)
    P=$(free_port)
    start_rx "$P"
    t0=$(date +%s.%N)
    send T "$P" --rate "$RATE"
    wait_for "released $id" 20 || fail "not released"
    goodput "$t0" T
    check_identical T "$id"
    audit_has released "$id" "files" || fail "no audit record"
    only_released "$id"
    ;;

bernoulli1 | bernoulli5 | gilbert50)
    if [ "$scenario" = gilbert50 ]; then
        make_transfer T 1 random:8000   # long enough for several bursts
    else
        make_transfer T 1 mixed
    fi
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q"
    case $scenario in
    bernoulli1) start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 1% --seed 11; args="" ;;
    bernoulli5) start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 5% --seed 12; args="--passes 2" ;;
    gilbert50) start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 2% --burst 50 --seed 13
        args="--interleave 32" ;;
    esac
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    send T "$P" --rate "$RATE" $args
    wait_for "released $id" 20 || fail "not released"
    goodput "$t0" T
    stop_linksim
    grep -E "dropped by loss" "$W/linksim.log" | sed 's/^ */# linksim /'
    expect_loss
    check_identical T "$id"
    only_released "$id"
    ;;

small_queue)
    # The diode's buffer is 64 KiB; tx paces at 0.98 of its rate with the
    # burst set to the buffer. The bucket is one pacing step under the
    # burst, so even a step delayed by preemption fits: no overflow.
    make_transfer T 1 random:20000
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q"
    start_linksim "$P" "$Q" --rate 250M --queue 64K
    send T "$P" --rate 245M --burst 64K
    wait_for "released $id" 20 || fail "not released"
    stop_linksim
    grep -E "queue (overflow|peak)" "$W/linksim.log" | sed 's/^ */# linksim /'
    ovf=$(linksim_count "queue overflow")
    [ "${ovf:-x}" = 0 ] || fail "a paced sender overflowed the 64 KiB queue ($ovf datagrams)"
    grep -E "went unused" "$W/tx.log" | sed 's/^/# /'
    check_identical T "$id"
    ;;

beyond_repair)
    # 35% loss in one pass is more than 12.5% parity can repair.
    make_transfer T 1 random:3000
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q"
    start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 35% --seed 21
    send T "$P" --rate "$RATE"
    wait_for "audit_has timeout $id 'missing'" 20 || fail "no timeout report"
    [ -d "$W/rel/$id" ] && fail "released despite unrepaired loss"
    grep -q "^missing blocks" "$W/state/xfer/$id/report" || fail "report does not name missing blocks"
    head -3 "$W/state/xfer/$id/report" | sed 's/^/# report: /'
    stop_linksim
    # A later repeat pass (new rows: passes 2 and 3) completes it.
    send T "$Q" --rate "$RATE" --first-pass 2 --passes 2
    wait_for "released $id" 20 || fail "repeat pass did not complete the transfer"
    check_identical T "$id"
    ;;

rx_killed)
    make_transfer T 1 random:12000
    id=$(xfer_id T)
    P=$(free_port)
    start_rx "$P"
    send_bg T "$P" --rate 60M
    TX=$TX_PID
    wait_for "[ -s $W/state/xfer/$id/done ]" 20 || fail "nothing staged before the kill"
    sleep 0.5
    kill -9 "$RX_PID"
    wait "$RX_PID" 2>/dev/null || true
    note "rx killed with SIGKILL mid-transfer"
    wait "$TX" || fail "tx failed"
    [ -d "$W/rel/$id" ] && fail "released although rx was dead for part of the pass"
    start_rx "$P"
    send T "$P" --rate "$RATE" --first-pass 2
    wait_for "released $id" 20 || fail "repeat pass after restart did not complete it"
    grep -q "resumed from disk" "$W/rx.log" || fail "rx did not resume staged state"
    check_identical T "$id"
    ;;

tx_killed)
    make_transfer T 1 random:12000
    make_transfer U 2 mixed
    id=$(xfer_id T) id2=$(xfer_id U)
    P=$(free_port)
    start_rx "$P"
    send_bg T "$P" --rate 40M
    TX=$TX_PID
    wait_for "[ -d $W/state/xfer/$id ]" 20 || fail "transfer never started"
    sleep 0.5
    kill -9 "$TX"
    wait "$TX" 2>/dev/null || true
    wait_for "audit_has timeout $id 'no%20data'" 20 || fail "rx did not time out the transfer"
    [ -d "$W/rel/$id" ] && fail "partial transfer released"
    kill -0 "$RX_PID" || fail "rx died"
    send U "$P" --rate "$RATE"
    wait_for "released $id2" 20 || fail "rx stopped serving after the timeout"
    only_released "$id2"
    ;;

wrong_key)
    make_transfer T 1 mixed
    id=$(xfer_id T)
    P=$(free_port)
    start_rx "$P"
    "$SLUICE_TX" send --link "udp://127.0.0.1:$P" --key "$W/other.key" --rate "$RATE" --no-progress \
        "$W/T" >> "$W/tx.log" 2>&1
    sleep 2
    fails=$(status_field auth_failures)
    note "authentication failures: $fails"
    [ "${fails:-0}" -gt 100 ] || fail "datagrams under the wrong key were not counted"
    [ -z "$(ls "$W/state/xfer")" ] || fail "something was staged"
    [ -z "$(ls "$W/rel")" ] || fail "something was released"
    ;;

too_few_signatures)
    SIGNERS="alice dana" make_transfer T 1 mixed
    id=$(xfer_id T)
    P=$(free_port)
    start_rx "$P"
    send T "$P" --rate "$RATE"
    wait_for "audit_has rejected $id 'signatures'" 20 || fail "not rejected for signatures"
    grep "rejected xfer=$id" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    [ -z "$(ls "$W/rel")" ] || fail "released"
    [ -d "$W/state/xfer/$id" ] && fail "staging not cleaned up"
    ;;

unlisted_signatures)
    # Signature files the policy cannot vouch for are not released: one by a
    # key the policy does not list (its trusted comment holds terminal escape
    # sequences), bob's with its key id altered (so no listed key), and a
    # second copy of alice's (duplicate key). Only the verified signatures of
    # listed keys (alice, bob; the submitter dana) are released beside the
    # manifest, and the released audit line names the dropped files.
    make_transfer T 1 random:100
    "$SLUICE" keygen --officer mallory -o "$W/mallory" --unencrypted >/dev/null
    esc=$(printf 'looks fine\033]0;owned\007\033[2J')
    "$SLUICE" manifest sign "$W/T/manifest" --key "$W/mallory.key" --trusted-comment "$esc" \
        -o "$W/T/manifest.mallory.minisig" >/dev/null
    python3 - "$W/T/manifest.bob.minisig" "$W/T/manifest.bob-altered.minisig" <<'PY'
import base64, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
raw = bytearray(base64.b64decode(lines[1]))
raw[2] ^= 0x5a  # key id byte: the signature now names a key no policy lists
lines[1] = base64.b64encode(bytes(raw))
open(sys.argv[2], 'wb').write(b'\n'.join(lines))
PY
    cp "$W/T/manifest.alice.minisig" "$W/T/manifest.alice2.minisig"
    id=$(xfer_id T)
    # The same, but alice's trusted comment edited after signing: a listed
    # key whose signature does not verify refuses the whole transfer.
    make_transfer U 2 random:50
    sed -i '3s/$/ edited/' "$W/U/manifest.alice.minisig"
    id2=$(xfer_id U)
    P=$(free_port)
    start_rx "$P"
    send T "$P" --rate "$RATE"
    wait_for "released $id" 20 || fail "not released"
    have=$(cd "$W/rel/$id" && ls -d -- * | tr '\n' ' ')
    [ "$have" = "data manifest manifest.alice.minisig manifest.bob.minisig manifest.dana.minisig " ] ||
        fail "released: '$have'; expected only the manifest, data and the listed keys' signatures"
    diff -r "$W/T/data" "$W/rel/$id/data" || fail "released data differs"
    for f in manifest manifest.alice.minisig manifest.bob.minisig manifest.dana.minisig; do
        cmp -s "$W/T/$f" "$W/rel/$id/$f" || fail "released $f differs from the sent one"
    done
    # shellcheck disable=SC2086
    "$SLUICE" manifest verify "$W/rel/$id" --policy "$W/policy" $RX_VERIFY > "$W/verify.log" 2>&1 ||
        fail "released transfer does not verify: $(cat "$W/verify.log")"
    for f in manifest.mallory.minisig manifest.bob-altered.minisig manifest.alice2.minisig; do
        audit_has released "$id" "$f" || fail "the released audit line does not name $f"
        grep -q "RELEASED.*$f" "$W/rx.log" || fail "the log does not name $f"
    done
    audit_has released "$id" "not%20in%20the%20policy" || fail "no reason for the unknown keys"
    audit_has released "$id" "more%20than%20once" || fail "no reason for the duplicate"
    grep "released xfer=$id" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    send U "$P" --rate "$RATE"
    wait_for "audit_has rejected $id2 'manifest.alice.minisig'" 20 || fail "tampered signature not refused"
    grep "rejected xfer=$id2" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    only_released "$id"
    ! grep -q "$(printf '\033')" "$W/rx.log" "$W/state/audit.log" || fail "an escape byte reached the log"
    ;;

replay_and_rollback)
    make_transfer T 5 mixed
    make_transfer LOW 3 random:100
    id=$(xfer_id T) low=$(xfer_id LOW)
    P=$(free_port)
    start_rx "$P"
    send T "$P" --rate "$RATE"
    wait_for "released $id" 20 || fail "first send not released"
    # The same transfer again: nothing new.
    send T "$P" --rate "$RATE"
    wait_for "audit_has replay $id ignored" 10 || fail "replay not recorded"
    only_released "$id"
    # Rollback: with no sequence window, a sequence below the mark is refused.
    stop_rx
    "$SLUICE" policy create --officer "$W/alice.pub" --officer "$W/bob.pub" \
        --officer "$W/carol.pub" --threshold 2 --submitter "$W/dana.pub" --enclave lab \
        --link diode1 -o "$W/policy.strict" >/dev/null
    mv "$W/policy.strict" "$W/policy"
    start_rx "$P"
    send LOW "$P" --rate "$RATE"
    wait_for "audit_has rejected $low 'sequence'" 20 || fail "lower sequence not refused"
    grep "rejected xfer=$low" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    only_released "$id"
    ;;

sequence_jump)
    # A signed manifest with sequence 2^63-1 would raise the link's mark out
    # of reach: every later transfer would be a "replay". sequence-max-step
    # (default 1000000) refuses it and the link goes on.
    make_transfer BIG 9223372036854775807 random:20
    make_transfer T 2 random:50
    make_transfer NEXT 1000002 random:20
    make_transfer FAR 2000003 random:20
    big=$(xfer_id BIG) id=$(xfer_id T) next=$(xfer_id NEXT) far=$(xfer_id FAR)
    P=$(free_port)
    start_rx "$P"
    send BIG "$P" --rate "$RATE"
    wait_for "audit_has rejected $big 'sequence-max-step'" 20 || fail "sequence 2^63-1 not refused"
    grep "rejected xfer=$big" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    send T "$P" --rate "$RATE"
    wait_for "released $id" 20 || fail "the next transfer of the link was not released"
    send NEXT "$P" --rate "$RATE"  # exactly max-step above the mark 2
    wait_for "released $next" 20 || fail "a step of sequence-max-step was not released"
    send FAR "$P" --rate "$RATE"   # one more than max-step above 1000002
    wait_for "audit_has rejected $far 'sequence-max-step'" 20 || fail "a step above the cap was not refused"
    only_released "$id" "$next"
    ;;

policy_create_ranges)
    # sluice policy create refuses what sluice-rx would not load, and what it
    # writes loads.
    base="--officer $W/alice.pub --officer $W/bob.pub --threshold 2 --enclave lab --link diode1"
    for bad in "--max-files -1" "--max-files 0" "--max-files 18446744073709551616" \
        "--sequence-window -1" "--sequence-window 1000001" "--sequence-max-step 0" \
        "--sequence-max-step 9223372036854775808" "--sequence-max-step 1e6"; do
        rc=0
        # shellcheck disable=SC2086
        "$SLUICE" policy create $base $bad -o "$W/p.bad" > "$W/create.log" 2>&1 || rc=$?
        [ "$rc" = 2 ] || fail "policy create $bad: exit $rc, expected 2 (usage)"
        [ ! -e "$W/p.bad" ] || fail "policy create $bad wrote a policy"
        grep -q "expected a whole number from" "$W/create.log" || fail "policy create $bad: $(cat "$W/create.log")"
    done
    note "$(head -1 "$W/create.log")"
    # shellcheck disable=SC2086
    "$SLUICE" policy create $base --max-files 5 --sequence-window 7 --sequence-max-step 9223372036854775807 \
        -o "$W/p.good" >/dev/null || fail "policy create with values in range failed"
    "$SLUICE" policy show "$W/p.good" > "$W/show.log" || fail "the policy written does not load"
    grep -q "sequence-max-step 9223372036854775807" "$W/show.log" || fail "show lacks sequence-max-step"
    grep -q "^sequence-max-step 9223372036854775807$" "$W/p.good" || fail "the file lacks sequence-max-step"
    # a policy written before sequence-max-step existed loads with the default
    grep -v '^sequence-max-step' "$W/policy" > "$W/p.old"
    "$SLUICE" policy show "$W/p.old" | grep -q "sequence-max-step 1000000" ||
        fail "a policy without sequence-max-step does not load with the default"
    ;;

expired)
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
    grep "rejected xfer=$id" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
    [ -z "$(ls "$W/rel")" ] || fail "released"
    ;;

changed_file)
    make_transfer T 1 mixed
    echo "tampered" >> "$W/T/data/sub dir/numbers.txt"
    P=$(free_port)
    if send T "$P" --rate "$RATE"; then fail "tx sent a file that changed after signing"; fi
    grep -q "changed since it was hashed" "$W/tx.log" || fail "tx did not say which file changed"
    grep "changed since" "$W/tx.log" | head -1 | sed 's/^/# /'
    ;;

forged_in_flight)
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
    ;;

two_at_once)
    make_transfer T 1 random:6000
    make_transfer U 2 mixed
    id=$(xfer_id T) id2=$(xfer_id U)
    P=$(free_port)
    start_rx "$P"
    send_bg T "$P" --rate 100M
    A=$TX_PID
    send_bg U "$P" --rate 100M
    B=$TX_PID
    wait "$A" || fail "first tx failed"
    wait "$B" || fail "second tx failed"
    wait_for "released $id && released $id2" 20 || fail "not both released"
    check_identical T "$id"
    check_identical U "$id2"
    ;;

pcap_round_trip)
    make_transfer T 1 mixed
    id=$(xfer_id T)
    "$SLUICE_TX" send --link "pcap:$W/wire.pcap" --key "$W/link.key" --rate 1G --no-progress \
        "$W/T" >> "$W/tx.log" 2>&1 || fail "tx to pcap failed"
    if command -v tshark >/dev/null 2>&1; then
        n=$(tshark -r "$W/wire.pcap" -Y udp 2>/dev/null | wc -l)
        note "tshark reads $n UDP frames"
        [ "$n" -gt 100 ] || fail "tshark did not read the capture"
        # The Wireshark dissector decodes the clear header of every datagram.
        syms=$(tshark -X "lua_script:$here/../../tools/wireshark/sluice.lua" -r "$W/wire.pcap" \
            -Y "sluice.type == 4" -T fields -e sluice.block 2>/dev/null | wc -l)
        hdrs=$(tshark -X "lua_script:$here/../../tools/wireshark/sluice.lua" -r "$W/wire.pcap" \
            -Y "sluice.type == 3" 2>/dev/null | wc -l)
        note "dissector: $syms symbols, $hdrs transfer headers"
        [ "$syms" -gt 100 ] && [ "$hdrs" -ge 6 ] || fail "the Wireshark dissector did not decode the capture"
    fi
    "$SLUICE_RX" --link "pcap:$W/wire.pcap" --key "$W/link.key" --policy "$W/policy" \
        --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from pcap failed"
    released "$id" || fail "not released from the pcap file"
    check_identical T "$id"
    ;;

net_uring | net_uring_zc)
    # Both links on io_uring (io=uring), through 2% loss, with sluice-rx's
    # sandbox on (the default): its ring is restricted, seccomp allows only
    # io_uring_enter. net_uring_zc: zero-copy sends, one datagram per receive buffer.
    make_transfer T 1 mixed
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    if [ "$scenario" = net_uring ]; then txo="io=uring" rxo="io=uring"; else
        txo="io=uring&zc=1" rxo="io=uring&gro=0"; fi
    start_rx "$Q?$rxo"
    start_linksim "$P" "$Q" --rate 400M --queue 1M --loss 2% --seed 21
    t0=$(date +%s.%N)
    send T "$P?$txo" --rate "$RATE" || fail "sluice-tx failed: $(tail -3 "$W/tx.log")"
    wait_for "released $id" 20 || fail "not released: $(tail -3 "$W/rx.log")"
    goodput "$t0" T
    stop_linksim
    expect_loss
    note "rx $(grep -m1 -o 'listening on [^;]*' "$W/rx.log")"
    grep -q "listening on .*io_uring" "$W/rx.log" || fail "sluice-rx does not say it receives through io_uring"
    grep -q "sandbox" "$W/rx.log" && fail "sandbox trouble: $(grep sandbox "$W/rx.log")"
    kill -0 "$RX_PID" 2>/dev/null || fail "sluice-rx died (seccomp?)"
    # closing the link (cancelling the multishot receive) under seccomp too
    kill "$RX_PID"
    st=0
    wait "$RX_PID" || st=$?
    [ "$st" = 0 ] || fail "sluice-rx exited with status $st on SIGTERM (159: killed by seccomp)"
    grep -q "stopped:" "$W/rx.log" || fail "sluice-rx did not log its stop"
    check_identical T "$id"
    only_released "$id"
    ;;

unseen)
    # Everything but heartbeats is lost: rx must say a transfer went missing.
    make_transfer T 1 random:200
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q"
    "$SLUICE_FORGE" --in "udp://127.0.0.1:$P" --out "udp://127.0.0.1:$Q" --key "$W/link.key" \
        --drop-type 1 --drop-type 3 --drop-type 4 --idle-exit 3 > "$W/forge.log" 2>&1 &
    FG=$!
    PIDS="$PIDS $FG"
    sleep 0.3
    send T "$P" --rate "$RATE"
    wait_for "audit_has unseen $id 'nothing%20of%20it%20arrived'" 20 || fail "missing transfer not reported"
    wait "$FG" || true
    sed 's/^/# /' "$W/forge.log"
    [ -z "$(ls "$W/rel")" ] || fail "released"
    ;;

daemon)
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
    ;;

fpga_cosim)
    # Hardware and software as one system: sluice-tx writes a capture, the
    # reference diode (fpga/rtl, simulated by Verilator) carries it, mixed
    # with frames it must drop, and sluice-rx releases from its output.
    : "${SLUICE_COSIM:?path to fpga/tb/cosim.py}"
    mkdir -p "$W/T/data"
    head -c 60000 /dev/urandom > "$W/T/data/weights.bin"
    echo "through the diode" > "$W/T/data/readme.txt"
    make_transfer T 1 none
    id=$(xfer_id T)
    "$SLUICE_TX" send --link "pcap:$W/low.pcap" --key "$W/link.key" --rate 400M --preamble 4 \
        --no-progress "$W/T" >> "$W/tx.log" 2>&1 || fail "tx to pcap failed"
    python3 "$SLUICE_COSIM" run --in "$W/low.pcap" --out "$W/high.pcap" --sim verilator \
        --build "$W/vl" > "$W/cosim.log" 2>&1 || fail "the diode simulation failed its checks"
    grep -E "^cosim(_tb)?:" "$W/cosim.log" | sed 's/^/# /'
    "$SLUICE_RX" --link "pcap:$W/high.pcap" --key "$W/link.key" --policy "$W/policy" \
        --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from the diode's output failed"
    released "$id" || fail "not released from the diode's output"
    check_identical T "$id"
    ;;

many_files)
    # Hundreds of small files, empty ones among them: a chunk spans many
    # files, and files span chunks (the read-ahead and the batched writes).
    mkdir -p "$W/T/data/d"
    i=0
    while [ $i -lt 700 ]; do
        case $((i % 50)) in
        7) : > "$W/T/data/d/f$i" ;;
        13) head -c 400000 /dev/urandom > "$W/T/data/d/f$i" ;;
        *) head -c $(( (i * 937) % 3000 + 1 )) /dev/urandom > "$W/T/data/d/f$i" ;;
        esac
        i=$((i + 1))
    done
    make_transfer T 1 none
    id=$(xfer_id T)
    P=$(free_port)
    start_rx "$P"
    send T "$P" --rate "$RATE"
    wait_for "released $id" 30 || fail "not released"
    check_identical T "$id"
    only_released "$id"
    ;;

audit_anchor)
    # The audit chain's head is anchored outside the log after every entry:
    # in the journal (rx's stderr) and in STATE/audit.head. A torn last line
    # is cut at the next start and the cut audited; a log cut short is
    # reported by sluice status against either anchor, and rx refuses it.
    P=$(free_port)
    start_rx "$P"
    stop_rx
    start_rx "$P"
    stop_rx
    logged_head() { sed -n 's/.*audit #\([0-9]*\) head \([0-9a-f]\{64\}\)$/\1:\2/p' "$W/rx.log" | tail -1; }
    h4=$(logged_head)
    [ "${h4%%:*}" = 4 ] || fail "rx did not log the head of each entry (started, stopped x2): '$h4'"
    [ "$(cat "$W/state/audit.head")" = "$h4" ] || fail "audit.head is not the logged head"
    "$SLUICE" status --state "$W/state" --audit-head "$h4" > "$W/st.out" 2>&1 || true
    grep -q "^audit log  4 entries, hash chain intact" "$W/st.out" || fail "chain state: $(cat "$W/st.out")"
    grep -q "given 4: in the log" "$W/st.out" || fail "given head not checked: $(cat "$W/st.out")"
    # A crash mid-append: the next start cuts the torn line and says so.
    printf '5 2026-01-01T00:00:00Z released xfer=0011' >> "$W/state/audit.log"
    torn=$(printf '5 2026-01-01T00:00:00Z released xfer=0011' | wc -c)
    start_rx "$P"
    stop_rx
    grep -q "warning: audit log audit.log: cut $torn bytes after entry #4" "$W/rx.log" ||
        fail "the cut was not logged: $(tail -5 "$W/rx.log")"
    grep -q "^5 .* cut xfer=- manifest=- reason=cut%20$torn%20bytes" "$W/state/audit.log" ||
        fail "the cut was not audited"
    h7=$(logged_head)
    ! grep -E "was not updated|NOT recorded" "$W/rx.log" || fail "an audit write failed under the sandbox"
    [ "${h7%%:*}" = 7 ] || fail "expected 7 entries after cut, started, stopped: '$h7'"
    "$SLUICE" status --state "$W/state" > "$W/st.out" 2>&1 || true
    grep -q "^audit log  7 entries, hash chain intact" "$W/st.out" || fail "after the cut: $(cat "$W/st.out")"
    sed -n '/^audit log/,$p' "$W/st.out" | sed 's/^/# /'
    # The last two entries removed.
    truncate -s "$(head -n 5 "$W/state/audit.log" | wc -c)" "$W/state/audit.log"
    "$SLUICE" status --state "$W/state" > "$W/st.out" 2>&1 && fail "status exit 0 on a cut log"
    grep -q "! audit.log ends at entry #5, but audit.head names entry #7" "$W/st.out" ||
        fail "truncation not reported from audit.head: $(cat "$W/st.out")"
    grep '^audit log' "$W/st.out" | sed 's/^/# /'
    rc=0
    "$SLUICE_RX" --link "udp://127.0.0.1:$P" --key "$W/link.key" --policy "$W/policy" \
        --state "$W/state" --release "$W/rel" > "$W/rx2.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "sluice-rx started on a log that lost anchored entries (exit $rc)"
    grep -q "entries were removed from its end" "$W/rx2.log" || fail "refusal unclear: $(cat "$W/rx2.log")"
    sed 's/^/# /' "$W/rx2.log"
    # The head file removed as well: the head from the journal still tells.
    rm "$W/state/audit.head"
    "$SLUICE" status --state "$W/state" --audit-head "$h7" > "$W/st.out" 2>&1 && fail "status exit 0"
    grep -q "! audit.log ends at entry #5, but the given head is entry #7" "$W/st.out" ||
        fail "truncation not reported from the given head: $(cat "$W/st.out")"
    # The log removed.
    rm "$W/state/audit.log"
    "$SLUICE" status --state "$W/state" --audit-head "$h7" > "$W/st.out" 2>&1 && fail "status exit 0"
    grep -q "! audit.log is missing, but the given head is entry #7" "$W/st.out" ||
        fail "removal not reported: $(cat "$W/st.out")"
    ;;

disk_full)
    # STATE and RELEASE on a 40 MiB tmpfs. It fills up in the middle of a
    # transfer: nothing is rejected or removed, rx says so (status line, one
    # audit entry, sluice status) and keeps going; once space is freed a
    # repeat pass completes it, bit-identical, and the next transfer too.
    small_fs 40M
    make_transfer T 1 random:12000
    make_transfer U 2 mixed
    t1=$(xfer_id T) t2=$(xfer_id U) # (check_identical sets $id)
    P=$(free_port)
    start_rx "$P"
    send_bg T "$P" --rate 30M
    TX=$TX_PID
    wait_for "[ -s $W/state/xfer/$t1/done ]" 20 || fail "nothing staged before the disk filled"
    head -c 64M /dev/zero > "$W/disk/filler" 2>/dev/null || true
    note "disk filled mid-transfer: $(df -k "$W/disk" | awk 'NR==2 {print $4}') KiB left"
    wait "$TX" || fail "tx failed"
    wait_for "status_field storage | grep -q 'state=full'" 10 || fail "status does not say the disk is full"
    status_field storage | sed 's/^/# storage /'
    audit_has storage "$t1" "disk%20full" || fail "no storage audit entry"
    released "$t1" && fail "released although chunks could not be written"
    audit_has rejected "$t1" "" && fail "rejected for a full disk"
    [ -f "$W/state/xfer/$t1/meta" ] || fail "staging removed"
    if "$SLUICE" status --state "$W/state" > "$W/status.log" 2>&1; then
        fail "sluice status calls a full disk healthy"
    fi
    grep -q "DISK FULL" "$W/status.log" || fail "sluice status does not say the disk is full"
    grep -A1 "DISK FULL" "$W/status.log" | sed 's/^/# /'
    rm -f "$W/disk/filler"
    send T "$P" --rate "$RATE" --first-pass 2
    wait_for "released $t1" 20 || fail "the repeat pass after space returned did not complete it"
    check_identical T "$t1"
    send U "$P" --rate "$RATE"
    wait_for "released $t2" 20 || fail "the next transfer was not released"
    check_identical U "$t2"
    n=$(grep -c " storage xfer=" "$W/state/audit.log")
    [ "$n" = 1 ] || fail "$n storage audit entries for one episode"
    audit_has rejected ".*" "" && fail "something was rejected"
    only_released "$t1" "$t2"
    ;;

config)
    # sluice-rx and sluice-tx read their settings from files; the command line wins.
    P=$(free_port)
    cat > "$W/rx.conf" <<EOF
# sluice-rx test configuration
link = udp://127.0.0.1:$P
key = $W/link.key
policy = $W/policy
state = $W/state
release = $W/rel
timeout = 4
tail-grace = 2
max-staging = 64M
max-staged = 5 ; the command line says 7
EOF
    cat > "$W/tx.conf" <<EOF
link = udp://127.0.0.1:$P
key = $W/link.key
rate = $RATE
no-progress = yes
EOF
    make_transfer T 1 mixed
    id=$(xfer_id T)
    "$SLUICE" doctor --config "$W/rx.conf" > "$W/doctor.log" 2>&1 || fail "doctor refused a good rx.conf"
    grep -q "^ok    config .*a sluice-rx configuration" "$W/doctor.log" || fail "doctor: rx.conf not recognised"
    grep -q "^ok    policy .*2 of 3 officers" "$W/doctor.log" || fail "doctor: the policy it names not checked"
    "$SLUICE" doctor --config "$W/tx.conf" > "$W/doctor.log" 2>&1 || fail "doctor refused a good tx.conf"
    grep -q "^ok    config .*a sluice-tx configuration" "$W/doctor.log" || fail "doctor: tx.conf not recognised"
    "$SLUICE_RX" --config "$W/rx.conf" --max-staged 7 >> "$W/rx.log" 2>&1 &
    RX_PID=$!
    PIDS="$PIDS $RX_PID"
    wait_for "grep -q 'settings from $W/rx.conf' '$W/rx.log'" 10 || fail "sluice-rx did not start from rx.conf"
    "$SLUICE_TX" send --config "$W/tx.conf" "$W/T" >> "$W/tx.log" 2>&1 || fail "sluice-tx --config failed"
    wait_for "released $id" 20 || fail "not released"
    check_identical T "$id"
    wait_for "grep -q 'transfers_max=7' '$W/state/status'" 5 ||
        fail "the command line did not win: $(grep staging "$W/state/status")"
    grep -q "^staging .*max=67108864 " "$W/state/status" || fail "max-staging from rx.conf not applied"
    # sluice status --json: the facts of the human view, as JSON
    wait_for "grep -q '^released 1$' '$W/state/status'" 5 || fail "status does not count the release"
    "$SLUICE" status --state "$W/state" > "$W/st.txt" || fail "status: $(cat "$W/st.txt")"
    "$SLUICE" status --state "$W/state" --json > "$W/st.json" || fail "status --json: $(cat "$W/st.json")"
    python3 - "$W/st.json" "$id" <<'PY' || fail "status --json: $(cat "$W/st.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema"] == 1 and j["healthy"] is True, j
assert j["receiver"]["running"] is True and j["receiver"]["pid"] > 0
assert j["link"].startswith("udp"), j["link"]
assert j["counters"]["released"] == 1 and j["counters"]["datagrams"] > 0
assert j["staging"]["max"] == 67108864 and j["staging"]["transfers_max"] == 7
assert j["audit"]["chain_ok"] is True and j["audit"]["entries"] >= 2
assert [e["event"] for e in j["recent"]] == ["released"] and j["recent"][0]["xfer"] == sys.argv[2]
assert isinstance(j["sessions"], list) and isinstance(j["transfers"], list) and "quota" in j
PY
    grep -q "^outcomes   1 released" "$W/st.txt" || fail "human view: $(cat "$W/st.txt")"
    grep -q "^sluice_rx_audit_chain_ok 1$" "$W/state/metrics.prom" || fail "no audit chain metric"
    # the example alert rules use only metrics sluice-rx writes
    python3 - "$here/../../tools/prometheus/sluice-alerts.yml" "$W/state/metrics.prom" <<'PY' ||
import re, sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
prom = open(sys.argv[2]).read()
names = {n for r in rules for n in re.findall(r"sluice_rx_[a-z_]+", r["expr"])}
missing = [n for n in sorted(names) if not re.search(r"^(# TYPE )?%s[ {]" % n, prom, re.M)]
assert len(rules) >= 8 and not missing, missing
PY
        fail "the alert rules name metrics sluice-rx does not write"
    stop_rx
    "$SLUICE" status --state "$W/state" --json > "$W/st.json" && fail "status --json: exit 0 with rx stopped"
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert not j["receiver"]["running"] and not j["healthy"]' \
        "$W/st.json" || fail "stopped rx not shown: $(cat "$W/st.json")"
    # refused with file and line, and the nearest key
    sed 's/^max-staging/max-stagign/' "$W/rx.conf" > "$W/bad.conf"
    "$SLUICE_RX" --config "$W/bad.conf" > "$W/out.log" 2>&1 && fail "a misspelt key was accepted"
    grep -q "bad.conf:9: unknown key 'max-stagign' (did you mean max-staging?)" "$W/out.log" ||
        fail "misspelt key: $(cat "$W/out.log")"
    "$SLUICE" doctor --config "$W/bad.conf" > "$W/doctor.log" 2>&1 && fail "doctor passed a misspelt key"
    grep -q "^FAIL  config .*bad.conf:9: unknown key 'max-stagign'" "$W/doctor.log" ||
        fail "doctor: $(cat "$W/doctor.log")"
    sed 's/^timeout = 4/timeout = 0/' "$W/rx.conf" > "$W/bad.conf"
    "$SLUICE_RX" --config "$W/bad.conf" > "$W/out.log" 2>&1 && fail "timeout 0 was accepted"
    grep -q "bad.conf:7: timeout '0': at least 1 second" "$W/out.log" || fail "bad value: $(cat "$W/out.log")"
    # a secret readable by others is refused with the fix, from the file and the command line
    chmod 640 "$W/link.key"
    "$SLUICE_RX" --config "$W/rx.conf" > "$W/out.log" 2>&1 && fail "a group-readable key was accepted"
    grep -q "rx.conf:3: link key .* run: chmod 600 $W/link.key" "$W/out.log" || fail "key mode: $(cat "$W/out.log")"
    "$SLUICE_TX" send --config "$W/tx.conf" "$W/T" > "$W/out.log" 2>&1 && fail "tx took a group-readable key"
    grep -q "chmod 600" "$W/out.log" || fail "tx key mode: $(cat "$W/out.log")"
    chmod 600 "$W/link.key"
    ;;

reload)
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
    grep -q 'sluice_rx_staging_limit_bytes{kind="all"} 100663296' "$W/state/metrics.prom" ||
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
    # a policy replaced by a new file (rename): readable only without Landlock
    cp "$W/policy.good" "$W/policy.new"
    mv "$W/policy.new" "$W/policy"
    n=$(count "new file since\|reloaded: .*2 of 3")
    kill -HUP "$RX_PID"
    wait_for "[ \$(count 'new file since\|reloaded: .*2 of 3') -gt $n ]" 10 ||
        fail "a replaced policy file was neither read nor explained"
    grep -E "new file since|reloaded: .*2 of 3" "$W/rx.log" | tail -1 | sed 's/^/# /'
    kill -0 "$RX_PID" || fail "sluice-rx died"
    stop_rx
    ;;

doctor)
    mkdir -p "$W/state" "$W/rel"
    chmod 700 "$W/state"
    "$SLUICE" doctor --key "$W/link.key" --policy "$W/policy" --state "$W/state" \
        --release "$W/rel" > "$W/doctor.log" 2>&1 || fail "doctor failed on a good setup"
    sed 's/^/# /' "$W/doctor.log"
    grep -q "^ok    link key" "$W/doctor.log" || fail "key not checked"
    grep -q "^ok    policy .*2 of 3 officers" "$W/doctor.log" || fail "policy not summarised"
    chmod 644 "$W/link.key"
    # sluice-rx and sluice-tx refuse such a key, so doctor fails it
    "$SLUICE" doctor --key "$W/link.key" > "$W/doctor.log" 2>&1 && fail "a loose link key must fail"
    grep -q "^FAIL  link key .*chmod 600" "$W/doctor.log" || fail "loose key permissions not flagged"
    chmod 600 "$W/link.key"
    echo "garbage" > "$W/bad.policy"
    if "$SLUICE" doctor --policy "$W/bad.policy" > "$W/doctor.log" 2>&1; then
        fail "a broken policy must fail"
    fi
    grep -q "^FAIL  policy" "$W/doctor.log" || fail "broken policy not reported"
    if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$W")" ]; then
        if "$SLUICE" doctor --state "$W/state" --release /dev/shm > "$W/doctor.log" 2>&1; then
            fail "state and release on different filesystems must fail"
        fi
        grep -q "different filesystems" "$W/doctor.log" || fail "filesystem split not explained"
    fi
    ;;

crash_points)
    # sluice-rx-crashtest _exit()s at one named point of a release; the normal
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
    for spec in ${CRASH_POINTS:-verified marker ledger renamed audited marker+renamed ledger+audited \
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
        [ $repeat = no ] || [ "$point" = verified ] || fail "$spec: needed a repeat pass"
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
    ;;

replay_resend)
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
    ;;

tree_shape)
    # Manifest format version 2: empty directories, odd modes and times
    # survive into the manifest exactly (modes normalised: files 0644 or
    # 0755, directories 0755); verify on the source checks directories and
    # times and names what differs; sluice-tx sends the tree.
    D="$W/T/data"
    mkdir -p "$D/empty" "$D/deep/a/b/c" "$D/private" "$D/sub dir/nested empty" "$D/bin"
    printf 'secret\n' > "$D/private/key.txt"
    printf '#!/bin/sh\n' > "$D/bin/tool"
    printf 'ro\n' > "$D/sub dir/read only.txt"
    : > "$D/deep/a/zero"
    printf 'x\n' > "$D/top.txt"
    chmod 600 "$D/private/key.txt"
    chmod 711 "$D/bin/tool"
    chmod 444 "$D/sub dir/read only.txt"
    chmod 640 "$D/top.txt"
    touch -d @315532800.123456789 "$D/private/key.txt"
    touch -d @1700000000.000000001 "$D/bin/tool"
    touch -d @4102444800.999999999 "$D/sub dir/read only.txt"
    touch -d @1234567890 "$D/deep/a/zero"
    touch -d @1600000000.25 "$D/top.txt"
    # directories after their contents, deepest first
    touch -d @1000000000.000000002 "$D/deep/a/b/c"
    touch -d @1000000001.5 "$D/deep/a/b"
    touch -d @1000000002 "$D/deep/a"
    touch -d @1000000003.999999999 "$D/deep"
    touch -d @86400 "$D/empty"
    touch -d @1500000000.1 "$D/sub dir/nested empty"
    touch -d @1500000001.2 "$D/sub dir"
    touch -d @1500000002.3 "$D/private"
    touch -d @1500000003.4 "$D/bin"
    chmod 700 "$D/private"
    chmod 750 "$D/sub dir"
    chmod 711 "$D/bin"
    chmod 777 "$D/empty"
    make_transfer T 1 none
    grep '^dir ' "$W/T/manifest" > "$W/dirs.have"
    cat > "$W/dirs.want" <<'WANT'
dir 0755 1500000003.400000000 bin
dir 0755 1000000003.999999999 deep
dir 0755 1000000002.000000000 deep/a
dir 0755 1000000001.500000000 deep/a/b
dir 0755 1000000000.000000002 deep/a/b/c
dir 0755 86400.000000000 empty
dir 0755 1500000002.300000000 private
dir 0755 1500000001.200000000 sub%20dir
dir 0755 1500000000.100000000 sub%20dir/nested%20empty
WANT
    diff "$W/dirs.want" "$W/dirs.have" || fail "directory lines differ from the tree"
    awk '/^file / { print $4, $5, $6 }' "$W/T/manifest" > "$W/files.have"
    cat > "$W/files.want" <<'WANT'
0755 1700000000.000000001 bin/tool
0644 1234567890.000000000 deep/a/zero
0644 315532800.123456789 private/key.txt
0644 4102444800.999999999 sub%20dir/read%20only.txt
0644 1600000000.250000000 top.txt
WANT
    diff "$W/files.want" "$W/files.have" || fail "file modes or times differ from the tree"
    grep -q '^sluice-manifest 2$' "$W/T/manifest" || fail "not a version 2 manifest"
    grep -q '^dirs 9$' "$W/T/manifest" || fail "dirs count"
    "$SLUICE" manifest verify "$W/T" --policy "$W/policy" > "$W/verify.log" 2>&1 ||
        fail "the source tree does not verify: $(cat "$W/verify.log")"
    grep -q "^directories: 9 of 9 match$" "$W/verify.log" || fail "verify did not check the directories"
    "$SLUICE" manifest show "$W/T/manifest" --files > "$W/show.log"
    grep -q "^  directories       9 (3 empty)$" "$W/show.log" || fail "show does not count the empty directories"
    grep -q "^  0755 1970-01-02T00:00:00.000000000Z empty/ (empty)$" "$W/show.log" ||
        fail "show does not list the empty directory with its time"
    grep -q " 2100-01-01T00:00:00.999999999Z .* sub%20dir/read%20only.txt\|2100-01-01T00:00:00.999999999Z [0-9a-f]* sub dir/read only.txt" \
        "$W/show.log" || fail "show does not give the file's time"
    note "manifest: $(grep -c '^dir ' "$W/T/manifest") directories, $(grep -c '^file ' "$W/T/manifest") files"
    # What differs is named; --ignore-times leaves times out.
    touch "$D/top.txt"
    rmdir "$D/empty"
    mkdir "$D/extra"
    rc=0
    "$SLUICE" manifest verify "$W/T" --policy "$W/policy" > "$W/verify.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "verify exit $rc on a changed tree, expected 1"
    for what in "data/top.txt: modified" "data/empty/: directory missing" "data/extra: directory not in the manifest"; do
        grep -q "FAIL: $what" "$W/verify.log" || fail "verify does not name '$what': $(cat "$W/verify.log")"
    done
    rmdir "$D/extra"
    mkdir "$D/empty"
    touch -d @86400 "$D/empty"
    "$SLUICE" manifest verify "$W/T" --policy "$W/policy" > "$W/verify.log" 2>&1 &&
        fail "a touched file verified"
    "$SLUICE" manifest verify "$W/T" --policy "$W/policy" --ignore-times > "$W/verify.log" 2>&1 ||
        fail "--ignore-times did not leave the time out: $(cat "$W/verify.log")"
    touch -d @1600000000.25 "$D/top.txt"
    # The sender reads a version 2 manifest and sends the files.
    "$SLUICE_TX" send --link "pcap:$W/wire.pcap" --key "$W/link.key" --rate 1G --no-progress \
        --policy "$W/policy" "$W/T" >> "$W/tx.log" 2>&1 || fail "sluice-tx did not send the tree: $(tail -3 "$W/tx.log")"
    # sluice-rx releases it with every directory, the normalised modes and the times.
    id=$(xfer_id T)
    "$SLUICE_RX" --link "pcap:$W/wire.pcap" --key "$W/link.key" --policy "$W/policy" \
        --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from the capture failed"
    released "$id" || fail "the tree was not released: $(tail -3 "$W/rx.log")"
    check_identical T "$id"
    (cd "$D" && find . -mindepth 1 -printf '%p %T@\n' | sort) > "$W/times.src"
    (cd "$W/rel/$id/data" && find . -mindepth 1 -printf '%p %T@\n' | sort) > "$W/times.rel"
    diff "$W/times.src" "$W/times.rel" || fail "released times differ from the source's"
    (cd "$W/rel/$id/data" && find . -mindepth 1 -printf '%p %y %m\n' | sort) > "$W/modes.rel"
    cat > "$W/modes.want" <<'WANT'
./bin d 755
./bin/tool f 755
./deep d 755
./deep/a d 755
./deep/a/b d 755
./deep/a/b/c d 755
./deep/a/zero f 644
./empty d 755
./private d 755
./private/key.txt f 644
./sub dir d 755
./sub dir/nested empty d 755
./sub dir/read only.txt f 644
./top.txt f 644
WANT
    diff "$W/modes.want" "$W/modes.rel" || fail "released modes are not the manifest's"
    # A time before 1970 cannot be carried: refused by name.
    mkdir -p "$W/OLD/data"
    : > "$W/OLD/data/ancient"
    touch -d @-86400 "$W/OLD/data/ancient"
    rc=0
    "$SLUICE" manifest create "$W/OLD/data" --submitter dana --purpose old --sequence 2 --enclave lab \
        --link diode1 > "$W/old.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "a file from 1969 was not refused (exit $rc)"
    grep -q "refused: .*/OLD/data/ancient: modification time before 1970" "$W/old.log" ||
        fail "the 1969 file is not named: $(cat "$W/old.log")"
    ;;

symlinks_refused)
    # By default manifest create refuses every symbolic link, each listed
    # with its target, with the remedies; FIFOs and sockets are refused and
    # listed with them; nothing is written.
    D="$W/T/data"
    mkdir -p "$D/docs/v2"
    printf 'report\n' > "$D/docs/v2/report.txt"
    ln -s v2 "$D/docs/latest"
    ln -s docs/v2/report.txt "$D/current.txt"
    ln -s /etc/passwd "$D/outside"
    ln -s missing "$D/dangling"
    mkfifo "$D/pipe"
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$D/sock"
    rc=0
    "$SLUICE" manifest create "$D" --submitter dana --purpose links --sequence 1 --enclave lab \
        --link diode1 > "$W/create.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "manifest create exit $rc with symbolic links, expected 1"
    for l in "docs/latest -> v2" "current.txt -> docs/v2/report.txt" "outside -> /etc/passwd" "dangling -> missing"; do
        grep -q "^refused: $D/$l: symbolic link$" "$W/create.log" || fail "link $l not listed: $(cat "$W/create.log")"
    done
    grep -q "^refused: $D/pipe: FIFO" "$W/create.log" || fail "FIFO not listed"
    grep -q "^refused: $D/sock: socket" "$W/create.log" || fail "socket not listed"
    grep -q -- "--symlinks skip" "$W/create.log" && grep -q -- "--symlinks copy-inside" "$W/create.log" ||
        fail "the remedies are not given"
    grep -q "6 entries refused (listed above); no manifest written" "$W/create.log" || fail "summary: $(tail -1 "$W/create.log")"
    [ ! -e "$W/T/manifest" ] || fail "a manifest was written"
    sed 's/^/# /' "$W/create.log"
    ;;

symlinks_skip)
    # --symlinks skip leaves links out and lists them; hard links are
    # carried as independent files and said so.
    D="$W/T/data"
    mkdir -p "$D/docs"
    printf 'report\n' > "$D/docs/report.txt"
    ln "$D/docs/report.txt" "$D/same-report.txt"
    ln -s docs "$D/docs-link"
    ln -s /etc/passwd "$D/outside"
    "$SLUICE" manifest create "$D" --submitter dana --purpose links --sequence 1 --enclave lab \
        --link diode1 --symlinks skip > "$W/create.log" 2>&1 || fail "create --symlinks skip failed: $(cat "$W/create.log")"
    for l in "docs-link -> docs" "outside -> /etc/passwd"; do
        grep -q "^skipped: $D/$l: symbolic link left out" "$W/create.log" || fail "$l not listed: $(cat "$W/create.log")"
    done
    grep -q "note: 2 names are hard links to 1 file; each name is carried as an independent regular file" \
        "$W/create.log" || fail "hard links not noted: $(cat "$W/create.log")"
    grep -q "^  $D/docs/report.txt = $D/same-report.txt$" "$W/create.log" || fail "hard link names not listed"
    [ "$(grep -c '^file ' "$W/T/manifest")" = 2 ] || fail "expected 2 file lines"
    grep -q " docs-link$\| outside$" "$W/T/manifest" && fail "a skipped link is in the manifest"
    grep -q "^dir 0755 [0-9.]* docs$" "$W/T/manifest" || fail "directory docs not listed"
    # The links stay in T/data, where verify names them.
    rc=0
    "$SLUICE" manifest verify "$W/T" --no-policy > "$W/verify.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "verify exit $rc with skipped links left in data/, expected 1"
    grep -q "FAIL: data/docs-link: symbolic link" "$W/verify.log" || fail "verify does not name the link"
    sed 's/^/# /' "$W/create.log"
    ;;

symlinks_copy_inside)
    # --symlinks copy-inside: links whose targets lie inside the tree become
    # copies (a directory whole, through chains of links); a target outside,
    # a dangling link or a cycle refuses them all by name, and then nothing
    # in the tree is changed.
    D="$W/T/data"
    mkdir -p "$D/docs/v2/img" "$D/etc"
    printf 'report\n' > "$D/docs/v2/report.txt"
    head -c 5000 /dev/urandom > "$D/docs/v2/img/plot.png"
    chmod 755 "$D/docs/v2/report.txt"
    touch -d @1600000000.5 "$D/docs/v2/report.txt"
    ln -s v2 "$D/docs/latest"                        # a directory, relative
    ln -s docs/latest/report.txt "$D/current.txt"    # a file, through another link
    ln -s "$D/docs/v2/img" "$D/etc/plots"            # a directory, absolute but inside
    ln -s ../v2/img/plot.png "$D/docs/v2/plot"       # a file inside a directory being copied
    ln -s .. "$D/docs/v2/img/up"                     # cycle: img/up/img/up/...
    ln -s /etc/hostname "$D/outside"
    ln -s nowhere "$D/dangling"
    touch -d @1500000000 "$D/etc"
    rc=0
    "$SLUICE" manifest create "$D" --submitter dana --purpose links --sequence 1 --enclave lab \
        --link diode1 --symlinks copy-inside > "$W/create.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "create exit $rc with an outside link, a dangling link and a cycle, expected 1"
    grep -q "3 entries refused" "$W/create.log" || fail "each refused link is not named once: $(cat "$W/create.log")"
    grep -q "^refused: $D/outside -> /etc/hostname: target '/etc/hostname' is outside the tree$" "$W/create.log" ||
        fail "outside target not named: $(cat "$W/create.log")"
    grep -q "^refused: $D/dangling -> nowhere: target does not exist" "$W/create.log" || fail "dangling link not named"
    grep -q "^refused: $D/docs/v2/img/up -> ..: a cycle" "$W/create.log" || fail "cycle not named: $(cat "$W/create.log")"
    [ ! -e "$W/T/manifest" ] || fail "a manifest was written"
    n=$(find "$D" -type l | wc -l)
    [ "$n" = 7 ] || fail "the tree was changed although links were refused ($n links left)"
    sed 's/^/# /' "$W/create.log"
    rm "$D/outside" "$D/dangling" "$D/docs/v2/img/up"
    touch -d @1500000000 "$D/etc"
    "$SLUICE" manifest create "$D" --submitter dana --purpose links --sequence 1 --enclave lab \
        --link diode1 --symlinks copy-inside > "$W/create.log" 2>&1 || fail "copy-inside failed: $(cat "$W/create.log")"
    sed 's/^/# /' "$W/create.log"
    [ -z "$(find "$D" -type l)" ] || fail "links left: $(find "$D" -type l)"
    [ -d "$D/docs/latest" ] && [ -d "$D/etc/plots" ] || fail "directory links not replaced by directories"
    [ -f "$D/current.txt" ] && [ -f "$D/docs/v2/plot" ] || fail "file links not replaced by files"
    cmp "$D/current.txt" "$D/docs/v2/report.txt" || fail "current.txt is not a copy of the report"
    cmp "$D/etc/plots/plot.png" "$D/docs/v2/img/plot.png" || fail "etc/plots is not a copy of img"
    cmp "$D/docs/latest/plot" "$D/docs/v2/img/plot.png" || fail "the link inside the copied directory was not copied"
    [ "$(stat -c '%a %.9Y' "$D/current.txt")" = "755 1600000000.500000000" ] ||
        fail "the copy lost the target's mode or time: $(stat -c '%a %.9Y' "$D/current.txt")"
    [ "$(stat -c %.9Y "$D/etc")" = "1500000000.000000000" ] || fail "the link's directory changed its time"
    for f in current.txt docs/latest/report.txt docs/latest/img/plot.png etc/plots/plot.png docs/v2/plot; do
        grep -q " $f$" "$W/T/manifest" || fail "$f is not in the manifest"
    done
    grep -q "^dir 0755 [0-9.]* docs/latest/img$" "$W/T/manifest" || fail "the copied directory is not listed"
    "$SLUICE" manifest verify "$W/T" --no-policy > "$W/verify.log" 2>&1 ||
        fail "the tree after copy-inside does not verify: $(cat "$W/verify.log")"
    ;;

flood)
    flood_scenario
    ;;

*)
    fail "unknown scenario $scenario"
    ;;
esac
# The receiver must stop cleanly on SIGTERM (under ASan this also checks leaks).
if [ -n "${RX_PID:-}" ] && kill -0 "$RX_PID" 2>/dev/null; then
    kill -TERM "$RX_PID"
    rc=0
    wait "$RX_PID" || rc=$?
    [ "$rc" = 0 ] || fail "sluice-rx exited with status $rc on SIGTERM"
fi
echo "ok - $scenario"
