# e2e scenario small_queue (run by tests/e2e/run.sh small_queue, after lib.sh).
# The diode's buffer is 64 KiB; tx paces at 0.98 of its rate with the
# burst set to the buffer. The bucket is one pacing step under the
# burst, so even a step delayed by preemption fits: no overflow.
make_transfer T 1 random:20000
id=$(xfer_id T)
P=$(free_port) Q=$(free_port)
start_rx "$Q"
start_linksim "$P" "$Q" --rate 250M --queue 64K
send T "$P" --rate 245M --burst 64K
wait_for "released $id" 20 || fail "not released"
stop_linksim
grep -E "queue (overflow|peak)" "$W/linksim.log" | sed 's/^ */# linksim /'
ovf=$(linksim_count "queue overflow")
[ "${ovf:-x}" = 0 ] || fail "a paced sender overflowed the 64 KiB queue ($ovf datagrams)"
grep -E "went unused" "$W/tx.log" | sed 's/^/# /'
check_identical T "$id"
