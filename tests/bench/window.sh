#!/bin/sh
# window.sh — the receive window against a deep interleave (prints a table).
#
# A transfer of SIZE KiB (default 524288: 512 MiB, incompressible) sent with
# `sluice-tx --interleave 256` through `sluice linksim` losing 1% in bursts
# of mean 500 datagrams, to sluice-rx with its default window (which follows
# the sender's interleave), with --window 300, and, when OLD_RX names another
# sluice-rx binary (say, one built before the window followed the sender),
# with that one's defaults. Each row: released in one pass or not, rx CPU
# (user + system seconds, /proc/PID/stat), wall time from the send to the
# release, symbols spooled to disk (from the status file; "-" when the
# binary does not report them), datagrams the kernel dropped at rx's socket
# (its status file's kernel_drops: a loaded machine shows here). Loopback only; every process is stopped by
# PID and the work directory removed (tests/e2e/lib.sh).
#
# Usage: SLUICE=build/tools/sluice SLUICE_TX=build/tx/sluice-tx \
#        SLUICE_RX=build/rx/sluice-rx [OLD_RX=/path/sluice-rx] tests/bench/window.sh [SIZE_KIB]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"

size=${1:-524288}
setup_keys
make_transfer T 1 "random:$size"
id=$(xfer_id T)
tick=$(getconf CLK_TCK)

# cpu PID: user + system seconds so far.
cpu() { awk -v t="$tick" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

# row LABEL RXBIN [rx args]: one send, one line of the table.
row() {
    label=$1 bin=$2
    shift 2
    rm -rf "$W/state" "$W/rel" "$W/rx.log"
    P=$(free_port) Q=$(free_port)
    SLUICE_RX=$bin start_rx "$Q" --timeout 30 --tail-grace 15 "$@"
    start_linksim "$P" "$Q" --rate 600M --queue 1M --loss 1% --burst 500 --seed 47
    t0=$(date +%s.%N)
    "$SLUICE_TX" send --link "udp://127.0.0.1:$P" --key "$W/link.key" --rate 500M \
        --interleave 256 --no-progress -q "$W/T" >> "$W/tx.log" 2>&1 || true
    outcome="NOT released"
    i=0
    while [ $i -lt 600 ]; do
        if released "$id"; then outcome=released; break; fi
        grep -q "timed out" "$W/rx.log" 2>/dev/null && break
        sleep 0.1
        i=$((i + 1))
    done
    wall=$(echo "$(date +%s.%N) - $t0" | bc)
    used=$(cpu "$RX_PID")
    spooled=$(sed -n 's/^window .*spooled=\([0-9]*\).*/\1/p' "$W/state/status")
    kdrops=$(sed -n 's/^kernel_drops //p' "$W/state/status")
    kill "$RX_PID"
    wait "$RX_PID" 2>/dev/null || true
    stop_linksim
    printf '%-28s %-13s %8s %8.1f %10s %8s\n' "$label" "$outcome" "$used" "$wall" "${spooled:--}" \
        "${kdrops:--}"
}

printf '%s KiB, tx --interleave 256 at 500M, linksim 600M, 1%% loss in bursts of 500\n' "$size"
printf '%-28s %-13s %8s %8s %10s %8s\n' "receiver" "outcome" "rx CPU" "wall" "spooled" "kdrops"
printf '%-28s %-13s %8s %8s %10s %8s\n' "" "" "s" "s" "symbols" "kernel"
row "default" "$SLUICE_RX"
row "--window 300" "$SLUICE_RX" --window 300
if [ -n "${OLD_RX:-}" ]; then
    row "OLD_RX default" "$OLD_RX"
fi
