# e2e scenario config (run by tests/e2e/run.sh config, after lib.sh).
# sluice-rx and sluice-tx read their settings from files; the command line wins.
P=$(free_port)
cat > "$W/rx.conf" <<EOF
# sluice-rx test configuration
link = udp://127.0.0.1:$P
key = $W/link.key
policy = $W/policy
state = $W/state
release = $W/rel
timeout = 4
tail-grace = 2
max-staging = 64M
max-staged = 5 ; the command line says 7
ring = 64M
EOF
cat > "$W/tx.conf" <<EOF
link = udp://127.0.0.1:$P
key = $W/link.key
rate = $RATE
no-progress = yes
EOF
make_transfer T 1 mixed
id=$(xfer_id T)
"$SLUICE" doctor --config "$W/rx.conf" > "$W/doctor.log" 2>&1 || fail "doctor refused a good rx.conf"
grep -q "^ok    config .*a sluice-rx configuration" "$W/doctor.log" || fail "doctor: rx.conf not recognised"
grep -q "^ok    policy .*2 of 3 officers" "$W/doctor.log" || fail "doctor: the policy it names not checked"
"$SLUICE" doctor --config "$W/tx.conf" > "$W/doctor.log" 2>&1 || fail "doctor refused a good tx.conf"
grep -q "^ok    config .*a sluice-tx configuration" "$W/doctor.log" || fail "doctor: tx.conf not recognised"
"$SLUICE_RX" --config "$W/rx.conf" --max-staged 7 >> "$W/rx.log" 2>&1 &
RX_PID=$!
PIDS="$PIDS $RX_PID"
wait_for "grep -q 'settings from $W/rx.conf' '$W/rx.log'" 10 || fail "sluice-rx did not start from rx.conf"
"$SLUICE_TX" send --config "$W/tx.conf" "$W/T" >> "$W/tx.log" 2>&1 || fail "sluice-tx --config failed"
wait_for "released $id" 20 || fail "not released"
check_identical T "$id"
wait_for "grep -q 'transfers_max=7' '$W/state/status'" 5 ||
    fail "the command line did not win: $(grep staging "$W/state/status")"
grep -q "^staging .*max=67108864 " "$W/state/status" || fail "max-staging from rx.conf not applied"
# sluice status --json: the facts of the human view, as JSON
wait_for "grep -q '^released 1$' '$W/state/status'" 5 || fail "status does not count the release"
"$SLUICE" status --state "$W/state" > "$W/st.txt" || fail "status: $(cat "$W/st.txt")"
"$SLUICE" status --state "$W/state" --json > "$W/st.json" || fail "status --json: $(cat "$W/st.json")"
python3 - "$W/st.json" "$id" <<'PY' || fail "status --json: $(cat "$W/st.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["schema"] == 1 and j["healthy"] is True, j
assert j["receiver"]["running"] is True and j["receiver"]["pid"] > 0
assert j["link"].startswith("udp"), j["link"]
assert j["counters"]["released"] == 1 and j["counters"]["datagrams"] > 0
assert j["staging"]["max"] == 67108864 and j["staging"]["transfers_max"] == 7
assert j["audit"]["chain_ok"] is True and j["audit"]["entries"] >= 2
assert [e["event"] for e in j["recent"]] == ["released"] and j["recent"][0]["xfer"] == sys.argv[2]
assert isinstance(j["sessions"], list) and isinstance(j["transfers"], list) and "quota" in j
assert j["ring"]["drops"] == 0 and j["ring"]["max"] == 64 << 20 and j["ring"]["peak"] > 0, j["ring"]
PY
grep -q "^outcomes   1 released" "$W/st.txt" || fail "human view: $(cat "$W/st.txt")"
grep -q "^ring       .* of 64.00 MiB$" "$W/st.txt" || fail "human view, ring: $(cat "$W/st.txt")"
grep -q '^sluice_rx_dropped_total{reason="ring"} 0$' "$W/state/metrics.prom" || fail "no ring drop counter"
grep -q "^sluice_rx_audit_chain_ok 1$" "$W/state/metrics.prom" || fail "no audit chain metric"
# the example alert rules use only metrics sluice-rx writes
python3 - "$here/../../tools/prometheus/sluice-alerts.yml" "$W/state/metrics.prom" <<'PY' ||
import re, sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
prom = open(sys.argv[2]).read()
names = {n for r in rules for n in re.findall(r"sluice_rx_[a-z_]+", r["expr"])}
missing = [n for n in sorted(names) if not re.search(r"^(# TYPE )?%s[ {]" % n, prom, re.M)]
assert len(rules) >= 8 and not missing, missing
PY
    fail "the alert rules name metrics sluice-rx does not write"
stop_rx
"$SLUICE" status --state "$W/state" --json > "$W/st.json" && fail "status --json: exit 0 with rx stopped"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert not j["receiver"]["running"] and not j["healthy"]' \
    "$W/st.json" || fail "stopped rx not shown: $(cat "$W/st.json")"
# refused with file and line, and the nearest key
sed 's/^max-staging/max-stagign/' "$W/rx.conf" > "$W/bad.conf"
"$SLUICE_RX" --config "$W/bad.conf" > "$W/out.log" 2>&1 && fail "a misspelt key was accepted"
grep -q "bad.conf:9: unknown key 'max-stagign' (did you mean max-staging?)" "$W/out.log" ||
    fail "misspelt key: $(cat "$W/out.log")"
"$SLUICE" doctor --config "$W/bad.conf" > "$W/doctor.log" 2>&1 && fail "doctor passed a misspelt key"
grep -q "^FAIL  config .*bad.conf:9: unknown key 'max-stagign'" "$W/doctor.log" ||
    fail "doctor: $(cat "$W/doctor.log")"
sed 's/^timeout = 4/timeout = 0/' "$W/rx.conf" > "$W/bad.conf"
"$SLUICE_RX" --config "$W/bad.conf" > "$W/out.log" 2>&1 && fail "timeout 0 was accepted"
grep -q "bad.conf:7: timeout '0': at least 1 second" "$W/out.log" || fail "bad value: $(cat "$W/out.log")"
# a secret readable by others is refused with the fix, from the file and the command line
chmod 640 "$W/link.key"
"$SLUICE_RX" --config "$W/rx.conf" > "$W/out.log" 2>&1 && fail "a group-readable key was accepted"
grep -q "rx.conf:3: link key .* run: chmod 600 $W/link.key" "$W/out.log" || fail "key mode: $(cat "$W/out.log")"
"$SLUICE_TX" send --config "$W/tx.conf" "$W/T" > "$W/out.log" 2>&1 && fail "tx took a group-readable key"
grep -q "chmod 600" "$W/out.log" || fail "tx key mode: $(cat "$W/out.log")"
chmod 600 "$W/link.key"
