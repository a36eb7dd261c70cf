# lib.sh — shared helpers for sluice's end-to-end tests (sourced, not run).
#
# Needs: SLUICE, SLUICE_TX, SLUICE_RX (paths to the built binaries).
# Every process a test starts is recorded and stopped on exit, also on
# failure; every test works in its own temporary directory, removed on exit.
# All traffic stays on 127.0.0.1.

set -eu

: "${SLUICE:?}" "${SLUICE_TX:?}" "${SLUICE_RX:?}"
export SLUICE_PASSPHRASE=unused
PIDS=""
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e.XXXXXX")

cleanup() {
    status=$?
    for p in $PIDS; do
        kill "$p" 2>/dev/null || true
    done
    for p in $PIDS; do
        wait "$p" 2>/dev/null || true
    done
    if [ "$status" != 0 ] && [ "$status" != 77 ]; then
        echo "---- test failed; logs:" >&2
        for f in "$W"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f" >&2
            tail -n 40 "$f" >&2
        done
        [ -f "$W/state/audit.log" ] && { echo "---- audit.log" >&2; cat "$W/state/audit.log" >&2; }
    fi
    for m in ${MOUNTS:-}; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$W"
    exit "$status"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "# SKIP: $*"; exit 77; }

# small_fs SIZE: STATE and RELEASE ($W/state, $W/rel) on a tmpfs of SIZE of
# their own ($W/disk; root only, else the test is skipped), unmounted on exit.
small_fs() {
    [ "$(id -u)" = 0 ] || skip "needs root to mount a small filesystem"
    mkdir -p "$W/disk"
    mount -t tmpfs -o "size=$1,mode=0755" tmpfs "$W/disk" || skip "cannot mount a tmpfs"
    MOUNTS="$W/disk ${MOUNTS:-}"
    mkdir "$W/disk/state" "$W/disk/rel"
    ln -s disk/state "$W/state"
    ln -s disk/rel "$W/rel"
}
note() { echo "# $*"; }

# A free UDP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Keys for two officers of three (threshold 2), a submitter, a link key, a policy.
setup_keys() {
    cd "$W"
    "$SLUICE" keygen --link -o link.key >/dev/null
    "$SLUICE" keygen --link -o other.key >/dev/null
    for o in alice bob carol; do
        "$SLUICE" keygen --officer $o -o $o --unencrypted >/dev/null
    done
    "$SLUICE" keygen --submitter dana -o dana --unencrypted >/dev/null
    "$SLUICE" policy create --officer alice.pub --officer bob.pub --officer carol.pub \
        --threshold 2 --submitter dana.pub --enclave lab --link diode1 \
        --sequence-window 100 ${POLICY_EXTRA:-} -o policy >/dev/null
}

