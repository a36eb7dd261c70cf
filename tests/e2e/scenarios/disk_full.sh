# e2e scenario disk_full (run by tests/e2e/run.sh disk_full, after lib.sh).
# STATE and RELEASE on a 40 MiB tmpfs. It fills up in the middle of a
# transfer: nothing is rejected or removed, rx says so (status line, one
# audit entry, sluice status) and keeps going; once space is freed a
# repeat pass completes it, bit-identical, and the next transfer too.
small_fs 40M
make_transfer T 1 random:12000
make_transfer U 2 mixed
t1=$(xfer_id T) t2=$(xfer_id U) # (check_identical sets $id)
P=$(free_port)
start_rx "$P"
send_bg T "$P" --rate 30M
TX=$TX_PID
wait_for "[ -s $W/state/xfer/$t1/done ]" 20 || fail "nothing staged before the disk filled"
head -c 64M /dev/zero > "$W/disk/filler" 2>/dev/null || true
note "disk filled mid-transfer: $(df -k "$W/disk" | awk 'NR==2 {print $4}') KiB left"
wait "$TX" || fail "tx failed"
wait_for "status_field storage | grep -q 'state=full'" 10 || fail "status does not say the disk is full"
status_field storage | sed 's/^/# storage /'
audit_has storage "$t1" "disk%20full" || fail "no storage audit entry"
released "$t1" && fail "released although chunks could not be written"
audit_has rejected "$t1" "" && fail "rejected for a full disk"
[ -f "$W/state/xfer/$t1/meta" ] || fail "staging removed"
if "$SLUICE" status --state "$W/state" > "$W/status.log" 2>&1; then
    fail "sluice status calls a full disk healthy"
fi
grep -q "DISK FULL" "$W/status.log" || fail "sluice status does not say the disk is full"
grep -A1 "DISK FULL" "$W/status.log" | sed 's/^/# /'
rm -f "$W/disk/filler"
send T "$P" --rate "$RATE" --first-pass 2
wait_for "released $t1" 20 || fail "the repeat pass after space returned did not complete it"
check_identical T "$t1"
send U "$P" --rate "$RATE"
wait_for "released $t2" 20 || fail "the next transfer was not released"
check_identical U "$t2"
n=$(grep -c " storage xfer=" "$W/state/audit.log")
[ "$n" = 1 ] || fail "$n storage audit entries for one episode"
audit_has rejected ".*" "" && fail "something was rejected"
only_released "$t1" "$t2"
