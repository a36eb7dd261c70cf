# e2e scenario audit_anchor (run by tests/e2e/run.sh audit_anchor, after lib.sh).
# The audit chain's head is anchored outside the log after every entry:
# in the journal (rx's stderr) and in STATE/audit.head. A torn last line
# is cut at the next start and the cut audited; a log cut short is
# reported by sluice status against either anchor, and rx refuses it.
P=$(free_port)
start_rx "$P"
stop_rx
start_rx "$P"
stop_rx
logged_head() { sed -n 's/.*audit #\([0-9]*\) head \([0-9a-f]\{64\}\)$/\1:\2/p' "$W/rx.log" | tail -1; }
h4=$(logged_head)
[ "${h4%%:*}" = 4 ] || fail "rx did not log the head of each entry (started, stopped x2): '$h4'"
[ "$(cat "$W/state/audit.head")" = "$h4" ] || fail "audit.head is not the logged head"
"$SLUICE" status --state "$W/state" --audit-head "$h4" > "$W/st.out" 2>&1 || true
grep -q "^audit log  4 entries, hash chain intact" "$W/st.out" || fail "chain state: $(cat "$W/st.out")"
grep -q "given 4: in the log" "$W/st.out" || fail "given head not checked: $(cat "$W/st.out")"
# A crash mid-append: the next start cuts the torn line and says so.
printf '5 2026-01-01T00:00:00Z released xfer=0011' >> "$W/state/audit.log"
torn=$(printf '5 2026-01-01T00:00:00Z released xfer=0011' | wc -c)
start_rx "$P"
stop_rx
grep -q "warning: audit log audit.log: cut $torn bytes after entry #4" "$W/rx.log" ||
    fail "the cut was not logged: $(tail -5 "$W/rx.log")"
grep -q "^5 .* cut xfer=- manifest=- reason=cut%20$torn%20bytes" "$W/state/audit.log" ||
    fail "the cut was not audited"
h7=$(logged_head)
! grep -E "was not updated|NOT recorded" "$W/rx.log" || fail "an audit write failed under the sandbox"
[ "${h7%%:*}" = 7 ] || fail "expected 7 entries after cut, started, stopped: '$h7'"
"$SLUICE" status --state "$W/state" > "$W/st.out" 2>&1 || true
grep -q "^audit log  7 entries, hash chain intact" "$W/st.out" || fail "after the cut: $(cat "$W/st.out")"
sed -n '/^audit log/,$p' "$W/st.out" | sed 's/^/# /'
# The last two entries removed.
truncate -s "$(head -n 5 "$W/state/audit.log" | wc -c)" "$W/state/audit.log"
"$SLUICE" status --state "$W/state" > "$W/st.out" 2>&1 && fail "status exit 0 on a cut log"
grep -q "! audit.log ends at entry #5, but audit.head names entry #7" "$W/st.out" ||
    fail "truncation not reported from audit.head: $(cat "$W/st.out")"
grep '^audit log' "$W/st.out" | sed 's/^/# /'
rc=0
"$SLUICE_RX" --link "udp://127.0.0.1:$P" --key "$W/link.key" --policy "$W/policy" \
    --state "$W/state" --release "$W/rel" > "$W/rx2.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "sluice-rx started on a log that lost anchored entries (exit $rc)"
grep -q "entries were removed from its end" "$W/rx2.log" || fail "refusal unclear: $(cat "$W/rx2.log")"
sed 's/^/# /' "$W/rx2.log"
# The head file removed as well: the head from the journal still tells.
rm "$W/state/audit.head"
"$SLUICE" status --state "$W/state" --audit-head "$h7" > "$W/st.out" 2>&1 && fail "status exit 0"
grep -q "! audit.log ends at entry #5, but the given head is entry #7" "$W/st.out" ||
    fail "truncation not reported from the given head: $(cat "$W/st.out")"
# The log removed.
rm "$W/state/audit.log"
"$SLUICE" status --state "$W/state" --audit-head "$h7" > "$W/st.out" 2>&1 && fail "status exit 0"
grep -q "! audit.log is missing, but the given head is entry #7" "$W/st.out" ||
    fail "removal not reported: $(cat "$W/st.out")"
