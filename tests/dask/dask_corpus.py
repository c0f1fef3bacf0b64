#!/usr/bin/python3
"""Builds (once) and caches the corpus of the Dask scan tests and benchmark.

    PYTHONPATH=<build>/python /usr/bin/python3 python/tests/dask_corpus.py [--docs N]

Tokens come from the core engine: a simulated Zipf language model over a
45-character vocabulary, sampled through telltale.Watermarker.sample under
two tenant keys (kgw gamma=0.25 delta=2 h=3) for watermarked documents and
through numpy for unwatermarked ones. The tokenizer is a tokenizer.json with
one token per character and no merges, so the scanner re-tokenizes every
document to exactly the ids that were generated.

Layout under $TELLTALE_CACHE_DIR/dask-corpus/<hash> (built in a temp dir and
renamed into place): keys/{acme,globex}.key, chars.json (tokenizer),
corpus/a.jsonl (large: split into byte ranges), corpus/b.jsonl.gz (gzip: one
task), corpus/sub/c.jsonl, corpus/sub/d.ndjson, corpus/sub/e.jsonl (a few
malformed and wrong-type lines: error records), corpus/z-truncated.jsonl.gz
(a cut gzip stream: an error record). 90% of documents are 16-32 tokens,
10% are 100-160 tokens; a third of each are watermarked per tenant.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np

SCHEME = "kgw:gamma=0.25,delta=2,h=3"
TENANTS = ("acme", "globex")
MASTER = bytes(range(100, 132))  # a fixed TEST key: the cache must match the key files
CHARS = "abcdefghijklmnopqrstuvwxyz .,;:!?-'0123456789"
VERSION = 1


def cache_root() -> str:
    return os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")


def _tokenizer_json() -> str:
    vocab = {c: i for i, c in enumerate(CHARS)}
    return json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": vocab, "merges": []}})


def _documents(n_docs: int, seed: int):
    """Yields (tenant or None, text) for n_docs documents, deterministically."""
    import telltale

    rng = np.random.default_rng(seed)
    v = len(CHARS)
    probs = 1.0 / np.arange(1, v + 1) ** 1.1
    probs /= probs.sum()
    perm = rng.permutation(v)  # which character is frequent
    p = np.empty(v)
    p[perm] = probs
    logits = np.log(p).astype(np.float32)
    master = telltale.Key.from_bytes(MASTER)
    wms = [telltale.Watermarker(master.derive(tenant=t, region="eu", epoch="2026-12"), SCHEME, vocab_size=v)
           for t in TENANTS]
    for i in range(n_docs):
        length = int(rng.integers(100, 161)) if rng.random() < 0.1 else int(rng.integers(16, 33))
        who = int(rng.integers(0, 3))  # 0, 1: tenant; 2: unwatermarked
        if who == 2:
            ids = rng.choice(v, size=length, p=p).tolist()
        else:
            ids = [int(rng.choice(v, p=p))]
            sampler = telltale.Sampler(wms[who], seed=seed * 1000003 + i)
            while len(ids) < length:
                ids.append(sampler.sample(np.asarray(ids, dtype=np.int32), logits))
        yield (TENANTS[who] if who < 2 else None), "".join(CHARS[t] for t in ids)


def build(directory: str, n_docs: int) -> None:
    import telltale

    os.makedirs(os.path.join(directory, "keys"))
    master = telltale.Key.from_bytes(MASTER)
    for t in TENANTS:
        master.derive(tenant=t, region="eu", epoch="2026-12").save(os.path.join(directory, "keys", t + ".key"))
    with open(os.path.join(directory, "chars.json"), "w") as f:
        f.write(_tokenizer_json())
    c = os.path.join(directory, "corpus")
    os.makedirs(os.path.join(c, "sub"))
    docs = [json.dumps({"text": text, "tenant": who}) for who, text in _documents(n_docs, seed=7)]
    split = [int(n_docs * 0.45), int(n_docs * 0.65), int(n_docs * 0.85)]
    with open(os.path.join(c, "a.jsonl"), "w") as f:
        f.write("".join(d + "\n" for d in docs[: split[0]]))
    with gzip.open(os.path.join(c, "b.jsonl.gz"), "wt") as f:
        f.write("".join(d + "\n" for d in docs[split[0]: split[1]]))
    with open(os.path.join(c, "sub", "c.jsonl"), "w") as f:
        f.write("".join(d + "\n" for d in docs[split[1]: split[2]]))
    with open(os.path.join(c, "sub", "d.ndjson"), "w") as f:
        f.write("".join(d + "\n" for d in docs[split[2]:]))
    with open(os.path.join(c, "sub", "e.jsonl"), "w") as f:
        f.write('{"text": "a short clean line"}\n{"text": 17}\n{not json\n\n{"other": 1}\n{"text": null}\n')
    full = gzip.compress(("".join(d + "\n" for d in docs[:50])).encode())
    with open(os.path.join(c, "z-truncated.jsonl.gz"), "wb") as f:
        f.write(full[: len(full) // 2])


def corpus_dir(n_docs: int = 20000) -> str:
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    h.update(str(n_docs).encode())
    final = os.path.join(cache_root(), "dask-corpus", h.hexdigest()[:16])
    if os.path.isdir(final):
        return final
    os.makedirs(os.path.dirname(final), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(final), prefix=".build-")
    try:
        build(tmp, n_docs)
        os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isdir(final):
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


if __name__ == "__main__":
    n = 20000
    if len(sys.argv) > 2 and sys.argv[1] == "--docs":
        n = int(sys.argv[2])
    print(corpus_dir(n))
