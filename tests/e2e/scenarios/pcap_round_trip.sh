# e2e scenario pcap_round_trip (run by tests/e2e/run.sh pcap_round_trip, after lib.sh).
make_transfer T 1 mixed
id=$(xfer_id T)
"$SLUICE_TX" send --link "pcap:$W/wire.pcap" --key "$W/link.key" --rate 1G --no-progress \
    "$W/T" >> "$W/tx.log" 2>&1 || fail "tx to pcap failed"
if command -v tshark >/dev/null 2>&1; then
    n=$(tshark -r "$W/wire.pcap" -Y udp 2>/dev/null | wc -l)
    note "tshark reads $n UDP frames"
    [ "$n" -gt 100 ] || fail "tshark did not read the capture"
    # The Wireshark dissector decodes the clear header of every datagram.
    syms=$(tshark -X "lua_script:$here/../../tools/wireshark/sluice.lua" -r "$W/wire.pcap" \
        -Y "sluice.type == 4" -T fields -e sluice.block 2>/dev/null | wc -l)
    hdrs=$(tshark -X "lua_script:$here/../../tools/wireshark/sluice.lua" -r "$W/wire.pcap" \
        -Y "sluice.type == 3" 2>/dev/null | wc -l)
    note "dissector: $syms symbols, $hdrs transfer headers"
    [ "$syms" -gt 100 ] && [ "$hdrs" -ge 6 ] || fail "the Wireshark dissector did not decode the capture"
fi
"$SLUICE_RX" --link "pcap:$W/wire.pcap" --key "$W/link.key" --policy "$W/policy" \
    --state "$W/state" --release "$W/rel" >> "$W/rx.log" 2>&1 || fail "rx from pcap failed"
released "$id" || fail "not released from the pcap file"
check_identical T "$id"
