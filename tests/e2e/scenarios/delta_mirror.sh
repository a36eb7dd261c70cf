# e2e scenario delta_mirror (run by tests/e2e/run.sh delta_mirror, after lib.sh).
# The recurring update of a mirror over a lossy link (1% loss): a full
# transfer of a tree of SLUICE_DELTA_FILES files (default 2000) holding
# SLUICE_DELTA_BYTES in all (default 200M; 2G is the full-size run, by hand:
#   SLUICE_DELTA_BYTES=2G meson test -C build e2e-delta_mirror --timeout-multiplier 10),
# then its next version as a delta: 1% of the files changed, 10 removed,
# 10 renamed or moved, 5 added, an empty directory added and one removed.
# The delta costs at most 2% of the full transfer's datagrams; its release
# is the new tree (content, modes, times, directories) and the base
# release is untouched. Prints the byte and datagram ratios and the times
# from the start of sending to the release.
NF=${SLUICE_DELTA_FILES:-2000}
BYTES=$(numfmt --from=iec "${SLUICE_DELTA_BYTES:-200M}")
NDIR=20
PER=$((NF / NDIR)) SZ=$((BYTES / NF))
D=$W/T1/data
for d in $(seq -w 1 $NDIR); do
    mkdir -p "$D/d$d"
    head -c $((PER * SZ)) /dev/urandom | split -b "$SZ" -a 3 -d - "$D/d$d/f"
done
mkdir -p "$D/old-empty"
chmod 755 "$D/d01/f000" "$D/d02/f001"
touch -d @1700000000.123456789 "$D/d03/f002" "$D/d04"
make_transfer T1 1 none
id1=$(xfer_id T1)

# The next version: a copy with times kept, then the changes.
mkdir -p "$W/T2"
cp -a "$D" "$W/T2/data"
N=$W/T2/data
nchg=$((NF / 100))
files=$(cd "$N" && find . -type f -printf '%P\n' | sort)
printf '%s\n' "$files" | awk -v n="$nchg" 'NR % 97 == 1 && c < n { print; c++ }' > "$W/changed"
printf '%s\n' "$files" | awk 'NR % 89 == 3 && c < 10 { print; c++ }' | grep -vxFf "$W/changed" > "$W/removed"
printf '%s\n' "$files" | awk 'NR % 83 == 5 && c < 14 { print; c++ }' | grep -vxFf "$W/changed" |
    grep -vxFf "$W/removed" | head -10 > "$W/moved"
[ "$(wc -l < "$W/changed")" = "$nchg" ] && [ "$(wc -l < "$W/removed")" = 10 ] &&
    [ "$(wc -l < "$W/moved")" = 10 ] || fail "the test picked the wrong number of files to change"
while read -r f; do head -c "$SZ" /dev/urandom > "$N/$f"; done < "$W/changed"
while read -r f; do rm "$N/$f"; done < "$W/removed"
i=0
mkdir -p "$N/moved-here"
while read -r f; do
    i=$((i + 1))
    if [ $((i % 2)) = 0 ]; then mv "$N/$f" "$N/moved-here/m$i"; else mv "$N/$f" "$N/$f.renamed"; fi
done < "$W/moved"
for i in 1 2 3 4 5; do head -c "$SZ" /dev/urandom > "$N/d05/added$i"; done
mkdir "$N/new-empty"
rmdir "$N/old-empty"
make_transfer T2 2 none --base "$W/T1/manifest"
id2=$(xfer_id T2)
"$SLUICE" manifest show "$W/T2/manifest" --base "$W/T1/manifest" > "$W/show.log"
grep -q "^  files             5 added, $nchg changed, 10 moved, 10 removed, " "$W/show.log" ||
    fail "manifest show does not give the difference: $(sed -n '/^Delta/,/^$/p' "$W/show.log")"
grep -q "^  directories       2 added, 1 removed$" "$W/show.log" ||
    fail "manifest show does not count the directories: $(grep directories "$W/show.log")"

# send_one DIR ID: through linksim (1% loss), datagrams in DGRAMS, seconds in SECS.
Q=$(free_port)
start_rx "$Q"
send_one() {
    P=$(free_port)
    start_linksim "$P" "$Q" --rate 1G --queue 2M --loss 1% --seed 31
    t0=$(date +%s.%N)
    send "$1" "$P" --rate "$RATE" || fail "sluice-tx failed on $1: $(tail -3 "$W/tx.log")"
    wait_for "released $2" 100 || fail "$1 was not released: $(tail -5 "$W/rx.log")"
    SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    stop_linksim
    expect_loss
    DGRAMS=$(sed -n 's/^ *received: *\([0-9]*\) datagrams.*/\1/p' "$W/linksim.log")
    mv "$W/linksim.log" "$W/linksim-$1.log"
}
send_one T1 "$id1"
full_d=$DGRAMS full_s=$SECS
check_identical T1 "$id1"
tree_of() { (cd "$1" && find . -mindepth 1 -printf '%P %y %m %s %T@\n' | sort); }
before=$(tree_of "$W/rel/$id1"; cd "$W/rel/$id1" && find . -type f -exec sha256sum {} + | sort -k2)
send_one T2 "$id2"
delta_d=$DGRAMS delta_s=$SECS
check_identical T2 "$id2"
[ "$(tree_of "$N")" = "$(tree_of "$W/rel/$id2/data")" ] || fail "the released tree's modes, times or directories differ"
after=$(tree_of "$W/rel/$id1"; cd "$W/rel/$id1" && find . -type f -exec sha256sum {} + | sort -k2)
[ "$before" = "$after" ] || fail "the base release changed"
sent=$(sed -n 's/^bytes //p' "$W/T2/manifest") whole=$(du -sb --apparent-size "$N" | cut -f1)
mlen=$(wc -c < "$W/T2/manifest")
note "full:  $NF files, $BYTES bytes, $full_d datagrams, released ${full_s}s after the start of sending"
note "delta: $sent bytes sent + a $mlen-byte manifest, $delta_d datagrams, released ${delta_s}s after the start"
awk -v s="$sent" -v m="$mlen" -v b="$BYTES" -v d="$delta_d" -v f="$full_d" -v ds="$delta_s" -v fs="$full_s" \
    'BEGIN { printf "# ratios delta/full: bytes %.4f (with manifest %.4f), datagrams %.4f, time %.3f\n", s / b, (s + m) / b, d / f, ds / fs }'
[ $((delta_d * 50)) -le "$full_d" ] || fail "the delta took $delta_d datagrams, more than 2% of the full transfer's $full_d"
audit_has released "$id2" "base%20$id1" || fail "the audit line does not name the base"
note "rx: $(sed -n "s/.*transfer $id2: \(.*copied from base.*\)/\1/p" "$W/rx.log")"
