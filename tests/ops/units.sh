#!/bin/sh
# units.sh UNIT_DIR SBINDIR_BUILT BINDIR_BUILT — the systemd units as built
# (tools/systemd/*.service.in, configured by meson): `systemd-analyze verify`
# must find nothing wrong, and `systemd-analyze security` must rate each
# unit's exposure at most MAX_EXPOSURE (printed: see the report). The units'
# ExecStart paths name the install location; verify needs the binaries to
# exist, so it runs on copies pointing at the built ones.
set -eu
units=${1:?unit dir} rx=$(realpath "${2:?sluice-rx}") tx=$(realpath "${3:?sluice-tx}")
MAX_EXPOSURE=${MAX_EXPOSURE:-3.0}
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
    exit 77
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-units.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
for u in sluice-rx sluice-tx; do
    sed -e "s|^ExecStart=[^ ]*/sluice-rx |ExecStart=$rx |" -e "s|^ExecStart=[^ ]*/sluice-tx |ExecStart=$tx |" \
        "$units/$u.service" > "$W/$u.service"
    grep -q "^ExecStart=/.*--config /etc/sluice/" "$W/$u.service" || fail "$u: ExecStart does not read /etc/sluice"
    # verify: syntax, directives, the executable; its warnings are failures here
    # (man pages it cannot find on this host are not the unit's fault).
    systemd-analyze verify --man=no "$W/$u.service" > "$W/verify.log" 2>&1 || {
        cat "$W/verify.log"; fail "$u: systemd-analyze verify"; }
    if grep -v "Documentation=.*man" "$W/verify.log" | grep -q .; then
        cat "$W/verify.log"; fail "$u: systemd-analyze verify warned"
    fi
    systemd-analyze security --offline=yes --no-pager "$W/$u.service" > "$W/security.log" 2>&1 || true
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$W/security.log")
    [ -n "$score" ] || { cat "$W/security.log"; fail "$u: no exposure score"; }
    echo "$u: exposure $score ($(sed -n 's/.*Overall exposure level for [^:]*: [0-9.]* \([A-Z]*\).*/\1/p' "$W/security.log"))"
    awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s + 0 <= m + 0) }' ||
        { grep "✗" "$W/security.log" | head -20; fail "$u: exposure $score above $MAX_EXPOSURE"; }
done
echo "1 passed, 0 failed"
