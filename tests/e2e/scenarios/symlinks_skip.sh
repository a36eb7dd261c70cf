# e2e scenario symlinks_skip (run by tests/e2e/run.sh symlinks_skip, after lib.sh).
# --symlinks skip leaves links out and lists them; hard links are
# carried as independent files and said so.
D="$W/T/data"
mkdir -p "$D/docs"
printf 'report\n' > "$D/docs/report.txt"
ln "$D/docs/report.txt" "$D/same-report.txt"
ln -s docs "$D/docs-link"
ln -s /etc/passwd "$D/outside"
"$SLUICE" manifest create "$D" --submitter dana --purpose links --sequence 1 --enclave lab \
    --link diode1 --symlinks skip > "$W/create.log" 2>&1 || fail "create --symlinks skip failed: $(cat "$W/create.log")"
for l in "docs-link -> docs" "outside -> /etc/passwd"; do
    grep -q "^skipped: $D/$l: symbolic link left out" "$W/create.log" || fail "$l not listed: $(cat "$W/create.log")"
done
grep -q "note: 2 names are hard links to 1 file; each name is carried as an independent regular file" \
    "$W/create.log" || fail "hard links not noted: $(cat "$W/create.log")"
grep -q "^  $D/docs/report.txt = $D/same-report.txt$" "$W/create.log" || fail "hard link names not listed"
[ "$(grep -c '^file ' "$W/T/manifest")" = 2 ] || fail "expected 2 file lines"
grep -q " docs-link$\| outside$" "$W/T/manifest" && fail "a skipped link is in the manifest"
grep -q "^dir 0755 [0-9.]* docs$" "$W/T/manifest" || fail "directory docs not listed"
# The links stay in T/data, where verify names them.
rc=0
"$SLUICE" manifest verify "$W/T" --no-policy > "$W/verify.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "verify exit $rc with skipped links left in data/, expected 1"
grep -q "FAIL: data/docs-link: symbolic link" "$W/verify.log" || fail "verify does not name the link"
sed 's/^/# /' "$W/create.log"
