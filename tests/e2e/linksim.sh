#!/bin/sh
# End-to-end test of `sluice linksim` on loopback: a paced sender (linkgen)
# -> linksim -> a counting receiver (linkgen recv). Checks that the summary
# adds up and matches what the receiver saw, that an overrun queue drops
# and a paced sender does not, that pcap runs are deterministic with a
# seed and their timestamps honour the rate, and that signals stop it with
# a summary. Every process it starts is stopped by PID on exit.
# Usage: linksim.sh SLUICE LINKGEN
set -eu
SLUICE=$1
LINKGEN=$2
T=$(mktemp -d /tmp/sl-linksim-e2e.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; for f in "$T"/*.out; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }
field() { awk -v k="$1" '$0 ~ "^  "k":" { sub(/^[^:]*: */, ""); print $1 + 0; exit }' "$2"; }
recvd() { awk '{ print $2 }' "$1"; }

# pick ports from a range tied to our PID so parallel runs do not collide
BASE=$((20000 + ($$ % 20000)))
IN=$BASE; OUT=$((BASE + 1))

# Relay: linksim in the background, receiver in the background, sender in front.
# run NAME LINKSIM-ARGS... -- SENDER-ARGS...
run() {
	name=$1; shift
	largs=""
	while [ "$1" != "--" ]; do largs="$largs $1"; shift; done
	shift
	"$LINKGEN" recv "udp://127.0.0.1:$OUT" 2500 > "$T/$name.recv.out" 2>&1 & RP=$!
	# shellcheck disable=SC2086
	"$SLUICE" linksim --in "udp://127.0.0.1:$IN" --out "udp://127.0.0.1:$OUT" $largs \
		--idle-exit 1 > "$T/$name.out" 2>&1 & LP=$!
	PIDS="$PIDS $RP $LP"
	sleep 0.3
	"$LINKGEN" send "udp://127.0.0.1:$IN" "$@" || fail "$name: sender failed"
	wait "$LP" || fail "$name: linksim exited with $?"
	wait "$RP" || fail "$name: receiver exited with $?"
}

check_sums() {
	name=$1; sent=$2
	o="$T/$name.out"
	rcv=$(field received "$o"); fwd=$(field forwarded "$o"); lost=$(field "dropped by loss" "$o")
	ovf=$(field "queue overflow" "$o"); uns=$(field "unsent at exit" "$o")
	[ -n "$rcv" ] && [ -n "$fwd" ] || fail "$name: no summary"
	[ "$rcv" -eq "$sent" ] || fail "$name: linksim received $rcv of $sent"
	[ $((fwd + lost + ovf + uns)) -eq "$rcv" ] || fail "$name: $fwd + $lost + $ovf + $uns != $rcv"
	got=$(recvd "$T/$name.recv.out")
	[ "$got" -eq "$fwd" ] || fail "$name: receiver got $got, linksim forwarded $fwd"
	grep -q " bad 0 dup 0 " "$T/$name.recv.out" || fail "$name: damaged or duplicated datagrams"
	echo "$name: received $rcv forwarded $fwd lost $lost overflow $ovf"
}

# 1. paced below the rate, burst below the queue: loss only, no overflow
run paced --rate 40M --queue 64K --loss 5% --seed 11 -- 3000 200-1400 36M 32K
check_sums paced 3000
[ "$(field "queue overflow" "$T/paced.out")" -eq 0 ] || fail "paced: queue overflowed"
lost=$(field "dropped by loss" "$T/paced.out")
[ "$lost" -gt 60 ] && [ "$lost" -lt 250 ] || fail "paced: $lost lost of 3000 at 5%"

# 2. twice the rate into a small queue: overflow, no loss model
run overrun --rate 20M --queue 16K -- 3000 1000 40M 16K
check_sums overrun 3000
ovf=$(field "queue overflow" "$T/overrun.out")
[ "$ovf" -gt 300 ] && [ "$ovf" -lt 2000 ] || fail "overrun: $ovf overflowed of 3000 at 2x"
[ "$(field "dropped by loss" "$T/overrun.out")" -eq 0 ] || fail "overrun: lost without --loss"

