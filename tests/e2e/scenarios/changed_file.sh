# e2e scenario changed_file (run by tests/e2e/run.sh changed_file, after lib.sh).
make_transfer T 1 mixed
echo "tampered" >> "$W/T/data/sub dir/numbers.txt"
P=$(free_port)
if send T "$P" --rate "$RATE"; then fail "tx sent a file that changed after signing"; fi
grep -q "changed since it was hashed" "$W/tx.log" || fail "tx did not say which file changed"
grep "changed since" "$W/tx.log" | head -1 | sed 's/^/# /'
