#!/bin/sh
# interop.sh — the officer workflow end to end with the real minisign binary.
#
#   interop.sh SLUICE     (SLUICE: path to the built `sluice` binary)
#
# Keys from `minisign -G -W` and `sluice keygen`; signatures from `minisign -S`
# verified by sluice and from `sluice manifest sign` verified by
# `minisign -V -H`; 2-of-3 accepted, 1-of-3, a repeated officer, an unknown
# key, a tampered manifest or trusted comment and a legacy signature refused;
# a tree with '+', spaces and UTF-8 names round-trips; refusals at create
# time are listed all at once. Exit 0 if every check passes; 77 (skip) if
# minisign is not installed.
set -eu
S=$(realpath "$1")
command -v minisign >/dev/null 2>&1 || { echo "minisign not installed: skipped"; exit 77; }

W=$(mktemp -d /tmp/sluice-interop-XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W"
pass=0

ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE PATTERN CMD...: run CMD, require exit CODE and PATTERN in its output.
expect() {
    code=$1; pattern=$2; shift 2
    set +e
    "$@" >out.txt 2>&1
    rc=$?
    set -e
    if [ "$rc" != "$code" ]; then
        cat out.txt >&2
        die "'$*' exited $rc, expected $code"
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" out.txt; then
        cat out.txt >&2
        die "'$*': output lacks '$pattern'"
    fi
}

# --- keys -----------------------------------------------------------------
"$S" keygen --officer alice -o alice --unencrypted >/dev/null
"$S" keygen --officer bob -o bob --unencrypted >/dev/null
"$S" keygen --submitter carol -o carol --unencrypted >/dev/null
minisign -G -W -p dave.pub -s dave.key >/dev/null
minisign -G -W -p mallory.pub -s mallory.key >/dev/null
[ "$(stat -c %a alice.key)" = 600 ] || die "secret key not mode 0600"
ok "keys from sluice keygen and minisign -G -W"
expect 3 "already exists" "$S" keygen --officer alice -o alice --unencrypted
ok "keygen never overwrites a key"
expect 2 "" "$S" keygen --officer alice
ok "keygen usage error exits 2"
"$S" keygen --link -o link.key >/dev/null
[ "$(stat -c %s link.key)" = 32 ] && [ "$(stat -c %a link.key)" = 600 ] || die "link key"
ok "link key: 32 bytes, mode 0600"

# --- the tree -------------------------------------------------------------
mkdir -p T/data/lib "T/data/my docs" "T/data/données" T/data/empty
printf 'so\n' > T/data/lib/libstdc++.so
printf 'model\n' > T/data/lib/model@v2
printf 'a b\n' > "T/data/my docs/a b.txt"
printf '1,2\n' > "T/data/données/données.csv"
printf 'x\n' > T/data/Index.html
printf 'y\n' > T/data/index.html
printf '#!/bin/sh\n' > T/data/run.sh
chmod 755 T/data/run.sh
"$S" manifest create T/data --submitter carol --purpose "Weekly refresh: données + models" \
    --sequence 1 --enclave train-a --link diode-1 --expires 2d >create.txt 2>&1 || { cat create.txt; die "create"; }
grep -q '^dir 0755 [0-9]*\.[0-9]\{9\} empty$' T/manifest || die "empty directory not listed"
LC_ALL=C grep -q '[^ -~]' T/manifest && die "manifest is not ASCII"
grep -q ' lib/libstdc++.so$' T/manifest || die "libstdc++.so"
grep -q ' my%20docs/a%20b.txt$' T/manifest || die "spaces"
grep -q ' donn%C3%A9es/donn%C3%A9es.csv$' T/manifest || die "UTF-8"
grep -q ' 0755 [0-9]*\.[0-9]\{9\} run.sh$' T/manifest || die "mode"
# hashes agree with sha256sum
want=$(sha256sum "T/data/my docs/a b.txt" | cut -d' ' -f1)
grep -q "^file $want 4 0644 $(stat -c %.9Y "T/data/my docs/a b.txt") my%20docs/a%20b.txt$" T/manifest ||
    die "SHA-256 differs from sha256sum, or the time from stat"
ok "create: ASCII manifest, '+', spaces, UTF-8, modes, times, empty directory, sha256sum-compatible"

"$S" manifest show T/manifest >show.txt
grep -q 'donn\\u{00E9}es' show.txt || die "show does not escape non-ASCII names"
grep -q 'non-ASCII names   2' show.txt || die "show does not count non-ASCII names (a directory and a file)"
grep -q '^  directories       4 (1 empty)' show.txt || die "show does not count directories"
grep -q 'Weekly refresh' show.txt || die "show lacks the purpose"
grep -q '^  manifest SHA-256  ' show.txt || die "show lacks the manifest hash"
ok "show: summary with escaped non-ASCII names"

# --- policy: 2 of alice, bob, dave; submitter carol -------------------------
"$S" policy create --officer alice.pub --officer bob.pub --officer dave.pub --threshold 2 \
    --submitter carol.pub --enclave train-a --link diode-1 -o policy >/dev/null
grep -q '^officer dave ' policy || die "name from the file name"
cp alice.pub alice2.pub
expect 1 "same public key" "$S" policy create --officer alice.pub --officer alice2.pub --threshold 1 \
    --enclave e --link l -o policy2
ok "policy create; duplicate keys refused"

# --- signatures both ways -------------------------------------------------
"$S" manifest sign T/manifest --key alice.key >/dev/null
"$S" manifest sign T/manifest --key carol.key >/dev/null
minisign -S -s dave.key -m T/manifest -x T/manifest.dave.minisig </dev/null >/dev/null
minisign -V -H -p alice.pub -m T/manifest -x T/manifest.alice.minisig >/dev/null || die "minisign rejects sluice's signature"
minisign -V -H -p dave.pub -m T/manifest -x T/manifest.dave.minisig >/dev/null
ok "sluice signature verified by minisign -V -H"
expect 0 "ACCEPTED" "$S" manifest verify T --policy policy
grep -q "officer dave" out.txt || die "minisign signature not counted"
ok "2 of 3 (sluice + stock minisign) accepted"
expect 0 "OK" "$S" manifest verify T --no-policy
ok "syntax-only mode"

fresh() { # fresh NAME SIG...: a copy of T with only these signatures
    d=$1; shift
    rm -rf "$d"; mkdir "$d"; cp -a T/manifest T/data "$d"/
    for s in "$@"; do cp -a "T/$s" "$d/"; done
}

fresh T1 manifest.alice.minisig manifest.carol.minisig
expect 1 "1 of the 2 required" "$S" manifest verify T1 --policy policy
ok "1 of 3 refused"

fresh T2 manifest.alice.minisig manifest.carol.minisig
"$S" manifest sign T2/manifest --key alice.key -o T2/manifest.alice-again.minisig >/dev/null
cp T2/manifest.alice.minisig T2/manifest.copy.minisig
expect 1 "duplicate signer" "$S" manifest verify T2 --policy policy
grep -q "1 valid of 2 required" out.txt || die "an officer counted twice"
ok "the same officer twice refused"

fresh T3 manifest.alice.minisig manifest.carol.minisig
minisign -S -s mallory.key -m T3/manifest -x T3/manifest.mallory.minisig </dev/null >/dev/null
expect 1 "unknown key" "$S" manifest verify T3 --policy policy
ok "an unknown key is not counted"

fresh T4 manifest.alice.minisig manifest.dave.minisig manifest.carol.minisig
sed -i 's/^purpose Weekly/purpose weekly/' T4/manifest
expect 1 "does not match the manifest" "$S" manifest verify T4 --policy policy
ok "tampered manifest refused"

fresh T5 manifest.alice.minisig manifest.dave.minisig manifest.carol.minisig
sed -i 's/^trusted comment: timestamp:/trusted comment: timestamp:1/' T5/manifest.dave.minisig
minisign -V -H -p dave.pub -m T5/manifest -x T5/manifest.dave.minisig >/dev/null 2>&1 && die "minisign accepts an altered comment"
expect 1 "trusted comment altered" "$S" manifest verify T5 --policy policy
ok "tampered trusted comment refused"

fresh T6 manifest.alice.minisig manifest.carol.minisig
minisign -S -l -s dave.key -m T6/manifest -x T6/manifest.dave.minisig </dev/null >/dev/null
minisign -V -p dave.pub -m T6/manifest -x T6/manifest.dave.minisig >/dev/null || die "minisign -l"
expect 1 "legacy" "$S" manifest verify T6 --policy policy
ok "legacy Ed refused (stock minisign -V accepts it)"

fresh T7 manifest.alice.minisig manifest.dave.minisig
expect 1 "submitter signature: MISSING" "$S" manifest verify T7 --policy policy
ok "submitter signature required"

fresh T8 manifest.alice.minisig manifest.dave.minisig manifest.carol.minisig
printf 'changed\n' > T8/data/lib/model@v2
printf 'z\n' > T8/data/stray.txt
expect 1 "lib/model@v2: size 8, the manifest says 6" "$S" manifest verify T8 --policy policy
grep -q "stray.txt: not in the manifest" out.txt || die "extra file not named"
ok "changed and extra files named"

expect 1 "expired at" "$S" manifest verify T --policy policy --at 2099-01-01T00:00:00Z
expect 1 "not valid yet" "$S" manifest verify T --policy policy --at 2000-01-01T00:00:00Z
ok "validity window"

"$S" policy create --officer alice.pub --officer bob.pub --officer dave.pub --threshold 2 \
    --submitter carol.pub --enclave train-a --link diode-1 --case-collisions refuse -o policy-ci >/dev/null
expect 1 "equal after case folding" "$S" manifest verify T --policy policy-ci
"$S" policy create --officer alice.pub --officer bob.pub --officer dave.pub --threshold 2 \
    --submitter carol.pub --enclave other --link diode-1 -o policy-other >/dev/null
expect 1 "enclave 'train-a'" "$S" manifest verify T --policy policy-other
ok "case collisions and enclave binding under a stricter policy"

# --- round trip: the same tree elsewhere gives the same file lines ---------
mkdir R
cp -a T/data R/data
"$S" manifest create R/data --submitter carol --purpose x --sequence 2 --enclave train-a --link diode-1 >/dev/null 2>&1
grep '^file ' T/manifest > a.lines
grep '^file ' R/manifest > b.lines
cmp -s a.lines b.lines || die "file lines differ for the same tree"
expect 3 "exists" "$S" manifest create R/data --submitter carol --purpose x --sequence 2 --enclave train-a --link diode-1
ok "a copied tree round-trips to identical file lines; create does not overwrite"

# --- create refuses, all at once ------------------------------------------
mkdir -p B/data/sub
printf 'ok\n' > B/data/fine.txt
ln -s fine.txt B/data/link
mkfifo B/data/fifo
printf 'x' > "B/data/sub/$(printf 'new\nline')"
printf 'x' > "B/data/sub/$(printf 'bad\377utf8')"
mkdir B/data/.git
printf 'x' > B/data/.git/config
expect 1 "6 entries refused" "$S" manifest create B/data --submitter carol --purpose x --sequence 3 \
    --enclave train-a --link diode-1
for reason in "link -> fine.txt: symbolic link" "fifo: FIFO" "control character U+000A" "invalid UTF-8" ".git in any case"; do
    grep -q -- "$reason" out.txt || { cat out.txt >&2; die "refusal '$reason' not listed"; }
done
[ ! -e B/manifest ] || die "a manifest was written despite refusals"
ok "symlink, FIFO, control character, invalid UTF-8 and .git refused together"

# --- an encrypted key: sluice keygen, stock minisign signs with it ---------
printf 'correct horse\n' > pw
"$S" keygen --officer erin -o erin --passphrase-file pw >/dev/null
grep -q '^untrusted comment: sluice officer erin: minisign encrypted secret key' erin.key || die "key comment"
printf 'correct horse\n' | minisign -S -s erin.key -m T/manifest -x erin.minisig >/dev/null 2>&1 || die "minisign cannot use sluice's encrypted key"
minisign -V -H -p erin.pub -m T/manifest -x erin.minisig >/dev/null
expect 1 "wrong passphrase" env SLUICE_PASSPHRASE=wrong "$S" manifest sign T/manifest --key erin.key -o erin2.minisig
SLUICE_PASSPHRASE='correct horse' "$S" manifest sign T/manifest --key erin.key -o erin3.minisig >/dev/null
minisign -V -H -p erin.pub -m T/manifest -x erin3.minisig >/dev/null
ok "encrypted secret keys interoperate (scrypt), wrong passphrase refused"

# and the other way: a key encrypted by minisign -G, used by sluice
printf 'pw2\npw2\n' | minisign -G -p frank.pub -s frank.key >/dev/null 2>&1
SLUICE_PASSPHRASE=pw2 "$S" manifest sign T/manifest --key frank.key -o frank.minisig >/dev/null
minisign -V -H -p frank.pub -m T/manifest -x frank.minisig >/dev/null
ok "a minisign-encrypted key signs through sluice"

expect 3 "no such file" "$S" manifest verify T --policy /nonexistent/policy
expect 2 "" "$S" manifest verify T
ok "exit codes: 3 for a missing file, 2 for usage"

echo "$pass checks passed"
