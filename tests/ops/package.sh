#!/bin/sh
# package.sh SRCDIR PKGBUILDDIR — the Debian package end to end on this
# machine: tools/package builds it, lintian finds no errors, dpkg -i
# installs it (user, directories, units), the installed sluice-rx --help and
# sluice doctor run, then dpkg -r and dpkg -P remove it and nothing of it is
# left. Removal also runs when a step fails. Needs root; skipped (77) where
# the package, its user or its directories exist already (never touched).
set -eu
src=${1:?source dir} export SLUICE_PACKAGE_BUILDDIR=${2:?package build dir}
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
command -v dpkg >/dev/null || skip "not a Debian system (no dpkg)"
dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q "installed" &&
    skip "a sluice package is installed on this machine already"
getent passwd sluice >/dev/null && skip "a user sluice exists already"
for p in /srv/sluice /var/spool/sluice /etc/sluice; do
    [ -e "$p" ] && skip "$p exists already"
done
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pkgtest.XXXXXX")
installed=0
cleanup() {
    status=$?
    if [ $installed = 1 ]; then
        rm -f /etc/sluice/link.key
        dpkg -P sluice > "$W/purge.log" 2>&1 || { cat "$W/purge.log"; status=1; }
    fi
    rm -rf "$W"
    exit $status
}
trap cleanup EXIT INT TERM

if ! command -v lintian >/dev/null; then
    echo "# lintian is missing: installing it"
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends lintian) >/dev/null 2>&1 ||
        fail "lintian is missing and could not be installed"
fi
deb=$("$src/tools/package" -o "$W") || fail "tools/package failed"
[ -f "$deb" ] || fail "tools/package made no $deb"
echo "# built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb -f "$deb" Depends | sed 's/^/# Depends: /'
dpkg-deb -f "$deb" Depends | grep -q "libinih1" || fail "Depends misses libinih1 (sluice links it)"
lintian "$deb" > "$W/lintian.log" 2>&1 || true
grep -v "root privileges" "$W/lintian.log" | sed 's/^/# lintian: /'
grep -q "^E: " "$W/lintian.log" && fail "lintian reports errors"

installed=1
dpkg -i "$deb" > "$W/install.log" 2>&1 || { cat "$W/install.log"; fail "dpkg -i failed"; }
/usr/sbin/sluice-rx --help | grep -q "^Usage: sluice-rx" || fail "installed sluice-rx --help"
/usr/bin/sluice-tx --help > /dev/null || fail "installed sluice-tx --help"
/usr/bin/sluice doctor > "$W/doctor.log" 2>&1 || { cat "$W/doctor.log"; fail "installed sluice doctor failed"; }
tail -1 "$W/doctor.log" | sed 's/^/# doctor: /'
# the shipped rx.conf is accepted once the link key it names exists (the
# policy does not yet: doctor fails that, and only that)
/usr/bin/sluice doctor --config /etc/sluice/rx.conf > "$W/doctor.log" 2>&1 && fail "doctor passed without a key"
grep -q "^FAIL  config .*rx.conf:13: link key /etc/sluice/link.key: No such file" "$W/doctor.log" ||
    { cat "$W/doctor.log"; fail "missing key not named"; }
/usr/bin/sluice keygen --link -o /etc/sluice/link.key > /dev/null
/usr/bin/sluice doctor --config /etc/sluice/rx.conf > "$W/doctor.log" 2>&1 || true
rm -f /etc/sluice/link.key
grep -q "^ok    config .*/etc/sluice/rx.conf: a sluice-rx configuration" "$W/doctor.log" ||
    { cat "$W/doctor.log"; fail "the shipped rx.conf is refused"; }
grep -q "^FAIL  policy" "$W/doctor.log" || { cat "$W/doctor.log"; fail "the missing policy not reported"; }
getent passwd sluice >/dev/null || fail "no sluice user"
[ "$(stat -c '%a %U:%G' /srv/sluice/state)" = "700 sluice:sluice" ] || fail "state: $(stat -c '%a %U:%G' /srv/sluice/state)"
[ "$(stat -c '%a %U:%G' /srv/sluice/inbox)" = "750 sluice:sluice" ] || fail "inbox mode"
[ "$(stat -c '%a %U:%G' /var/spool/sluice/outbox)" = "2770 sluice:sluice" ] || fail "spool mode"
[ "$(stat -c '%a %U:%G' /etc/sluice)" = "750 root:sluice" ] || fail "/etc/sluice mode"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify --man=no /lib/systemd/system/sluice-rx.service /lib/systemd/system/sluice-tx.service ||
        fail "installed units do not verify"
fi

dpkg -r sluice > "$W/remove.log" 2>&1 || { cat "$W/remove.log"; fail "dpkg -r failed"; }
[ ! -e /usr/sbin/sluice-rx ] || fail "dpkg -r left sluice-rx"
[ -f /etc/sluice/rx.conf ] || fail "dpkg -r removed a conffile (only purge may)"
dpkg -P sluice > "$W/purge.log" 2>&1 || { cat "$W/purge.log"; fail "dpkg -P failed"; }
installed=0
for p in /srv/sluice /var/spool/sluice /etc/sluice /lib/systemd/system/sluice-rx.service \
    /usr/share/doc/sluice /usr/bin/sluice; do
    [ ! -e "$p" ] || fail "purge left $p"
done
getent passwd sluice >/dev/null && fail "purge left the sluice user"
getent group sluice >/dev/null && fail "purge left the sluice group"
dpkg-query -W -f='${Status}' sluice 2>/dev/null | grep -q "installed" && fail "still installed"
echo "1 passed, 0 failed"
