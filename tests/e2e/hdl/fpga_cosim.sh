# e2e scenario fpga_cosim (run by tests/e2e/run.sh fpga_cosim, after lib.sh).
# Hardware and software as one system: sluice-tx writes a capture, the
# reference diode (fpga/rtl, simulated by Verilator) carries it, mixed
# with frames it must drop, and sluice-rx releases from its output.
: "${SLUICE_COSIM:?path to fpga/tb/cosim.py}"
mkdir -p "$W/T/data"
head -c 60000 /dev/urandom > "$W/T/data/weights.bin"
echo "through the diode" > "$W/T/data/readme.txt"
make_transfer T 1 none
id=$(xfer_id T)
"$SLUICE_TX" send --link "pcap:$W/low.pcap" --key "$W/link.key" --rate 400M --preamble 4 \
    --no-progress "$W/T" >> "$W/tx.log" 2>&1 || fail "tx to pcap failed"
python3 "$SLUICE_COSIM" run --in "$W/low.pcap" --out "$W/high.pcap" --sim verilator \
    --build "$W/vl" > "$W/cosim.log" 2>&1 || fail "the diode simulation failed its checks"
grep -E "^cosim(_tb)?:" "$W/cosim.log" | sed 's/^/# /'
"$SLUICE_RX" --link "pcap:$W/high.pcap" --key "$W/link.key" --policy "$W/policy" \
    --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from the diode's output failed"
released "$id" || fail "not released from the diode's output"
check_identical T "$id"
