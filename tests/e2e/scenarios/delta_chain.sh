# e2e scenario delta_chain (run by tests/e2e/run.sh delta_chain, after lib.sh).
# Incremental transfers (manifest version 3): a full transfer, then a chain
# of three deltas, each on the one before: the third moves and removes files
# and sends no byte at all (a fourth comes from a capture, the input ending
# while the receiver copies from the base). Each release is the new tree whole (content,
# modes, times, directories), its base release is untouched, and sluice
# status and the audit line name the base. Then refusals, each naming the
# base and releasing nothing: a delta whose base was never released here,
# one whose base file was changed after release (named), and one whose
# base file was replaced by a symbolic link (not followed).
P=$(free_port)
start_rx "$P"
D=$W/T1/data
mkdir -p "$D/a" "$D/b/c" "$D/gone"
for i in 1 2 3 4 5 6; do head -c $((i * 20000)) /dev/urandom > "$D/a/f$i"; done
printf 'script\n' > "$D/b/run.sh"; chmod 755 "$D/b/run.sh"
seq 1 20000 > "$D/b/c/numbers.txt"
touch -d @1600000000.5 "$D/a/f1" "$D/gone"
make_transfer T1 1 none
id1=$(xfer_id T1)
send T1 "$P" --rate "$RATE" || fail "sluice-tx failed: $(tail -3 "$W/tx.log")"
wait_for "released $id1" 20 || fail "the full transfer was not released"
check_identical T1 "$id1"

# tree_of DIR: what must be equal between a source and its release.
tree_of() { (cd "$1" && find . -mindepth 1 -printf '%P %y %m %s %T@\n' | sort); }
sums_of() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k2); }
snapshot() { tree_of "$W/rel/$1/data"; sums_of "$W/rel/$1"; }

# next_version FROM TO SEQ: copy FROM's tree to TO (times kept), change it
# with the commands on stdin, make a delta on FROM's manifest.
next_version() {
    mkdir -p "$W/$2"
    cp -a "$W/$1/data" "$W/$2/data"
    (cd "$W/$2/data" && sh -e) || fail "changing $2 failed"
    make_transfer "$2" "$3" none --base "$W/$1/manifest"
}
# T2: one file changed, one added, one removed, an empty directory added.
next_version T1 T2 2 <<'CHANGE'
head -c 5000 /dev/urandom > a/f2
printf 'new\n' > a/new.txt
rm a/f3
mkdir fresh
CHANGE
# T3: a rename, a move, a changed executable, an empty directory removed.
next_version T2 T3 3 <<'CHANGE'
mv a/f4 a/f4.renamed
mv a/f5 b/c/f5
printf 'script v2\n' > b/run.sh
rmdir gone
CHANGE
# T4: nothing to send: a move and a removal only.
next_version T3 T4 4 <<'CHANGE'
mv a/f6 f6
rm a/new.txt
CHANGE
grep -q '^sluice-manifest 3$' "$W/T2/manifest" || fail "a delta is not a version 3 manifest"
grep -q "^base $id1 " "$W/T2/manifest" || fail "T2 does not name T1 as its base"
grep -q '^files 0$' "$W/T4/manifest" || fail "T4 sends something: $(grep '^files\|^file ' "$W/T4/manifest")"
"$SLUICE" manifest show "$W/T3/manifest" --base "$W/T2/manifest" > "$W/show.log" ||
    fail "manifest show --base failed: $(cat "$W/show.log")"
grep -q "^  files             0 added, 1 changed, 2 moved, 0 removed, " "$W/show.log" ||
    fail "show does not count the difference: $(cat "$W/show.log")"
grep -q "^  moved    a/f5 -> b/c/f5$" "$W/show.log" || fail "show does not list the move"
grep -q "^  removed  gone/$" "$W/show.log" || fail "show does not list the removed directory"
before=$(snapshot "$id1")
prev=$id1
for t in T2 T3 T4; do
    id=$(xfer_id $t)
    send $t "$P" --rate "$RATE" || fail "sluice-tx failed on $t: $(tail -3 "$W/tx.log")"
    wait_for "released $id" 20 || fail "delta $t was not released: $(tail -5 "$W/rx.log")"
    check_identical $t "$id"
    [ "$(tree_of "$W/$t/data")" = "$(tree_of "$W/rel/$id/data")" ] ||
        fail "$t: released modes, sizes or times differ from the source's"
    audit_has released "$id" "base%20$prev" || fail "the audit line of $t does not name its base $prev"
    prev=$id
done
[ "$before" = "$(snapshot "$id1")" ] || fail "the base release $id1 changed"
"$SLUICE" status --state "$W/state" --recent 5 > "$W/status.log" 2>&1 || true
grep -q "base $id1" "$W/status.log" || fail "sluice status does not show the base: $(cat "$W/status.log")"

# Refused: a base never released here (T5 on the unsent T9).
make_transfer T9 90 random:10
next_version T9 T5 5 <<'CHANGE'
printf 'x\n' > extra
CHANGE
id5=$(xfer_id T5)
send_refused T5 "$P" "a delta on an unreleased base" "base%20$(xfer_id T9)%20was%20never%20released%20here"
# Refused: a file of the base changed after release, named.
id2=$(xfer_id T2)
chmod u+w "$W/rel/$id2/data/b/c/numbers.txt"
printf 'tampered\n' >> "$W/rel/$id2/data/b/c/numbers.txt"
next_version T2 T6 6 <<'CHANGE'
printf 'y\n' > another
CHANGE
id6=$(xfer_id T6)
send_refused T6 "$P" "a delta on a changed base" "base%20$id2%20changed%20after%20its%20release.*b/c/numbers.txt"
# Refused: a base file replaced by a symbolic link to the same content.
cp "$W/rel/$id2/data/a/f1" "$W/outside"
rm -f "$W/rel/$id2/data/a/f1"
ln -s "$W/outside" "$W/rel/$id2/data/a/f1"
next_version T2 T7 7 <<'CHANGE'
printf 'z\n' > yet-another
CHANGE
id7=$(xfer_id T7)
send_refused T7 "$P" "a delta on a base with a symbolic link" "a/f1"
for id in "$id5" "$id6" "$id7"; do
    released "$id" && fail "refused delta $id was released"
    [ ! -e "$W/state/release/$id" ] || fail "refused delta $id left staging behind"
done
# A delta read from a capture: the input ends while the receiver copies
# from the base; it finishes the copy and releases before it exits.
stop_rx
next_version T4 T8 8 <<'CHANGE'
printf 'from a capture\n' > captured
CHANGE
id8=$(xfer_id T8)
"$SLUICE_TX" send --link "pcap:$W/wire.pcap" --key "$W/link.key" --rate 1G --no-progress "$W/T8" \
    >> "$W/tx.log" 2>&1 || fail "sluice-tx did not write the capture: $(tail -3 "$W/tx.log")"
"$SLUICE_RX" --link "pcap:$W/wire.pcap" --key "$W/link.key" --policy "$W/policy" \
    --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from the capture failed"
released "$id8" || fail "the delta from a capture was not released: $(tail -3 "$W/rx.log")"
check_identical T8 "$id8"
note "chain of 4 deltas released (one from a capture); 3 refusals named their base"
