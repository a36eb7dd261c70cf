# e2e scenario small_files_linerate (run by tests/e2e/run.sh small_files_linerate):
# many small files (SMALL_N, default 50,000, of 1-8 KiB) through linksim with
# 1% loss at SMALL_RATE (default 300M), one pass, rx with its default writer
# queue: released bit-identical, and rx neither dropped datagrams in the
# kernel nor dropped decoded chunks at its writer (status: kernel_drops 0,
# writer full=0). File creation, writing and syncing run on rx's writer
# thread, catalog verification on a thread of its own: when the writer falls
# behind, the chunks that find its queue full are spilled into the staged
# stream file and moved by the writer later (status: writer spilled=, shown
# in the log; a spill cap that is reached is a unit test, test_rx_writer).
n=${SMALL_N:-50000}
rate=${SMALL_RATE:-300M}
python3 - "$W/T/data" "$n" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(12)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 8192)))
PY
t0=$(date +%s.%N)
make_transfer T 1 none
note "manifest of $n files: $(($(date +%s) - ${t0%.*})) s, $(wc -c < "$W/T/manifest") bytes"
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q" --timeout 30
start_linksim "$P" "$Q" --rate "$rate" --queue 4M --loss 1% --seed 21
t0=$(date +%s.%N)
send T "$P" --rate "$rate"
wait_for "released $id || grep -q 'timed out' '$W/rx.log'" 90
released "$id" || fail "not released in one pass (status: $(grep -E 'kernel_drops|writer' "$W/state/status" | tr '\n' ' '))"
goodput "$t0" T
note "rx: $(grep -E '^(kernel_drops|writer)' "$W/state/status" | tr '\n' ' ')"
stop_linksim
expect_loss
[ "$(status_field kernel_drops)" = 0 ] || fail "rx's socket dropped datagrams: $(status_field kernel_drops)"
full=$(sed -n 's/^writer .*full=\([0-9]*\).*/\1/p' "$W/state/status")
[ "$full" = 0 ] || fail "rx's writer queue was full: ${full:-no writer line} chunk(s) dropped"
check_identical T "$id"
only_released "$id"
"$SLUICE" status --state "$W/state" > "$W/status.txt" 2>&1 || true
grep -q "^writer .*chunks written" "$W/status.txt" || fail "sluice status shows no writer line: $(cat "$W/status.txt")"
"$SLUICE" status --state "$W/state" --json | python3 -c 'import json,sys; w=json.load(sys.stdin)["writer"]; assert w["full"] == 0 and w["written"] > 0 and w["moved"] == w["spilled"] and w["spill"] == 0, w' ||
    fail "sluice status --json has no writer section"