# make_transfer DIR SEQ KIND [extra manifest args]: KIND is mixed (text and
# random binaries, a few MB, names with spaces, + and UTF-8) or random:N (one
# incompressible file of N KiB). Signed by alice, bob and the submitter.
make_transfer() {
    dir=$1 seq=$2 kind=$3
    shift 3
    mkdir -p "$W/$dir/data"
    case $kind in
    mixed)
        mkdir -p "$W/$dir/data/sub dir/deeper" "$W/$dir/data/lib"
        head -c 1500000 /dev/urandom > "$W/$dir/data/model@v2.bin"
        seq 1 150000 > "$W/$dir/data/sub dir/numbers.txt"
        seq 1 40000 | sed 's/$/ données, libstdc++/' > "$W/$dir/data/sub dir/deeper/données.csv"
        head -c 300000 /dev/urandom > "$W/$dir/data/lib/libstdc++.so"
        echo "hello" > "$W/$dir/data/a b+c.txt"
        : > "$W/$dir/data/empty"
        ;;
    random:*)
        head -c $((${kind#random:} * 1024)) /dev/urandom > "$W/$dir/data/blob.bin"
        ;;
    none) ;; # the caller filled data/
    esac
    "$SLUICE" manifest create "$W/$dir/data" --submitter dana --purpose "e2e test $dir" \
        --sequence "$seq" --enclave lab --link diode1 "$@" -o "$W/$dir/manifest" >/dev/null
    for k in ${SIGNERS:-alice bob dana}; do
        "$SLUICE" manifest sign "$W/$dir/manifest" --key "$W/$k.key" >/dev/null
    done
}

xfer_id() { sed -n 's/^id //p' "$W/$1/manifest"; }

# transfer_to_rx DIR SEQ KIND [extra manifest args]: make_transfer DIR, then
# a sluice-rx on a free port: id is DIR's transfer id, P the port.
transfer_to_rx() {
    make_transfer "$@"
    id=$(xfer_id "$1")
    P=$(free_port)
    start_rx "$P"
}

# start_rx PORT [extra args]: sluice-rx on udp://127.0.0.1:PORT, state in $W/state.
# listening_count: how many times an rx has said it listens in rx.log.
listening_count() {
    c=$(grep -c "listening on" "$W/rx.log" 2>/dev/null || true)
    echo "${c:-0}"
}

start_rx() {
    port=$1
    shift
    n0=$(listening_count)
    "$SLUICE_RX" --link "udp://127.0.0.1:$port" --key "$W/link.key" --policy "$W/policy" \
        --state "$W/state" --release "$W/rel" --timeout 4 --tail-grace 2 ${RX_EXTRA:-} "$@" \
        >> "$W/rx.log" 2>&1 &
    RX_PID=$!
    PIDS="$PIDS $RX_PID"
    # wait until it listens: this run's "listening on" line (a restarted rx
    # finds the status file of the run before, so that says nothing)
    i=0
    while [ "$(listening_count)" -le "$n0" ] &&
        [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 $RX_PID 2>/dev/null || fail "sluice-rx did not start"
}

# crash_rx PORT POINT: start sluice-rx-crashtest (SLUICE_RX_CRASHTEST), which
# _exit()s with status 86 at crash point POINT of its first release.
crash_rx() {
    rx_bin=$SLUICE_RX
    SLUICE_RX=${SLUICE_RX_CRASHTEST:?} SLUICE_RX_CRASH_AT=$2
    export SLUICE_RX_CRASH_AT
    start_rx "$1"
    SLUICE_RX=$rx_bin
    unset SLUICE_RX_CRASH_AT
}

# crash_recovery POINT: run sluice-rx-crashtest in the foreground on the same
# state; it must _exit() at POINT while finishing, at its start, a release an
# earlier crash interrupted.
crash_recovery() {
    n0=$(grep -c "crash point $1:" "$W/rx.log" || true)
    rc=0
    SLUICE_RX_CRASH_AT=$1 timeout 20 "${SLUICE_RX_CRASHTEST:?}" --link "udp://127.0.0.1:$(free_port)" \
        --key "$W/link.key" --policy "$W/policy" --state "$W/state" --release "$W/rel" \
        >> "$W/rx.log" 2>&1 || rc=$?
    if [ "$rc" != 86 ] || [ "$(grep -c "crash point $1:" "$W/rx.log")" -le "$n0" ]; then
        fail "the restart did not crash at $1 while recovering (exit status $rc)"
    fi
}

stop_rx() {
    kill "$RX_PID" 2>/dev/null || true
    wait "$RX_PID" 2>/dev/null || true
}

# start_linksim IN OUT [args]: diode model from 127.0.0.1:IN to 127.0.0.1:OUT.
start_linksim() {
    in=$1 out=$2
    shift 2
    "$SLUICE" linksim --in "udp://127.0.0.1:$in" --out "udp://127.0.0.1:$out" \
        --idle-exit 30 "$@" >> "$W/linksim.log" 2>&1 &
    LS_PID=$!
    PIDS="$PIDS $LS_PID"
    sleep 0.3
}

# linksim_count LABEL: the number after "LABEL:" in linksim's summary.
linksim_count() {
    sed -n "s/.*$1: *\([0-9]*\).*/\1/p" "$W/linksim.log"
}

# expect_loss: fail unless the link model dropped something (else the
# run tested no repair).
expect_loss() {
    lost=$(linksim_count "dropped by loss")
    [ "${lost:-0}" -gt 0 ] || fail "the link model dropped nothing: this run tested no repair"
}

stop_linksim() {
    kill -INT "$LS_PID" 2>/dev/null || true
    wait "$LS_PID" 2>/dev/null || true
}

# start_forge IN OUT [args]: the hostile relay (SLUICE_FORGE) from
# 127.0.0.1:IN to 127.0.0.1:OUT, in the background (FG_PID), log in forge.log.
start_forge() {
    in=$1 out=$2
    shift 2
    "$SLUICE_FORGE" --in "udp://127.0.0.1:$in" --out "udp://127.0.0.1:$out" --key "$W/link.key" \
        "$@" > "$W/forge.log" 2>&1 &
    FG_PID=$!
    PIDS="$PIDS $FG_PID"
    sleep 0.3
}

# forge_done: wait until the relay has exited (give it --idle-exit) and show
# its log as notes.
forge_done() {
    wait "$FG_PID" || true
    sed 's/^/# /' "$W/forge.log"
}

# kill_hard PID: SIGKILL a process this test started, and reap it.
kill_hard() {
    kill -9 "$1"
    wait "$1" 2>/dev/null || true
}

# kill_when COND PID WHAT: once the shell test COND holds (within 20 s, else
# fail "WHAT"), half a second more, then kill_hard PID: a kill mid-transfer.
kill_when() {
    wait_for "$1" 20 || fail "$3"
    sleep 0.5
    kill_hard "$2"
}

send() { # send DIR PORT [args]
    dir=$1 port=$2
    shift 2
    "$SLUICE_TX" send --link "udp://127.0.0.1:$port" --key "$W/link.key" --no-progress \
        ${TX_EXTRA:-} "$@" "$W/$dir" >> "$W/tx.log" 2>&1
}

# send_bg DIR PORT [args]: the same in the background; TX_PID is sluice-tx itself.
send_bg() {
    dir=$1 port=$2
    shift 2
    "$SLUICE_TX" send --link "udp://127.0.0.1:$port" --key "$W/link.key" --no-progress \
        ${TX_EXTRA:-} "$@" "$W/$dir" >> "$W/tx.log" 2>&1 &
    TX_PID=$!
    PIDS="$PIDS $TX_PID"
}

# wait_for FILE-TEST SECONDS: poll until the shell test holds.
wait_for() {
    cond=$1 secs=$2
    i=0
    while [ $i -lt $((secs * 10)) ]; do
        if eval "$cond"; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

released() { [ -d "$W/rel/$1" ]; }

# RX_VERIFY: extra arguments for verifying a released transfer (sluice-rx
# sets the manifest's modes and times, so by default they are compared too).
RX_VERIFY=${RX_VERIFY-}

# The released transfer is bit-identical to the sent one and verifies again.
check_identical() {
    dir=$1 id=$2
    diff -r "$W/$dir" "$W/rel/$id" || fail "released tree differs from the sent one"
    # shellcheck disable=SC2086
    "$SLUICE" manifest verify "$W/rel/$id" --policy "$W/policy" $RX_VERIFY > "$W/verify.log" 2>&1 ||
        fail "released transfer does not verify: $(cat "$W/verify.log")"
}

audit_has() { # audit_has EVENT ID PATTERN
    grep -E "^[0-9]+ [^ ]+ $1 xfer=$2 .*$3" "$W/state/audit.log" >/dev/null
}

# send_refused DIR PORT WHAT PATTERN: DIR, sent to PORT (sluice-tx succeeds),
# is refused with a reason in the audit log that matches PATTERN (WHAT names
# it on failure); the reasons are noted.
send_refused() {
    rid=$(xfer_id "$1")
    send "$1" "$2" --rate "$RATE" || fail "sluice-tx failed to send $3: $(tail -3 "$W/tx.log")"
    wait_for "audit_has rejected $rid ''" 20 || fail "$3 was not refused"
    audit_has rejected "$rid" "$4" ||
        fail "the refusal of $3 does not give its reason: $(grep "$rid" "$W/state/audit.log")"
    audit_reason rejected "$rid"
}

# none_released: RELEASE is empty.
none_released() { [ -z "$(ls "$W/rel")" ] || fail "released: $(ls "$W/rel")"; }

# audit_reason EVENT ID: the reasons of ID's EVENT entries, as notes.
audit_reason() {
    grep "$1 xfer=$2" "$W/state/audit.log" | sed 's/.*reason=/# reason: /; s/ chain=.*//; s/%20/ /g'
}

# released_once DIR ID LABEL: transfer ID (sent from DIR) is in RELEASE once,
# bit-identical and verifying, nothing else of it is left half-done (no
# staging, no hidden name in RELEASE), the ledger holds it once, the audit
# log holds exactly one "released" entry for it, and sluice status is healthy.
released_once() {
    dir=$1 id=$2 what=$3
    check_identical "$dir" "$id"
    bad=$(find "$W/rel" -mindepth 1 -maxdepth 1 -regextype posix-extended ! -regex '.*/[0-9a-f]{32}')
    [ -z "$bad" ] || fail "$what: RELEASE holds a partial or temporary entry: $bad"
    [ ! -e "$W/state/xfer/$id" ] || fail "$what: staging STATE/xfer/$id left behind"
    [ ! -e "$W/state/release/$id" ] || fail "$what: STATE/release/$id left behind"
    n=$(grep -c "^accept [^ ]* [0-9]* $id " "$W/state/ledger" || true)
    [ "$n" = 1 ] || fail "$what: the ledger holds $id $n times"
    n=$(grep -c "^[0-9]* [^ ]* released xfer=$id " "$W/state/audit.log" || true)
    [ "$n" = 1 ] || fail "$what: the audit log holds $n 'released' entries for $id"
    wait_for "[ \"\$(status_field pid)\" = $RX_PID ]" 5 || fail "$what: the restarted rx wrote no status"
    "$SLUICE" status --state "$W/state" --recent 3 > "$W/status.log" 2>&1 ||
        fail "$what: sluice status reports a problem: $(cat "$W/status.log")"
    grep -q "hash chain intact" "$W/status.log" || fail "$what: audit chain not intact"
}

status_field() { sed -n "s/^$1 //p" "$W/state/status"; }

only_released() { # only these ids are in rel/
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    have=$(ls "$W/rel" | sort | tr '\n' ' ')
    [ "$want" = "$have" ] || fail "release directory holds '$have', expected '$want'"
}

# goodput START DIR: released payload bytes over the time from the start of
# the send to the release being seen (polled every 0.1 s), as a note.
goodput() {
    t1=$(date +%s.%N)
    bytes=$(du -sb "$W/$2/data" | cut -f1)
    awk -v b="$bytes" -v t0="$1" -v t1="$t1" \
        'BEGIN { printf "# goodput: %.1f MB in %.2f s = %.1f MB/s (%.0f Mbit/s)\n", b / 1e6, t1 - t0, b / 1e6 / (t1 - t0), b * 8 / 1e6 / (t1 - t0) }'
}

# release_through_loss KIND "LINKSIM ARGS" ["TX ARGS"]: a transfer of KIND
# (make_transfer T 1 KIND; id, P, Q set) sent at $RATE with TX ARGS through
# `sluice linksim` with LINKSIM ARGS (rate, queue, loss model, seed) to a
# sluice-rx: released within 20 s, goodput and linksim's drops noted, the
# link lost something (else no repair was tested), the release is
# bit-identical and alone in RELEASE.
release_through_loss() {
    link_args=$2 tx_args=${3:-}
    make_transfer T 1 "$1"
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q"
    # shellcheck disable=SC2086
    start_linksim "$P" "$Q" $link_args
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    send T "$P" --rate "$RATE" $tx_args
    wait_for "released $id" 20 || fail "not released"
    goodput "$t0" T
    stop_linksim
    grep -E "dropped by loss" "$W/linksim.log" | sed 's/^ */# linksim /'
    expect_loss
    check_identical T "$id"
    only_released "$id"
}

# release_over_uring_link TX-OPTS RX-OPTS "LINKSIM ARGS": a mixed transfer
# (make_transfer T 1 mixed) sent by sluice-tx on udp://...?TX-OPTS through
# `sluice linksim` with LINKSIM ARGS to a sluice-rx on udp://...?RX-OPTS,
# its sandbox on (the default: the ring is restricted, seccomp allows only
# io_uring_enter). Checks: released, some loss, rx says it receives through
# io_uring, no sandbox trouble, rx alive, then stops cleanly on SIGTERM
# (cancelling the multishot receive under seccomp too), the release is
# bit-identical and alone in RELEASE.
release_over_uring_link() {
    txo=$1 rxo=$2 link_args=$3
    make_transfer T 1 mixed
    id=$(xfer_id T)
    P=$(free_port) Q=$(free_port)
    start_rx "$Q?$rxo"
    # shellcheck disable=SC2086
    start_linksim "$P" "$Q" $link_args
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
    kill "$RX_PID"
    st=0
    wait "$RX_PID" || st=$?
    [ "$st" = 0 ] || fail "sluice-rx exited with status $st on SIGTERM (159: killed by seccomp)"
    grep -q "stopped:" "$W/rx.log" || fail "sluice-rx did not log its stop"
    check_identical T "$id"
    only_released "$id"
}

# with_file_io_uring NAME: run scenario NAME (scenarios/NAME.sh beside
# run.sh, whose $here names that folder) as it is, with file reads and
# writes on io_uring on both sides (--file-io uring through TX_EXTRA and
# RX_EXTRA; the rx sandbox stays on).
with_file_io_uring() {
    TX_EXTRA="--file-io uring" RX_EXTRA="--file-io uring"
    note "file I/O on io_uring (tx and rx)"
    # shellcheck disable=SC1090,SC2154
    . "$here/scenarios/$1.sh"
}
