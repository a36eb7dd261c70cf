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
# A tx configuration against the reference diode (8 KiB buffer, 900 Mb/s out
# of a 1 Gb/s line): the defaults overflow it, --rate 900M --burst 64K fits.
printf 'link = udp://127.0.0.1:4747\nkey = %s\nrate = 1G\n' "$W/link.key" > "$W/tx.conf"
if "$SLUICE" doctor --config "$W/tx.conf" --diode-buffer 8K --diode-rate 900M > "$W/doctor.log" 2>&1; then
    fail "a tx.conf whose rate and burst overflow the diode must fail"
fi
grep "diode" "$W/doctor.log" | sed 's/^/# /'
grep -q "^FAIL  diode rate .*set --rate 900M" "$W/doctor.log" || fail "rate above the diode's not fixed"
grep -q "^FAIL  diode burst .*--burst 125000 .*(8192 - 1538) / (1 - 900M/1G) = 66540 bytes.*set --burst 64K" \
    "$W/doctor.log" || fail "default burst overflow not explained with the numbers and the fix"
printf 'link = udp://127.0.0.1:4747\nkey = %s\nrate = 900M\nburst = 64K\n' "$W/link.key" > "$W/tx.conf"
"$SLUICE" doctor --config "$W/tx.conf" --diode-buffer 8K --diode-rate 900M > "$W/doctor.log" 2>&1 ||
    fail "--rate 900M --burst 64K fits the reference diode: $(grep FAIL "$W/doctor.log")"
grep -q "^ok    diode burst .*65536 fits" "$W/doctor.log" || fail "a fitting burst not reported"
# a diode that forwards at the line rate holds its buffer less a frame
"$SLUICE" doctor --config "$W/tx.conf" --diode-buffer 8K --diode-rate 1G > "$W/doctor.log" 2>&1 &&
    fail "64K overflows an 8K buffer at the line rate"
grep -q "^FAIL  diode burst .*8192 - 1538 = 6654 bytes.*set --burst 6K" "$W/doctor.log" ||
    fail "line-rate diode bound wrong"
# an rx configuration is not a sender's
"$SLUICE" doctor --diode-buffer 8K > "$W/doctor.log" 2>&1 && fail "--diode-buffer without a tx.conf must fail"
grep -q "^FAIL  diode .*tx.conf" "$W/doctor.log" || fail "missing tx.conf not explained"
