# e2e scenario doctor (run by tests/e2e/run.sh doctor, after lib.sh).
mkdir -p "$W/state" "$W/rel"
chmod 700 "$W/state"
"$SLUICE" doctor --key "$W/link.key" --policy "$W/policy" --state "$W/state" \
    --release "$W/rel" > "$W/doctor.log" 2>&1 || fail "doctor failed on a good setup"
sed 's/^/# /' "$W/doctor.log"
grep -q "^ok    link key" "$W/doctor.log" || fail "key not checked"
grep -q "^ok    policy .*2 of 3 officers" "$W/doctor.log" || fail "policy not summarised"
chmod 644 "$W/link.key"
# sluice-rx and sluice-tx refuse such a key, so doctor fails it
"$SLUICE" doctor --key "$W/link.key" > "$W/doctor.log" 2>&1 && fail "a loose link key must fail"
grep -q "^FAIL  link key .*chmod 600" "$W/doctor.log" || fail "loose key permissions not flagged"
chmod 600 "$W/link.key"
echo "garbage" > "$W/bad.policy"
if "$SLUICE" doctor --policy "$W/bad.policy" > "$W/doctor.log" 2>&1; then
    fail "a broken policy must fail"
fi
grep -q "^FAIL  policy" "$W/doctor.log" || fail "broken policy not reported"
if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$W")" ]; then
    if "$SLUICE" doctor --state "$W/state" --release /dev/shm > "$W/doctor.log" 2>&1; then
        fail "state and release on different filesystems must fail"
    fi
    grep -q "different filesystems" "$W/doctor.log" || fail "filesystem split not explained"
fi
