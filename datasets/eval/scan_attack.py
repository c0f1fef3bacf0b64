"""Scores attacked texts through the `telltale scan` CLI, so the homoglyph
and zero-width attack is measured with the scanner's normalization (NFC,
invisible-character stripping, ICU confusables) in front of its tokenizer,
exactly as a forensic analyst would run it.

One scan per (scheme, normalization) reads all texts as JSONL and tests
each against every text's key (--keys-dir); a text's score is the
uncorrected log10 p under its OWN key, taken from the per-key results of
the document record, so it is comparable with the in-process scores. The
scanner tokenizes with the reference LM's GGUF export (its SentencePiece
vocabulary), built once into TELLTALE_CACHE_DIR."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def find_cli(explicit: str = None):
    """The telltale CLI to use, or (None, reason). Looks at --telltale-cli,
    then $TELLTALE_CLI, then <PYTHONPATH build>/cli/telltale and
    <PYTHONPATH build>/telltale; the binary must have a `scan` command."""
    cands = [explicit, os.environ.get("TELLTALE_CLI")]
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if p.rstrip("/").endswith("python"):
            build = os.path.dirname(os.path.abspath(p))
            cands += [os.path.join(build, "cli", "telltale"), os.path.join(build, "telltale")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            try:
                r = subprocess.run([c, "scan", "--help"], capture_output=True, text=True, timeout=30)
            except (OSError, subprocess.SubprocessError) as e:
                return None, f"{c}: {e}"
            if r.returncode == 0 and "--normalize" in r.stdout:
                return c, ""
            return None, f"{c} has no `scan --normalize` command"
    return None, "no telltale CLI found (build the `telltale` target, or pass --telltale-cli)"


def ensure_gguf() -> str:
    """The reference LM's GGUF export (f16; only its vocabulary is used by
    the scanner), exported once into the cache."""
    sys.path.insert(0, os.path.dirname(HERE))
    from reflm import gguf_export, llama_src
    out = os.path.join(llama_src.cache_dir(), "reflm", "reflm-f16.gguf")
    if not os.path.exists(out):
        gguf_export.export(os.path.join(os.path.dirname(HERE), "reflm", "weights"), out, "f16")
    return out


def scan_own_key_scores(cli: str, gguf: str, keys: list, scheme: str, texts: list, normalize: str) -> list:
    """log10 p of texts[i] under keys[i], through `telltale scan`."""
    tmp = tempfile.mkdtemp(prefix="telltale-eval-scan-")
    try:
        kdir = os.path.join(tmp, "keys")
        os.makedirs(kdir)
        for i, k in enumerate(keys):
            k.save(os.path.join(kdir, f"k{i:06d}.key"))
        src = os.path.join(tmp, "texts.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
        cmd = [cli, "scan", src, "--tokenizer", gguf, "--keys-dir", kdir, "--scheme", scheme, "--format", "jsonl",
               "--field", "text", "--normalize", normalize, "--json", "--threads", "1", "--no-progress"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"telltale scan exited {r.returncode}: {r.stderr.strip()[-500:]}")
        docs = {}
        for line in r.stdout.splitlines():
            rec = json.loads(line)
            if rec.get("type") == "document":
                docs[int(rec["data"]["index"])] = rec["data"]
            elif rec.get("type") == "error":
                raise RuntimeError(f"telltale scan error record: {rec['data']}")
        out = []
        for i, k in enumerate(keys):
            d = docs.get(i)
            if d is None:
                raise RuntimeError(f"telltale scan returned no record for text {i}")
            per = {e["key_id"]: e["log10_p"] for e in d.get("keys", [])}
            if k.id not in per:
                raise RuntimeError(f"telltale scan: text {i} has no result for its key {k.id}")
            out.append(float(per[k.id]))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
