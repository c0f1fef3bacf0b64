#!/bin/bash
# Tokenizer throughput: Telltale vs the reference implementations, measured in
# the same run on the same text (the conformance corpora: 4 MiB English and
# the 4.4 MB mixed-language corpus).
#
#   tokenize_bench.sh TOOL CACHE_DIR SOURCE_DIR [FAMILY...]
#
# For each family it prints single-thread MB/s of Telltale and of the
# reference (native Hugging Face tokenizers for tokenizer.json families,
# tiktoken's WASM build for the tiktoken encodings), both by wall time and by
# process CPU time (the honest single-core figure on a shared machine), the
# ratio, and then Telltale's thread scaling on English. The first run prepares
# references and corpora through the conformance script.
set -euo pipefail
TOOL=$1
CACHE=$2
SRC=$3
shift 3
FAMILIES=("$@")
[ ${#FAMILIES[@]} -eq 0 ] && FAMILIES=(llama3 o200k_base cl100k_base qwen2_5 qwen3 deepseek_v3 gpt2 r50k_base gemma3 mistral)
CONF="$SRC/tokenize/conformance"
LOCK_HASH=$(sha256sum "$CONF/package-lock.json" | cut -c1-16)
export TELLTALE_NPM_DIR="$CACHE/tokenize-npm-$LOCK_HASH"
WORK="$CACHE/tokenize-conformance"
if [ ! -f "$TELLTALE_NPM_DIR/.installed" ] || [ ! -f "$WORK/english-4m.txt" ]; then
  "$CONF/run_conformance.sh" "$TOOL" "$CACHE" "$SRC" llama3 > /dev/null
fi
field() { /usr/bin/python3 -c "import json,sys; print('%.1f' % json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| family | text | Telltale MB/s (CPU) | reference | reference MB/s (CPU) | ratio (CPU) | Telltale MB/s (wall) | reference MB/s (wall) |"
echo "|---|---|---:|---|---:|---:|---:|---:|"
for fam in "${FAMILIES[@]}"; do
  TOK=$(node "$CONF/reference.mjs" path "$fam")
  case "$fam" in *_base) REFNAME="tiktoken (WASM)" ;; *) REFNAME="HF tokenizers (native)" ;; esac
  for corpus in english-4m mixed; do
    T=$("$TOOL" bench "$TOK" "$WORK/$corpus.txt" 1)
    R=$(node "$CONF/reference.mjs" bench "$fam" "$WORK/$corpus.txt")
    tc=$(field "$T" mb_per_cpu_s); rc=$(field "$R" mb_per_cpu_s)
    ratio=$(/usr/bin/python3 -c "print('%.1fx' % ($tc / $rc))")
    echo "| $fam | ${corpus%-4m} | $tc | $REFNAME | $rc | $ratio | $(field "$T" mb_per_s) | $(field "$R" mb_per_s) |"
  done
done
echo
# Thread scaling needs the CPUs this process may run on: under `taskset -c 1`
# (as for the single-core table above) there is one, so say so instead.
if [ "$(nproc)" -lt 2 ]; then
  echo "Thread scaling: skipped, this process may use $(nproc) CPU of $(nproc --all); run without taskset for it."
  exit 0
fi
echo "Thread scaling (llama3, EncodeBatch over 64 KiB chunks, wall MB/s, best of 3 runs):"
echo
echo "| text | threads | MB/s (wall) | speed-up |"
echo "|---|---:|---:|---:|"
TOK=$(node "$CONF/reference.mjs" path llama3)
for corpus in english-4m mixed; do
  base=""
  for th in 1 2 4 8 16; do
    [ "$th" -gt "$(nproc)" ] && break
    w=0
    for rep in 1 2 3; do
      T=$("$TOOL" bench "$TOK" "$WORK/$corpus.txt" "$th")
      w=$(/usr/bin/python3 -c "print('%.1f' % max($w, $(field "$T" mb_per_s)))")
    done
    [ -z "$base" ] && base=$w
    echo "| ${corpus%-4m} | $th | $w | $(/usr/bin/python3 -c "print('%.2f' % ($w / $base))") |"
  done
done
