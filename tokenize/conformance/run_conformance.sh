#!/bin/bash
# Tokenizer conformance: Telltale vs the reference implementations.
#
#   run_conformance.sh TOOL CACHE_DIR SOURCE_DIR [FAMILY...]
#
# 1. Installs the pinned references (package-lock.json) with `npm ci` into
#    CACHE_DIR/tokenize-npm-<lock hash>, once.
# 2. Builds the corpora with datasets/build_corpora.py when missing and takes
#    >= 4 MB of English (cut at a line end) and the whole mixed corpus (>= 4 MB).
# 3. For every family, encodes both texts (and a small ill-formed UTF-8 file) with the reference (results cached
#    by corpus and lock hash) and with Telltale, and requires identical id
#    streams; a mismatch prints the first divergence with context.
# 4. Runs llama.cpp's own test vectors (models/ggml-vocab-*.gguf with .inp/.out
#    from the llama.cpp source that node-llama-cpp ships as a git bundle).
set -euo pipefail
TOOL=$1
CACHE=$2
SRC=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
FAMILIES=("$@")
if [ ${#FAMILIES[@]} -eq 0 ]; then
  FAMILIES=(llama3 qwen2_5 qwen3 deepseek_v3 o200k_base cl100k_base gpt2 r50k_base gemma3 mistral)
fi

mkdir -p "$CACHE"
LOCK_HASH=$(sha256sum "$HERE/package-lock.json" | cut -c1-16)
NPM_DIR="$CACHE/tokenize-npm-$LOCK_HASH"
if [ ! -f "$NPM_DIR/.installed" ]; then
  echo "conformance: installing pinned references into $NPM_DIR"
  rm -rf "$NPM_DIR.tmp"
  mkdir -p "$NPM_DIR.tmp"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR.tmp/"
  (cd "$NPM_DIR.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$NPM_DIR.tmp/.installed"
  rm -rf "$NPM_DIR"
  mv "$NPM_DIR.tmp" "$NPM_DIR"
fi
export TELLTALE_NPM_DIR="$NPM_DIR"

CORPORA="$CACHE/corpora"
if [ ! -f "$CORPORA/english.txt" ] || [ ! -f "$CORPORA/mixed.txt" ]; then
  echo "conformance: building corpora with datasets/build_corpora.py"
  TELLTALE_CACHE_DIR="$CACHE" /usr/bin/python3 "$SRC/datasets/build_corpora.py" --out "$CORPORA"
fi
WORK="$CACHE/tokenize-conformance"
mkdir -p "$WORK"
# First 4 MiB of English, extended to the end of its line.
/usr/bin/python3 - "$CORPORA/english.txt" "$WORK/english-4m.txt" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    data = f.read(4 * 1024 * 1024 + 100000)
end = data.find(b"\n", 4 * 1024 * 1024)
data = data if end < 0 else data[: end + 1]
if len(data) < 4 * 1024 * 1024:
    sys.exit(f"english corpus {src} is smaller than 4 MiB")
old = open(dst, "rb").read() if os.path.exists(dst) else None
if old != data:
    with open(dst + ".tmp", "wb") as f:
        f.write(data)
    os.replace(dst + ".tmp", dst)
PY
cp -f "$CORPORA/mixed.txt" "$WORK/mixed.txt"
if [ "$(stat -c %s "$WORK/mixed.txt")" -lt 4000000 ]; then
  echo "conformance: mixed corpus is smaller than 4 MB" >&2
  exit 1
fi

# Ill-formed UTF-8 (lone bytes, truncated sequences, an encoded surrogate,
# a cut at the end): both sides must repair it the same way (U+FFFD per
# maximal subpart) and agree on the ids.
printf 'a\xff\xe4\xbdb \xed\xa0\x80x \xf0\x9f\x98 caf\xc3\xa9 \x80\x80 end\xc3' > "$WORK/invalid-utf8.txt"

fail=0
for fam in "${FAMILIES[@]}"; do
  TOK=$(node "$HERE/reference.mjs" path "$fam")
  for corpus in english-4m mixed invalid-utf8; do
    IN="$WORK/$corpus.txt"
    KEY=$(cat "$IN" "$HERE/reference.mjs" "$HERE/package-lock.json" | sha256sum | cut -c1-16)
    REF="$WORK/ref-$fam-$corpus-$KEY.u32"
    if [ ! -f "$REF" ]; then
      node "$HERE/reference.mjs" encode "$fam" "$IN" "$REF.tmp"
      mv "$REF.tmp" "$REF"
    fi
    OUT="$WORK/tt-$fam-$corpus.u32"
    # HF tokenizers always matches special tokens; tiktoken's encode_ordinary
    # never does.
    case "$fam" in *_base) SPECIAL=plain ;; *) SPECIAL=match ;; esac
    "$TOOL" encode "$TOK" "$IN" "$OUT" "$SPECIAL"
    if ! node "$HERE/compare.mjs" "$fam" "$REF" "$OUT" | sed "s/^/[$corpus] /"; then
      fail=1
    fi
  done
done

# llama.cpp test vectors. node-llama-cpp ships llama.cpp's source as a git
# bundle; its optional platform packages make `npm ci` refuse the lock file,
# so the tarball is fetched with `npm pack` and checked against the pinned
# registry integrity instead.
NLC_VERSION=3.22.1
NLC_INTEGRITY="sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw=="
LLAMA_DIR="$CACHE/tokenize-llama.cpp-$NLC_VERSION"
if [ ! -d "$LLAMA_DIR/models" ]; then
  T="$CACHE/tokenize-nlc.tmp"
  rm -rf "$T" "$LLAMA_DIR.tmp"
  mkdir -p "$T"
  (cd "$T" && npm pack "node-llama-cpp@$NLC_VERSION" --loglevel=error > /dev/null)
  GOT="sha512-$(openssl dgst -sha512 -binary "$T/node-llama-cpp-$NLC_VERSION.tgz" | base64 -w0)"
  if [ "$GOT" != "$NLC_INTEGRITY" ]; then
    echo "conformance: node-llama-cpp-$NLC_VERSION.tgz integrity mismatch ($GOT)" >&2
    exit 1
  fi
  tar -xzf "$T/node-llama-cpp-$NLC_VERSION.tgz" -C "$T" package/llama/gitRelease.bundle
  git clone -q "$T/package/llama/gitRelease.bundle" "$LLAMA_DIR.tmp" 2>/dev/null
  rm -rf "$LLAMA_DIR" "$T"
  mv "$LLAMA_DIR.tmp" "$LLAMA_DIR"
fi
# Vocabularies whose tokenizer Telltale implements (byte-level BPE with the
# pre-tokenizers of docs/tokenize.md, and SentencePiece BPE).
for v in llama-bpe llama-spm qwen2 qwen35 gpt-2 mpt command-r phi-3; do
  M="$LLAMA_DIR/models/ggml-vocab-$v.gguf"
  if ! "$TOOL" vectors "$M" "$M.inp" "$M.out"; then
    fail=1
  fi
done
if [ $fail -ne 0 ]; then
  echo "conformance: FAILED" >&2
  exit 1
fi
echo "conformance: all families identical"
