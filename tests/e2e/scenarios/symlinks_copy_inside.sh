# e2e scenario symlinks_copy_inside (run by tests/e2e/run.sh symlinks_copy_inside, after lib.sh).
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
