#!/usr/bin/env bash
# CLI end to end: runs docs/provenance-demo.sh, cross-checks its outputs with
# the openssl CLI, then tampers with them and checks exit codes and messages.
#   cli_test.sh TELLTALE_BINARY DEMO_SCRIPT
set -euo pipefail
TT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DEMO=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$(bash "$DEMO" "$TT" "$W/demo" 2>"$W/demo.err") || { cat "$W/demo.err" >&2; fail "demo script failed"; }
echo "$out" | grep -q '^RESULT: every link verified$' || { echo "$out"; fail "demo did not verify"; }
echo "$out" | grep -q '^\[verified\] timestamp:' || fail "no verified timestamp claim"
cd "$W/demo"

# Independent tools: openssl verifies the TSA token and a Telltale signature.
openssl ts -verify -in checkpoint.tsr -data checkpoint.note -CAfile tsa-ca.pem >/dev/null 2>&1 || fail "openssl ts -verify"
"$TT" key signing-pub provider.sk --format pem -o provider.pem
openssl pkey -pubin -in provider.pem -noout || fail "PEM not readable by openssl"
"$TT" verify batch.dsse --key provider.pem >/dev/null || fail "telltale verify with a PEM key"
"$TT" verify batch.dsse --key provider.vkey >/dev/null || fail "telltale verify with a verifier key"

# An auditor re-runs detection with the opened key and gets the signed report
# byte for byte.
"$TT" commit export-key acme.opening -o audit.key > audit.id
[ "$(cat audit.id)" = "$("$TT" key id acme.key)" ] || fail "exported key id differs"
"$TT" detect --key audit.key --scheme 'kgw:gamma=0.25,delta=2,h=1' --tokens suspect.txt --json > rerun.jsonl || true
cmp -s rerun.jsonl report.jsonl || fail "re-run detection differs from the report"
"$TT" commit verify acme.opening members/acme.eu.json >/dev/null || fail "commit verify"

# The signing key is never printed.
seed=$(sed -n 's/^seed //p' provider.sk)
grep -rq "$seed" "$W/demo.err" && fail "seed printed"
# Key files must not be group/other-readable.
chmod 644 provider.sk
set +e
"$TT" log checkpoint --db log.db --signing-key provider.sk >/dev/null 2>err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "chmod 600" err.txt || fail "group-readable signing key accepted (rc=$rc)"
chmod 600 provider.sk

expect_fail() {  # expect_fail EXIT_CODE MESSAGE_PART command...
  local want=$1 msg=$2; shift 2
  set +e
  "$@" >out.txt 2>err.txt; local rc=$?
  set -e
  [ $rc -eq "$want" ] || { cat out.txt err.txt >&2; fail "'$*' exited $rc, wanted $want"; }
  cat out.txt err.txt | grep -q -- "$msg" || { cat out.txt err.txt >&2; fail "'$*' did not say '$msg'"; }
}

# Tampered envelope, proof, checkpoint and bundle are each caught and named.
"$TT" log prove --db log.db --index 1 -o proof.json
"$TT" log verify-proof proof.json --log-key provider.vkey >/dev/null || fail "proof did not verify"
sed 's/"index":1/"index":0/' proof.json > proof-bad.json
expect_fail 1 "inclusion proof" "$TT" log verify-proof proof-bad.json --log-key provider.vkey
sed 's/payload":"ey/payload":"eY/' batch.dsse > batch-bad.dsse
expect_fail 1 "envelope" "$TT" verify batch-bad.dsse --key provider.vkey
"$TT" key signing-gen --name log.telltale.example -o other.sk > other.vkey
expect_fail 1 "checkpoint: signed note: no signature" "$TT" log verify-proof proof.json --log-key other.vkey
cp evidence.json bad.json
/usr/bin/python3 - <<'PY'
import json
d = json.load(open('bad.json'))
d['timestamp'] = d['timestamp'][:40] + ('A' if d['timestamp'][40] != 'A' else 'B') + d['timestamp'][41:]
open('bad.json', 'w').write(json.dumps(d, sort_keys=True, separators=(',', ':'), ensure_ascii=False) + '\n')
PY
expect_fail 1 "\[FAILED\]   timestamp:" "$TT" evidence verify bad.json --log-key provider.vkey --signer-key provider.vkey --tsa-ca tsa-ca.pem
expect_fail 1 "\[FAILED\]   signer key" "$TT" evidence verify evidence.json --signer-key other.vkey

# A checkpoint that shrinks the tree is refused against a later one.
"$TT" log append --db log.db batch.dsse >/dev/null
"$TT" log checkpoint --db log.db --signing-key provider.sk -o later.note
expect_fail 1 "shrank" "$TT" log verify-proof proof.json --log-key provider.vkey --previous later.note
"$TT" log audit --db log.db --log-key provider.vkey >/dev/null || fail "audit"

# Malformed input: one-line error, exit 2.
echo '{"scheme":"kgw"}' > junk.jsonl
expect_fail 2 "telltale: error:" "$TT" sign detection-report --signing-key provider.sk --report junk.jsonl -o x.dsse
expect_fail 2 "telltale: error:" "$TT" log append --db missing.db batch.dsse
expect_fail 2 "telltale: error:" "$TT" commit create --key acme.key --scheme 'kgw:gamma=7' --tokenizer-digest 00 -o x
[ "$(wc -l < err.txt)" -eq 1 ] || fail "error is not one line"
echo "provenance CLI test passed"