# 3. pcap in, pcap out: simulated time, deterministic with a seed, and the
#    output timestamps show the rate (within timestamp rounding)
"$LINKGEN" send "pcap:$T/in.pcap?rate=100M" 20000 100-1400 1G || fail "pcap: writing the input"
for i in 1 2; do
	"$SLUICE" linksim --in "pcap:$T/in.pcap" --out "pcap:$T/out$i.pcap" --rate 60M \
		--queue 32K --loss 2% --burst 5 --seed 99 > "$T/pcap$i.out" 2>&1 || fail "pcap run $i"
done
cmp -s "$T/out1.pcap" "$T/out2.pcap" || fail "pcap: same seed, different output"
grep -v '^linksim: ' "$T/pcap1.out" > "$T/s1"; grep -v '^linksim: ' "$T/pcap2.out" > "$T/s2"
cmp -s "$T/s1" "$T/s2" || fail "pcap: same seed, different summary"
o="$T/pcap1.out"
fwd=$(field forwarded "$o"); lost=$(field "dropped by loss" "$o"); ovf=$(field "queue overflow" "$o")
[ "$(field received "$o")" -eq 20000 ] || fail "pcap: received"
[ $((fwd + lost + ovf)) -eq 20000 ] || fail "pcap: counts do not add up"
[ "$ovf" -gt 0 ] || fail "pcap: 100M into 60M with a 32K queue must overflow"
"$LINKGEN" recv "pcap:$T/out1.pcap" 0 > "$T/pcapout.recv.out"
[ "$(recvd "$T/pcapout.recv.out")" -eq "$fwd" ] || fail "pcap: output file holds a different count"
rate=$(awk '{ print $10 }' "$T/pcapout.recv.out")
awk -v r="$rate" 'BEGIN { exit !(r <= 60000000 * 1.001 && r > 50000000) }' ||
	fail "pcap: output timestamps show $rate bit/s for a 60M link"
grep -q "output rate:     60.0" "$o" || fail "pcap: output rate not 60 Mbit/s"
echo "pcap: forwarded $fwd lost $lost overflow $ovf, output timestamps at $rate bit/s"
if command -v tshark > /dev/null; then
	n=$(tshark -r "$T/out1.pcap" -Y udp 2>/dev/null | wc -l)
	[ "$n" -eq "$fwd" ] || fail "pcap: tshark reads $n UDP frames, expected $fwd"
fi

# 4. SIGTERM: stops and prints the summary
"$SLUICE" linksim --in "udp://127.0.0.1:$IN" --out "udp://127.0.0.1:$OUT" --rate 200k \
	> "$T/term.out" 2>&1 & LP=$!
PIDS="$PIDS $LP"
sleep 0.3
"$LINKGEN" send "udp://127.0.0.1:$IN" 50 1000 100M || fail "term: sender"
sleep 0.2
kill -TERM "$LP"
wait "$LP" || fail "term: linksim exited with $?"
grep -q "stopped by SIGTERM" "$T/term.out" || fail "term: no stop message"
o="$T/term.out"
[ "$(field received "$o")" -eq 50 ] || fail "term: received"
uns=$(field "unsent at exit" "$o")
[ "$uns" -gt 0 ] || fail "term: a 200 kbit/s link cannot have drained 53 kB in 0.2 s"
[ $(($(field forwarded "$o") + $(field "queue overflow" "$o") + uns)) -eq 50 ] || fail "term: sums"

# 5. usage errors are explained
if "$SLUICE" linksim --in udp://127.0.0.1:1 --out udp://127.0.0.1:2 > "$T/u1.out" 2>&1; then
	fail "usage: ran without --rate"; fi
grep -q "required" "$T/u1.out" || fail "usage: no reason given"
if "$SLUICE" linksim --in udp://127.0.0.1:1 --out udp://127.0.0.1:2 --rate 1M --loss 90% \
	--burst 2 > "$T/u2.out" 2>&1; then fail "usage: impossible loss accepted"; fi
grep -q "impossible" "$T/u2.out" || fail "usage: impossible loss not explained"
if "$SLUICE" linksim --in pcap:/nonexistent --out udp://127.0.0.1:2 --rate 1M > "$T/u3.out" 2>&1; then
	fail "usage: pcap to udp accepted"; fi
grep -q "must be pcap" "$T/u3.out" || fail "usage: pcap to udp not explained"
echo "linksim e2e: all passed"
