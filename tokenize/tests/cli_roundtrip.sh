#!/bin/bash
# `telltale tokenize` round trip: decode(encode(text)) == text for the
# fixtures (byte-level: exact; SentencePiece-style: exact, its Prepend is
# undone by the Strip decoder), --json offsets tile the input, and bad input
# exits 2 with a one-line error.
set -euo pipefail
TELLTALE=$1
DATA=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'Hello, world! It'"'"'s 12345 caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\n\n   tabs\tand  spaces ' > "$TMP/in.txt"
for fixture in byte_level.json sentencepiece.json; do
  "$TELLTALE" tokenize --tokenizer "$DATA/$fixture" "$TMP/in.txt" > "$TMP/ids.txt"
  "$TELLTALE" tokenize --tokenizer "$DATA/$fixture" --decode "$TMP/ids.txt" > "$TMP/out.txt"
  # --decode ends each decoded line with '\n'.
  head -c -1 "$TMP/out.txt" > "$TMP/back.txt"
  if ! cmp -s "$TMP/in.txt" "$TMP/back.txt"; then
    echo "round trip failed for $fixture" >&2
    od -c "$TMP/back.txt" | head >&2
    exit 1
  fi
  "$TELLTALE" tokenize --tokenizer "$DATA/$fixture" --json < "$TMP/in.txt" > "$TMP/out.jsonl"
  /usr/bin/python3 - "$TMP/out.jsonl" "$TMP/in.txt" <<'PY'
import json, sys
rec = json.loads(open(sys.argv[1]).read())
size = len(open(sys.argv[2], "rb").read())
assert rec["type"] == "tokens", rec
offs = rec["data"]["offsets"]
assert len(offs) == len(rec["data"]["ids"])
at = 0
for b, e in offs:
    assert b == at and e >= b, (b, e, at)
    at = e
assert at == size, (at, size)
PY
done
# Errors: exit code 2 and a one-line message.
set +e
"$TELLTALE" tokenize --tokenizer "$TMP/in.txt" "$TMP/in.txt" 2> "$TMP/err.txt"
rc=$?
set -e
[ $rc -eq 2 ] || { echo "expected exit 2 for a bad tokenizer, got $rc" >&2; exit 1; }
[ "$(wc -l < "$TMP/err.txt")" -eq 1 ] || { cat "$TMP/err.txt" >&2; exit 1; }
echo "9999999 x" > "$TMP/bad_ids.txt"
set +e
"$TELLTALE" tokenize --tokenizer "$DATA/byte_level.json" --decode "$TMP/bad_ids.txt" 2> "$TMP/err.txt"
rc=$?
set -e
[ $rc -eq 2 ] || { echo "expected exit 2 for bad ids, got $rc" >&2; exit 1; }
grep -q "bad_ids.txt:1" "$TMP/err.txt" || { cat "$TMP/err.txt" >&2; exit 1; }
echo "cli round trip: ok"
