# e2e scenario tree_shape (run by tests/e2e/run.sh tree_shape, after lib.sh).
# Manifest format version 2: empty directories, odd modes and times
# survive into the manifest exactly (modes normalised: files 0644 or
# 0755, directories 0755; a setuid/setgid file arrives 0755); verify on the source checks directories and
# times and names what differs; sluice-tx sends the tree.
D="$W/T/data"
mkdir -p "$D/empty" "$D/deep/a/b/c" "$D/private" "$D/sub dir/nested empty" "$D/bin"
printf 'secret\n' > "$D/private/key.txt"
printf '#!/bin/sh\n' > "$D/bin/tool"
printf '#!/bin/sh\n' > "$D/bin/suid"
printf 'ro\n' > "$D/sub dir/read only.txt"
: > "$D/deep/a/zero"
printf 'x\n' > "$D/top.txt"
chmod 600 "$D/private/key.txt"
chmod 711 "$D/bin/tool"
chmod 6755 "$D/bin/suid"   # setuid and setgid: never carried, the file arrives 0755
chmod 444 "$D/sub dir/read only.txt"
chmod 640 "$D/top.txt"
touch -d @315532800.123456789 "$D/private/key.txt"
touch -d @1700000000.000000001 "$D/bin/tool"
touch -d @1700000001 "$D/bin/suid"
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
0755 1700000001.000000000 bin/suid
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
./bin/suid f 755
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
