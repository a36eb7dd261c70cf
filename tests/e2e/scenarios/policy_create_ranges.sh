# e2e scenario policy_create_ranges (run by tests/e2e/run.sh policy_create_ranges, after lib.sh).
# sluice policy create refuses what sluice-rx would not load, and what it
# writes loads.
base="--officer $W/alice.pub --officer $W/bob.pub --threshold 2 --enclave lab --link diode1"
for bad in "--max-files -1" "--max-files 0" "--max-files 18446744073709551616" \
    "--sequence-window -1" "--sequence-window 1000001" "--sequence-max-step 0" \
    "--sequence-max-step 9223372036854775808" "--sequence-max-step 1e6"; do
    rc=0
    # shellcheck disable=SC2086
    "$SLUICE" policy create $base $bad -o "$W/p.bad" > "$W/create.log" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "policy create $bad: exit $rc, expected 2 (usage)"
    [ ! -e "$W/p.bad" ] || fail "policy create $bad wrote a policy"
    grep -q "expected a whole number from" "$W/create.log" || fail "policy create $bad: $(cat "$W/create.log")"
done
note "$(head -1 "$W/create.log")"
# shellcheck disable=SC2086
"$SLUICE" policy create $base --max-files 5 --sequence-window 7 --sequence-max-step 9223372036854775807 \
    -o "$W/p.good" >/dev/null || fail "policy create with values in range failed"
"$SLUICE" policy show "$W/p.good" > "$W/show.log" || fail "the policy written does not load"
grep -q "sequence-max-step 9223372036854775807" "$W/show.log" || fail "show lacks sequence-max-step"
grep -q "^sequence-max-step 9223372036854775807$" "$W/p.good" || fail "the file lacks sequence-max-step"
# a policy written before sequence-max-step existed loads with the default
grep -v '^sequence-max-step' "$W/policy" > "$W/p.old"
"$SLUICE" policy show "$W/p.old" | grep -q "sequence-max-step 1000000" ||
    fail "a policy without sequence-max-step does not load with the default"
