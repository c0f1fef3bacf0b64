#!/usr/bin/env bash
# End-to-end provenance demo (docs/provenance.md): commit a key, log a
# generation batch, check-point and time-stamp the log, detect later, then
# build and verify an evidence bundle.
#
#   docs/provenance-demo.sh [TELLTALE_BINARY] [WORK_DIR]
#
# The TSA is a local stand-in for a public RFC 3161 service, run with the
# `openssl ts` CLI from certificates made on the spot (see setup_tsa).
set -euo pipefail
TT=${1:-build/cli/telltale}
W=${2:-$(mktemp -d)}
TT=$(cd "$(dirname "$TT")" && pwd)/$(basename "$TT")
mkdir -p "$W" && cd "$W"
umask 077

setup_tsa() {  # a CA and a TSA certificate (extendedKeyUsage critical timeStamping)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out tsa-ca.pem -days 3650 \
    -subj "/CN=Demo TSA Root" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -out tsa.csr -subj "/CN=Demo TSA" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsa.ext
  openssl x509 -req -in tsa.csr -CA tsa-ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 3650 -extfile tsa.ext 2>/dev/null
  printf '01\n' > tsaserial
  cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = demo
[ demo ]
serial = ./tsaserial
crypto_device = builtin
signer_cert = ./tsa.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
}
setup_tsa
SCHEME='kgw:gamma=0.25,delta=2,h=1'
TOKENIZER=$(printf 'demo tokenizer v1' | sha256sum | cut -d' ' -f1)
set -x

# 1. Keys: a master watermark key, the tenant's derived key, a signing key.
"$TT" keygen -o master.key
"$TT" key derive master.key --tenant acme --region eu --epoch 2026-11 -o acme.key
"$TT" key signing-gen --name log.telltale.example -o provider.sk > provider.vkey
# 2. Commit to the tenant key and publish the epoch's commitment set.
"$TT" commit create --key acme.key --scheme "$SCHEME" --tokenizer-digest "$TOKENIZER" -o acme.opening
"$TT" commit publish acme.opening --epoch 2026-11 --signing-key provider.sk -o commitments.dsse --membership-dir members
# 3. Serve a batch: generate watermarked output and sign a generation-batch statement.
"$TT" generate --key acme.key --scheme "$SCHEME" --count 20 --length 200 --seed 7 -o served.txt
"$TT" sign generation-batch --signing-key provider.sk --opening acme.opening --model demo-zipf-lm \
  --start 2026-11-01T00:00:00Z --end 2026-11-02T00:00:00Z --responses served.txt --policy do_not_train=true -o batch.dsse
# 4. Log both statements, check-point the log and time-stamp the checkpoint.
"$TT" log init --db log.db --origin log.telltale.example
"$TT" log append --db log.db commitments.dsse batch.dsse
"$TT" log checkpoint --db log.db --signing-key provider.sk -o checkpoint.note
"$TT" timestamp request checkpoint.note -o checkpoint.tsq
openssl ts -reply -config tsa.cnf -queryfile checkpoint.tsq -out checkpoint.tsr 2>/dev/null
"$TT" timestamp verify checkpoint.note --response checkpoint.tsr --ca tsa-ca.pem
# 5. Later: a suspect document turns up; detect with the tenant key.
head -n 1 served.txt > suspect.txt
"$TT" detect --key acme.key --scheme "$SCHEME" --tokens suspect.txt --json > report.jsonl || true
# 6. Build the evidence bundle and verify it as an auditor would.
"$TT" evidence build --opening acme.opening --membership members/acme.eu.json --db log.db --log-key provider.vkey \
  --commitment-entry 0 --batch-entry 1 --checkpoint checkpoint.note --timestamp checkpoint.tsr --tsa-ca tsa-ca.pem \
  --report report.jsonl --signing-key provider.sk -o evidence.json
"$TT" evidence verify evidence.json --log-key provider.vkey --signer-key provider.vkey --tsa-ca tsa-ca.pem
