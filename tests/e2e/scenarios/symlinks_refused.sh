# e2e scenario symlinks_refused (run by tests/e2e/run.sh symlinks_refused, after lib.sh).
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
