# shared.sh — scenario bodies shared by several scenarios of tests/e2e/scenarios/
# (sourced by run.sh after lib.sh); each reads $scenario to tell them apart.

# bernoulli1 | bernoulli5 | gilbert50
scenario_lossy() {
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
}

# net_uring | net_uring_zc
scenario_net_uring() {
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
}
