#!/usr/bin/python3
"""Regenerates the frozen sample in datasets/sample/ from a corpora build.

Usage: /usr/bin/python3 datasets/make_sample.py [--corpora DIR] [--out DIR]

Only public-domain and GPL sources are sampled (see sample/README.md); the
selection is a deterministic prefix of each source, so rerunning against the
same corpora build reproduces the committed bytes.
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ttcorpus import build, mixed  # noqa: E402

# (source, byte budget): public domain or GPL only.
ENGLISH = [("austen", 520_000), ("kjv", 250_000), ("web", 250_000)]
CHINESE = [("fortunes-zh", 250_000), ("linux-doc-zh_CN", 180_000), ("handbook-zh-CN", 90_000)]
MIXED_POOLS = {"zh": ["fortunes-zh", "linux-doc-zh_CN"], "ru": ["fortunes-ru", "handbook-ru"],
               "de": ["fortunes-de", "handbook-de"], "es": ["fortunes-es", "handbook-es"],
               "it": ["linux-doc-it_IT", "handbook-it"], "en": ["austen", "kjv"]}
MIXED_BYTES = 260_000
MIXED_SEED = 7


def read_source(corpora: str, name: str) -> list:
    with open(os.path.join(corpora, "sources", name + ".txt"), encoding="utf-8") as f:
        return [p for p in f.read().rstrip("\n").split("\n\n") if p]


def take(paras: list, budget: int) -> list:
    out, size = [], 0
    for p in paras:
        n = len(p.encode()) + 2
        if size + n > budget:
            break
        out.append(p)
        size += n
    return out


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", default=os.path.join(cache, "corpora"))
    ap.add_argument("--out", default=os.path.join(here, "sample"))
    args = ap.parse_args()
    with open(os.path.join(args.corpora, "manifest.json")) as f:
        manifest = json.load(f)
    files = {}
    prov = {}
    for fname, spec in (("english.txt", ENGLISH), ("chinese.txt", CHINESE)):
        paras = []
        for name, budget in spec:
            got = take(read_source(args.corpora, name), budget)
            paras += got
            prov.setdefault(fname, []).append({"source": name, "paragraphs": len(got)})
        files[fname] = ("\n\n".join(paras) + "\n").encode()
    pools = {k: [p for n in v for p in take(read_source(args.corpora, n), 400_000)] for k, v in MIXED_POOLS.items()}
    with open(os.path.join(args.corpora, "code_blocks.jsonl"), encoding="utf-8") as f:
        pools["code"] = [r["code"] for r in map(json.loads, f) if r["source"] == "linux-doc"][:3000]
    files["mixed.txt"] = mixed.generate(pools, MIXED_BYTES, MIXED_SEED).encode()
    prov["mixed.txt"] = [{"pools": MIXED_POOLS, "code": "linux-doc <pre> blocks (first 3000)",
                          "seed": MIXED_SEED}]
    out_manifest = {"format": "telltale-corpora-sample-v1", "from_build_key": manifest["build_key"],
                    "packages": {p: manifest["packages"][p]["version"] for p in sorted(
                        {manifest["sources"][s]["package"] for v in MIXED_POOLS.values() for s in v}
                        | {manifest["sources"][s]["package"] for s, _ in ENGLISH + CHINESE}
                        | {"linux-doc-6.1"})},
                    "files": {k: {"bytes": len(v), "sha256": hashlib.sha256(v).hexdigest(),
                                  "from": prov[k]} for k, v in files.items()}}
    for k, v in files.items():
        build.write_atomic(os.path.join(args.out, k), v)
    build.write_atomic(os.path.join(args.out, "manifest.json"),
                       json.dumps(out_manifest, indent=1, sort_keys=True).encode() + b"\n")
    for k, v in files.items():
        print(f"{k}: {len(v)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
