#!/bin/sh
# fpga/synth/run.sh — synthesise diode_hx8k for an iCE40 HX8K (CT256) with
# yosys synth_ice40 and place-and-route it with nextpnr-ice40, then write a
# short report: cells, RAM blocks, Fmax per clock, seed.
#   run.sh OUTDIR [SEED] [MIN_MHZ]
# Exit status is non-zero if a tool fails or a clock misses MIN_MHZ (default 0:
# report only). The committed report is fpga/synth/report.txt.
set -eu
out=${1:?usage: run.sh OUTDIR [SEED] [MIN_MHZ]}
seed=${2:-1}
min=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
rtl="$here/../rtl"
mkdir -p "$out"
srcs=$(ls "$rtl"/*.v | tr '\n' ' ')
yosys -q -l "$out/yosys.log" -p "read_verilog -DSYNTHESIS $srcs $here/diode_hx8k.v; synth_ice40 -top diode_hx8k -abc9 -json $out/diode_hx8k.json; tee -o $out/stat.txt stat"
nextpnr-ice40 --hx8k --package ct256 --json "$out/diode_hx8k.json" --pcf "$here/diode_hx8k.pcf" \
    --freq 125 --seed "$seed" --asc "$out/diode_hx8k.asc" -l "$out/nextpnr.log" -q \
    --timing-allow-fail 2>/dev/null
icepack "$out/diode_hx8k.asc" "$out/diode_hx8k.bin"
python3 "$here/report.py" "$out" "$seed" "$min"
