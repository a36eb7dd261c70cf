#!/bin/sh
# run.sh SCENARIO — run one end-to-end scenario of sluice-tx → (linksim) →
# sluice-rx over loopback with the real binaries: tests/e2e/scenarios/SCENARIO.sh
# (or hdl/SCENARIO.sh), sourced after lib.sh (the helpers) with fresh keys in a
# work directory of its own ($W). Paths come from SLUICE, SLUICE_TX, SLUICE_RX,
# SLUICE_FORGE, SLUICE_FLOOD, SLUICE_REPLAY, SLUICE_RX_CRASHTEST (set by meson).
# Exit 0 when the scenario holds. A new scenario is a new file in scenarios/:
# meson finds it when it configures (`meson setup --reconfigure BUILD`).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

scenario=${1:?scenario}
if [ -f "$here/scenarios/$scenario.sh" ]; then
    script=$here/scenarios/$scenario.sh
elif [ -f "$here/hdl/$scenario.sh" ]; then
    script=$here/hdl/$scenario.sh
else
    echo "run.sh: no scenario '$scenario' in $here/scenarios or $here/hdl" >&2
    exit 2
fi
setup_keys

# Rates stay modest: tx, rx and linksim share this machine's two cores.
RATE=300M

# shellcheck disable=SC1090
. "$script"

# The receiver must stop cleanly on SIGTERM (under ASan this also checks leaks).
if [ -n "${RX_PID:-}" ] && kill -0 "$RX_PID" 2>/dev/null; then
    kill -TERM "$RX_PID"
    rc=0
    wait "$RX_PID" || rc=$?
    [ "$rc" = 0 ] || fail "sluice-rx exited with status $rc on SIGTERM"
fi
echo "ok - ${1}"
