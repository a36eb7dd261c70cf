# e2e scenario unlisted_signatures (run by tests/e2e/run.sh unlisted_signatures, after lib.sh).
# Signature files the policy cannot vouch for are not released: one by a
# key the policy does not list (its trusted comment holds terminal escape
# sequences), bob's with its key id altered (so no listed key), and a
# second copy of alice's (duplicate key). Only the verified signatures of
# listed keys (alice, bob; the submitter dana) are released beside the
# manifest, and the released audit line names the dropped files.
make_transfer T 1 random:100
"$SLUICE" keygen --officer mallory -o "$W/mallory" --unencrypted >/dev/null
esc=$(printf 'looks fine\033]0;owned\007\033[2J')
"$SLUICE" manifest sign "$W/T/manifest" --key "$W/mallory.key" --trusted-comment "$esc" \
    -o "$W/T/manifest.mallory.minisig" >/dev/null
python3 - "$W/T/manifest.bob.minisig" "$W/T/manifest.bob-altered.minisig" <<'PY'
import base64, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
raw = bytearray(base64.b64decode(lines[1]))
raw[2] ^= 0x5a  # key id byte: the signature now names a key no policy lists
lines[1] = base64.b64encode(bytes(raw))
open(sys.argv[2], 'wb').write(b'\n'.join(lines))
PY
cp "$W/T/manifest.alice.minisig" "$W/T/manifest.alice2.minisig"
id=$(xfer_id T)
# The same, but alice's trusted comment edited after signing: a listed
# key whose signature does not verify refuses the whole transfer.
make_transfer U 2 random:50
sed -i '3s/$/ edited/' "$W/U/manifest.alice.minisig"
id2=$(xfer_id U)
P=$(free_port)
start_rx "$P"
send T "$P" --rate "$RATE"
wait_for "released $id" 20 || fail "not released"
have=$(cd "$W/rel/$id" && ls -d -- * | tr '\n' ' ')
[ "$have" = "data manifest manifest.alice.minisig manifest.bob.minisig manifest.dana.minisig " ] ||
    fail "released: '$have'; expected only the manifest, data and the listed keys' signatures"
diff -r "$W/T/data" "$W/rel/$id/data" || fail "released data differs"
for f in manifest manifest.alice.minisig manifest.bob.minisig manifest.dana.minisig; do
    cmp -s "$W/T/$f" "$W/rel/$id/$f" || fail "released $f differs from the sent one"
done
# shellcheck disable=SC2086
"$SLUICE" manifest verify "$W/rel/$id" --policy "$W/policy" $RX_VERIFY > "$W/verify.log" 2>&1 ||
    fail "released transfer does not verify: $(cat "$W/verify.log")"
for f in manifest.mallory.minisig manifest.bob-altered.minisig manifest.alice2.minisig; do
    audit_has released "$id" "$f" || fail "the released audit line does not name $f"
    grep -q "RELEASED.*$f" "$W/rx.log" || fail "the log does not name $f"
done
audit_has released "$id" "not%20in%20the%20policy" || fail "no reason for the unknown keys"
audit_has released "$id" "more%20than%20once" || fail "no reason for the duplicate"
audit_reason released "$id"
send U "$P" --rate "$RATE"
wait_for "audit_has rejected $id2 'manifest.alice.minisig'" 20 || fail "tampered signature not refused"
audit_reason rejected "$id2"
only_released "$id"
! grep -q "$(printf '\033')" "$W/rx.log" "$W/state/audit.log" || fail "an escape byte reached the log"
